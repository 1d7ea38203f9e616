/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `reelforge serve` generating clips through a stand-in Replicate (its
 * real protocol, on a local port): jobs of generated scenes succeed paying
 * each clip once, waiting on the provider holds no worker, a refused clip
 * falls back, budgets and provider limits stop submissions before they
 * happen, and SIGKILLs in the dangerous windows (after the intent, after
 * the POST) never pay twice.
 */
#include "daemon-fixture.h"
#include "json-file.h"
#include "plan/render-plan.h"
#include "replicate-stand-in.h"

#include <map>
#include <regex>
#include <set>
#include <thread>

namespace reelforge::test {
namespace {

using namespace std::chrono_literals;
using store::Result;

/* minimax/hailuo-02: a flat 0.37 USD a generation (schemas/pricing.json). */
constexpr std::int64_t kClipPrice = 370000;

/* A job of variants (one per word) x scenes generated clips of one second
 * each; providers_json is the scenes' chain, destination the output's
 * uri_prefix (none when empty), extra more members of the body. */
std::string job_body(const std::vector<std::string> &words, int scenes,
                     const std::string &providers_json, const std::string &extra = "",
                     const std::string &destination = "") {
  std::string list, scene_list;
  for (const auto &w : words) list += (list.empty() ? "\"" : ", \"") + w + "\"";
  for (int i = 0; i < scenes; ++i)
    scene_list += std::string(i ? ", " : "") + R"({"source": {"generate": {"providers": )" +
                  providers_json + R"(, "prompt": "${word} shot )" + std::to_string(i) +
                  R"(", "duration": 1}}, "duration": 1})";
  const std::string output =
      destination.empty() ? "" : R"(, "output": {"uri_prefix": ")" + destination + "\"}";
  return R"({"spec": {"name": "generated", "platforms": ["small"], "scenes": [)" + scene_list +
         R"(], "variations": {"dimensions": {"word": [)" + list + "]}}" + output + "}" + extra +
         "}";
}

std::string replicate_chain(const ReplicateStandIn &replicate, bool local_fallback = false) {
  return R"([{"provider": "replicate", "model": "minimax/hailuo-02", "endpoint": ")" +
         replicate.endpoint() + "\"}" + (local_fallback ? R"(, {"provider": "local"})" : "") + "]";
}

class DaemonGenerateTest : public DaemonFixture {
 protected:
  void SetUp() override {
    DaemonFixture::SetUp();
    g_setenv("REPLICATE_API_TOKEN", ReplicateStandIn::kToken, TRUE);
  }
  std::int64_t count(const std::string &sql) { return db_->exec(sql).int64(0, 0); }
  const std::string &clip() { return test_clip_bytes(1, 320, 568); }
};

