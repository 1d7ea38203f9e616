/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stand-in-server.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <exception>
#include <memory>

namespace reelforge::test {

std::optional<std::string> RecordedRequest::header(const std::string &name) const {
  for (const auto &[n, v] : headers)
    if (g_ascii_strcasecmp(n.c_str(), name.c_str()) == 0) return v;
  return std::nullopt;
}

Reply Reply::json(guint status, std::string body) {
  Reply reply;
  reply.status = status;
  reply.body = std::move(body);
  return reply;
}

Reply Reply::text(guint status, std::string body, std::string content_type) {
  Reply reply;
  reply.status = status;
  reply.body = std::move(body);
  reply.content_type = std::move(content_type);
  return reply;
}

StandInServer::StandInServer() {
  context_ = g_main_context_new();
  loop_ = g_main_loop_new(context_, FALSE);
  thread_ = std::thread([this] { run(); });
  std::unique_lock lock(mutex_);
  ready_cv_.wait(lock, [this] { return ready_; });
  if (!start_error_.empty()) ADD_FAILURE() << "stand-in server: " << start_error_;
}

StandInServer::~StandInServer() {
  g_main_context_invoke(
      context_,
      +[](gpointer loop) -> gboolean {
        g_main_loop_quit(static_cast<GMainLoop *>(loop));
        return G_SOURCE_REMOVE;
      },
      loop_);
  thread_.join();
  g_main_loop_unref(loop_);
  g_main_context_unref(context_);
}

void StandInServer::run() {
  g_main_context_push_thread_default(context_);
  SoupServer *server = soup_server_new("server-header", "reelforge-stand-in ", nullptr);
  soup_server_add_handler(
      server, nullptr,
      +[](SoupServer *, SoupServerMessage *msg, const char *path, GHashTable *, gpointer self) {
        static_cast<StandInServer *>(self)->handle(msg, path);
      },
      this, nullptr);
  GError *error = nullptr;
  if (soup_server_listen_local(server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error)) {
    GSList *uris = soup_server_get_uris(server);
    const int port = uris ? g_uri_get_port(static_cast<GUri *>(uris->data)) : 0;
    g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
    url_ = "http://127.0.0.1:" + std::to_string(port);
  }
  {
    std::lock_guard lock(mutex_);
    if (error) {
      start_error_ = error->message;
      g_error_free(error);
    }
    ready_ = true;
  }
  ready_cv_.notify_all();
  if (start_error_.empty()) g_main_loop_run(loop_);
  soup_server_disconnect(server);
  g_object_unref(server);
  /* Let pending sources (delayed replies) be destroyed. */
  while (g_main_context_iteration(context_, FALSE)) {
  }
  g_main_context_pop_thread_default(context_);
}

void StandInServer::route(const std::string &method, const std::string &path_prefix,
                          Handler handler) {
  std::lock_guard lock(mutex_);
  routes_.push_back({method, path_prefix, std::move(handler)});
}

std::vector<RecordedRequest> StandInServer::requests() const {
  std::lock_guard lock(mutex_);
  return requests_;
}

size_t StandInServer::count(const std::string &method, const std::string &path_prefix) const {
  std::lock_guard lock(mutex_);
  return static_cast<size_t>(
      std::count_if(requests_.begin(), requests_.end(), [&](const RecordedRequest &r) {
        return (method.empty() || r.method == method) && r.path.rfind(path_prefix, 0) == 0;
      }));
}

size_t StandInServer::total() const {
  std::lock_guard lock(mutex_);
  return requests_.size();
}

Reply StandInServer::serve_bytes(const RecordedRequest &request, const std::string &data,
                                 const std::string &content_type) {
  Reply reply;
  reply.content_type = content_type;
  reply.headers.emplace_back("Accept-Ranges", "bytes");
  size_t from = 0;
  if (auto range = request.header("Range"); range && range->rfind("bytes=", 0) == 0)
    from = static_cast<size_t>(g_ascii_strtoull(range->c_str() + 6, nullptr, 10));
  if (from == 0) {
    reply.status = 200;
    reply.body = data;
    return reply;
  }
  if (from >= data.size()) {
    reply.status = 416;
    reply.headers.emplace_back("Content-Range", "bytes */" + std::to_string(data.size()));
    return reply;
  }
  reply.status = 206;
  reply.body = data.substr(from);
  reply.headers.emplace_back("Content-Range", "bytes " + std::to_string(from) + "-" +
                                                  std::to_string(data.size() - 1) + "/" +
                                                  std::to_string(data.size()));
  return reply;
}

void StandInServer::handle(SoupServerMessage *msg, const char *path) {
  RecordedRequest request;
  request.method = soup_server_message_get_method(msg);
  request.path = path;
  if (const char *query = g_uri_get_query(soup_server_message_get_uri(msg))) request.query = query;
  soup_message_headers_foreach(
      soup_server_message_get_request_headers(msg),
      +[](const char *name, const char *value, gpointer headers) {
        static_cast<decltype(RecordedRequest::headers) *>(headers)->emplace_back(name, value);
      },
      &request.headers);
  SoupMessageBody *body = soup_server_message_get_request_body(msg);
  if (body && body->length > 0) {
    GBytes *bytes = soup_message_body_flatten(body);
    gsize size = 0;
    const auto *data = static_cast<const char *>(g_bytes_get_data(bytes, &size));
    request.body.assign(data, size);
    g_bytes_unref(bytes);
  }

  Handler handler;
  {
    std::lock_guard lock(mutex_);
    requests_.push_back(request);
    size_t best = 0;
    for (const auto &route : routes_) {
      if ((route.method.empty() || route.method == request.method) &&
          request.path.rfind(route.prefix, 0) == 0 && (!handler || route.prefix.size() >= best)) {
        handler = route.handler;
        best = route.prefix.size();
      }
    }
  }
  Reply reply;
  if (!handler) {
    reply = Reply::json(404, R"({"type":"about:blank","title":"Not Found","status":404,)"
                             R"("detail":"stand-in server has no route for )" +
                                 request.method + " " + request.path + "\"}");
    reply.content_type = "application/problem+json";
  } else {
    try {
      reply = handler(request);
    } catch (const std::exception &e) {
      ADD_FAILURE() << "stand-in handler for " << request.method << " " << request.path
                    << " threw: " << e.what();
      reply = Reply::json(500, R"({"detail":"handler failed"})");
    }
  }
  if (reply.delay.count() > 0) {
    soup_server_message_pause(msg);
    struct Delayed {
      StandInServer *self;
      SoupServerMessage *msg;
      Reply reply;
    };
    auto *delayed = new Delayed{this, static_cast<SoupServerMessage *>(g_object_ref(msg)), reply};
    GSource *source = g_timeout_source_new(static_cast<guint>(reply.delay.count()));
    g_source_set_callback(
        source,
        +[](gpointer data) -> gboolean {
          auto *d = static_cast<Delayed *>(data);
          d->self->send_reply(d->msg, d->reply);
          if (!d->reply.cut_after) soup_server_message_unpause(d->msg);
          return G_SOURCE_REMOVE;
        },
        delayed,
        +[](gpointer data) {
          auto *d = static_cast<Delayed *>(data);
          g_object_unref(d->msg);
          delete d;
        });
    g_source_attach(source, context_);
    g_source_unref(source);
    return;
  }
  send_reply(msg, reply);
}

