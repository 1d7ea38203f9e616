/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The HTTP client against the in-process stand-in server: retries,
 * Retry-After, deadlines, cancellation from another thread, and a dropped
 * download resumed with Range.
 */
#include "http-client.h"
#include "stand-in-server.h"
#include "test-environment.h"

#include <atomic>
#include <fstream>
#include <sstream>
#include <thread>

using namespace std::chrono_literals;
using reelforge::http::HttpClient;
using reelforge::http::HttpError;
using reelforge::http::Request;
using reelforge::http::RetryPolicy;
using reelforge::test::RecordedRequest;
using reelforge::test::Reply;
using reelforge::test::StandInServer;

namespace {

RetryPolicy quick_policy(int attempts = 5) {
  RetryPolicy policy;
  policy.max_attempts = attempts;
  policy.initial_backoff = 20ms;
  policy.max_backoff = 100ms;
  return policy;
}

std::string pattern(size_t size) {
  std::string data(size, '\0');
  for (size_t i = 0; i < size; ++i) data[i] = static_cast<char>((i * 7919 + i / 251) & 0xff);
  return data;
}

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST(HttpClient, PostsBodyAndHeadersAndReadsTheReply) {
  StandInServer server;
  server.route("POST", "/v1/things", [](const RecordedRequest &r) {
    return Reply::json(201, R"({"echo":)" + r.body + "}").with_header("X-Id", "t1");
  });
  HttpClient client;
  Request request{.method = "POST", .url = server.url() + "/v1/things?x=1", .body = R"({"a":1})"};
  request.headers.emplace_back("Authorization", "Bearer secret-token-123");
  auto response = client.send(request);
  EXPECT_EQ(response.status, 201u);
  EXPECT_EQ(response.body, R"({"echo":{"a":1}})");
  EXPECT_EQ(response.header("x-id").value_or(""), "t1");
  ASSERT_EQ(server.count("POST", "/v1/things"), 1u);
  auto recorded = server.requests().at(0);
  EXPECT_EQ(recorded.query, "x=1");
  EXPECT_EQ(recorded.header("Authorization").value_or(""), "Bearer secret-token-123");
  EXPECT_EQ(recorded.header("Content-Type").value_or(""), "application/json");
}

TEST(HttpClient, RetriesServerErrorsThenSucceeds) {
  StandInServer server;
  std::atomic<int> calls{0};
  server.route("GET", "/flaky", [&](const RecordedRequest &) {
    return ++calls <= 2 ? Reply::json(503, R"({"detail":"busy"})") : Reply::json(200, "{}");
  });
  HttpClient client;
  auto response = client.send({.url = server.url() + "/flaky"}, quick_policy());
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(response.attempts, 3);
  EXPECT_EQ(server.count("GET", "/flaky"), 3u);
}

TEST(HttpClient, GivesUpAfterThePolicyWithTheLastStatus) {
  StandInServer server;
  server.route("GET", "/down", [](const RecordedRequest &) { return Reply::json(500, "{}"); });
  HttpClient client;
  try {
    client.send({.url = server.url() + "/down"}, quick_policy(3));
    FAIL() << "no error";
  } catch (const HttpError &e) {
    EXPECT_EQ(e.status(), 500u);
    EXPECT_TRUE(e.transient());
    EXPECT_NE(std::string(e.what()).find("3 attempts"), std::string::npos) << e.what();
  }
  EXPECT_EQ(server.count("GET", "/down"), 3u);
}

TEST(HttpClient, HonoursRetryAfterOn429) {
  StandInServer server;
  std::atomic<int> calls{0};
  server.route("GET", "/limited", [&](const RecordedRequest &) {
    if (++calls == 1)
      return Reply::json(429, R"({"detail":"Request was throttled."})")
          .with_header("Retry-After", "1");
    return Reply::json(200, "{}");
  });
  HttpClient client;
  const auto start = std::chrono::steady_clock::now();
  auto response = client.send({.url = server.url() + "/limited"}, quick_policy());
  const double elapsed = seconds_since(start);
  EXPECT_EQ(response.status, 200u);
  EXPECT_EQ(server.count("GET", "/limited"), 2u);
  /* Retry-After 1 s, not the 20 ms backoff. */
  EXPECT_GE(elapsed, 0.95);
  EXPECT_LT(elapsed, 3.0);
}

TEST(HttpClient, AnAttemptPastItsDeadlineIsRetriedThenFails) {
  StandInServer server;
  server.route("GET", "/slow", [](const RecordedRequest &) {
    Reply reply = Reply::json(200, "{}");
    reply.delay = 3s;
    return reply;
  });
  HttpClient client;
  const auto start = std::chrono::steady_clock::now();
  Request request{.url = server.url() + "/slow", .timeout = 200ms};
  EXPECT_THROW(client.send(request, quick_policy(2)), HttpError);
  EXPECT_LT(seconds_since(start), 2.0);
  EXPECT_EQ(server.count("GET", "/slow"), 2u);
}

TEST(HttpClient, CancelFromAnotherThreadInterruptsAtOnce) {
  StandInServer server;
  server.route("GET", "/hang", [](const RecordedRequest &) {
    Reply reply = Reply::json(200, "{}");
    reply.delay = 10s;
    return reply;
  });
  HttpClient client;
  std::thread canceller([&] {
    while (server.count("GET", "/hang") == 0) std::this_thread::yield();
    client.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(client.send({.url = server.url() + "/hang", .timeout = 20s}),
               reelforge::http::Cancelled);
  canceller.join();
  EXPECT_LT(seconds_since(start), 2.0);
  /* A wait is interrupted the same way, and reset() makes it usable. */
  EXPECT_THROW(client.wait(10s), reelforge::http::Cancelled);
  client.reset();
  server.route("GET", "/fast", [](const RecordedRequest &) { return Reply::json(200, "{}"); });
  EXPECT_EQ(client.send({.url = server.url() + "/fast"}).status, 200u);
}

TEST(HttpClient, ResumesADroppedDownloadWithRange) {
  StandInServer server;
  const std::string data = pattern(300 * 1024);
  std::atomic<int> calls{0};
  server.route("GET", "/file.mp4", [&](const RecordedRequest &r) {
    Reply reply = StandInServer::serve_bytes(r, data);
    if (++calls == 1) reply.cut_after = 100 * 1024;
    return reply;
  });
  reelforge::test::TempDir dir;
  HttpClient client;
  auto result =
      client.download({.url = server.url() + "/file.mp4"}, dir.file("out.mp4"), quick_policy());
  EXPECT_EQ(result.bytes, data.size());
  EXPECT_EQ(result.resumed, 1);
  EXPECT_TRUE(read_file(dir.file("out.mp4")) == data) << "downloaded file differs";
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_FALSE(requests[0].header("Range"));
  EXPECT_EQ(requests[1].header("Range").value_or(""), "bytes=102400-");
}

TEST(HttpClient, AnExpiredDownloadUrlIsAClearError) {
  StandInServer server;
  server.route("GET", "/gone.mp4", [](const RecordedRequest &) {
    return Reply::text(404, "NoSuchKey", "application/xml");
  });
  reelforge::test::TempDir dir;
  HttpClient client;
  try {
    client.download({.url = server.url() + "/gone.mp4?X-Amz-Signature=abcdef123"},
                    dir.file("out.mp4"), quick_policy());
    FAIL() << "no error";
  } catch (const HttpError &e) {
    EXPECT_EQ(e.status(), 404u);
    EXPECT_FALSE(e.transient());
    const std::string message = e.what();
    EXPECT_NE(message.find("expired"), std::string::npos) << message;
    EXPECT_EQ(message.find("abcdef123"), std::string::npos) << "signature leaked: " << message;
  }
  EXPECT_EQ(server.count("GET", "/gone.mp4"), 1u);
}

TEST(HttpClient, RedactsSecretsInUrlsAndHeaders) {
  using reelforge::http::redact_url;
  EXPECT_EQ(redact_url("https://h/v?key=abc&alt=media"), "https://h/v?key=***&alt=media");
  EXPECT_EQ(redact_url("https://h/v?X-Amz-Signature=s&X-Amz-Credential=c&a=b"),
            "https://h/v?X-Amz-Signature=***&X-Amz-Credential=***&a=b");
  EXPECT_EQ(redact_url("https://h/plain"), "https://h/plain");
  EXPECT_TRUE(reelforge::http::is_secret_header("xi-api-key"));
  EXPECT_TRUE(reelforge::http::is_secret_header("Authorization"));
  EXPECT_FALSE(reelforge::http::is_secret_header("Content-Type"));
  EXPECT_EQ(reelforge::http::parse_retry_after(" 7 ").value().count(), 7000);
  EXPECT_FALSE(reelforge::http::parse_retry_after("soon"));
}
