/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * genvideosrc against in-process stand-ins of each provider's protocol
 * (status sequences, errors, 429s, slow jobs, dropped downloads), and the
 * offline local provider decoded for real. Every test asserts how many
 * jobs were submitted, so a duplicate submission fails it.
 */
#include "stand-in-server.h"
#include "test-environment.h"

#include <gst/app/gstappsink.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

using reelforge::test::RecordedRequest;
using reelforge::test::Reply;
using reelforge::test::StandInServer;
using reelforge::test::TempDir;
using namespace std::chrono_literals;

namespace {

constexpr const char *kKey = "sk-test-SECRET-0123456789abcdef";

std::string read_file(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

/* How a stand-in provider behaves for the next jobs. */
struct Script {
  int polls_before_done = 2;  /* status requests answered "not yet" */
  int submit_429 = 0;         /* first submissions answered 429 Retry-After: 1 */
  int poll_500 = 0;           /* first polls answered 500 */
  bool refuse = false;        /* the job fails with the provider's safety error */
  bool cut_download = false;  /* the first download drops half-way */
  bool expired = false;       /* the output URL answers 404 */
  bool malformed = false;     /* the submission reply is not JSON */
  bool throttled = false;     /* waiting states before running (THROTTLED, IN_QUEUE) */
  bool submit_stalls = false; /* the first submission creates a job but answers too late */
  bool cancel_fails = false;  /* cancel requests answer 503 */
  double clip_seconds = 2;
};

/* One provider's API on a stand-in server. Counts accepted submissions
 * and the jobs in flight (submitted, result not yet downloaded). */
class FakeProvider {
 public:
  FakeProvider(std::string name, Script script = {}) : name_(std::move(name)), script_(script) {
    clip_ = reelforge::test::test_clip_bytes(script.clip_seconds, 320, 568);
    server_.route("GET", "/files/", [this](const RecordedRequest &r) { return serve_file(r); });
    if (name_ == "replicate") install_replicate();
    if (name_ == "runway") install_runway();
    if (name_ == "veo") install_veo();
    if (name_ == "fal") install_fal();
    if (name_ == "luma") install_luma();
  }

  std::string endpoint() const {
    if (name_ == "veo") return server_.url() + "/v1beta";
    return server_.url();
  }
  const std::string &name() const { return name_; }
  const std::string &clip() const { return clip_; }
  int submissions() const { return submissions_; }
  int polls() const { return polls_; }
  int max_in_flight() const { return max_in_flight_; }
  StandInServer &server() { return server_; }
  /* The cancel requests received: replicate's POST …/cancel, runway's
   * DELETE, fal's PUT (veo and luma have none). */
  std::vector<RecordedRequest> cancel_requests() const {
    std::vector<RecordedRequest> found;
    for (auto &r : server_.requests())
      if (r.method == "DELETE" || r.method == "PUT" || g_str_has_suffix(r.path.c_str(), "/cancel"))
        found.push_back(r);
    return found;
  }
  /* A job that exists before the test (for resume-id). */
  std::string precreate_job() {
    std::lock_guard lock(mutex_);
    const std::string id = "job-pre-" + std::to_string(++next_id_);
    jobs_[id] = 0;
    in_flight_up();
    return id;
  }

 private:
  /* --- bookkeeping ------------------------------------------------------- */
  std::string new_job() {
    std::lock_guard lock(mutex_);
    const std::string id = "job-" + std::to_string(++next_id_);
    jobs_[id] = 0;
    ++submissions_;
    in_flight_up();
    return id;
  }
  void in_flight_up() {
    const int now = ++in_flight_;
    int seen = max_in_flight_;
    while (now > seen && !max_in_flight_.compare_exchange_weak(seen, now)) {
    }
  }
  /* Polls so far for id, counting this one; -1 for an unknown job. */
  int poll_job(const std::string &id) {
    std::lock_guard lock(mutex_);
    ++polls_;
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return -1;
    return ++it->second;
  }
  bool fail_this_poll() { return poll_failures_++ < script_.poll_500; }
  /* The answer to a cancel of id: nullopt when accepted. */
  std::optional<Reply> refuse_cancel(const RecordedRequest &r, const std::string &id) {
    if (!authorised(r)) return Reply::json(401, R"({"detail":"Invalid token."})");
    if (script_.cancel_fails) return Reply::json(503, R"({"detail":"Service unavailable"})");
    std::lock_guard lock(mutex_);
    if (jobs_.count(id) == 0) return Reply::json(404, R"({"detail":"Not found."})");
    return std::nullopt;
  }
  std::optional<Reply> throttle_submit() {
    if (submit_attempts_++ < script_.submit_429)
      return Reply::json(429,
                         R"({"detail":"Request was throttled. Your rate limit resets in ~1s."})")
          .with_header("Retry-After", "1");
    if (script_.malformed) {
      ++submissions_;
      return Reply::json(201, R"({"id": "job-x", "status": )");
    }
    if (script_.submit_stalls && submit_attempts_ == 1) {
      ++submissions_;
      Reply late = Reply::json(201, R"({"id": "job-late"})");
      late.delay = std::chrono::milliseconds(3000);
      return late;
    }
    return std::nullopt;
  }
  std::string file_url(const std::string &id) const {
    return server_.url() + "/files/" + id + ".mp4";
  }
  static std::string tail(const std::string &path) { return path.substr(path.rfind('/') + 1); }
  bool authorised(const RecordedRequest &r) const {
    if (name_ == "veo") return r.header("x-goog-api-key").value_or("") == kKey;
    if (name_ == "fal") return r.header("Authorization").value_or("") == std::string("Key ") + kKey;
    return r.header("Authorization").value_or("") == std::string("Bearer ") + kKey;
  }

  Reply serve_file(const RecordedRequest &r) {
    if (script_.expired)
      return Reply::text(404, "<Error><Code>NoSuchKey</Code></Error>", "application/xml");
    if (name_ == "veo" && !authorised(r))
      return Reply::json(403, R"({"error":{"message":"no key"}})");
    Reply reply = StandInServer::serve_bytes(r, clip_);
    if (script_.cut_download && !cut_done_.exchange(true)) {
      reply.cut_after = clip_.size() / 2;
      return reply;
    }
    --in_flight_;
    return reply;
  }

  /* --- Replicate ----------------------------------------------------------- */
  void install_replicate() {
    server_.route("POST", "/v1/models/", [this](const RecordedRequest &r) {
      if (!authorised(r))
        return Reply::json(401,
                           R"({"title":"Unauthenticated","detail":"Invalid token.","status":401})");
      if (auto reply = throttle_submit()) return *reply;
      const std::string id = new_job();
      return Reply::json(201, R"({"id":")" + id +
                                  R"(","status":"starting","output":null,"error":null,)"
                                  R"("urls":{"get":")" +
                                  server_.url() + "/v1/predictions/" + id + R"("}})");
    });
    server_.route("GET", "/v1/predictions/", [this](const RecordedRequest &r) {
      if (!authorised(r)) return Reply::json(401, R"({"detail":"Invalid token."})");
      if (fail_this_poll()) return Reply::json(500, R"({"detail":"Internal Server Error"})");
      const std::string id = tail(r.path);
      const int n = poll_job(id);
      if (n < 0)
        return Reply::json(404, R"({"title":"Not found","detail":"Not found.","status":404})");
      const std::string head = R"({"id":")" + id + R"(","model":"google/veo-3-fast",)";
      if (script_.refuse)
        return Reply::json(
            200,
            head +
                R"("status":"failed","output":null,)"
                R"J("error":"The input or output was flagged as sensitive. Please try again with different inputs. (E005)"})J");
      if (n <= script_.polls_before_done)
        return Reply::json(200, head + R"("status":"processing","output":null,"error":null})");
      return Reply::json(200, head + R"("status":"succeeded","output":")" + file_url(id) +
                                  R"(","error":null,"metrics":{"predict_time":42.1}})");
    });
    server_.route("POST", "/v1/predictions/", [this](const RecordedRequest &r) {
      const std::string id = tail(r.path.substr(0, r.path.rfind("/cancel")));
      if (auto refusal = refuse_cancel(r, id)) return *refusal;
      return Reply::json(200, R"({"id":")" + id + R"(","status":"canceled","output":null})");
    });
  }

  /* --- Runway ----------------------------------------------------------------- */
  void install_runway() {
    auto create = [this](const RecordedRequest &r) {
      if (!authorised(r) || r.header("X-Runway-Version").value_or("") != "2024-11-06")
        return Reply::json(401, R"({"error":"Invalid API key or version"})");
      if (auto reply = throttle_submit()) return *reply;
      return Reply::json(200, R"({"id":")" + new_job() + R"("})");
    };
    server_.route("POST", "/v1/text_to_video", create);
    server_.route("POST", "/v1/image_to_video", create);
    server_.route("GET", "/v1/tasks/", [this](const RecordedRequest &r) {
      if (fail_this_poll()) return Reply::json(502, R"({"error":"Bad gateway"})");
      const std::string id = tail(r.path);
      const int n = poll_job(id);
      if (n < 0) return Reply::json(404, R"({"error":"Task not found"})");
      const std::string head = R"({"id":")" + id + R"(","createdAt":"2026-11-22T10:00:00Z",)";
      if (script_.refuse)
        return Reply::json(
            200,
            head +
                R"("status":"FAILED","failure":"Your prompt was flagged by our content moderation.",)"
                R"("failureCode":"SAFETY.INPUT.TEXT"})");
      if (n <= script_.polls_before_done) {
        if (script_.throttled && n <= script_.polls_before_done / 2)
          return Reply::json(200, head + R"("status":"THROTTLED"})");
        return Reply::json(
            200, head + R"("status":"RUNNING","progress":)" +
                     std::to_string(static_cast<double>(n) / (script_.polls_before_done + 1)) +
                     "}");
      }
      return Reply::json(200,
                         head + R"("status":"SUCCEEDED","output":[")" + file_url(id) + R"("]})");
    });
    server_.route("DELETE", "/v1/tasks/", [this](const RecordedRequest &r) {
      if (auto refusal = refuse_cancel(r, tail(r.path))) return *refusal;
      return Reply::text(204, "");
    });
  }

  /* --- Veo (Gemini API) ----------------------------------------------------------- */
  void install_veo() {
    server_.route("POST", "/v1beta/models/", [this](const RecordedRequest &r) {
      if (!authorised(r))
        return Reply::json(
            400,
            R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API key.","status":"INVALID_ARGUMENT"}})");
      if (r.path.find(":predictLongRunning") == std::string::npos)
        return Reply::json(404,
                           R"({"error":{"code":404,"message":"not found","status":"NOT_FOUND"}})");
      if (auto reply = throttle_submit()) return *reply;
      const std::string model = r.path.substr(15, r.path.find(':') - 15);
      return Reply::json(200, R"({"name":"models/)" + model + "/operations/" + new_job() + R"("})");
    });
    server_.route("GET", "/v1beta/models/", [this](const RecordedRequest &r) {
      if (!authorised(r)) return Reply::json(403, R"({"error":{"code":403,"message":"denied"}})");
      if (fail_this_poll())
        return Reply::json(503, R"({"error":{"code":503,"message":"unavailable"}})");
      const std::string id = tail(r.path);
      const int n = poll_job(id);
      const std::string name = r.path.substr(8);
      if (n < 0) return Reply::json(404, R"({"error":{"code":404,"message":"no operation"}})");
      if (n <= script_.polls_before_done)
        return Reply::json(200, R"({"name":")" + name + R"(","done":false})");
      if (script_.refuse)
        return Reply::json(
            200,
            R"({"name":")" + name +
                R"(","done":true,"response":{"generateVideoResponse":)"
                R"({"raiMediaFilteredCount":1,"raiMediaFilteredReasons":["Unsafe content"]}}})");
      return Reply::json(200,
                         R"({"name":")" + name +
                             R"(","done":true,"response":{"@type":"type.googleapis.com/)"
                             R"(google.ai.generativelanguage.v1beta.PredictLongRunningResponse",)"
                             R"("generateVideoResponse":{"generatedSamples":[{"video":{"uri":")" +
                             file_url(id) + R"("}}]}}})");
    });
  }

  /* --- fal.ai queue ------------------------------------------------------------------ */
  void install_fal() {
    server_.route("POST", "/fal-ai/", [this](const RecordedRequest &r) {
      if (!authorised(r)) return Reply::json(401, R"({"detail":"Invalid key"})");
      if (auto reply = throttle_submit()) return *reply;
      const std::string id = new_job();
      const std::string base = server_.url() + r.path + "/requests/" + id;
      return Reply::json(200, R"({"request_id":")" + id +
                                  R"(","status":"IN_QUEUE","status_url":")" + base +
                                  R"(/status","response_url":")" + base + R"(","cancel_url":")" +
                                  base + R"(/cancel"})");
    });
    server_.route("GET", "/fal-ai/", [this](const RecordedRequest &r) {
      if (!authorised(r)) return Reply::json(401, R"({"detail":"Invalid key"})");
      const bool status = r.path.size() > 7 && r.path.substr(r.path.size() - 7) == "/status";
      std::string id = status ? r.path.substr(0, r.path.size() - 7) : r.path;
      id = tail(id);
      if (status) {
        if (fail_this_poll()) return Reply::json(500, R"({"detail":"Internal error"})");
        const int n = poll_job(id);
        if (n < 0) return Reply::json(404, R"({"detail":"Request not found"})");
        if (n <= script_.polls_before_done) {
          if (script_.throttled && n <= script_.polls_before_done / 2)
            return Reply::json(202, R"({"status":"IN_QUEUE","queue_position":)" +
                                        std::to_string(script_.polls_before_done - n) + "}");
          return Reply::json(202, R"({"status":"IN_PROGRESS","logs":[]})");
        }
        return Reply::json(200, R"({"status":"COMPLETED","logs":[]})");
      }
      if (script_.refuse)
        return Reply::json(
            422,
            R"({"detail":[{"type":"content_policy_violation","msg":"flagged by content checker"}]})");
      return Reply::json(200, R"({"video":{"url":")" + file_url(id) +
                                  R"(","content_type":"video/mp4"},"seed":7})");
    });
    server_.route("PUT", "/fal-ai/", [this](const RecordedRequest &r) {
      const std::string id = tail(r.path.substr(0, r.path.rfind("/cancel")));
      if (auto refusal = refuse_cancel(r, id)) return *refusal;
      return Reply::json(202, R"({"status":"CANCELLATION_REQUESTED"})");
    });
  }

  /* --- Luma ---------------------------------------------------------------------------- */
  void install_luma() {
    server_.route("POST", "/generations/video", [this](const RecordedRequest &r) {
      if (!authorised(r)) return Reply::json(401, R"({"detail":"Invalid API key"})");
      if (auto reply = throttle_submit()) return *reply;
      return Reply::json(201, R"({"id":")" + new_job() +
                                  R"(","state":"queued","failure_reason":null,"assets":null})");
    });
    server_.route("GET", "/generations/", [this](const RecordedRequest &r) {
      if (fail_this_poll()) return Reply::json(500, R"({"detail":"server error"})");
      const std::string id = tail(r.path);
      const int n = poll_job(id);
      if (n < 0) return Reply::json(404, R"({"detail":"Generation not found"})");
      if (script_.refuse)
        return Reply::json(
            200,
            R"({"id":")" + id +
                R"J(","state":"failed","failure_reason":"Prompt blocked by moderation (safety)"})J");
      if (n <= script_.polls_before_done)
        return Reply::json(200, R"({"id":")" + id + R"(","state":"dreaming"})");
      return Reply::json(200, R"({"id":")" + id + R"(","state":"completed","assets":{"video":")" +
                                  file_url(id) + R"("}})");
    });
  }

  std::string name_;
  Script script_;
  std::string clip_;
  StandInServer server_;
  std::mutex mutex_;
  std::map<std::string, int> jobs_;
  int next_id_ = 0;
  std::atomic<int> submissions_{0}, polls_{0}, in_flight_{0}, max_in_flight_{0};
  std::atomic<int> submit_attempts_{0}, poll_failures_{0};
  std::atomic<bool> cut_done_{false};
};

