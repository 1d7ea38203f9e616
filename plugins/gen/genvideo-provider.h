/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The HTTP video providers behind genvideosrc, one protocol each, exactly as
 * /shared/reference/providers.md documents them: Replicate, Runway, Veo
 * (Gemini API), fal and Luma. A provider submits one job, polls it, names
 * the result's URL and, where the API allows, cancels it; genvideosrc paces
 * the polls, downloads, checks and caches. Every failure is a GenError of one class:
 *
 *  - transient: 5xx, timeouts, connection resets (already retried by the
 *    HTTP client; the caller may try the next provider);
 *  - refused: the provider's safety system said no (Runway SAFETY.*,
 *    Replicate/Luma/fal safety errors, Veo RAI filters); never retried;
 *  - fatal: bad key, unknown model, invalid input, malformed replies.
 *
 * No message ever contains the API key.
 */
#pragma once

#include "genvideo-request.h"
#include "http-client.h"

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>

namespace reelforge::gen {

/* transient: retried; refused: the provider's safety verdict, the next
 * provider of a fallback chain is tried; fatal: not retried; unknown: a
 * submission went unanswered, so a job may exist and be billed: neither
 * retried nor followed by a fallback, since that could pay twice. */
enum class ErrorClass { kTransient, kRefused, kFatal, kUnknown };
const char *error_class_name(ErrorClass error_class);

class GenError : public std::runtime_error {
 public:
  GenError(ErrorClass error_class, const std::string &message)
      : std::runtime_error(message), class_(error_class) {}
  ErrorClass error_class() const { return class_; }

 private:
  ErrorClass class_;
};

/* A job's state as the provider reports it. */
struct JobStatus {
  enum class State { kWaiting, kRunning, kSucceeded };
  State state = State::kWaiting;
  std::string status;   /* the provider's own word: starting, THROTTLED, IN_QUEUE... */
  double progress = -1; /* 0..1 when the provider says, else -1 */
  std::string output_url;
};

struct Submission {
  std::string job_id;
  JobStatus status; /* Replicate's "Prefer: wait" may already be finished */
};

class Provider {
 public:
  virtual ~Provider() = default;
  virtual const char *name() const = 0;
  /* The pace the provider's own SDK polls at. */
  virtual std::chrono::milliseconds poll_interval() const = 0;
  /* POSTs the job. Throws GenError. */
  virtual Submission submit(const GenRequest &request) = 0;
  /* One status request for job_id. Throws GenError (failed jobs included). */
  virtual JobStatus poll(const std::string &job_id) = 0;
  /* The request that downloads output_url (Veo's needs the key). */
  virtual http::Request download_request(const std::string &output_url) const;

  /* Asks the provider to stop job_id, with the provider's own cancel request
   * (/shared/reference/providers.md), bounded by ProviderConfig's
   * cancel_timeout and cancel_retry.
   *
   * Returns true when the provider accepted: the job is stopped or stopping.
   * Returns false, without an error, when this call stopped nothing:
   *  - the provider has no cancel request (can_cancel() is false: veo and
   *    luma, whose cancel providers.md does not document; nothing is sent);
   *  - the job had already finished or is unknown: 404, 409 or 410, a 400
   *    saying it already completed (fal's ALREADY_COMPLETED), or a
   *    Replicate prediction answered as succeeded, failed or aborted.
   * Throws GenError with the classes of poll() for anything else (refused
   * key, 5xx or 429 outlasting the retries, other 4xx), http::Cancelled when
   * the client is cancelled. The key never appears in a message.
   *
   * The requests:
   *  - replicate: POST /v1/predictions/{id}/cancel;
   *  - runway: DELETE /v1/tasks/{id} (for a task that already finished,
   *    Runway deletes it and its output: do not cancel what you still
   *    download);
   *  - fal: PUT the cancel_url of the submit reply, or for a job this
   *    object did not submit {endpoint}/{owner}/{app}/requests/{id}/cancel
   *    (the model's first two path segments, as fal's queue names its URLs);
   *    fal cancels only before the request starts, so an IN_PROGRESS
   *    request may still finish and be billed. */
  virtual bool cancel(const std::string &job_id);
  /* Whether cancel() sends a request at all. */
  virtual bool can_cancel() const { return false; }
};

struct ProviderConfig {
  std::string endpoint; /* base URL; empty: the provider's public one */
  std::string api_key;
  std::string model; /* the request's (fal's resumed jobs need it for their URLs) */
  std::chrono::milliseconds timeout{60000}; /* per HTTP request */
  http::RetryPolicy retry;
  /* cancel() is best effort, often on the way to a stop that must not wait
   * for long: a shorter deadline and fewer retries. */
  std::chrono::milliseconds cancel_timeout{10000};
  http::RetryPolicy cancel_retry{.max_attempts = 2,
                                 .initial_backoff = std::chrono::milliseconds(500),
                                 .max_backoff = std::chrono::milliseconds(2000),
                                 .max_retry_after = std::chrono::milliseconds(5000)};
};

/* The HTTP provider called name (not "local"); throws GenError (fatal) for
 * an unknown name or a missing key. client must outlive it. */
std::unique_ptr<Provider> make_provider(const std::string &name, const ProviderConfig &config,
                                        http::HttpClient &client);

/* The environment variable holding name's key (REPLICATE_API_TOKEN,
 * RUNWAYML_API_SECRET, GEMINI_API_KEY, FAL_KEY, LUMAAI_API_KEY). */
const char *api_key_variable(const std::string &name);
/* The key from the environment (for veo also GOOGLE_API_KEY); empty if none. */
std::string api_key_from_environment(const std::string &name);

/* A data: URI with the file's bytes (for local images sent to providers). */
std::string data_uri_for_file(const std::string &path);

}  // namespace reelforge::gen
