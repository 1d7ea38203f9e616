/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A small blocking HTTP client on libsoup 3 for GStreamer streaming threads
 * (genvideosrc, ttssrc) and the orchestrator.
 *
 * Every HttpClient owns a private GMainContext and runs libsoup's async API
 * on it while a call is in progress, so the calling thread never blocks on a
 * main loop it does not own and never depends on the application's loop.
 * A call returns when the response is complete, the deadline passes, or the
 * client's GCancellable is cancelled (from any thread: cancel() wakes the
 * wait at once, which is what unlock()/stop()/NULL need).
 *
 * Failures are classified the same way for every caller:
 *  - transient: connection errors, timeouts, 5xx, 429 (honouring
 *    Retry-After, seconds or an HTTP date); retried by send() and download()
 *    with bounded exponential backoff and jitter;
 *  - anything else (2xx, 3xx not followed, 4xx): returned to the caller, who
 *    knows what the body means.
 *
 * Secrets: header values of Authorization, x-api-key, xi-api-key,
 * x-goog-api-key and any header whose name contains "key", "token", "secret"
 * or "signature" are never logged, and URL query parameters with such names
 * are shown as "***" in logs and error messages (redact_url()).
 *
 * Usage:
 *   reelforge::http::HttpClient client;            // one per element/thread
 *   http::Request req{.method = "POST", .url = base + "/v1/predictions"};
 *   req.headers.emplace_back("Authorization", "Bearer " + key);
 *   req.body = json; req.content_type = "application/json";
 *   http::Response res = client.send(req);         // retries transient failures
 *   if (res.status == 201) ...
 *   client.download({.url = res_url}, "/tmp/clip.mp4.part");  // resumes with Range
 *
 * From another thread: client.cancel() → the blocked call throws
 * http::Cancelled promptly; client.reset() makes it usable again.
 */
#pragma once

#include <gio/gio.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace reelforge::http {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method = "GET";
  std::string url;
  Headers headers;
  std::string body;         /* sent when non-empty (or for POST/PUT) */
  std::string content_type; /* e.g. "application/json"; defaults to that for a body */
  /* Deadline of one attempt, from sending to the last byte of the response
   * (for download(): the longest time without receiving a byte). */
  std::chrono::milliseconds timeout{30000};
  /* False for a request the server must not act on twice (a submission
   * that starts a paid job): send() then does not repeat an attempt that
   * went unanswered (timed out, connection lost), since the server may have
   * acted on it, and throws HttpError with outcome_unknown() instead. An
   * attempt refused before it reached the server is still repeated. */
  bool repeatable = true;
};

struct Response {
  guint status = 0;
  std::string reason;
  Headers headers; /* as received */
  std::string body;
  int attempts = 1; /* how many attempts send() made */

  /* First header named name (case-insensitive), or nullopt. */
  std::optional<std::string> header(const std::string &name) const;
  bool ok() const { return status >= 200 && status < 300; }
};

/* How persistent send() and download() are with transient failures. */
struct RetryPolicy {
  int max_attempts = 5;                           /* including the first */
  std::chrono::milliseconds initial_backoff{500}; /* doubled each retry, ±25 % jitter */
  std::chrono::milliseconds max_backoff{30000};
  /* A Retry-After longer than this is an error rather than a wait. */
  std::chrono::milliseconds max_retry_after{120000};
};

/* The call was cancelled through cancel() or the GCancellable. */
class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("HTTP request cancelled") {}
};

/* A request failed for good: transient failures outlasted the RetryPolicy,
 * or a non-HTTP failure (bad URL, cannot write the file). The message names
 * the method and the redacted URL; status is the last HTTP status, 0 if
 * none was received. */
class HttpError : public std::runtime_error {
 public:
  HttpError(const std::string &message, guint status, bool transient, std::string body = {},
            bool unsent = false, bool outcome_unknown = false)
      : std::runtime_error(message),
        status_(status),
        transient_(transient),
        body_(std::move(body)),
        unsent_(unsent),
        outcome_unknown_(outcome_unknown) {}
  guint status() const { return status_; }
  bool transient() const { return transient_; }
  /* The request never reached the server (refused, name not resolved). */
  bool unsent() const { return unsent_; }
  /* A request that is not repeatable went unanswered: the server may or
   * may not have acted on it. */
  bool outcome_unknown() const { return outcome_unknown_; }
  /* The last response's body when send() gave up on transient statuses
   * (a provider's error JSON, for its message); empty otherwise. */
  const std::string &body() const { return body_; }

 private:
  guint status_;
  bool transient_;
  std::string body_;
  bool unsent_;
  bool outcome_unknown_;
};

/* What download() did. */
struct DownloadResult {
  guint64 bytes = 0; /* size of the complete file */
  int resumed = 0;   /* how many times it resumed with a Range request */
  std::string content_type;
};

/* The state of a transfer, for progress reports and tests. */
using DownloadProgress = std::function<void(guint64 received, guint64 total /* 0: unknown */)>;

class HttpClient {
 public:
  /* cancellable: shared with the owner (e.g. an element's unlock()); a new
   * one when null. */
  explicit HttpClient(GCancellable *cancellable = nullptr);
  ~HttpClient();
  HttpClient(const HttpClient &) = delete;
  HttpClient &operator=(const HttpClient &) = delete;

  /* One attempt; returns whatever status arrived. Throws HttpError
   * (transient) for connection failures and timeouts, Cancelled. */
  Response send_once(const Request &request);

  /* send_once() until the status is not transient (not 5xx, not 429) or the
   * policy is exhausted. Throws HttpError when it is, Cancelled. */
  Response send(const Request &request, const RetryPolicy &policy = {});

  /* Streams request's response body to path (created or truncated). A
   * connection dropped mid-body is resumed with "Range: bytes=N-" (a 206
   * continues the file; a 200 restarts it). Non-2xx final statuses throw
   * HttpError carrying the status (404/403/410: an expired URL). The file is
   * complete when this returns. */
  DownloadResult download(const Request &request, const std::string &path,
                          const RetryPolicy &policy = {}, const DownloadProgress &progress = {});

  /* Waits duration unless cancelled first (then throws Cancelled). For the
   * callers' own pacing (polling intervals, start stagger). */
  void wait(std::chrono::milliseconds duration);

  /* Cancels the call in progress (any thread) and every later one until
   * reset(). */
  void cancel();
  void reset();
  bool cancelled() const;
  GCancellable *cancellable() const { return cancellable_; }

  /* Follow 3xx redirects (default on; Veo's file URIs redirect). */
  void set_follow_redirects(bool follow) { follow_redirects_ = follow; }

 private:
  struct Session;
  Session &session();
  std::chrono::milliseconds backoff(int attempt, const RetryPolicy &policy) const;

  GCancellable *cancellable_;
  GMainContext *context_;
  Session *session_ = nullptr;
  bool follow_redirects_ = true;
};

/* url with the values of query parameters that look secret (key, token,
 * signature, secret, sig, api_key...) replaced by "***". */
std::string redact_url(const std::string &url);

/* True for header names whose values must never be logged. */
bool is_secret_header(const std::string &name);

/* Seconds to wait from a Retry-After value (delta seconds or HTTP date);
 * nullopt when it cannot be parsed. */
std::optional<std::chrono::milliseconds> parse_retry_after(const std::string &value);

}  // namespace reelforge::http