std::string default_model(const std::string &provider) {
  if (provider == "replicate") return "google/veo-3-fast";
  if (provider == "runway") return "gen4_turbo";
  if (provider == "veo") return "veo-3.1-fast-generate-preview";
  if (provider == "fal") return "fal-ai/kling-video/v2/master/text-to-video";
  if (provider == "luma") return "ray-2";
  return "";
}

/* A genvideosrc ! fakesink description for provider at fake. */
std::string source_for(const FakeProvider &fake, const TempDir &cache,
                       const std::string &more = "") {
  return "genvideosrc provider=" + fake.name() + " model=" + default_model(fake.name()) +
         " prompt=\"A lighthouse at dawn\" duration=2 aspect-ratio=9:16 api-key=" + kKey +
         " endpoint=" + fake.endpoint() + " cache-dir=" + cache.path().string() +
         " poll-interval=10 stagger=0 " + more;
}

reelforge::test::PipelineRun run_source(const std::string &source) {
  return reelforge::test::run_pipeline(source + " ! fakesink", 60 * GST_SECOND);
}

const GstStructure *last_message(const reelforge::test::PipelineRun &run, const char *name) {
  auto found = run.messages(name);
  return found.empty() ? nullptr : found.back();
}

}  // namespace

/* --- each provider's happy path ---------------------------------------------------------- */

