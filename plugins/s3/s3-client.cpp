/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "s3-client.h"

#include "gst-ptr.h"

#include <libsoup/soup.h>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <set>
#include <utility>

namespace reelforge::s3 {

S3Response::S3Response(S3Response &&other) noexcept {
  *this = std::move(other);
}

S3Response &S3Response::operator=(S3Response &&other) noexcept {
  if (this == &other) return *this;
  status = other.status;
  body = std::move(other.body);
  if (body_bytes) g_bytes_unref(body_bytes);
  body_bytes = std::exchange(other.body_bytes, nullptr);
  etag = std::move(other.etag);
  content_range = std::move(other.content_range);
  content_type = std::move(other.content_type);
  content_length = other.content_length;
  cancelled = other.cancelled;
  error = std::move(other.error);
  return *this;
}

S3Response::~S3Response() {
  if (body_bytes) g_bytes_unref(body_bytes);
}

std::string xml_value(const std::string &xml, const std::string &tag) {
  const std::string open = "<" + tag + ">", close = "</" + tag + ">";
  const auto start = xml.find(open);
  if (start == std::string::npos) return "";
  const auto end = xml.find(close, start + open.size());
  if (end == std::string::npos) return "";
  return xml.substr(start + open.size(), end - start - open.size());
}

namespace {

struct Job;

bool retryable_status(guint status) {
  return status == 429 || (status >= 500 && status < 600);
}

std::string status_words(guint status) {
  switch (status) {
    case 301:
      return "the bucket is in another region or needs another endpoint (check region/endpoint)";
    case 400:
      return "bad request";
    case 403:
      return "access denied (check the access key, secret and the bucket's permissions)";
    case 404:
      return "not found";
    default:
      return soup_status_get_phrase(status) ? soup_status_get_phrase(status) : "HTTP error";
  }
}

}  // namespace

struct S3Client::Impl {
  S3Target target;
  RetryPolicy policy;
  GMainContext *context = nullptr;
  GMainLoop *loop = nullptr;
  GThread *thread = nullptr;
  SoupSession *session = nullptr; /* created and used on thread only */

  std::mutex mutex;
  std::condition_variable changed;
  bool session_ready = false;
  guint pending = 0; /* jobs not yet completed */
  GCancellable *cancellable = nullptr;
  std::set<Job *> waiting; /* jobs in a backoff pause; client thread only */

  static gpointer run(gpointer data);
};

namespace {

struct Job {
  S3Client::Impl *impl = nullptr;
  S3Request request;
  GBytesPtr body;
  std::function<void(S3Response)> done;
  GCancellable *cancellable = nullptr;
  guint attempt = 0;
  guint retry_source = 0;
  std::string payload_hash;
  std::string last_error;

