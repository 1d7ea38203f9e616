/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Signed S3 requests over libsoup 3 on a private thread: every client owns
 * a GMainContext, a thread running it and a SoupSession bound to it, so
 * uploads proceed while the caller (a streaming thread) goes on. Each
 * request is signed afresh per attempt and retried with exponential
 * backoff on transport errors, 5xx and 429. Secrets and Authorization
 * headers are never logged nor put in error text.
 */
#pragma once

#include "s3-location.h"

#include <glib.h>

#include <functional>
#include <memory>
#include <string>

namespace reelforge::s3 {

struct RetryPolicy {
  guint retry_attempts = 3;     /* retries after the first attempt */
  guint request_timeout_s = 30; /* I/O timeout of one attempt */
  guint backoff_ms = 200;       /* first pause; doubles, at most 5 s */
  guint max_connections = 4;
};

struct S3Request {
  std::string method;
  std::string key;        /* object key; empty: the bucket itself */
  NameValues query;       /* decoded */
  NameValues headers;     /* extra headers to send and sign (x-amz-meta-..., Content-Type, Range) */
  GBytes *body = nullptr; /* borrowed for the call; may be null */
  std::string what;       /* for error text: "upload part 3" */
};

struct S3Response {
  guint status = 0; /* 0: no HTTP response (transport error or cancelled) */
  std::string body;
  GBytes *body_bytes = nullptr; /* owned; the same bytes, for large reads */
  std::string etag;
  std::string content_range;
  std::string content_type;
  guint64 content_length = 0;
  bool cancelled = false;
  std::string error; /* non-empty when the request failed: a sentence naming bucket and key */
  bool ok() const { return error.empty() && status >= 200 && status < 300; }

  S3Response() = default;
  S3Response(const S3Response &) = delete;
  S3Response &operator=(const S3Response &) = delete;
  S3Response(S3Response &&other) noexcept;
  S3Response &operator=(S3Response &&other) noexcept;
  ~S3Response();
};

/* The text between <tag> and </tag> in an XML reply, empty if absent. */
std::string xml_value(const std::string &xml, const std::string &tag);

class S3Client {
 public:
  S3Client(S3Target target, RetryPolicy policy);
  ~S3Client();
  S3Client(const S3Client &) = delete;
  S3Client &operator=(const S3Client &) = delete;

  const S3Target &target() const { return target_; }

  /* Sends request; done runs on the client's thread with the final
   * response (after retries). request.body is referenced until then. */
  void send_async(const S3Request &request, std::function<void(S3Response)> done);

  /* Sends request and waits for the final response. Never call it from a
   * done callback (the client's own thread). */
  S3Response send(const S3Request &request);

  /* Cancels every request in flight or waiting to retry; they complete with
   * cancelled = true. Later requests run normally. */
  void cancel_all();

  struct Impl; /* public for the callbacks in the .cpp */

 private:
  S3Target target_;
  std::unique_ptr<Impl> impl_;
};

/* PUTs a local file to an s3:// URI in one request, with credentials,
 * region and endpoint from the environment or the ~/.aws profile (resolve()).
 * Throws std::runtime_error naming the file and the object. */
void put_file(const std::string &path, const std::string &uri, const std::string &content_type);

}  // namespace reelforge::s3