class HappyPath : public ::testing::TestWithParam<const char *> {};

TEST_P(HappyPath, SubmitsOncePollsDownloadsAndPostsTheFourMessages) {
  FakeProvider fake(GetParam());
  TempDir cache;
  auto run = run_source(source_for(fake, cache));
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(fake.submissions(), 1);
  EXPECT_EQ(fake.polls(), 3) << "two 'not yet' answers, then done";

  ASSERT_EQ(run.messages("genvideosrc-submitting").size(), 1u);
  ASSERT_EQ(run.messages("genvideosrc-submitted").size(), 1u);
  EXPECT_GE(run.messages("genvideosrc-progress").size(), 3u);
  const GstStructure *submitting = last_message(run, "genvideosrc-submitting");
  const GstStructure *submitted = last_message(run, "genvideosrc-submitted");
  const GstStructure *done = last_message(run, "genvideosrc-done");
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(reelforge::test::get_string(submitting, "idempotency-key").size(), 64u);
  EXPECT_EQ(reelforge::test::get_string(submitting, "idempotency-key"),
            reelforge::test::get_string(submitted, "idempotency-key"));
  /* Veo's job id is the operation's name, ending in the id. */
  const std::string job = reelforge::test::get_string(submitted, "job-id");
  EXPECT_TRUE(job == "job-1" || g_str_has_suffix(job.c_str(), "/operations/job-1")) << job;
  EXPECT_EQ(reelforge::test::get_string(done, "job-id"), job);
  EXPECT_EQ(reelforge::test::get_uint64(done, "bytes"), fake.clip().size());
  EXPECT_NEAR(reelforge::test::get_double(done, "actual-duration"), 2.0, 0.05);
  for (const char *field : {"timestamp", "stream-time", "running-time", "duration"})
    EXPECT_TRUE(gst_structure_has_field(done, field)) << field;
  gboolean hit = TRUE;
  ASSERT_TRUE(gst_structure_get_boolean(done, "cache-hit", &hit));
  EXPECT_FALSE(hit);
  /* The cached file is the provider's clip, byte for byte. */
  EXPECT_TRUE(read_file(reelforge::test::get_string(done, "location")) == fake.clip());
  /* A job that succeeded is not cancelled when the pipeline stops. */
  EXPECT_EQ(fake.cancel_requests().size(), 0u);
  EXPECT_EQ(run.messages("genvideosrc-cancelled").size(), 0u);
}

INSTANTIATE_TEST_SUITE_P(Providers, HappyPath,
                         ::testing::Values("replicate", "runway", "veo", "fal", "luma"));

TEST(GenVideoSrc, ReplicatePriceEstimateComesFromPricingData) {
  FakeProvider fake("replicate");
  TempDir cache;
  auto run = run_source(source_for(fake, cache));
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(fake.submissions(), 1);
  /* schemas/pricing.json: google/veo-3-fast at 0.10 USD/s, 2 s asked. */
  EXPECT_NEAR(
      reelforge::test::get_double(last_message(run, "genvideosrc-submitted"), "estimated-cost"),
      0.20, 1e-9);
  EXPECT_NEAR(reelforge::test::get_double(last_message(run, "genvideosrc-done"), "cost"), 0.20,
              0.01);
}

/* --- slow jobs, limits, transient failures ------------------------------------------------- */

TEST(GenVideoSrc, SlowThrottledJobIsPolledUntilDoneNotFailed) {
  Script script;
  script.polls_before_done = 20;
  script.throttled = true; /* THROTTLED for ten polls, then RUNNING */
  FakeProvider fake("runway", script);
  TempDir cache;
  auto run = run_source(source_for(fake, cache));
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(fake.submissions(), 1);
  EXPECT_EQ(fake.polls(), 21);
  auto progress = run.messages("genvideosrc-progress");
  ASSERT_EQ(progress.size(), 21u);
  EXPECT_EQ(reelforge::test::get_string(progress.front(), "status"), "THROTTLED");
  EXPECT_EQ(reelforge::test::get_string(progress.back(), "status"), "SUCCEEDED");
}

