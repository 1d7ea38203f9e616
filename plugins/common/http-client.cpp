/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "http-client.h"

#include "gst-ptr.h"

#include <gst/gst.h>
#include <libsoup/soup.h>

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>

GST_DEBUG_CATEGORY_STATIC(reelforge_http_debug);
#define GST_CAT_DEFAULT reelforge_http_debug

namespace reelforge::http {

namespace {

void ensure_debug_category() {
  static gsize initialised = 0;
  if (g_once_init_enter(&initialised)) {
    GST_DEBUG_CATEGORY_INIT(reelforge_http_debug, "reelforge-http", 0,
                            "Reelforge HTTP client (secrets redacted)");
    g_once_init_leave(&initialised, 1);
  }
}

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool looks_secret(const std::string &name) {
  const std::string n = lower(name);
  for (const char *word :
       {"key", "token", "secret", "signature", "auth", "password", "sig", "credential", "cookie"})
    if (n.find(word) != std::string::npos) return true;
  return false;
}

/* Makes the calling thread's default context ours for a scope. */
class ContextScope {
 public:
  explicit ContextScope(GMainContext *context) : context_(context) {
    g_main_context_push_thread_default(context_);
  }
  ~ContextScope() { g_main_context_pop_thread_default(context_); }
  ContextScope(const ContextScope &) = delete;
  ContextScope &operator=(const ContextScope &) = delete;

 private:
  GMainContext *context_;
};

/* One operation's cancellable: cancelled by the client's cancellable (any
 * thread) or by the deadline (our context). */
class Operation {
 public:
  Operation(GCancellable *outer, GMainContext *context) : context_(context) {
    op_ = g_cancellable_new();
    outer_ = static_cast<GCancellable *>(g_object_ref(outer));
    handler_ = g_cancellable_connect(outer_, G_CALLBACK(+[](GCancellable *, gpointer op) {
                                       g_cancellable_cancel(G_CANCELLABLE(op));
                                     }),
                                     op_, nullptr);
  }
  ~Operation() {
    disarm();
    g_cancellable_disconnect(outer_, handler_);
    g_object_unref(op_);
    g_object_unref(outer_);
  }
  Operation(const Operation &) = delete;
  Operation &operator=(const Operation &) = delete;

  /* (Re)starts the deadline: when it passes, the operation is cancelled and
   * timed_out() says why. */
  void arm(std::chrono::milliseconds timeout) {
    disarm();
    if (timeout.count() <= 0) return;
    deadline_ = g_timeout_source_new(static_cast<guint>(timeout.count()));
    g_source_set_callback(
        deadline_,
        +[](gpointer self) -> gboolean {
          auto *op = static_cast<Operation *>(self);
          op->timed_out_ = true;
          g_cancellable_cancel(op->op_);
          return G_SOURCE_REMOVE;
        },
        this, nullptr);
    g_source_attach(deadline_, context_);
  }
  void disarm() {
    if (deadline_) {
      g_source_destroy(deadline_);
      g_source_unref(deadline_);
      deadline_ = nullptr;
    }
  }
  GCancellable *cancellable() const { return op_; }
  bool timed_out() const { return timed_out_; }
  bool cancelled_by_owner() const { return g_cancellable_is_cancelled(outer_) && !timed_out_; }

  /* Runs the context until done is set. */
  void iterate_until(const bool &done) {
    while (!done) g_main_context_iteration(context_, TRUE);
  }