void StandInServer::cut_connection(SoupServerMessage *msg, const Reply &reply) {
  /* Write the head and part of the body ourselves on the stolen
   * connection, then close it: the client sees a body shorter than its
   * Content-Length, as when a CDN connection drops. */
  GIOStream *stream = soup_server_message_steal_connection(msg);
  if (stream == nullptr) return;
  std::string head = "HTTP/1.1 " + std::to_string(reply.status) + " " +
                     soup_status_get_phrase(reply.status) + "\r\n";
  head += "Content-Type: " + reply.content_type + "\r\n";
  head += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
  for (const auto &[name, value] : reply.headers) head += name + ": " + value + "\r\n";
  head += "Connection: close\r\n\r\n";
  head += reply.body.substr(0, std::min(*reply.cut_after, reply.body.size()));
  GOutputStream *out = g_io_stream_get_output_stream(stream);
  g_output_stream_write_all(out, head.data(), head.size(), nullptr, nullptr, nullptr);
  g_output_stream_flush(out, nullptr, nullptr);
  g_io_stream_close(stream, nullptr, nullptr);
  g_object_unref(stream);
}

void StandInServer::send_reply(SoupServerMessage *msg, const Reply &reply) {
  if (reply.cut_after) {
    cut_connection(msg, reply);
    return;
  }
  SoupMessageHeaders *headers = soup_server_message_get_response_headers(msg);
  for (const auto &[name, value] : reply.headers)
    soup_message_headers_append(headers, name.c_str(), value.c_str());
  soup_server_message_set_status(msg, reply.status, nullptr);
  soup_server_message_set_response(msg, reply.content_type.c_str(), SOUP_MEMORY_COPY,
                                   reply.body.data(), reply.body.size());
}

}  // namespace reelforge::test