TEST(GenVideoSrc, FalInQueueIsWaitingNotFailing) {
  Script script;
  script.polls_before_done = 6;
  script.throttled = true;
  FakeProvider fake("fal", script);
  TempDir cache;
  auto run = run_source(source_for(fake, cache));
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(fake.submissions(), 1);
  EXPECT_EQ(reelforge::test::get_string(run.messages("genvideosrc-progress").front(), "status"),
            "IN_QUEUE (position 5)");
}

TEST(GenVideoSrc, HonoursRetryAfterOnA429Submission) {
  Script script;
  script.submit_429 = 1;
  FakeProvider fake("replicate", script);
  TempDir cache;
  const auto start = std::chrono::steady_clock::now();
  auto run = run_source(source_for(fake, cache));
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(fake.submissions(), 1);
  EXPECT_EQ(fake.server().count("POST", "/v1/models/"), 2u) << "one 429, one accepted";
  EXPECT_GE(elapsed, 0.95) << "Retry-After: 1 was not honoured";
}

TEST(GenVideoSrc, ServerErrorsWhilePollingAreRetriedWithoutResubmitting) {
  Script script;
  script.poll_500 = 2;
  FakeProvider fake("runway", script);
  TempDir cache;
  auto run = run_source(source_for(fake, cache));
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(fake.submissions(), 1);
  EXPECT_EQ(fake.server().count("GET", "/v1/tasks/"), 3u + 2u);
}

TEST(GenVideoSrc, TenElementsNeverHaveMoreThanFourJobsInFlight) {
  Script script;
  script.polls_before_done = 3;
  FakeProvider fake("luma", script);
  TempDir cache;
  std::string description;
  for (int i = 0; i < 10; ++i)
    description +=
        source_for(fake, cache, "max-concurrent=4 seed=" + std::to_string(i)) + " ! fakesink ";
  auto run = reelforge::test::run_pipeline(description, 120 * GST_SECOND);
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(fake.submissions(), 10);
  EXPECT_LE(fake.max_in_flight(), 4);
  EXPECT_GE(fake.max_in_flight(), 2) << "the elements did not run concurrently at all";
  EXPECT_EQ(run.messages("genvideosrc-done").size(), 10u);
}

/* --- refusals, fallbacks and clear errors --------------------------------------------------- */

TEST(GenVideoSrc, SafetyRefusalIsNotRetriedAndFallsBackToTheNextProvider) {
  Script refusing;
  refusing.refuse = true;
  FakeProvider runway("runway", refusing);
  FakeProvider replicate("replicate");
  TempDir cache;
  g_setenv("REPLICATE_API_TOKEN", kKey, TRUE);
  const std::string fallback =
      R"([{"provider":"replicate","model":"google/veo-3-fast","endpoint":")" +
      replicate.endpoint() + R"("}])";
  GError *error = nullptr;
  auto pipeline = reelforge::adopt_floating(
      gst_parse_launch((source_for(runway, cache, "name=gen") + " ! fakesink").c_str(), &error));
  ASSERT_EQ(error, nullptr);
  reelforge::GstObjectPtr<GstElement> gen(gst_bin_get_by_name(GST_BIN(pipeline.get()), "gen"));
  g_object_set(gen.get(), "fallback", fallback.c_str(), nullptr);
  auto run = reelforge::test::run_pipeline(pipeline.get());
  g_unsetenv("REPLICATE_API_TOKEN");
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(runway.submissions(), 1);
  EXPECT_EQ(replicate.submissions(), 1);
  EXPECT_EQ(runway.polls(), 1) << "a refusal must not be polled or retried";
  EXPECT_EQ(run.messages("genvideosrc-submitting").size(), 2u);
  EXPECT_EQ(reelforge::test::get_string(last_message(run, "genvideosrc-done"), "provider"),
            "replicate");
}

/* A submission that got no answer may have started a paid job: it is not
 * sent again, and no fallback provider is tried (either could pay twice). */
TEST(GenVideoSrc, AnUnansweredSubmissionIsNeverSentAgain) {
  Script stalling;
  stalling.submit_stalls = true;
  FakeProvider runway("runway", stalling);
  FakeProvider replicate("replicate");
  TempDir cache;
  g_setenv("REPLICATE_API_TOKEN", kKey, TRUE);
  const std::string fallback =
      R"([{"provider":"replicate","model":"google/veo-3-fast","endpoint":")" +
      replicate.endpoint() + R"("}])";
  GError *error = nullptr;
  auto pipeline = reelforge::adopt_floating(gst_parse_launch(
      (source_for(runway, cache, "name=gen timeout=1") + " ! fakesink").c_str(), &error));
  ASSERT_EQ(error, nullptr);
  reelforge::GstObjectPtr<GstElement> gen(gst_bin_get_by_name(GST_BIN(pipeline.get()), "gen"));
  g_object_set(gen.get(), "fallback", fallback.c_str(), nullptr);
  auto run = reelforge::test::run_pipeline(pipeline.get());
  g_unsetenv("REPLICATE_API_TOKEN");
  EXPECT_FALSE(run.reached_eos);
  EXPECT_NE(run.error.find("not sent again"), std::string::npos) << run.error;
  EXPECT_NE(run.error.find("a job may exist at runway"), std::string::npos) << run.error;
  EXPECT_EQ(runway.submissions(), 1);
  EXPECT_EQ(runway.server().count("POST", "/"), 1u) << "the submission was sent again";
  EXPECT_EQ(replicate.submissions(), 0) << "a fallback after an unknown outcome may pay twice";
}

TEST(GenVideoSrc, GenvideoUriFallbackReachesTheLocalProviderWhenAKeyIsMissing) {
  /* What a job's chain becomes: replicate first (no key here), then local. */
  FakeProvider fake("replicate");
  TempDir cache;
  g_unsetenv("REPLICATE_API_TOKEN");
  const std::string uri =
      "genvideo://replicate/google/veo-3-fast?prompt=Hello&duration=1&resolution=320x568"
      "&stagger=0&endpoint=" +
      fake.endpoint() + "&cache_dir=" + cache.path().string() +
      "&fallback=%5B%7B%22provider%22%3A%22local%22%7D%5D";
  auto run = reelforge::test::run_pipeline("uridecodebin3 uri=\"" + uri + "\" ! fakesink");
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(fake.submissions(), 0);
  EXPECT_EQ(fake.server().total(), 0u);
  EXPECT_EQ(reelforge::test::get_string(last_message(run, "genvideosrc-done"), "provider"),
            "local");
}