 private:
  GMainContext *context_;
  GCancellable *op_ = nullptr;
  GCancellable *outer_ = nullptr;
  gulong handler_ = 0;
  GSource *deadline_ = nullptr;
  bool timed_out_ = false;
};

/* The outcome of one async call delivered on our context. */
struct AsyncResult {
  bool done = false;
  GObjectPtr<GAsyncResult> result;
};

void on_async_ready(GObject *, GAsyncResult *result, gpointer data) {
  auto *r = static_cast<AsyncResult *>(data);
  r->result.reset(static_cast<GAsyncResult *>(g_object_ref(result)));
  r->done = true;
}

gboolean on_wait_cancelled(GCancellable *, gpointer flag) {
  *static_cast<bool *>(flag) = true;
  return G_SOURCE_REMOVE;
}

Headers collect_headers(SoupMessageHeaders *headers) {
  Headers out;
  soup_message_headers_foreach(
      headers,
      +[](const char *name, const char *value, gpointer data) {
        static_cast<Headers *>(data)->emplace_back(name, value);
      },
      &out);
  return out;
}

void log_request(const Request &request, const char *what) {
  GST_DEBUG("%s %s %s", what, request.method.c_str(), redact_url(request.url).c_str());
  for (const auto &[name, value] : request.headers)
    GST_TRACE("  %s: %s", name.c_str(), is_secret_header(name) ? "***" : value.c_str());
}

std::string describe(const Request &request) {
  return request.method + " " + redact_url(request.url);
}

bool transient_status(guint status) {
  return status == 429 || status >= 500;
}

GObjectPtr<SoupMessage> build_message(const Request &request, bool follow_redirects,
                                      guint64 range_from) {
  SoupMessage *raw = soup_message_new(request.method.c_str(), request.url.c_str());
  if (raw == nullptr)
    throw HttpError(
        "invalid URL for " + describe(request) + ": give an absolute http:// or https:// URL", 0,
        false);
  GObjectPtr<SoupMessage> msg(raw);
  SoupMessageHeaders *headers = soup_message_get_request_headers(msg.get());
  for (const auto &[name, value] : request.headers)
    soup_message_headers_replace(headers, name.c_str(), value.c_str());
  if (range_from > 0) soup_message_headers_set_range(headers, static_cast<goffset>(range_from), -1);
  if (!request.body.empty() || request.method == "POST" || request.method == "PUT") {
    GBytesPtr bytes(g_bytes_new(request.body.data(), request.body.size()));
    const std::string type =
        request.content_type.empty() ? "application/json" : request.content_type;
    soup_message_set_request_body_from_bytes(msg.get(), type.c_str(), bytes.get());
  }
  if (!follow_redirects) soup_message_add_flags(msg.get(), SOUP_MESSAGE_NO_REDIRECT);
  return msg;
}

}  // namespace

std::optional<std::string> Response::header(const std::string &name) const {
  for (const auto &[n, v] : headers)
    if (g_ascii_strcasecmp(n.c_str(), name.c_str()) == 0) return v;
  return std::nullopt;
}

bool is_secret_header(const std::string &name) {
  const std::string n = lower(name);
  if (n == "authorization" || n == "proxy-authorization" || n == "x-api-key" || n == "xi-api-key" ||
      n == "x-goog-api-key")
    return true;
  return looks_secret(n);
}

std::string redact_url(const std::string &url) {
  const auto query = url.find('?');
  if (query == std::string::npos) return url;
  std::string out = url.substr(0, query + 1);
  std::string rest = url.substr(query + 1);
  std::string fragment;
  if (const auto hash = rest.find('#'); hash != std::string::npos) {
    fragment = rest.substr(hash);
    rest.resize(hash);
  }
  size_t start = 0;
  bool first = true;
  while (start <= rest.size()) {
    size_t end = rest.find('&', start);
    if (end == std::string::npos) end = rest.size();
    std::string pair = rest.substr(start, end - start);
    const auto eq = pair.find('=');
    const std::string name = pair.substr(0, eq);
    if (eq != std::string::npos && looks_secret(name)) pair = name + "=***";
    if (!first) out += '&';
    out += pair;
    first = false;
    start = end + 1;
  }
  return out + fragment;
}

std::optional<std::chrono::milliseconds> parse_retry_after(const std::string &value) {
  std::string v = value;
  v.erase(0, v.find_first_not_of(" \t"));
  v.erase(v.find_last_not_of(" \t") + 1);
  if (v.empty()) return std::nullopt;
  if (std::all_of(v.begin(), v.end(), [](unsigned char c) { return std::isdigit(c); })) {
    const double seconds = g_ascii_strtod(v.c_str(), nullptr);
    return std::chrono::milliseconds(static_cast<gint64>(seconds * 1000));
  }
  GDateTime *date = soup_date_time_new_from_http_string(v.c_str());
  if (date == nullptr) return std::nullopt;
  GDateTime *now = g_date_time_new_now_utc();
  const GTimeSpan diff = g_date_time_difference(date, now);
  g_date_time_unref(now);
  g_date_time_unref(date);
  return std::chrono::milliseconds(std::max<GTimeSpan>(0, diff / 1000));
}

struct HttpClient::Session {
  GObjectPtr<SoupSession> soup;
};

HttpClient::HttpClient(GCancellable *cancellable)
    : cancellable_(cancellable ? static_cast<GCancellable *>(g_object_ref(cancellable))
                               : g_cancellable_new()),
      context_(g_main_context_new()) {
  ensure_debug_category();
}

HttpClient::~HttpClient() {
  if (session_) {
    ContextScope scope(context_);
    soup_session_abort(session_->soup.get());
    delete session_;
    /* Let the aborted operations' callbacks run and drop their refs. */
    while (g_main_context_iteration(context_, FALSE)) {
    }
  }
  g_main_context_unref(context_);
  g_object_unref(cancellable_);
}

HttpClient::Session &HttpClient::session() {
  if (session_ == nullptr) {
    /* Created with our context as the thread default, so libsoup binds its
     * sources to it. */
    auto s = std::make_unique<Session>();
    s->soup.reset(soup_session_new_with_options("user-agent", "reelforge", "timeout", 0u,
                                                "idle-timeout", 30u, nullptr));
    session_ = s.release();
  }
  return *session_;
}

void HttpClient::cancel() {
  g_cancellable_cancel(cancellable_);
}
void HttpClient::reset() {
  g_cancellable_reset(cancellable_);
}
bool HttpClient::cancelled() const {
  return g_cancellable_is_cancelled(cancellable_);
}

std::chrono::milliseconds HttpClient::backoff(int attempt, const RetryPolicy &policy) const {
  double ms = static_cast<double>(policy.initial_backoff.count());
  for (int i = 1; i < attempt; ++i) ms *= 2;
  ms = std::min(ms, static_cast<double>(policy.max_backoff.count()));
  /* ±25 % so that many clients failing together do not retry together. */
  ms *= g_random_double_range(0.75, 1.25);
  return std::chrono::milliseconds(static_cast<gint64>(ms));
}

void HttpClient::wait(std::chrono::milliseconds duration) {
  if (cancelled()) throw Cancelled();
  if (duration.count() <= 0) return;
  ContextScope scope(context_);
  Operation op(cancellable_, context_);
  bool done = false;
  GSource *cancel_source = g_cancellable_source_new(op.cancellable());
  g_source_set_callback(cancel_source, G_SOURCE_FUNC(on_wait_cancelled), &done, nullptr);
  g_source_attach(cancel_source, context_);
  op.arm(duration);
  op.iterate_until(done);
  g_source_destroy(cancel_source);
  g_source_unref(cancel_source);
  if (op.cancelled_by_owner()) throw Cancelled();
}

Response HttpClient::send_once(const Request &request) {
  if (cancelled()) throw Cancelled();
  ContextScope scope(context_);
  SoupSession *soup = session().soup.get();
  auto msg = build_message(request, follow_redirects_, 0);
  log_request(request, "sending");

  Operation op(cancellable_, context_);
  op.arm(request.timeout);
  AsyncResult async;
  soup_session_send_and_read_async(soup, msg.get(), G_PRIORITY_DEFAULT, op.cancellable(),
                                   on_async_ready, &async);
  op.iterate_until(async.done);
  op.disarm();

  GError *raw_error = nullptr;
  GBytesPtr body(soup_session_send_and_read_finish(soup, async.result.get(), &raw_error));
  GErrorPtr error(raw_error);
  if (error) {
    if (op.cancelled_by_owner()) throw Cancelled();
    if (op.timed_out())
      throw HttpError(
          describe(request) + " timed out after " + std::to_string(request.timeout.count()) + " ms",
          0, true);
    const bool unsent = error->domain == G_RESOLVER_ERROR ||
                        g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
                        g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
                        g_error_matches(error.get(), G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE);
    throw HttpError(describe(request) + " failed: " + error->message, 0, true, {}, unsent);
  }
  Response response;
  response.status = soup_message_get_status(msg.get());
  if (const char *reason = soup_message_get_reason_phrase(msg.get())) response.reason = reason;
  response.headers = collect_headers(soup_message_get_response_headers(msg.get()));
  gsize size = 0;
  const auto *data = static_cast<const char *>(g_bytes_get_data(body.get(), &size));
  if (data) response.body.assign(data, size);
  GST_DEBUG("%s → %u %s (%zu bytes)", describe(request).c_str(), response.status,
            response.reason.c_str(), response.body.size());
  return response;
}

Response HttpClient::send(const Request &request, const RetryPolicy &policy) {
  std::string last_failure;
  std::string last_body;
  guint last_status = 0;
  for (int attempt = 1;; ++attempt) {
    std::chrono::milliseconds pause{0};
    try {
      Response response = send_once(request);
      response.attempts = attempt;
      if (!transient_status(response.status)) return response;
      last_status = response.status;
      last_body = response.body;
      last_failure = describe(request) + " answered " + std::to_string(response.status) + " " +
                     response.reason;
      pause = backoff(attempt, policy);
      if (auto after = response.header("Retry-After")) {
        if (auto wait_for = parse_retry_after(*after)) {
          if (*wait_for > policy.max_retry_after)
            throw HttpError(
                last_failure + " with Retry-After " + *after + " s, longer than the client waits",
                response.status, true);
          pause = *wait_for;
        }
      }
    } catch (const HttpError &e) {
      if (!e.transient() || e.status() != 0) throw;
      if (!request.repeatable && !e.unsent())
        throw HttpError(
            std::string(e.what()) + "; not sent again, since the server may have acted on it", 0,
            false, {}, false, true);
      last_failure = e.what();
      last_status = 0;
      last_body.clear();
      pause = backoff(attempt, policy);
    }
    if (attempt >= policy.max_attempts)
      throw HttpError(last_failure + " (gave up after " + std::to_string(attempt) + " attempts)",
                      last_status, true, last_body);
    GST_INFO("%s; retrying in %lld ms (attempt %d of %d)", last_failure.c_str(),
             static_cast<long long>(pause.count()), attempt + 1, policy.max_attempts);
    wait(pause);
  }
}

DownloadResult HttpClient::download(const Request &request, const std::string &path,
                                    const RetryPolicy &policy, const DownloadProgress &progress) {
  if (cancelled()) throw Cancelled();
  std::unique_ptr<FILE, int (*)(FILE *)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file)
    throw HttpError("cannot write " + path + ": " + g_strerror(errno) +
                        " (check the directory exists and is writable)",
                    0, false);
  DownloadResult result;
  guint64 offset = 0;
  guint64 total = 0;
  int failures = 0; /* consecutive attempts that made no progress */
  std::string last_failure;
  guint last_status = 0;
  std::vector<char> buffer(64 * 1024);