  ~Job() {
    if (cancellable) g_object_unref(cancellable);
  }
};

std::string where(const S3Client::Impl *impl, const S3Request &request) {
  return format_s3_uri(impl->target.bucket, request.key);
}

void start_attempt(Job *job);

void complete(Job *job, S3Response response) {
  S3Client::Impl *impl = job->impl;
  auto done = std::move(job->done);
  delete job;
  try {
    done(std::move(response));
  } catch (...) {
    /* done callbacks report their own failures; nothing may escape into
     * the GLib main loop. */
  }
  std::lock_guard<std::mutex> lock(impl->mutex);
  --impl->pending;
  impl->changed.notify_all();
}

void complete_cancelled(Job *job) {
  S3Response response;
  response.cancelled = true;
  response.error = where(job->impl, job->request) + ": " + job->request.what + " was cancelled";
  complete(job, std::move(response));
}

gboolean retry_now(gpointer data) {
  auto *job = static_cast<Job *>(data);
  job->retry_source = 0;
  job->impl->waiting.erase(job);
  start_attempt(job);
  return G_SOURCE_REMOVE;
}

/* Either schedules another attempt after a backoff or completes the job
 * with error text. */
void retry_or_fail(Job *job, S3Response response, const std::string &reason) {
  S3Client::Impl *impl = job->impl;
  if (job->attempt <= impl->policy.retry_attempts &&
      !g_cancellable_is_cancelled(job->cancellable)) {
    const guint pause =
        std::min<guint>(5000, impl->policy.backoff_ms << std::min<guint>(job->attempt - 1, 10));
    job->last_error = reason;
    GSource *source = g_timeout_source_new(pause);
    g_source_set_callback(source, retry_now, job, nullptr);
    job->retry_source = g_source_attach(source, impl->context);
    g_source_unref(source);
    impl->waiting.insert(job);
    return;
  }
  response.error = where(impl, job->request) + ": " + job->request.what + " failed: " + reason;
  if (job->attempt > 1) response.error += " (" + std::to_string(job->attempt) + " attempts)";
  complete(job, std::move(response));
}

void on_response(GObject *source, GAsyncResult *result, gpointer data) {
  auto *job = static_cast<Job *>(data);
  GError *raw_error = nullptr;
  GBytes *bytes = soup_session_send_and_read_finish(SOUP_SESSION(source), result, &raw_error);
  GErrorPtr error(raw_error);
  /* transfer none; the reference dropped below is the one start_attempt() made */
  SoupMessage *message = soup_session_get_async_result_message(SOUP_SESSION(source), result);
  S3Response response;
  if (error) {
    if (bytes) g_bytes_unref(bytes);
    if (g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
        g_cancellable_is_cancelled(job->cancellable)) {
      g_object_unref(message);
      complete_cancelled(job);
      return;
    }
    const std::string reason = std::string("cannot reach ") + job->impl->target.endpoint +
                               (job->impl->target.endpoint.empty() ? "S3" : "") + ": " +
                               error->message;
    g_object_unref(message);
    retry_or_fail(job, std::move(response), reason);
    return;
  }
  response.status = soup_message_get_status(message);
  response.body_bytes = bytes;
  gsize size = 0;
  const char *data_ptr = static_cast<const char *>(g_bytes_get_data(bytes, &size));
  if (response.status >= 300 || size < 64 * 1024)
    response.body.assign(data_ptr ? data_ptr : "", size);
  SoupMessageHeaders *headers = soup_message_get_response_headers(message);
  if (const char *etag = soup_message_headers_get_one(headers, "ETag")) response.etag = etag;
  if (const char *range = soup_message_headers_get_one(headers, "Content-Range"))
    response.content_range = range;
  if (const char *type = soup_message_headers_get_one(headers, "Content-Type"))
    response.content_type = type;
  response.content_length = static_cast<guint64>(soup_message_headers_get_content_length(headers));
  g_object_unref(message);

  if (response.status >= 300) {
    std::string reason = "HTTP " + std::to_string(response.status);
    const std::string code = xml_value(response.body, "Code");
    const std::string text = xml_value(response.body, "Message");
    if (!code.empty()) reason += " " + code;
    reason += ": " + (text.empty() ? status_words(response.status) : text);
    if (response.status == 403 && !text.empty())
      reason += " (check the access key id, the secret and the bucket's permissions)";
    if (code == "NoSuchBucket" || (response.status == 404 && job->request.key.empty()))
      reason += " (bucket \"" + job->impl->target.bucket + "\" does not exist)";
    if (retryable_status(response.status)) {
      retry_or_fail(job, std::move(response), reason);
      return;
    }
    response.error =
        where(job->impl, job->request) + ": " + job->request.what + " failed: " + reason;
  }
  complete(job, std::move(response));
}

void start_attempt(Job *job) {
  S3Client::Impl *impl = job->impl;
  if (g_cancellable_is_cancelled(job->cancellable)) {
    complete_cancelled(job);
    return;
  }
  ++job->attempt;
  const S3Address address = address_of(impl->target, job->request.key);
  if (job->payload_hash.empty()) {
    if (!job->body) {
      job->payload_hash = kEmptyPayloadHash;
    } else if (address.https) {
      job->payload_hash = kUnsignedPayload; /* TLS protects it; hashing costs CPU */
    } else {
      gsize size = 0;
      const auto *bytes = static_cast<const char *>(g_bytes_get_data(job->body.get(), &size));
      job->payload_hash = sha256_hex(std::string_view(bytes ? bytes : "", size));
    }
  }
  SigningRequest to_sign;
  to_sign.method = job->request.method;
  to_sign.path = address.path;
  to_sign.query = job->request.query;
  to_sign.headers = job->request.headers;
  to_sign.headers.emplace_back("Host", address.host);
  to_sign.payload_hash = job->payload_hash;
  SigningOptions options;
  options.credentials = impl->target.credentials;
  options.region = impl->target.region;
  options.timestamp = amz_timestamp_now();
  const Signature signature = sign_headers(to_sign, options);

  std::string url = address.base + uri_encode(address.path, true);
  if (!job->request.query.empty()) url += "?" + encode_query(job->request.query);
  SoupMessage *message = soup_message_new(job->request.method.c_str(), url.c_str());
  if (!message) {
    S3Response response;
    response.error = where(impl, job->request) + ": " + job->request.what +
                     " failed: cannot build a request for endpoint \"" + address.base + "\"";
    complete(job, std::move(response));
    return;
  }
  SoupMessageHeaders *headers = soup_message_get_request_headers(message);
  std::string content_type;
  for (const auto &[name, value] : to_sign.headers) {
    if (g_ascii_strcasecmp(name.c_str(), "Content-Type") == 0) content_type = value;
    soup_message_headers_replace(headers, name.c_str(), value.c_str());
  }
  for (const auto &[name, value] : signature.added_headers)
    soup_message_headers_replace(headers, name.c_str(), value.c_str());
  if (job->body)
    soup_message_set_request_body_from_bytes(
        message, content_type.empty() ? nullptr : content_type.c_str(), job->body.get());
  soup_session_send_and_read_async(impl->session, message, G_PRIORITY_DEFAULT, job->cancellable,
                                   on_response, job);
  /* the session holds the message until on_response */
}

gboolean start_job(gpointer data) {
  start_attempt(static_cast<Job *>(data));
  return G_SOURCE_REMOVE;
}

gboolean fire_waiting(gpointer data) {
  auto *impl = static_cast<S3Client::Impl *>(data);
  auto jobs = impl->waiting;
  impl->waiting.clear();
  for (Job *job : jobs) {
    if (GSource *source = g_main_context_find_source_by_id(impl->context, job->retry_source))
      g_source_destroy(source);
    job->retry_source = 0;
    start_attempt(job); /* sees the cancelled cancellable */
  }
  return G_SOURCE_REMOVE;
}

gboolean quit_loop(gpointer data) {
  g_main_loop_quit(static_cast<GMainLoop *>(data));
  return G_SOURCE_REMOVE;
}

}  // namespace

gpointer S3Client::Impl::run(gpointer data) {
  auto *impl = static_cast<Impl *>(data);
  g_main_context_push_thread_default(impl->context);
  const guint timeout = impl->policy.request_timeout_s;
  impl->session =
      soup_session_new_with_options("timeout", timeout, "idle-timeout", 60u, "max-conns-per-host",
                                    std::max<guint>(2, impl->policy.max_connections), "max-conns",
                                    std::max<guint>(4, impl->policy.max_connections * 2),
                                    "user-agent", "reelforge-reels3", nullptr);
  {
    std::lock_guard<std::mutex> lock(impl->mutex);
    impl->session_ready = true;
    impl->changed.notify_all();
  }
  g_main_loop_run(impl->loop);
  g_object_unref(impl->session);
  impl->session = nullptr;
  /* let the session's own sources finish their cleanup */
  while (g_main_context_iteration(impl->context, FALSE)) {
  }
  g_main_context_pop_thread_default(impl->context);
  return nullptr;
}

S3Client::S3Client(S3Target target, RetryPolicy policy)
    : target_(std::move(target)), impl_(std::make_unique<Impl>()) {
  impl_->target = target_;
  impl_->policy = policy;
  impl_->context = g_main_context_new();
  impl_->loop = g_main_loop_new(impl_->context, FALSE);
  impl_->cancellable = g_cancellable_new();
  impl_->thread = g_thread_new("s3-client", Impl::run, impl_.get());
  std::unique_lock<std::mutex> lock(impl_->mutex);
  impl_->changed.wait(lock, [&] { return impl_->session_ready; });
}

S3Client::~S3Client() {
  cancel_all();
  {
    std::unique_lock<std::mutex> lock(impl_->mutex);
    impl_->changed.wait(lock, [&] { return impl_->pending == 0; });
  }
  g_main_context_invoke(impl_->context, quit_loop, impl_->loop);
  g_thread_join(impl_->thread);
  g_main_loop_unref(impl_->loop);
  g_main_context_unref(impl_->context);
  g_object_unref(impl_->cancellable);
}

void S3Client::send_async(const S3Request &request, std::function<void(S3Response)> done) {
  auto *job = new Job;
  job->impl = impl_.get();
  job->request = request;
  job->request.body = nullptr;
  if (request.body) job->body.reset(g_bytes_ref(request.body));
  job->done = std::move(done);
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    job->cancellable = G_CANCELLABLE(g_object_ref(impl_->cancellable));
    ++impl_->pending;
  }
  g_main_context_invoke(impl_->context, start_job, job);
}