TEST(GenVideoSrc, GoingToNullInterruptsAJobAtOnceAfterOneSubmission) {
  Script script;
  script.polls_before_done = 1000000; /* never done */
  FakeProvider fake("runway", script);
  TempDir cache;
  GError *error = nullptr;
  auto pipeline = reelforge::adopt_floating(gst_parse_launch(
      (source_for(fake, cache) + " poll-interval=5000 ! fakesink").c_str(), &error));
  ASSERT_EQ(error, nullptr);
  reelforge::GstObjectPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  bool polled = false;
  while (!polled) {
    reelforge::MessagePtr message(gst_bus_timed_pop_filtered(
        bus.get(), 10 * GST_SECOND,
        static_cast<GstMessageType>(GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR)));
    ASSERT_TRUE(message) << "no submitted message";
    ASSERT_EQ(GST_MESSAGE_TYPE(message.get()), GST_MESSAGE_ELEMENT);
    polled =
        gst_structure_has_name(gst_message_get_structure(message.get()), "genvideosrc-submitted");
  }
  /* The element now waits 5 s before its first poll: NULL must not wait
   * it out (nor the job). */
  const auto start = std::chrono::steady_clock::now();
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(elapsed, 1.0);
  EXPECT_EQ(fake.submissions(), 1);
  EXPECT_EQ(fake.polls(), 0);
}

TEST(GenVideoSrc, RefusalWithoutFallbackIsAnErrorCarryingTheProvidersReason) {
  for (const char *provider : {"replicate", "luma", "veo"}) {
    Script refusing;
    refusing.refuse = true;
    FakeProvider fake(provider, refusing);
    TempDir cache;
    auto run = run_source(source_for(fake, cache));
    EXPECT_FALSE(run.reached_eos) << provider;
    EXPECT_EQ(fake.submissions(), 1) << provider;
    EXPECT_NE(run.error.find("[refused]"), std::string::npos) << provider << ": " << run.error;
    EXPECT_EQ(run.messages("genvideosrc-done").size(), 0u);
  }
}

TEST(GenVideoSrc, ExpiredOutputUrlIsAClearErrorAndNotResubmitted) {
  Script script;
  script.expired = true;
  FakeProvider fake("luma", script);
  TempDir cache;
  auto run = run_source(source_for(fake, cache));
  EXPECT_FALSE(run.reached_eos);
  EXPECT_EQ(fake.submissions(), 1);
  EXPECT_NE(run.error.find("expired"), std::string::npos) << run.error;
  EXPECT_NE(run.error.find("job-1"), std::string::npos) << run.error;
}

TEST(GenVideoSrc, MalformedJsonReplyIsAClearError) {
  Script script;
  script.malformed = true;
  FakeProvider fake("replicate", script);
  TempDir cache;
  auto run = run_source(source_for(fake, cache));
  EXPECT_FALSE(run.reached_eos);
  EXPECT_EQ(fake.submissions(), 1);
  EXPECT_NE(run.error.find("malformed JSON"), std::string::npos) << run.error;
  EXPECT_NE(run.error.find("replicate"), std::string::npos) << run.error;
}

TEST(GenVideoSrc, ResultOfTheWrongLengthIsRejected) {
  Script script;
  script.clip_seconds = 1; /* the request asks for 2 s */
  FakeProvider fake("fal", script);
  TempDir cache;
  auto run = run_source(source_for(fake, cache));
  EXPECT_FALSE(run.reached_eos);
  EXPECT_EQ(fake.submissions(), 1);
  EXPECT_NE(run.error.find("not the 2"), std::string::npos) << run.error;
  /* Nothing was cached. */
  EXPECT_FALSE(std::filesystem::exists(cache.path() / "fal") &&
               !std::filesystem::is_empty(cache.path() / "fal"));
}

TEST(GenVideoSrc, BadInputNamesTheFieldAndSendsNothing) {
  FakeProvider fake("replicate");
  TempDir cache;
  auto run = run_source("genvideosrc provider=sora prompt=x cache-dir=" + cache.path().string());
  EXPECT_NE(run.error.find("provider: \"sora\" is not one of"), std::string::npos) << run.error;
  run = run_source("genvideosrc provider=replicate prompt=x aspect-ratio=wide api-key=k endpoint=" +
                   fake.endpoint() + " model=a/b cache-dir=" + cache.path().string());
  EXPECT_NE(run.error.find("aspect-ratio"), std::string::npos) << run.error;
  EXPECT_EQ(fake.submissions(), 0);
  EXPECT_EQ(fake.server().total(), 0u);
}

/* --- durability
 * ----------------------------------------------------------------------------------- */

TEST(GenVideoSrc, DroppedDownloadIsResumedWithRangeAndTheFileIsIntact) {
  Script script;
  script.cut_download = true;
  FakeProvider fake("replicate", script);
  TempDir cache;
  auto run = run_source(source_for(fake, cache));
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(fake.submissions(), 1);
  std::vector<std::string> ranges;
  for (const auto &r : fake.server().requests())
    if (r.path.rfind("/files/", 0) == 0) ranges.push_back(r.header("Range").value_or(""));
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(fake.clip().size() / 2) + "-");
  EXPECT_TRUE(read_file(reelforge::test::get_string(last_message(run, "genvideosrc-done"),
                                                    "location")) == fake.clip());
}

TEST(GenVideoSrc, ResumeIdPollsTheJobAndNeverSubmits) {
  FakeProvider fake("veo");
  const std::string job = "models/veo-3.1-fast-generate-preview/operations/" + fake.precreate_job();
  TempDir cache;
  auto run = run_source(source_for(fake, cache, "resume-id=" + job));
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(fake.submissions(), 0);
  EXPECT_EQ(fake.server().count("POST"), 0u);
  EXPECT_EQ(run.messages("genvideosrc-submitting").size(), 0u);
  EXPECT_EQ(reelforge::test::get_string(last_message(run, "genvideosrc-done"), "job-id"), job);
}

TEST(GenVideoSrc, CacheHitMakesNoRequestAtAll) {
  FakeProvider fake("replicate");
  TempDir cache;
  auto first = run_source(source_for(fake, cache));
  ASSERT_TRUE(first.reached_eos) << first.error;
  const size_t requests = fake.server().total();
  /* Same request, prompt spaced differently: the normalised form is equal. */
  auto second = run_source(source_for(fake, cache) + " prompt=\"  A lighthouse   at dawn \"");
  ASSERT_TRUE(second.reached_eos) << second.error;
  EXPECT_EQ(fake.submissions(), 1);
  EXPECT_EQ(fake.server().total(), requests) << "a cache hit made HTTP requests";
  const GstStructure *done = last_message(second, "genvideosrc-done");
  gboolean hit = FALSE;
  ASSERT_TRUE(gst_structure_get_boolean(done, "cache-hit", &hit));
  EXPECT_TRUE(hit);
  EXPECT_EQ(second.messages("genvideosrc-submitting").size(), 0u);
  /* No temporary files left behind. */
  for (const auto &entry : std::filesystem::directory_iterator(cache.path() / "replicate"))
    EXPECT_EQ(entry.path().extension(), ".mp4") << entry.path();
}

