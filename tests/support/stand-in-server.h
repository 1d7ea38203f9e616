/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * An in-process HTTP server standing in for a paid provider in tests.
 *
 * It listens on a free loopback port and runs on its own thread with its own
 * GMainContext, so the code under test can block on HTTP in any thread. Tests
 * give it route handlers (a method and a path prefix → a function returning
 * a Reply); it records every request (method, path, query, headers, body)
 * and counts them, so a test can assert, e.g., that exactly one submission
 * was made.
 *
 *   reelforge::test::StandInServer server;
 *   server.route("POST", "/v1/predictions", [&](const RecordedRequest &r) {
 *     return Reply::json(201, R"({"id":"p1","status":"starting"})");
 *   });
 *   ... use server.url() + "/v1/predictions" ...
 *   EXPECT_EQ(server.count("POST", "/v1/predictions"), 1u);
 *
 * Handlers run on the server thread: anything they share with the test needs
 * a lock or an atomic. A handler may ask for a delayed reply (the server stays
 * responsive meanwhile), or for a connection cut after some bytes of the body
 * (a dropped download). serve_bytes() answers Range requests like a file
 * server. An exception thrown by a handler becomes a 500 and a test failure.
 */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace reelforge::test {

struct RecordedRequest {
  std::string method;
  std::string path;  /* without the query */
  std::string query; /* raw, without '?' */
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /* First header named name (case-insensitive). */
  std::optional<std::string> header(const std::string &name) const;
};

struct Reply {
  guint status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string content_type = "application/json";
  std::string body;
  /* Answer only after this long (e.g. a slow provider). */
  std::chrono::milliseconds delay{0};
  /* When set: announce the whole body's Content-Length but close the
   * connection after this many bytes of it (a dropped download). */
  std::optional<size_t> cut_after;

  static Reply json(guint status, std::string body);
  static Reply text(guint status, std::string body, std::string content_type = "text/plain");
  Reply &with_header(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

using Handler = std::function<Reply(const RecordedRequest &)>;

class StandInServer {
 public:
  StandInServer();
  ~StandInServer();
  StandInServer(const StandInServer &) = delete;
  StandInServer &operator=(const StandInServer &) = delete;

  /* "http://127.0.0.1:<port>", no trailing slash. */
  std::string url() const { return url_; }

  /* Requests whose method equals method ("" = any) and whose path starts
   * with path_prefix go to handler; the longest matching prefix wins.
   * Unrouted requests get 404 with an RFC 7807 body. Thread-safe. */
  void route(const std::string &method, const std::string &path_prefix, Handler handler);

  /* Copies of every request so far, in arrival order. */
  std::vector<RecordedRequest> requests() const;
  /* How many requests matched method ("" = any) and path_prefix. */
  size_t count(const std::string &method, const std::string &path_prefix = "") const;
  /* Every request so far. */
  size_t total() const;

  /* A reply with data as a file would be served: 206 + Content-Range for a
   * "Range: bytes=N-" request, 200 otherwise; Accept-Ranges always. */
  static Reply serve_bytes(const RecordedRequest &request, const std::string &data,
                           const std::string &content_type = "video/mp4");

 private:
  struct Route {
    std::string method;
    std::string prefix;
    Handler handler;
  };
  void run();
  void handle(SoupServerMessage *msg, const char *path);
  void send_reply(SoupServerMessage *msg, const Reply &reply);
  static void cut_connection(SoupServerMessage *msg, const Reply &reply);

  mutable std::mutex mutex_;
  std::condition_variable ready_cv_;
  bool ready_ = false;
  std::string start_error_;
  std::vector<Route> routes_;
  std::vector<RecordedRequest> requests_;
  GMainContext *context_ = nullptr;
  GMainLoop *loop_ = nullptr;
  std::string url_;
  std::thread thread_;
};

}  // namespace reelforge::test