  auto give_up_or_wait = [&](std::chrono::milliseconds pause) {
    ++failures;
    if (failures >= policy.max_attempts)
      throw HttpError(last_failure + " (gave up after " + std::to_string(failures) + " attempts)",
                      last_status, true);
    GST_INFO("%s; retrying in %lld ms", last_failure.c_str(),
             static_cast<long long>(pause.count()));
    wait(pause);
  };

  while (true) {
    if (cancelled()) throw Cancelled();
    ContextScope scope(context_);
    SoupSession *soup = session().soup.get();
    auto msg = build_message(request, follow_redirects_, offset);
    log_request(request, offset > 0 ? "resuming download" : "downloading");
    if (offset > 0) GST_DEBUG("  from byte %" G_GUINT64_FORMAT, offset);

    Operation op(cancellable_, context_);
    op.arm(request.timeout);
    AsyncResult async;
    soup_session_send_async(soup, msg.get(), G_PRIORITY_DEFAULT, op.cancellable(), on_async_ready,
                            &async);
    op.iterate_until(async.done);
    GError *raw_error = nullptr;
    GObjectPtr<GInputStream> stream(soup_session_send_finish(soup, async.result.get(), &raw_error));
    GErrorPtr error(raw_error);
    if (error) {
      if (op.cancelled_by_owner()) throw Cancelled();
      last_failure = describe(request) + (op.timed_out() ? " timed out" : " failed: ") +
                     (op.timed_out() ? "" : error->message);
      last_status = 0;
      give_up_or_wait(backoff(failures + 1, policy));
      continue;
    }
    const guint status = soup_message_get_status(msg.get());
    SoupMessageHeaders *headers = soup_message_get_response_headers(msg.get());
    if (transient_status(status)) {
      last_status = status;
      last_failure = describe(request) + " answered " + std::to_string(status);
      auto pause = backoff(failures + 1, policy);
      if (const char *after = soup_message_headers_get_one(headers, "Retry-After"))
        if (auto wait_for = parse_retry_after(after))
          pause = std::min(*wait_for, policy.max_retry_after);
      stream.reset();
      give_up_or_wait(pause);
      continue;
    }
    if (offset > 0 && status == 416 && total > 0 && offset >= total) break;
    if (status < 200 || status >= 300) {
      throw HttpError(
          describe(request) + " answered " + std::to_string(status) + " " +
              (soup_message_get_reason_phrase(msg.get()) ? soup_message_get_reason_phrase(msg.get())
                                                         : "") +
              (status == 403 || status == 404 || status == 410
                   ? " (the output URL has expired or was deleted)"
                   : ""),
          status, false);
    }
    if (const char *type = soup_message_headers_get_content_type(headers, nullptr))
      result.content_type = type;
    goffset range_start = 0, range_end = 0, range_total = 0;
    if (status == 206 && offset > 0 &&
        soup_message_headers_get_content_range(headers, &range_start, &range_end, &range_total) &&
        static_cast<guint64>(range_start) == offset) {
      if (range_total > 0) total = static_cast<guint64>(range_total);
      ++result.resumed;
    } else {
      /* A full body: start the file again. */
      if (offset > 0) GST_INFO("server ignored the Range request; downloading from the start");
      offset = 0;
      if (std::fflush(file.get()) != 0 || ftruncate(fileno(file.get()), 0) != 0 ||
          std::fseek(file.get(), 0, SEEK_SET) != 0)
        throw HttpError("cannot rewind " + path + ": " + g_strerror(errno), 0, false);
      const goffset length = soup_message_headers_get_content_length(headers);
      total = length > 0 ? static_cast<guint64>(length) : 0;
    }

    /* Body: read until EOF; the deadline is the longest silence. */
    bool dropped = false;
    while (true) {
      op.arm(request.timeout);
      AsyncResult read;
      g_input_stream_read_async(stream.get(), buffer.data(), buffer.size(), G_PRIORITY_DEFAULT,
                                op.cancellable(), on_async_ready, &read);
      op.iterate_until(read.done);
      GError *read_raw = nullptr;
      const gssize n = g_input_stream_read_finish(stream.get(), read.result.get(), &read_raw);
      GErrorPtr read_error(read_raw);
      if (n < 0) {
        if (op.cancelled_by_owner()) throw Cancelled();
        last_failure = describe(request) + " dropped at byte " + std::to_string(offset) + ": " +
                       (op.timed_out() ? std::string("no data for ") +
                                             std::to_string(request.timeout.count()) + " ms"
                                       : std::string(read_error->message));
        dropped = true;
        break;
      }
      if (n == 0) break;
      if (std::fwrite(buffer.data(), 1, static_cast<size_t>(n), file.get()) !=
          static_cast<size_t>(n))
        throw HttpError("cannot write " + path + ": " + g_strerror(errno), 0, false);
      offset += static_cast<guint64>(n);
      failures = 0;
      if (progress) progress(offset, total);
    }
    op.disarm();
    if (!dropped && total > 0 && offset < total) {
      last_failure = describe(request) + " ended at byte " + std::to_string(offset) + " of " +
                     std::to_string(total);
      dropped = true;
    }
    if (!dropped) break;
    last_status = 0;
    stream.reset();
    give_up_or_wait(backoff(failures + 1, policy));
  }
  if (std::fflush(file.get()) != 0)
    throw HttpError("cannot write " + path + ": " + g_strerror(errno), 0, false);
  result.bytes = offset;
  GST_DEBUG("downloaded %" G_GUINT64_FORMAT " bytes from %s (%d resumes)", offset,
            redact_url(request.url).c_str(), result.resumed);
  return result;
}

}  // namespace reelforge::http