TEST(GenVideoSrc, SubmittingIsPostedSynchronouslyBeforeThePost) {
  FakeProvider fake("replicate");
  TempDir cache;
  GError *error = nullptr;
  auto pipeline = reelforge::adopt_floating(
      gst_parse_launch((source_for(fake, cache) + " ! fakesink").c_str(), &error));
  ASSERT_EQ(error, nullptr);
  struct Seen {
    FakeProvider *fake;
    std::atomic<int> posts_before = -1;
  } seen{&fake};
  reelforge::GstObjectPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  gst_bus_set_sync_handler(
      bus.get(),
      [](GstBus *, GstMessage *message, gpointer data) {
        const GstStructure *s = gst_message_get_structure(message);
        if (s && gst_structure_has_name(s, "genvideosrc-submitting")) {
          auto *seen = static_cast<Seen *>(data);
          seen->posts_before = static_cast<int>(seen->fake->server().count("POST"));
        }
        return GST_BUS_PASS;
      },
      &seen, nullptr);
  auto run = reelforge::test::run_pipeline(pipeline.get());
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(seen.posts_before.load(), 0) << "the POST went out before the sync handler ran";
  EXPECT_EQ(fake.submissions(), 1);
}

/* --- secrets
 * -------------------------------------------------------------------------------------- */

namespace {
std::recursive_mutex log_mutex;
std::string captured_log;
void capture_log(GstDebugCategory *category, GstDebugLevel level, const gchar *file,
                 const gchar *function, gint line, GObject *, GstDebugMessage *message, gpointer) {
  std::lock_guard lock(log_mutex);
  captured_log += std::string(gst_debug_category_get_name(category)) + " " +
                  gst_debug_level_get_name(level) + " " + file + ":" + std::to_string(line) + " " +
                  function + " " +
                  (gst_debug_message_get(message) ? gst_debug_message_get(message) : "") + "\n";
}
}  // namespace

TEST(GenVideoSrc, ApiKeyNeverAppearsInTheDebugLogMessagesOrErrors) {
  Script script;
  script.cut_download = true;
  script.submit_429 = 1;
  FakeProvider fake("veo", script); /* the key travels in a header and to the download */
  TempDir cache, other_cache;
  /* The key comes from the environment, as in production: a launch line
   * holding it would be logged by the parser, not by us. */
  auto without_key = [](std::string description) {
    return description.replace(description.find(" api-key="), 10 + std::strlen(kKey), " ");
  };
  gst_debug_remove_log_function(gst_debug_log_default);
  gst_debug_add_log_function(capture_log, nullptr, nullptr);
  gst_debug_set_threshold_from_string("*:9", TRUE);
  g_setenv("GEMINI_API_KEY", kKey, TRUE);
  auto run = run_source(without_key(source_for(fake, cache)));
  /* An error path too: a refused key. */
  g_setenv("GEMINI_API_KEY", (std::string(kKey) + "-wrong").c_str(), TRUE);
  auto refused = run_source(without_key(source_for(fake, other_cache)));
  g_unsetenv("GEMINI_API_KEY");
  gst_debug_set_threshold_from_string(g_getenv("GST_DEBUG") ? g_getenv("GST_DEBUG") : "*:1", TRUE);
  gst_debug_remove_log_function(capture_log);
  gst_debug_add_log_function(gst_debug_log_default, nullptr, nullptr);
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(fake.submissions(), 1);
  std::lock_guard lock(log_mutex);
  EXPECT_GT(captured_log.size(), 10000u) << "the debug log was not captured";
  EXPECT_NE(captured_log.find("genvideosrc"), std::string::npos);
  EXPECT_EQ(captured_log.find(kKey), std::string::npos) << "the API key is in the debug log";
  /* The headers are logged, redacted: the check above is not vacuous. */
  EXPECT_NE(captured_log.find("x-goog-api-key: ***"), std::string::npos);
  for (const auto &s : run.element_messages) {
    reelforge::GCharPtr text(gst_structure_to_string(s.get()));
    EXPECT_EQ(std::string(text.get()).find(kKey), std::string::npos) << text.get();
  }
  EXPECT_FALSE(refused.error.empty());
  EXPECT_NE(refused.error.find("GEMINI_API_KEY"), std::string::npos) << refused.error;
  EXPECT_EQ(refused.error.find(kKey), std::string::npos) << refused.error;
}

/* --- the local provider, decoded for real
 * ----------------------------------------------------------- */

namespace {

struct DecodedClip {
  int width = 0, height = 0;
  std::vector<std::vector<guint8>> frames; /* luma planes */
  GstClockTime duration = GST_CLOCK_TIME_NONE;
};

DecodedClip decode(const std::string &source) {
  DecodedClip clip;
  GError *error = nullptr;
  auto pipeline = reelforge::adopt_floating(gst_parse_launch(
      (source + " ! decodebin ! videoconvert ! video/x-raw,format=GRAY8 ! appsink name=sink "
                "sync=false")
          .c_str(),
      &error));
  EXPECT_EQ(error, nullptr);
  if (error) return clip;
  reelforge::GstObjectPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  while (true) {
    reelforge::SamplePtr sample(
        gst_app_sink_try_pull_sample(GST_APP_SINK(sink.get()), 30 * GST_SECOND));
    if (!sample) break;
    GstVideoInfo info;
    gst_video_info_from_caps(&info, gst_sample_get_caps(sample.get()));
    clip.width = GST_VIDEO_INFO_WIDTH(&info);
    clip.height = GST_VIDEO_INFO_HEIGHT(&info);
    GstVideoFrame frame;
    gst_video_frame_map(&frame, &info, gst_sample_get_buffer(sample.get()), GST_MAP_READ);
    std::vector<guint8> luma;
    for (int y = 0; y < clip.height; ++y) {
      const guint8 *row = static_cast<const guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&frame, 0)) +
                          y * GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0);
      luma.insert(luma.end(), row, row + clip.width);
    }
    gst_video_frame_unmap(&frame);
    clip.frames.push_back(std::move(luma));
  }
  gint64 duration = -1;
  if (gst_element_query_duration(pipeline.get(), GST_FORMAT_TIME, &duration))
    clip.duration = static_cast<GstClockTime>(duration);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return clip;
}

double mean_abs_diff(const std::vector<guint8> &a, const std::vector<guint8> &b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(int(a[i]) - int(b[i]));
  return sum / static_cast<double>(a.size());
}

std::string make_image(const TempDir &dir, const std::string &name, const char *pattern) {
  const std::string path = dir.file(name);
  auto run = reelforge::test::run_pipeline(
      std::string("videotestsrc num-buffers=1 pattern=") + pattern +
      " ! video/x-raw,width=480,height=360 ! pngenc ! filesink location=" + path);
  EXPECT_TRUE(run.reached_eos) << run.error;
  return path;
}

}  // namespace