TEST_F(DaemonGenerateTest, TwoVariantsOfThreeGeneratedScenesSucceedPayingEachClipOnce) {
  ReplicateStandIn replicate(clip(), 3);
  S3Server storage;
  ASSERT_TRUE(storage.started());
  S3Environment environment(storage);
  /* One worker: clips in flight at the provider do not hold it. */
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  const auto id =
      submit(daemon.url(), job_body({"Sun", "Sea"}, 3, replicate_chain(replicate),
                                    ", \"budget\": 5", std::string("s3://") + kBucket + "/gen/"));
  ASSERT_GT(id, 0);
  ASSERT_TRUE(job_reaches(id, "succeeded,failed,paused", 120s)) << daemon.log();
  ASSERT_EQ(status(id), "succeeded") << daemon.log();

  EXPECT_EQ(replicate.submissions(), 6) << "each distinct clip is submitted exactly once";
  for (const auto &[pid, p] : replicate.predictions())
    EXPECT_TRUE(p.downloaded) << pid << " (" << p.prompt << ") was paid for but never fetched";
  EXPECT_GE(replicate.max_in_flight(), 3)
      << "with one worker, clips waiting on the provider must not hold it";
  EXPECT_EQ(count("SELECT count(*) FROM artifacts WHERE kind = 'clip'"), 6);
  EXPECT_EQ(count("SELECT count(*) FROM provider_calls WHERE state = 'succeeded'"
                  " AND provider_job_id IS NOT NULL"),
            6);
  EXPECT_EQ(check_ledger(), 6 * kClipPrice);
  check_invariants(1);

  /* Both variants' videos, reports and thumbnails are in the bucket, as
   * the delivered artifacts say. */
  const Result delivered =
      db_->exec("SELECT uri, sha256, size_bytes FROM artifacts WHERE kind LIKE 'delivered-%'");
  EXPECT_EQ(delivered.rows(), 6);
  EXPECT_EQ(bucket_keys(storage, "gen/").size(), 6u);
  for (int i = 0; i < delivered.rows(); ++i) {
    const std::string key =
        delivered.text(i, 0).substr(std::string("s3://").size() + std::string(kBucket).size() + 1);
    EXPECT_EQ(object_digest(storage, key),
              std::make_pair(delivered.text(i, 1), delivered.int64(i, 2)))
        << key;
  }

  /* The API shows the money. */
  const HttpReply job = http("GET", daemon.url() + "/v1/jobs/" + std::to_string(id), key_);
  ASSERT_EQ(job.status, 200u);
  EXPECT_NE(job.body.find("2.22"), std::string::npos) << job.body;

  /* The same clips again: all from the cache, nothing submitted, free. */
  const auto again = submit(daemon.url(), job_body({"Sun", "Sea"}, 3, replicate_chain(replicate)));
  ASSERT_TRUE(job_reaches(again, "succeeded,failed,paused", 60s)) << daemon.log();
  EXPECT_EQ(status(again), "succeeded") << daemon.log();
  EXPECT_EQ(replicate.submissions(), 6) << "a cached clip was generated again";
  EXPECT_EQ(check_ledger(), 6 * kClipPrice);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST_F(DaemonGenerateTest, ARefusedClipFallsBackToTheNextProviderAtNoCharge) {
  ReplicateStandIn replicate(clip(), 1);
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  const auto id = submit(daemon.url(), job_body({"UNSAFE"}, 1, replicate_chain(replicate, true)));
  ASSERT_TRUE(job_reaches(id, "succeeded,failed,paused", 60s)) << daemon.log();
  EXPECT_EQ(status(id), "succeeded") << daemon.log();
  EXPECT_EQ(replicate.submissions(), 1);
  const Result calls =
      db_->exec("SELECT provider, state, error, actual_micros FROM provider_calls ORDER BY id");
  ASSERT_EQ(calls.rows(), 1) << "the local fallback is no paid call";
  EXPECT_EQ(calls.text(0, 1), "failed");
  EXPECT_TRUE(calls.text(0, 2).starts_with("refused: ")) << calls.text(0, 2);
  EXPECT_EQ(calls.int64(0, 3), 0);
  EXPECT_EQ(check_ledger(), 0);
  const Result made = db_->exec("SELECT outputs->>'provider' FROM steps WHERE kind = 'generate'");
  EXPECT_EQ(made.text(0, 0), "local");
  EXPECT_EQ(daemon.stop(), 0);
}

TEST_F(DaemonGenerateTest, ABudgetStopsTheSubmissionThatWouldExceedIt) {
  ReplicateStandIn replicate(clip(), 1);
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "2"});
  ASSERT_TRUE(daemon.up());
  /* Three clips at 0.37 against 0.80: two fit. */
  const auto id =
      submit(daemon.url(), job_body({"Gold"}, 3, replicate_chain(replicate), ", \"budget\": 0.8"));
  ASSERT_TRUE(job_reaches(id, "paused", 60s)) << status(id) << daemon.log();
  EXPECT_TRUE(wait_until(
      [&] { return count("SELECT count(*) FROM provider_calls WHERE state = 'succeeded'") == 2; },
      30s));
  EXPECT_EQ(replicate.submissions(), 2) << "a submission beyond the budget reached the provider";
  const std::string reason =
      db_->query("SELECT pause_reason FROM jobs WHERE id = $1", id).text(0, 0);
  EXPECT_NE(reason.find("budget of 0.80 cannot cover 0.37"), std::string::npos) << reason;
  EXPECT_LE(check_ledger(), 800000);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST_F(DaemonGenerateTest, ATenantsDailyBudgetHoldsAcrossItsJobs) {
  ReplicateStandIn replicate(clip(), 1);
  const ProgramResult made = reelforge(
      {"keys", "create", "--tenant", "frugal", "--daily-budget", "0.50", "--database", conninfo_});
  ASSERT_EQ(made.status, 0) << made.output;
  key_ = make_key("frugal"); /* the tenant keeps its budget */
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  const auto first = submit(daemon.url(), job_body({"Penny"}, 1, replicate_chain(replicate)));
  ASSERT_EQ(final_status(first, 60s), "succeeded") << step_errors();
  const auto second = submit(daemon.url(), job_body({"Dime"}, 1, replicate_chain(replicate)));
  ASSERT_EQ(final_status(second, 60s), "paused") << step_errors();
  EXPECT_EQ(replicate.submissions(), 1) << "the second job's clip went past the daily budget";
  const std::string reason =
      db_->query("SELECT pause_reason FROM jobs WHERE id = $1", second).text(0, 0);
  EXPECT_NE(reason.find("tenant frugal's daily budget of 0.50"), std::string::npos) << reason;
  EXPECT_EQ(check_ledger(), kClipPrice);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST_F(DaemonGenerateTest, AProviderLimitHoldsAcrossDaemons) {
  ReplicateStandIn replicate(clip(), 2);
  DaemonProcess a(conninfo_, data_dir_, {"--workers", "2", "--provider-limit", "replicate=2"});
  DaemonProcess b(conninfo_, data_dir_, {"--workers", "2"});
  ASSERT_TRUE(a.up() && b.up());
  const auto id = submit(a.url(), job_body({"One", "Two"}, 3, replicate_chain(replicate)));
  ASSERT_TRUE(job_reaches(id, "succeeded,failed,paused", 120s)) << a.log() << b.log();
  EXPECT_EQ(status(id), "succeeded") << step_errors();
  EXPECT_EQ(replicate.submissions(), 6);
  EXPECT_LE(replicate.max_in_flight(), 2) << "the limit of 2 was exceeded";
  EXPECT_EQ(replicate.max_in_flight(), 2) << "the limit held the work back to one at a time";
  EXPECT_EQ(a.stop(), 0);
  EXPECT_EQ(b.stop(), 0);
}

/* A before-render approval waits for the generated clips and shows a
 * preview frame of each variant's scenes; only the chosen one renders. */
TEST_F(DaemonGenerateTest, ABeforeRenderApprovalShowsPreviewFramesOfTheGeneratedClips) {
  ReplicateStandIn replicate(clip(), 1);
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  const auto id = submit(daemon.url(), job_body({"Red", "Blue"}, 1, replicate_chain(replicate),
                                                ", \"approval\": \"before-render\""));
  ASSERT_TRUE(wait_until([&] { return steps_in(id, "approval", "waiting") == 1; }, 60s))
      << step_errors() << daemon.log();
  const Result previews = db_->exec(
      "SELECT a.id, v.name FROM artifacts a JOIN variants v ON v.id = a.variant_id"
      " WHERE a.kind = 'preview' ORDER BY a.id");
  ASSERT_EQ(previews.rows(), 2) << "one frame per variant's generated scene";
  EXPECT_NE(previews.text(0, 1), previews.text(1, 1));
  const HttpReply frame = http("GET", daemon.url() + "/v1/artifacts/" + previews.text(0, 0), key_);
  ASSERT_EQ(frame.status, 200u);
  ASSERT_GT(frame.body.size(), 2u);
  EXPECT_EQ(frame.body.substr(0, 2), std::string("\xFF\xD8", 2)) << "not a JPEG";
  EXPECT_EQ(steps_in(id, "render", "blocked"), 2) << "a render started before the approval";
  /* Each render holds its plan, which reads its variant's clip from the
   * clip cache, recorded with the SHA-256 its generate step checked. */
  std::map<std::string, std::string> made;
  const Result clips =
      db_->query("SELECT uri, sha256 FROM artifacts WHERE job_id = $1 AND kind = 'clip'", id);
  for (int i = 0; i < clips.rows(); ++i) made[clips.text(i, 0).substr(7)] = clips.text(i, 1);
  EXPECT_EQ(made.size(), 2u);
  const Result renders =
      db_->query("SELECT inputs::text FROM steps WHERE job_id = $1 AND kind = 'render'", id);
  ASSERT_EQ(renders.rows(), 2);
  for (int i = 0; i < renders.rows(); ++i) {
    JsonNodePtr inputs = parse_json(renders.text(i, 0), "render inputs");
    const plan::RenderPlan plan = plan::from_json(json_object_get_member(object(inputs), "plan"));
    ASSERT_EQ(plan.inputs.size(), 1u) << renders.text(i, 0);
    EXPECT_EQ(made[plan.inputs[0].path.string()], plan.inputs[0].sha256) << plan.inputs[0].path;
    EXPECT_EQ(plan.description.find("genvideo://"), std::string::npos)
        << "the render would call a provider";
  }

  const HttpReply approve =
      http("POST", daemon.url() + "/v1/jobs/" + std::to_string(id) + "/approve", key_,
           R"({"choice": 1})");
  EXPECT_EQ(approve.status, 200u) << approve.body;
  ASSERT_EQ(final_status(id, 60s), "succeeded") << step_errors();
  EXPECT_EQ(count("SELECT count(DISTINCT variant_id) FROM artifacts WHERE kind = 'video'"), 1);
  EXPECT_EQ(replicate.submissions(), 2);
  EXPECT_EQ(daemon.stop(), 0);
}

TEST_F(DaemonGenerateTest, CancelStopsTheProviderJobsAndReleasesTheirReservations) {
  ReplicateStandIn replicate(clip(), 1000000); /* never done */
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  const auto id = submit(daemon.url(), job_body({"Slow"}, 2, replicate_chain(replicate)));
  ASSERT_TRUE(wait_until(
      [&] { return count("SELECT count(*) FROM provider_calls WHERE state = 'submitted'") == 2; },
      30s))
      << daemon.log();
  const HttpReply r =
      http("POST", daemon.url() + "/v1/jobs/" + std::to_string(id) + "/cancel", key_);
  EXPECT_EQ(r.status, 200u) << r.body;
  ASSERT_TRUE(wait_until(
      [&] {
        int cancelled = 0;
        for (const auto &[pid, p] : replicate.predictions()) cancelled += p.cancelled;
        return cancelled == 2;
      },
      30s))
      << "the provider jobs kept running after the cancel\n"
      << daemon.log();
  EXPECT_EQ(replicate.submissions(), 2);
  EXPECT_EQ(status(id), "cancelled");
  EXPECT_EQ(count("SELECT reserved_micros FROM jobs"), 0) << "a reservation outlived the cancel";
  EXPECT_EQ(check_ledger(), 0);
  EXPECT_EQ(count("SELECT count(*) FROM provider_calls WHERE cancel_sent_at IS NULL"), 0);
  EXPECT_EQ(daemon.stop(), 0);
}

/* SIGKILL in the windows where a crash could pay twice, then recovery as a
 * person would do it: a job paused for a call of unknown fate is resumed
 * (the person checked the provider). Each trial kills one daemon in one
 * window; after every trial the provider saw at most one submission per
 * intent row, and nothing the provider billed is missing from the ledger. */
TEST_F(DaemonGenerateTest, KillsInTheProviderWindowsNeverPayTwice) {
  ReplicateStandIn replicate(clip(), 1);
  S3Server storage;
  ASSERT_TRUE(storage.started());
  S3Environment environment(storage);
  const std::vector<std::string> windows{"after-intent", "after-submit", "render", "upload"};
  const int trials = 8;
  int jobs = 0, killed_in_window = 0;
  for (int trial = 0; trial < trials; ++trial) {
    const std::string window = windows[trial % windows.size()];
    g_setenv("REELFORGE_FAULT_WINDOWS", window.c_str(), TRUE);
    g_setenv("REELFORGE_FAULT_PAUSE_MS", "3000", TRUE);
    DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "2", "--max-attempts", "40"});
    g_unsetenv("REELFORGE_FAULT_WINDOWS");
    ASSERT_TRUE(daemon.up());
    /* A new job each time, besides those earlier trials left. */
    ASSERT_GT(
        submit(daemon.url(), job_body({"K" + std::to_string(trial)}, 2, replicate_chain(replicate),
                                      "", std::string("s3://") + kBucket + "/crash/")),
        0);
    ++jobs;
    /* Killed in its window, or when no job is left that could reach it
     * (all done, or paused for a person). */
    bool reached = false;
    wait_until(
        [&] {
          reached = daemon.log().find("fault window " + window) != std::string::npos;
          return reached || count(
                                "SELECT count(*) FROM jobs WHERE status IN ('queued',"
                                " 'running')") == 0;
        },
        30s);
    daemon.kill_hard();
    killed_in_window += reached;
    RecordProperty("trial-" + std::to_string(trial), window + (reached ? "" : " (not reached)"));
    EXPECT_LE(replicate.submissions(), count("SELECT count(*) FROM provider_calls"))
        << "trial " << trial << " (" << window << "): a submission without an intent";
  }

  EXPECT_GE(killed_in_window, trials - 2) << "the windows were hardly ever reached";

  /* A survivor finishes; a person resumes what waits for them. */
  DaemonProcess survivor(conninfo_, data_dir_, {"--workers", "2", "--max-attempts", "40"});
  ASSERT_TRUE(survivor.up());
  for (int round = 0; round < 10; ++round) {
    ASSERT_TRUE(all_jobs_done(120s)) << survivor.log();
    const Result paused = db_->exec("SELECT id, pause_reason FROM jobs WHERE status = 'paused'");
    if (paused.rows() == 0) break;
    for (int i = 0; i < paused.rows(); ++i) {
      EXPECT_NE(paused.text(i, 1).find("no job id was stored"), std::string::npos)
          << paused.text(i, 1);
      const HttpReply r =
          http("POST", survivor.url() + "/v1/jobs/" + paused.text(i, 0) + "/resume", key_);
      EXPECT_EQ(r.status, 200u) << r.body;
    }
  }
  EXPECT_EQ(survivor.stop(), 0);
  check_invariants(jobs);
  /* Each job's one video, report and thumbnail delivered once. */
  EXPECT_EQ(count("SELECT count(*) FROM artifacts WHERE kind LIKE 'delivered-%'"), 3 * jobs);
  EXPECT_EQ(bucket_keys(storage, "crash/").size(), 3u * jobs);

  /* At most one submission per intent; every provider job known to at
   * most one call; the ledger holds exactly what the provider billed for
   * the jobs the calls name. */
  EXPECT_LE(replicate.submissions(), count("SELECT count(*) FROM provider_calls"));
  const Result ids = db_->exec(
      "SELECT provider_job_id, count(*) FROM provider_calls WHERE provider_job_id IS NOT NULL"
      " GROUP BY 1");
  std::set<std::string> named;
  for (int i = 0; i < ids.rows(); ++i) {
    EXPECT_EQ(ids.int64(i, 1), 1) << ids.text(i, 0) << " is followed by two calls";
    named.insert(ids.text(i, 0));
  }
  std::int64_t billed = 0;
  for (const auto &[pid, p] : replicate.predictions())
    if (p.succeeded) {
      EXPECT_TRUE(named.contains(pid)) << pid << " was billed but no call follows it";
      billed += kClipPrice;
    }
  EXPECT_EQ(check_ledger(), billed);
  RecordProperty("submissions", replicate.submissions());
  RecordProperty("needs-attention",
                 std::to_string(count("SELECT count(*) FROM events WHERE to_status = "
                                      "'needs-attention'")));
}

}  // namespace
}  // namespace reelforge::test