S3Response S3Client::send(const S3Request &request) {
  std::mutex mutex;
  std::condition_variable cond;
  bool finished = false;
  S3Response result;
  send_async(request, [&](S3Response response) {
    std::lock_guard<std::mutex> lock(mutex);
    result = std::move(response);
    finished = true;
    cond.notify_all();
  });
  std::unique_lock<std::mutex> lock(mutex);
  cond.wait(lock, [&] { return finished; });
  return result;
}

void S3Client::cancel_all() {
  {
    std::lock_guard<std::mutex> lock(impl_->mutex);
    g_cancellable_cancel(impl_->cancellable);
    g_object_unref(impl_->cancellable);
    impl_->cancellable = g_cancellable_new();
  }
  g_main_context_invoke(impl_->context, fire_waiting, impl_.get());
}

void put_file(const std::string &path, const std::string &uri, const std::string &content_type) {
  std::string error;
  const auto location = parse_s3_uri(uri, &error);
  if (!location) throw std::runtime_error(error);
  gchar *contents = nullptr;
  gsize size = 0;
  GError *raw = nullptr;
  if (!g_file_get_contents(path.c_str(), &contents, &size, &raw)) {
    GErrorPtr owned(raw);
    throw std::runtime_error("cannot read " + path + " to upload it to " + uri + ": " +
                             owned->message);
  }
  GBytesPtr body(g_bytes_new_take(contents, size));
  S3Target target;
  target.bucket = location->bucket;
  target.key = location->key;
  try {
    target = resolve(target);
  } catch (const std::exception &e) {
    throw std::runtime_error(uri + ": " + e.what());
  }
  S3Client client(target, RetryPolicy{});
  S3Request request;
  request.method = "PUT";
  request.key = target.key;
  request.headers = {{"Content-Type", content_type}};
  request.body = body.get();
  request.what = "PUT of " + path;
  const S3Response response = client.send(request);
  if (!response.ok()) throw std::runtime_error(response.error);
}

}  // namespace reelforge::s3