TEST(GenVideoSrcLocal, PromptImageAndImagePairMakeMovingClipsOfTheRightShape) {
  TempDir dir;
  const std::string first = make_image(dir, "first.png", "smpte");
  const std::string last = make_image(dir, "last.png", "checkers-8");
  const std::string common =
      "genvideosrc provider=local duration=1.5 resolution=320x568 "
      "stagger=0 cache-dir=" +
      dir.file("cache");
  struct Case {
    const char *what;
    std::string properties;
  };
  for (const Case &c : {Case{"prompt", "prompt=\"Launch day\""}, Case{"image", "image=" + first},
                        Case{"image pair", "image=" + first + " last-image=" + last}}) {
    SCOPED_TRACE(c.what);
    DecodedClip clip = decode(common + " " + c.properties);
    EXPECT_EQ(clip.width, 320);
    EXPECT_EQ(clip.height, 568);
    ASSERT_EQ(clip.frames.size(), 36u) << "1.5 s at 24 fps";
    /* It moves: the first and last frames differ clearly, and so do
     * neighbours in the middle. */
    EXPECT_GT(mean_abs_diff(clip.frames.front(), clip.frames.back()), 3.0);
    EXPECT_GT(mean_abs_diff(clip.frames[17], clip.frames[18]), 0.05);
  }
  /* The crossfade ends on the last image, not the first: its last frame
   * is far from the Ken Burns clip's last frame. */
  DecodedClip single = decode(common + " image=" + first);
  DecodedClip pair = decode(common + " image=" + first + " last-image=" + last);
  ASSERT_FALSE(single.frames.empty());
  ASSERT_FALSE(pair.frames.empty());
  EXPECT_LT(mean_abs_diff(single.frames.front(), pair.frames.front()), 1.0);
  EXPECT_GT(mean_abs_diff(single.frames.back(), pair.frames.back()), 10.0);
}

TEST(GenVideoSrcLocal, GenvideoUriPlaysInUridecodebin3) {
  TempDir dir;
  const std::string uri =
      "genvideo://local/?prompt=Hello%20world&duration=1&resolution=320x568"
      "&stagger=0&cache_dir=" +
      dir.file("cache");
  auto run = reelforge::test::run_pipeline(
      "uridecodebin3 uri=\"" + uri + "\" ! videoconvert ! video/x-raw,format=I420 ! fakesink",
      60 * GST_SECOND);
  ASSERT_TRUE(run.reached_eos) << run.error;
  const GstStructure *done = last_message(run, "genvideosrc-done");
  ASSERT_NE(done, nullptr);
  EXPECT_NEAR(reelforge::test::get_double(done, "actual-duration"), 1.0, 0.05);
  EXPECT_EQ(run.messages("genvideosrc-submitting").size(), 1u); /* the render */
  /* The element reports the URI it was given back in normalised form. */
  GstElement *element = gst_element_make_from_uri(GST_URI_SRC, uri.c_str(), nullptr, nullptr);
  ASSERT_NE(element, nullptr);
  auto owned = reelforge::adopt_floating(element);
  gchar *prompt = nullptr;
  g_object_get(element, "prompt", &prompt, nullptr);
  EXPECT_STREQ(prompt, "Hello world");
  g_free(prompt);
}

/* --- cancelling on stop
 * ------------------------------------------------------------------------------ */

namespace {

/* A pipeline whose genvideosrc (named gen) is polling a job that never
 * finishes. */
struct PollingPipeline {
  reelforge::GstObjectPtr<GstElement> pipeline;
  reelforge::GstObjectPtr<GstBus> bus;
  reelforge::GstObjectPtr<GstElement> gen;
  std::string job_id;

  /* Plays until the first progress message: the job is submitted (or
   * resumed) and being polled. */
  PollingPipeline(FakeProvider &fake, const TempDir &cache, const std::string &more = "") {
    GError *error = nullptr;
    pipeline = reelforge::adopt_floating(gst_parse_launch(
        (source_for(fake, cache, "name=gen " + more) + " ! fakesink").c_str(), &error));
    EXPECT_EQ(error, nullptr);
    if (error) return;
    bus.reset(gst_element_get_bus(pipeline.get()));
    gen.reset(gst_bin_get_by_name(GST_BIN(pipeline.get()), "gen"));
    gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
    while (job_id.empty()) {
      reelforge::MessagePtr message(gst_bus_timed_pop_filtered(
          bus.get(), 10 * GST_SECOND,
          static_cast<GstMessageType>(GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR)));
      if (!message || GST_MESSAGE_TYPE(message.get()) != GST_MESSAGE_ELEMENT) {
        ADD_FAILURE() << "no progress message";
        return;
      }
      const GstStructure *s = gst_message_get_structure(message.get());
      if (gst_structure_has_name(s, "genvideosrc-progress"))
        job_id = reelforge::test::get_string(s, "job-id");
    }
  }

  ~PollingPipeline() {
    if (pipeline) gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  }

  /* Stops in two steps, READY then NULL, and returns the element messages
   * named name and the warnings posted meanwhile (the bus is flushed at
   * NULL). */
  std::vector<reelforge::MessagePtr> stop(const char *name) {
    gst_element_set_state(pipeline.get(), GST_STATE_READY);
    std::vector<reelforge::MessagePtr> found;
    while (reelforge::MessagePtr m{gst_bus_pop_filtered(
        bus.get(), static_cast<GstMessageType>(GST_MESSAGE_ELEMENT | GST_MESSAGE_WARNING))}) {
      if (GST_MESSAGE_TYPE(m.get()) == GST_MESSAGE_WARNING ||
          gst_structure_has_name(gst_message_get_structure(m.get()), name))
        found.push_back(std::move(m));
    }
    gst_element_set_state(pipeline.get(), GST_STATE_NULL);
    return found;
  }
};

Script never_done() {
  Script script;
  script.polls_before_done = 1000000;
  return script;
}

}  // namespace

class CancelOnStop : public ::testing::TestWithParam<const char *> {};

/* Each provider's cancel request goes out once, with its auth; veo and
 * luma have none documented, so nothing is sent and accepted is FALSE. */
TEST_P(CancelOnStop, StoppingMidPollCancelsTheRunningJobOnce) {
  const std::string name = GetParam();
  FakeProvider fake(name, never_done());
  TempDir cache;
  PollingPipeline playing(fake, cache);
  ASSERT_FALSE(playing.job_id.empty());
  auto messages = playing.stop("genvideosrc-cancelled");
  const bool can_cancel = name == "replicate" || name == "runway" || name == "fal";
  auto cancels = fake.cancel_requests();
  ASSERT_EQ(cancels.size(), can_cancel ? 1u : 0u);
  if (can_cancel) {
    const std::map<std::string, std::pair<std::string, std::string>> expected = {
        {"replicate", {"POST", "/v1/predictions/job-1/cancel"}},
        {"runway", {"DELETE", "/v1/tasks/job-1"}},
        {"fal", {"PUT", "/fal-ai/kling-video/v2/master/text-to-video/requests/job-1/cancel"}}};
    EXPECT_EQ(cancels[0].method, expected.at(name).first);
    EXPECT_EQ(cancels[0].path, expected.at(name).second);
    EXPECT_EQ(cancels[0].header("Authorization").value_or(""),
              (name == "fal" ? "Key " : "Bearer ") + std::string(kKey));
  }
  ASSERT_EQ(messages.size(), 1u) << "one genvideosrc-cancelled, no warning";
  const GstStructure *s = gst_message_get_structure(messages[0].get());
  ASSERT_TRUE(gst_structure_has_name(s, "genvideosrc-cancelled"));
  EXPECT_EQ(reelforge::test::get_string(s, "job-id"), playing.job_id);
  gboolean accepted = !can_cancel;
  ASSERT_TRUE(gst_structure_get_boolean(s, "accepted", &accepted));
  EXPECT_EQ(static_cast<bool>(accepted), can_cancel);
  for (const char *field : {"timestamp", "stream-time", "running-time", "duration"})
    EXPECT_TRUE(gst_structure_has_field(s, field)) << field;
  EXPECT_EQ(fake.submissions(), 1);
}

INSTANTIATE_TEST_SUITE_P(Providers, CancelOnStop,
                         ::testing::Values("replicate", "runway", "veo", "fal", "luma"));

TEST(GenVideoSrcCancel, GoingStraightToNullCancelsOnceAndStaysQuick) {
  FakeProvider fake("runway", never_done());
  TempDir cache;
  PollingPipeline playing(fake, cache);
  ASSERT_FALSE(playing.job_id.empty());
  const auto start = std::chrono::steady_clock::now();
  gst_element_set_state(playing.pipeline.get(), GST_STATE_NULL);
  const double elapsed =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(elapsed, 1.0);
  ASSERT_EQ(fake.cancel_requests().size(), 1u);
  EXPECT_EQ(fake.cancel_requests()[0].header("X-Runway-Version").value_or(""), "2024-11-06");
}

/* cancel-on-stop is read when the element stops: set while playing, as a
 * daemon does before a shutdown after which it resumes the job. */
TEST(GenVideoSrcCancel, CancelOnStopFalseSetWhilePlayingSendsNoCancel) {
  FakeProvider fake("replicate", never_done());
  TempDir cache;
  PollingPipeline playing(fake, cache);
  ASSERT_FALSE(playing.job_id.empty());
  g_object_set(playing.gen.get(), "cancel-on-stop", FALSE, nullptr);
  auto messages = playing.stop("genvideosrc-cancelled");
  EXPECT_EQ(fake.cancel_requests().size(), 0u);
  EXPECT_EQ(messages.size(), 0u);
}

/* A job resumed with resume-id is followed like a submitted one: cancelled
 * on stop, unless cancel-on-stop=false. */
TEST(GenVideoSrcCancel, AResumedJobIsCancelledOnlyWhenCancelOnStopIsTrue) {
  FakeProvider fake("fal", never_done());
  const std::string kept = fake.precreate_job();
  const std::string dropped = fake.precreate_job();
  TempDir cache;
  {
    PollingPipeline playing(fake, cache, "resume-id=" + kept + " cancel-on-stop=false");
    ASSERT_EQ(playing.job_id, kept);
    playing.stop("genvideosrc-cancelled");
    EXPECT_EQ(fake.cancel_requests().size(), 0u);
  }
  PollingPipeline playing(fake, cache, "resume-id=" + dropped);
  ASSERT_EQ(playing.job_id, dropped);
  playing.stop("genvideosrc-cancelled");
  auto cancels = fake.cancel_requests();
  ASSERT_EQ(cancels.size(), 1u);
  /* Not submitted here: fal's documented URL under the model's owner/app. */
  EXPECT_EQ(cancels[0].path, "/fal-ai/kling-video/requests/" + dropped + "/cancel");
  EXPECT_EQ(fake.submissions(), 0);
}

TEST(GenVideoSrcCancel, AFailedCancelIsAWarningAndTheStopCompletes) {
  Script script = never_done();
  script.cancel_fails = true;
  FakeProvider fake("runway", script);
  TempDir cache;
  PollingPipeline playing(fake, cache);
  ASSERT_FALSE(playing.job_id.empty());
  auto messages = playing.stop("genvideosrc-cancelled");
  EXPECT_EQ(fake.cancel_requests().size(), 2u) << "two attempts (ProviderConfig::cancel_retry)";
  ASSERT_EQ(messages.size(), 1u);
  ASSERT_EQ(GST_MESSAGE_TYPE(messages[0].get()), GST_MESSAGE_WARNING);
  GError *error = nullptr;
  gst_message_parse_warning(messages[0].get(), &error, nullptr);
  reelforge::GErrorPtr owned(error);
  EXPECT_NE(std::string(error->message).find("could not cancel job " + playing.job_id),
            std::string::npos)
      << error->message;
  EXPECT_EQ(std::string(error->message).find(kKey), std::string::npos);
  GstState state = GST_STATE_VOID_PENDING;
  gst_element_get_state(playing.pipeline.get(), &state, nullptr, 0);
  EXPECT_EQ(state, GST_STATE_NULL);
}

/* A flushing seek interrupts the wait but is not a stop: the element polls
 * the same job again afterwards, so cancelling it would only pay twice. */
TEST(GenVideoSrcCancel, AFlushingSeekKeepsPollingTheSameJobWithoutCancelling) {
  FakeProvider fake("replicate", never_done());
  TempDir cache;
  PollingPipeline playing(fake, cache);
  ASSERT_FALSE(playing.job_id.empty());
  ASSERT_TRUE(gst_element_seek_simple(playing.gen.get(), GST_FORMAT_BYTES, GST_SEEK_FLAG_FLUSH, 0));
  const int polls_at_seek = fake.polls();
  /* Progress again, for the same job. */
  std::string polled_after;
  while (fake.polls() <= polls_at_seek + 1 || polled_after.empty()) {
    reelforge::MessagePtr message(gst_bus_timed_pop_filtered(
        playing.bus.get(), 10 * GST_SECOND,
        static_cast<GstMessageType>(GST_MESSAGE_ELEMENT | GST_MESSAGE_ERROR)));
    ASSERT_TRUE(message) << "no progress after the seek";
    ASSERT_EQ(GST_MESSAGE_TYPE(message.get()), GST_MESSAGE_ELEMENT);
    const GstStructure *s = gst_message_get_structure(message.get());
    if (gst_structure_has_name(s, "genvideosrc-progress"))
      polled_after = reelforge::test::get_string(s, "job-id");
  }
  EXPECT_EQ(polled_after, playing.job_id);
  EXPECT_EQ(fake.submissions(), 1);
  EXPECT_EQ(fake.cancel_requests().size(), 0u);
  /* The stop that follows cancels it, once. */
  playing.stop("genvideosrc-cancelled");
  EXPECT_EQ(fake.cancel_requests().size(), 1u);
}

/* The daemon follows a job across runs and downloads it through a URI:
 * the URI can say not to cancel it on stop, and a wrong value is refused. */
TEST(GenVideoSrcCancel, TheUriCanKeepTheJobOnStop) {
  GError *error = nullptr;
  auto kept = reelforge::adopt_floating(gst_element_make_from_uri(
      GST_URI_SRC, "genvideo://local/?prompt=x&cancel_on_stop=false", nullptr, &error));
  ASSERT_TRUE(kept) << (error ? error->message : "");
  gboolean cancel = TRUE;
  g_object_get(kept.get(), "cancel-on-stop", &cancel, nullptr);
  EXPECT_FALSE(cancel);
  GstElement *bad = gst_element_make_from_uri(
      GST_URI_SRC, "genvideo://local/?prompt=x&cancel_on_stop=maybe", nullptr, &error);
  EXPECT_EQ(bad, nullptr);
  if (bad) gst_object_unref(gst_object_ref_sink(bad));
  ASSERT_NE(error, nullptr);
  reelforge::GErrorPtr owned(error);
  EXPECT_NE(std::string(error->message).find("cancel_on_stop"), std::string::npos)
      << error->message;
}
