/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `reelforge serve` as a real process on a real PostgreSQL, rendering real
 * (tiny) jobs: the API, approvals, SIGKILL at random points, three daemons
 * sharing a database, and PostgreSQL restarting under them. Leases are 1 s
 * here (30 s by default) so rescues take seconds, not minutes.
 */
#include "daemon-fixture.h"
#include "json-file.h"
#include "plan/render-plan.h"
#include "sched/job-steps.h"

#include <signal.h>
#include <sys/stat.h>

#include <cstring>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <regex>
#include <set>
#include <thread>

namespace reelforge::test {
namespace {

using namespace std::chrono_literals;
using store::Connection;
using store::Result;

/* A one-second card per variant: one render step each. */
std::string spec(const std::vector<std::string> &words) {
  std::string list;
  for (const auto &w : words) list += (list.empty() ? "\"" : ", \"") + w + "\"";
  return R"({"name": "tiny", "platforms": ["small"],
    "scenes": [{"source": {"card": {"text": "${word}", "background": "#1E3A8A"}}, "duration": 1}],
    "variations": {"dimensions": {"word": [)" +
         list + "]}}}";
}

/* spec(words) for platform, its outputs uploaded to destination. */
std::string spec_to(const std::vector<std::string> &words, const std::string &destination,
                    const std::string &platform = "small") {
  std::string text = spec(words);
  text.replace(text.find("\"small\""), 7, "\"" + platform + "\"");
  text.insert(text.size() - 1, ", \"output\": {\"uri_prefix\": \"" + destination + "\"}");
  return text;
}

class DaemonTest : public DaemonFixture {};

TEST_F(DaemonTest, AJobReachesSucceededWithItsArtifacts) {
  DaemonProcess daemon(conninfo_, data_dir_);
  ASSERT_TRUE(daemon.up());
  const auto id = submit(daemon.url(), "{\"spec\": " + spec({"Hello", "Bye"}) + "}");
  ASSERT_GT(id, 0);
  ASSERT_TRUE(all_jobs_done(60s)) << daemon.log();
  EXPECT_EQ(status(id), "succeeded") << daemon.log();

  const HttpReply job = http("GET", daemon.url() + "/v1/jobs/" + std::to_string(id), key_);
  ASSERT_EQ(job.status, 200u);
  JsonNodePtr reply = parse_json(job.body, "job");
  EXPECT_STREQ(json_object_get_string_member(object(reply), "status"), "succeeded");
  JsonArray *artifacts = json_object_get_array_member(object(reply), "artifacts");
  ASSERT_EQ(json_array_get_length(artifacts), 6u) << job.body;
  JsonObject *qc = json_object_get_object_member(object(reply), "qc");
  EXPECT_STREQ(json_object_get_string_member(qc, "word-hello.small"), "pass") << job.body;
  check_invariants(1);

  /* The video through the API, whole and in part. */
  JsonObject *video = json_array_get_object_element(artifacts, 0);
  ASSERT_STREQ(json_object_get_string_member(video, "kind"), "video");
  const std::string url = daemon.url() + json_object_get_string_member(video, "url");
  const HttpReply whole = http("GET", url, key_);
  ASSERT_EQ(whole.status, 200u);
  EXPECT_EQ(static_cast<gint64>(whole.body.size()), json_object_get_int_member(video, "size"));
  const HttpReply part = http("GET", url, key_, "", {{"Range", "bytes=4-11"}});
  EXPECT_EQ(part.status, 206u);
  EXPECT_EQ(part.body, whole.body.substr(4, 8)) << "Range returned other bytes";
  EXPECT_EQ(part.header("Content-Range"), "bytes 4-11/" + std::to_string(whole.body.size()));
  const HttpReply tail = http("GET", url, key_, "", {{"Range", "bytes=-5"}});
  EXPECT_EQ(tail.status, 206u);
  EXPECT_EQ(tail.body, whole.body.substr(whole.body.size() - 5));
  const HttpReply beyond = http("GET", url, key_, "", {{"Range", "bytes=99999999-"}});
  EXPECT_EQ(beyond.status, 416u);

  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST_F(DaemonTest, TheApiChecksKeysTenantsAndBodies) {
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  const std::string jobs = daemon.url() + "/v1/jobs";
  EXPECT_EQ(http("GET", daemon.url() + "/healthz", "").status, 200u);
  EXPECT_EQ(http("GET", jobs, "").status, 401u);
  const HttpReply wrong = http("GET", jobs, "rfk_not-a-key");
  EXPECT_EQ(wrong.status, 401u);
  EXPECT_EQ(wrong.body.find("rfk_not-a-key"), std::string::npos) << "the key was echoed";

  const auto id = submit(daemon.url(), "{\"spec\": " + spec({"Solo"}) + ", \"priority\": 7}");
  ASSERT_GT(id, 0);
  const std::string other = make_key("other");
  EXPECT_EQ(http("GET", jobs + "/" + std::to_string(id), other).status, 404u);
  EXPECT_EQ(http("POST", jobs + "/" + std::to_string(id) + "/cancel", other).status, 404u);
  EXPECT_EQ(http("GET", jobs + "/" + std::to_string(id), key_).status, 200u);
  const HttpReply others_list = http("GET", jobs, other);
  EXPECT_EQ(others_list.body.find("\"id\""), std::string::npos) << others_list.body;

  const HttpReply broken = http("POST", jobs, key_, "{\"spec\": ");
  EXPECT_EQ(broken.status, 400u) << broken.body;
  const HttpReply invalid = http(
      "POST", jobs, key_,
      R"({"spec": {"name": "x", "platforms": ["small"], "scenes": [{"source": {"card": {"text": "a"}}, "duration": -1}]}, "priority": 12})");
  EXPECT_EQ(invalid.status, 422u) << invalid.body;
  EXPECT_NE(invalid.body.find("\"/priority\""), std::string::npos) << invalid.body;
  EXPECT_NE(invalid.body.find("\"/spec/scenes/0/duration\""), std::string::npos) << invalid.body;
  const HttpReply unknown =
      http("POST", jobs, key_, "{\"spec\": " + spec({"X"}) + ", \"colour\": \"red\"}");
  EXPECT_EQ(unknown.status, 422u);
  EXPECT_NE(unknown.body.find("\"/colour\""), std::string::npos) << unknown.body;
  const HttpReply huge = http("POST", jobs, key_, std::string(2 << 20, ' '));
  EXPECT_EQ(huge.status, 413u);
  EXPECT_EQ(http("GET", jobs + "?limit=0", key_).status, 400u);
  EXPECT_EQ(http("GET", jobs + "?status=sideways", key_).status, 400u);

  /* Paging: newest first, a cursor to the next page. */
  const auto second = submit(daemon.url(), "{\"spec\": " + spec({"Two"}) + "}");
  const HttpReply first_page = http("GET", jobs + "?limit=1", key_);
  JsonNodePtr page = parse_json(first_page.body, "page");
  JsonArray *listed = json_object_get_array_member(object(page), "jobs");
  ASSERT_EQ(json_array_get_length(listed), 1u);
  EXPECT_EQ(json_object_get_int_member(json_array_get_object_element(listed, 0), "id"), second);
  const std::string cursor = json_object_get_string_member(object(page), "next_cursor");
  const HttpReply next = http("GET", jobs + "?limit=1&cursor=" + cursor, key_);
  JsonNodePtr page2 = parse_json(next.body, "page");
  EXPECT_EQ(json_object_get_int_member(json_array_get_object_element(
                                           json_object_get_array_member(object(page2), "jobs"), 0),
                                       "id"),
            id);

  const HttpReply metrics = http("GET", daemon.url() + "/metrics", "");
  EXPECT_EQ(metrics.status, 200u);
  EXPECT_NE(metrics.body.find("reelforge_oldest_ready_step_age_seconds "), std::string::npos);
  EXPECT_NE(metrics.body.find("reelforge_rescues_total "), std::string::npos);
}

TEST_F(DaemonTest, AnApprovalHoldsNoWorkerAndTheJobEndsOnReject) {
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  /* The spec asks for the approval (a submission could, too). */
  std::string asking = spec({"Left", "Right"});
  asking.insert(asking.size() - 1, ", \"approval\": \"before-render\"");
  const auto waiting = submit(daemon.url(), "{\"spec\": " + asking + "}");
  ASSERT_TRUE(wait_until(
      [&] {
        return db_->query("SELECT count(*) FROM steps WHERE job_id = $1 AND status = 'waiting'",
                          waiting)
                   .int64(0, 0) == 1;
      },
      20s))
      << daemon.log();
  /* The only worker is free: another job runs to the end meanwhile. */
  const auto other = submit(daemon.url(), "{\"spec\": " + spec({"Meanwhile"}) + "}");
  ASSERT_TRUE(wait_until([&] { return status(other) == "succeeded"; }, 30s)) << daemon.log();
  EXPECT_EQ(status(waiting), "running");
  EXPECT_NE(http("GET", daemon.url() + "/metrics", "").body.find("reelforge_workers_busy 0"),
            std::string::npos);

  /* Approved through the CLI: only the chosen variant renders. */
  g_setenv("REELFORGE_URL", daemon.url().c_str(), TRUE);
  g_setenv("REELFORGE_API_KEY", key_.c_str(), TRUE);
  const ProgramResult approve = reelforge({"approve", std::to_string(waiting), "--choice", "1"});
  EXPECT_EQ(approve.status, 0) << approve.output;
  EXPECT_EQ(approve.output.find(key_), std::string::npos) << "the key was printed";
  const ProgramResult again = reelforge({"approve", std::to_string(waiting), "--choice", "1"});
  EXPECT_EQ(again.status, 0) << again.output;
  const ProgramResult watch = reelforge({"status", std::to_string(waiting), "--watch"});
  EXPECT_EQ(watch.status, 0) << watch.output;
  EXPECT_NE(watch.output.find("succeeded"), std::string::npos) << watch.output;
  EXPECT_EQ(
      db_->query("SELECT count(DISTINCT a.variant_id) FROM artifacts a WHERE job_id = $1", waiting)
          .int64(0, 0),
      1);
  EXPECT_EQ(db_->query("SELECT v.name FROM artifacts a JOIN variants v ON v.id = a.variant_id"
                       " WHERE a.job_id = $1 LIMIT 1",
                       waiting)
                .text(0, 0),
            "word-right");

  const auto rejected =
      submit(daemon.url(), "{\"spec\": " + spec({"No"}) + ", \"approval\": \"before-render\"}");
  ASSERT_TRUE(wait_until(
      [&] {
        return db_->query("SELECT count(*) FROM steps WHERE job_id = $1 AND status = 'waiting'",
                          rejected)
                   .int64(0, 0) == 1;
      },
      20s));
  const std::string reject = daemon.url() + "/v1/jobs/" + std::to_string(rejected) + "/reject";
  EXPECT_EQ(http("POST", reject, key_, R"({"reason": "off brand"})").status, 200u);
  EXPECT_EQ(http("POST", reject, key_, R"({"reason": "off brand"})").status, 200u);
  EXPECT_EQ(status(rejected), "failed");
  EXPECT_EQ(db_->query("SELECT count(*) FROM artifacts WHERE job_id = $1", rejected).int64(0, 0),
            0);
  g_unsetenv("REELFORGE_URL");
  g_unsetenv("REELFORGE_API_KEY");
}

/* spec(words) held for a before-render approval. */
std::string approved_spec(const std::vector<std::string> &words) {
  std::string asking = spec(words);
  asking.insert(asking.size() - 1, ", \"approval\": \"before-render\"");
  return asking;
}

/* The job's first render step: its id and its stored inputs. */
std::pair<std::int64_t, JsonNodePtr> first_render(Connection &db, std::int64_t job) {
  const Result r = db.query(
      "SELECT id, inputs::text FROM steps WHERE job_id = $1 AND kind = 'render' ORDER BY id"
      " LIMIT 1",
      job);
  EXPECT_EQ(r.rows(), 1);
  if (r.rows() != 1) return {0, nullptr};
  return {r.int64(0, 0), parse_json(r.text(0, 1), "render inputs")};
}

/* A media file the spec names is replaced between the plan (approval
 * waiting) and the render: the render refuses it, naming the file. */
TEST_F(DaemonTest, AnInputChangedSinceThePlanFailsTheRenderNamingIt) {
  const std::filesystem::path clip =
      data_dir_.parent_path() / ("planned-clip-" + std::to_string(serial_) + ".mp4");
  std::ofstream(clip, std::ios::binary) << test_clip_bytes(1, 320, 568);
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  const auto id = submit(daemon.url(), R"({"spec": {"name": "clipped", "platforms": ["small"],
      "scenes": [{"source": {"uri": ")" + clip.string() +
                                           R"("}, "duration": 1}]},
      "approval": "before-render"})");
  ASSERT_GT(id, 0);
  ASSERT_TRUE(wait_until([&] { return steps_in(id, "approval", "waiting") == 1; }, 30s))
      << step_errors() << daemon.log();
  /* The plan recorded the clip with its SHA-256. */
  const auto [render_id, inputs] = first_render(*db_, id);
  ASSERT_TRUE(inputs);
  const plan::RenderPlan planned = plan::from_json(json_object_get_member(object(inputs), "plan"));
  ASSERT_EQ(planned.inputs.size(), 1u);
  EXPECT_EQ(planned.inputs[0].path, clip);
  EXPECT_EQ(planned.inputs[0].sha256, sched::file_sha256(clip));

  std::ofstream(clip, std::ios::binary | std::ios::trunc) << test_clip_bytes(1, 160, 284);
  EXPECT_EQ(http("POST", daemon.url() + "/v1/jobs/" + std::to_string(id) + "/approve", key_,
                 R"({"choice": 0})")
                .status,
            200u);
  ASSERT_EQ(final_status(id, 60s), "failed") << step_errors() << daemon.log();
  const Result step = db_->query(
      "SELECT status, error_class, attempt, last_error FROM steps WHERE id = $1", render_id);
  EXPECT_EQ(step.text(0, 0), "failed");
  EXPECT_EQ(step.text(0, 1), "permanent");
  EXPECT_EQ(step.int64(0, 2), 1) << "a changed input was retried";
  EXPECT_NE(step.text(0, 3).find(clip.string() + " changed since the plan"), std::string::npos)
      << step.text(0, 3);
  EXPECT_NE(step.text(0, 3).find("plan again by resubmitting"), std::string::npos);
  EXPECT_EQ(db_->query("SELECT count(*) FROM artifacts WHERE job_id = $1 AND kind <> 'preview'", id)
                .int64(0, 0),
            0);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

/* The spec in the jobs row is changed after the plan: the render still
 * renders the planned outputs (nothing is planned again). */
TEST_F(DaemonTest, TheRenderRunsThePlanNotTheSpecAsItIsNow) {
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  const auto id = submit(daemon.url(), "{\"spec\": " + approved_spec({"Planned"}) + "}");
  ASSERT_GT(id, 0);
  ASSERT_TRUE(wait_until([&] { return steps_in(id, "approval", "waiting") == 1; }, 30s))
      << step_errors() << daemon.log();
  std::string edited = spec({"Edited", "Twice"});
  edited.replace(edited.find("\"duration\": 1"), 13, "\"duration\": 3");
  db_->query("UPDATE jobs SET spec = $2::jsonb WHERE id = $1", id, edited);
  EXPECT_EQ(http("POST", daemon.url() + "/v1/jobs/" + std::to_string(id) + "/approve", key_,
                 R"({"choice": 0})")
                .status,
            200u);
  ASSERT_EQ(final_status(id, 60s), "succeeded") << step_errors() << daemon.log();

  const Result files = db_->query(
      "SELECT kind, uri FROM artifacts WHERE job_id = $1 AND kind IN ('video', 'qc-report')"
      " ORDER BY id",
      id);
  ASSERT_EQ(files.rows(), 2);
  EXPECT_TRUE(files.text(0, 1).ends_with("/word-planned.small.mp4")) << files.text(0, 1);
  JsonNodePtr report = load_json_file(files.text(1, 1).substr(7));
  const double duration_s = json_object_get_double_member(
      json_object_get_object_member(object(report), "measurements"), "duration_s");
  EXPECT_NEAR(duration_s, 1.0, 0.1) << "the render followed the edited spec (3 s)";
  EXPECT_EQ(steps_in(id, "render", "succeeded"), 1) << "the edited spec's variants were rendered";
  EXPECT_EQ(
      db_->query("SELECT count(*) FROM artifacts WHERE job_id = $1 AND kind = 'thumbnail'", id)
          .int64(0, 0),
      1);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

/* The approval records the hashes of the plans it shows; a render step
 * whose stored plan is swapped for another (valid, sealed) one after that
 * refuses to run it. */
TEST_F(DaemonTest, AnApprovedPlanCannotBeSwapped) {
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  const auto id = submit(daemon.url(), "{\"spec\": " + approved_spec({"Left", "Right"}) + "}");
  ASSERT_GT(id, 0);
  ASSERT_TRUE(wait_until([&] { return steps_in(id, "approval", "waiting") == 1; }, 30s))
      << step_errors() << daemon.log();

  const auto [render_id, inputs] = first_render(*db_, id);
  ASSERT_TRUE(inputs);
  plan::RenderPlan swapped = plan::from_json(json_object_get_member(object(inputs), "plan"));
  ASSERT_EQ(swapped.name, "word-left");
  /* What the reviewer sees is what was planned. */
  const Result shown = db_->query(
      "SELECT outputs->'plans'->'word-left'->>0, inputs->'plans'->'word-left'->>0 FROM steps"
      " WHERE job_id = $1 AND kind = 'approval'",
      id);
  EXPECT_EQ(shown.text(0, 0), swapped.hash);
  EXPECT_EQ(shown.text(0, 1), swapped.hash);

  const std::string original = swapped.hash;
  const auto colour = swapped.description.find("#1E3A8A");
  ASSERT_NE(colour, std::string::npos) << swapped.description;
  swapped.description.replace(colour, 7, "#DC2626");
  plan::seal(swapped);
  ASSERT_NE(swapped.hash, original);
  json_object_set_member(object(inputs), "plan", plan::to_json(swapped).release());
  db_->query("UPDATE steps SET inputs = $2::jsonb WHERE id = $1", render_id,
             to_json_string(inputs.get(), false));

  EXPECT_EQ(http("POST", daemon.url() + "/v1/jobs/" + std::to_string(id) + "/approve", key_,
                 R"({"choice": 0})")
                .status,
            200u);
  ASSERT_EQ(final_status(id, 60s), "failed") << step_errors() << daemon.log();
  const Result step =
      db_->query("SELECT status, error_class, last_error FROM steps WHERE id = $1", render_id);
  EXPECT_EQ(step.text(0, 0), "failed");
  EXPECT_EQ(step.text(0, 1), "permanent");
  EXPECT_NE(step.text(0, 2).find("is not the one the approval approved"), std::string::npos)
      << step.text(0, 2);
  EXPECT_EQ(db_->query("SELECT count(*) FROM artifacts WHERE job_id = $1", id).int64(0, 0), 0);
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST_F(DaemonTest, CancelStopsARunningRender) {
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  /* Long enough to be still rendering when the cancel comes. */
  std::string long_spec = spec({"Long"});
  long_spec.replace(long_spec.find("\"duration\": 1"), 13, "\"duration\": 60");
  const auto id = submit(daemon.url(), "{\"spec\": " + long_spec + "}");
  ASSERT_TRUE(wait_until([&] { return steps_in(id, "render", "running") == 1; }, 20s));
  const HttpReply cancel =
      http("POST", daemon.url() + "/v1/jobs/" + std::to_string(id) + "/cancel", key_);
  EXPECT_EQ(cancel.status, 200u) << cancel.body;
  const auto cancelled_at = std::chrono::steady_clock::now();
  EXPECT_EQ(status(id), "cancelled");
  ASSERT_TRUE(wait_until([&] { return daemon.log().find("abandoned") != std::string::npos; }, 10s))
      << "the render went on after the cancel:\n"
      << daemon.log();
  const double stop_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - cancelled_at).count();
  EXPECT_LT(stop_s, 2.0) << "heartbeat 0.25 s + progress tick 0.2 s";
  RecordProperty("cancel_to_stop_seconds", std::to_string(stop_s));
  EXPECT_EQ(db_->query("SELECT count(*) FROM artifacts WHERE job_id = $1", id).int64(0, 0), 0);
  EXPECT_EQ(http("POST", daemon.url() + "/v1/jobs/" + std::to_string(id) + "/cancel", key_).status,
            200u)
      << "cancel is idempotent";
}

TEST_F(DaemonTest, ShutdownGivesRunningStepsBackAtOnce) {
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1", "--lease", "30"});
  ASSERT_TRUE(daemon.up());
  std::string long_spec = spec({"Long"});
  long_spec.replace(long_spec.find("\"duration\": 1"), 13, "\"duration\": 60");
  const auto id = submit(daemon.url(), "{\"spec\": " + long_spec + "}");
  ASSERT_TRUE(wait_until([&] { return steps_in(id, "render", "running") == 1; }, 20s));
  const auto asked = std::chrono::steady_clock::now();
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
  const double stop_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count();
  EXPECT_LT(stop_s, 3.0) << "SIGTERM waited for a 60 s render";
  /* Ready for the next daemon now, not after the 30 s lease. */
  const Result step =
      db_->query("SELECT status, attempt FROM steps WHERE job_id = $1 AND kind = 'render'", id);
  EXPECT_EQ(step.text(0, 0), "ready") << daemon.log();
  EXPECT_EQ(step.int64(0, 1), 0) << "an interrupted shutdown used up an attempt";
  EXPECT_EQ(db_->query("SELECT count(*) FROM artifacts WHERE job_id = $1", id).int64(0, 0), 0);
}

TEST_F(DaemonTest, WithoutADatabaseServeRunsAndKeepsItsOwnPostgres) {
  const std::filesystem::path own = dir_->path() / "own-cluster";
  const std::string own_conninfo = "host=" + (own / "postgres" / "socket").string() +
                                   " port=5432 user=reelforge dbname=reelforge";
  std::int64_t id = 0;
  {
    DaemonProcess daemon("", own, {"--workers", "1"});
    ASSERT_TRUE(daemon.up());
    const ProgramResult keys = reelforge({"keys", "create", "--tenant", "solo", "--data-dir", own});
    ASSERT_EQ(keys.status, 0) << keys.output;
    std::smatch m;
    ASSERT_TRUE(std::regex_search(keys.output, m, std::regex("rfk_[0-9a-f]{48}")));
    key_ = m[0];
    id = submit(daemon.url(), "{\"spec\": " + spec({"Own"}) + "}");
    ASSERT_GT(id, 0);
    const std::string job = daemon.url() + "/v1/jobs/" + std::to_string(id);
    ASSERT_TRUE(wait_until(
        [&] { return http("GET", job, key_).body.find("\"succeeded\"") != std::string::npos; },
        60s))
        << daemon.log();
    EXPECT_EQ(daemon.stop(), 0) << daemon.log();
  }
  EXPECT_THROW(Connection{own_conninfo}, store::DatabaseError) << "the cluster outlived serve";
  DaemonProcess again("", own, {"--workers", "1"});
  ASSERT_TRUE(again.up());
  const HttpReply job = http("GET", again.url() + "/v1/jobs/" + std::to_string(id), key_);
  EXPECT_EQ(job.status, 200u) << "the data of the first run was not reused";
  EXPECT_NE(job.body.find("\"succeeded\""), std::string::npos) << job.body;
  EXPECT_EQ(again.stop(), 0);
}

TEST_F(DaemonTest, SurvivesTwentySigkillsAtRandomPoints) {
  std::mt19937 random(std::random_device{}());
  const int trials = 20;
  int submitted = 0;
  for (int trial = 0; trial < trials; ++trial) {
    /* Attempts are counted per run, lost runs included: these steps may
     * lose many daemons before one finishes them. */
    DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "2", "--max-attempts", "40"});
    ASSERT_TRUE(daemon.up());
    if (trial % 3 == 0) {
      ASSERT_GT(
          submit(daemon.url(), "{\"spec\": " + spec({"T" + std::to_string(trial), "U"}) + "}"), 0);
      ++submitted;
    }
    /* The kill point is the variable under test: anywhere in the first
     * 1.2 s (expansion, claims, renders, commits). */
    std::this_thread::sleep_for(std::chrono::milliseconds(random() % 1200));
    daemon.kill_hard();
  }
  DaemonProcess survivor(conninfo_, data_dir_, {"--workers", "2", "--max-attempts", "40"});
  ASSERT_TRUE(survivor.up());
  ASSERT_TRUE(all_jobs_done(90s)) << survivor.log();
  EXPECT_EQ(survivor.stop(), 0);
  check_invariants(submitted);
  RecordProperty(
      "rescues",
      std::to_string(db_->exec("SELECT count(*) FROM events WHERE kind = 'rescue'").int64(0, 0)));
}

TEST_F(DaemonTest, ThreeDaemonsShareTheWorkAndRescueAKilledOne) {
  DaemonProcess a(conninfo_, data_dir_, {"--workers", "1"});
  DaemonProcess b(conninfo_, data_dir_, {"--workers", "1"});
  DaemonProcess c(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(a.up() && b.up() && c.up());
  const int kJobs = 12;
  for (int i = 0; i < kJobs; ++i)
    ASSERT_GT(submit((i % 2 ? a : c).url(), "{\"spec\": " + spec({"J" + std::to_string(i)}) + "}"),
              0);
  const std::string b_owner = ":" + std::to_string(b.pid()) + ":%";
  const auto b_running = [&] {
    return db_->query(
        "SELECT id FROM steps WHERE status = 'running' AND lease_owner LIKE '%' || $1", b_owner);
  };
  /* b is frozen while its running steps are read, so the step it holds
   * cannot finish between the query and the kill; if it had just finished
   * one, it runs on and is caught at the next. */
  std::optional<std::int64_t> step;
  for (int tries = 0; tries < 20 && !step; ++tries) {
    ASSERT_TRUE(wait_until([&] { return b_running().rows() > 0; }, 30s))
        << "daemon b never ran a step";
    ::kill(b.pid(), SIGSTOP);
    const auto held = b_running();
    if (held.rows() > 0)
      step = held.int64(0, 0);
    else
      ::kill(b.pid(), SIGCONT);
  }
  ASSERT_TRUE(step) << "daemon b was never caught holding a step";
  b.kill_hard();
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until(
      [&] {
        return db_->query("SELECT count(*) FROM events WHERE step_id = $1 AND kind = 'rescue'",
                          *step)
                   .int64(0, 0) > 0;
      },
      45s))
      << "the killed daemon's step was not rescued within 45 s";
  const auto rescue_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed_at).count();
  EXPECT_LT(rescue_s, 1.0 /* lease */ + 0.1 /* poll */ + 1.5 /* slack */);
  RecordProperty("rescue_seconds", std::to_string(rescue_s));
  ASSERT_TRUE(all_jobs_done(90s)) << a.log() << c.log();
  check_invariants(kJobs);
  /* Each surviving daemon did some of the work. */
  EXPECT_EQ(
      db_->exec("SELECT count(DISTINCT daemon) >= 3 FROM events WHERE kind = 'claim'").text(0, 0),
      "t");
}

TEST_F(DaemonTest, KeepsGoingWhenPostgresRestarts) {
  DaemonProcess a(conninfo_, data_dir_, {"--workers", "2"});
  DaemonProcess b(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(a.up() && b.up());
  const int kJobs = 4;
  for (int i = 0; i < kJobs; ++i)
    ASSERT_GT(submit(a.url(), "{\"spec\": " + spec({"P" + std::to_string(i)}) + "}"), 0);
  ASSERT_TRUE(wait_until(
      [&] {
        return db_->exec("SELECT count(*) FROM steps WHERE status = 'running'").int64(0, 0) > 0;
      },
      30s));
  db_.reset();
  auto &cluster = PostgresServer::shared().cluster();
  cluster.stop();
  std::this_thread::sleep_for(1s); /* the outage itself */
  cluster.start();
  db_ = std::make_unique<Connection>(conninfo_);
  ASSERT_TRUE(all_jobs_done(90s)) << a.log() << b.log();
  check_invariants(kJobs);
  EXPECT_NE(a.log().find("reconnecting"), std::string::npos) << a.log();
}

TEST_F(DaemonTest, UploadsEachRenderToS3AfterItsQcPassed) {
  S3Server s3;
  ASSERT_TRUE(s3.started());
  const S3Environment environment(s3);
  DaemonProcess daemon(conninfo_, data_dir_);
  ASSERT_TRUE(daemon.up());
  const auto id = submit(daemon.url(),
                         "{\"spec\": " + spec_to({"Up", "Down"}, "s3://reelforge-test/ads/") + "}");
  ASSERT_GT(id, 0);
  ASSERT_EQ(final_status(id, 60s), "succeeded") << daemon.log();

  /* Every delivered object is in the bucket, byte for byte what its row
   * says and what the render recorded. */
  const Result delivered = db_->query(
      "SELECT a.kind, a.uri, a.size_bytes, a.sha256, v.name, (SELECT count(*) FROM artifacts r"
      " WHERE r.variant_id = a.variant_id AND r.kind = substr(a.kind, 11) AND"
      " r.sha256 = a.sha256)"
      " FROM artifacts a JOIN variants v ON v.id = a.variant_id WHERE a.job_id = $1 AND"
      " a.kind LIKE 'delivered-%' ORDER BY a.id",
      id);
  ASSERT_EQ(delivered.rows(), 6) << "video, QC report and thumbnail of two variants";
  std::set<std::string> kinds;
  for (int i = 0; i < delivered.rows(); ++i) {
    kinds.insert(delivered.text(i, 0));
    const std::string uri = delivered.text(i, 1);
    const std::string prefix =
        std::string("s3://") + kBucket + "/ads/" + delivered.text(i, 4) + ".";
    ASSERT_TRUE(uri.starts_with(prefix)) << uri;
    const auto [sha256, size] = object_digest(s3, uri.substr(6 + std::strlen(kBucket)));
    EXPECT_EQ(size, delivered.int64(i, 2)) << uri;
    EXPECT_EQ(sha256, delivered.text(i, 3)) << uri;
    EXPECT_EQ(delivered.int64(i, 5), 1) << uri << " is not the rendered file";
  }
  EXPECT_EQ(kinds, (std::set<std::string>{"delivered-video", "delivered-qc-report",
                                          "delivered-thumbnail"}));
  EXPECT_EQ(bucket_keys(s3, "ads/").size(), 6u) << "more objects than artifacts";

  /* The API shows where they went. */
  const HttpReply job = http("GET", daemon.url() + "/v1/jobs/" + std::to_string(id), key_);
  JsonNodePtr reply = parse_json(job.body, "job");
  JsonArray *artifacts = json_object_get_array_member(object(reply), "artifacts");
  int shown = 0;
  for (guint i = 0; i < json_array_get_length(artifacts); ++i) {
    JsonObject *artifact = json_array_get_object_element(artifacts, i);
    const std::string kind = json_object_get_string_member(artifact, "kind");
    if (!kind.starts_with("delivered-")) {
      EXPECT_FALSE(json_object_has_member(artifact, "uri")) << "a server path was shown";
      continue;
    }
    ++shown;
    EXPECT_TRUE(std::string(json_object_get_string_member_with_default(artifact, "uri", ""))
                    .starts_with("s3://reelforge-test/ads/"))
        << job.body;
  }
  EXPECT_EQ(shown, 6) << job.body;
  g_setenv("REELFORGE_URL", daemon.url().c_str(), TRUE);
  g_setenv("REELFORGE_API_KEY", key_.c_str(), TRUE);
  const ProgramResult listed = reelforge({"status", std::to_string(id)});
  g_unsetenv("REELFORGE_URL");
  g_unsetenv("REELFORGE_API_KEY");
  EXPECT_NE(
      listed.output.find("artifact delivered-video s3://reelforge-test/ads/word-up.small.mp4"),
      std::string::npos)
      << listed.output;
  EXPECT_EQ(daemon.stop(), 0) << daemon.log();
}

TEST_F(DaemonTest, AFailedQcUploadsNothingAndFailsTheJob) {
  S3Server s3;
  ASSERT_TRUE(s3.started());
  const S3Environment environment(s3);
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  const auto id =
      submit(daemon.url(),
             "{\"spec\": " + spec_to({"Long"}, "s3://reelforge-test/refused/", "strict") + "}");
  ASSERT_GT(id, 0);
  ASSERT_EQ(final_status(id, 60s), "failed") << daemon.log();

  const Result step = db_->query(
      "SELECT status, error_class, attempt, last_error FROM steps WHERE job_id = $1 AND"
      " kind = 'upload'",
      id);
  ASSERT_EQ(step.rows(), 1);
  EXPECT_EQ(step.text(0, 0), "failed");
  EXPECT_EQ(step.text(0, 1), "permanent");
  EXPECT_EQ(step.int64(0, 2), 1) << "a failed QC was retried";
  EXPECT_NE(step.text(0, 3).find("QC failed for word-long.strict"), std::string::npos)
      << step.text(0, 3);
  EXPECT_NE(step.text(0, 3).find("QC report is an artifact"), std::string::npos);
  const std::string reason =
      db_->query("SELECT pause_reason FROM jobs WHERE id = $1", id).text(0, 0);
  EXPECT_NE(reason.find("QC failed"), std::string::npos) << reason;

  EXPECT_TRUE(bucket_keys(s3, "refused/").empty()) << "a refused render reached the bucket";
  EXPECT_EQ(db_->query("SELECT count(*) FROM artifacts WHERE job_id = $1 AND kind LIKE"
                       " 'delivered-%'",
                       id)
                .int64(0, 0),
            0);
  EXPECT_EQ(
      db_->query("SELECT count(*) FROM artifacts WHERE job_id = $1 AND kind = 'qc-report'", id)
          .int64(0, 0),
      1)
      << "the report saying why is kept";
}

TEST_F(DaemonTest, BeforeUploadApprovalHoldsTheUploadsAndDeliversTheChosenVariant) {
  S3Server s3;
  ASSERT_TRUE(s3.started());
  const S3Environment environment(s3);
  DaemonProcess daemon(conninfo_, data_dir_);
  ASSERT_TRUE(daemon.up());
  const auto id =
      submit(daemon.url(), "{\"spec\": " + spec_to({"Left", "Right"}, "s3://reelforge-test/pick/") +
                               ", \"approval\": \"before-upload\"}");
  ASSERT_GT(id, 0);
  ASSERT_TRUE(wait_until([&] { return steps_in(id, "approval", "waiting") == 1; }, 30s))
      << daemon.log();
  /* Both rendered, nothing delivered. */
  EXPECT_EQ(steps_in(id, "render", "succeeded"), 2);
  EXPECT_EQ(steps_in(id, "upload", "blocked"), 2);
  EXPECT_TRUE(bucket_keys(s3, "pick/").empty()) << "uploaded before the approval";

  const HttpReply approve =
      http("POST", daemon.url() + "/v1/jobs/" + std::to_string(id) + "/approve", key_,
           R"({"choice": 1})");
  EXPECT_EQ(approve.status, 200u) << approve.body;
  ASSERT_EQ(final_status(id, 30s), "succeeded") << daemon.log();

  const std::vector<std::string> keys = bucket_keys(s3, "pick/");
  EXPECT_EQ(keys.size(), 3u);
  for (const std::string &key : keys)
    EXPECT_TRUE(key.starts_with("pick/word-right.")) << key << ": not the chosen variant";
  const Result skipped = db_->query(
      "SELECT s.outputs->>'skipped' FROM steps s JOIN variants v ON v.id = s.variant_id"
      " WHERE s.job_id = $1 AND s.kind = 'upload' AND v.name = 'word-left'",
      id);
  ASSERT_EQ(skipped.rows(), 1);
  EXPECT_EQ(skipped.text(0, 0), "the reviewer chose word-right");
}

TEST_F(DaemonTest, AnUploadCutByACrashIsDeliveredOnce) {
  S3Server s3;
  ASSERT_TRUE(s3.started());
  const S3Environment environment(s3);
  /* A frozen S3 server holds the upload between its PUTs and its commit:
   * the daemon dies there, and the server then answers what it got. */
  ::kill(s3.pid(), SIGSTOP);
  std::int64_t id = 0;
  {
    DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
    ASSERT_TRUE(daemon.up());
    id = submit(daemon.url(), "{\"spec\": " + spec_to({"Cut"}, "s3://reelforge-test/cut/") + "}");
    ASSERT_GT(id, 0);
    ASSERT_TRUE(wait_until([&] { return steps_in(id, "upload", "running") == 1; }, 30s))
        << daemon.log();
    daemon.kill_hard();
  }
  ::kill(s3.pid(), SIGCONT);
  DaemonProcess survivor(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(survivor.up());
  ASSERT_EQ(final_status(id, 60s), "succeeded") << survivor.log();

  EXPECT_GE(db_->query("SELECT count(*) FROM events e JOIN steps s ON s.id = e.step_id WHERE"
                       " s.job_id = $1 AND s.kind = 'upload' AND e.kind = 'rescue'",
                       id)
                .int64(0, 0),
            1)
      << "the crash did not cut an upload";
  const Result delivered = db_->query(
      "SELECT uri, size_bytes, sha256 FROM artifacts WHERE job_id = $1 AND kind LIKE"
      " 'delivered-%'",
      id);
  ASSERT_EQ(delivered.rows(), 3) << "video, QC report and thumbnail, once each";
  for (int i = 0; i < delivered.rows(); ++i) {
    const auto [sha256, size] = object_digest(s3, delivered.text(i, 0).substr(20));
    EXPECT_EQ(size, delivered.int64(i, 1)) << delivered.text(i, 0);
    EXPECT_EQ(sha256, delivered.text(i, 2)) << delivered.text(i, 0);
  }
  EXPECT_EQ(bucket_keys(s3, "cut/").size(), 3u);
}

TEST_F(DaemonTest, AFolderDestinationGetsWholeFiles) {
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "1"});
  ASSERT_TRUE(daemon.up());
  /* before-upload with nothing to upload is refused at the door. */
  const HttpReply refused =
      http("POST", daemon.url() + "/v1/jobs", key_,
           "{\"spec\": " + spec({"Nowhere"}) + ", \"approval\": \"before-upload\"}");
  EXPECT_EQ(refused.status, 422u) << refused.body;
  EXPECT_NE(refused.body.find("\"/approval\""), std::string::npos) << refused.body;

  const std::filesystem::path out =
      data_dir_.parent_path() / ("delivered-" + std::to_string(serial_));
  const auto id =
      submit(daemon.url(), "{\"spec\": " + spec_to({"Copy"}, "file://" + out.string() + "/") + "}");
  ASSERT_GT(id, 0);
  ASSERT_EQ(final_status(id, 60s), "succeeded") << daemon.log();
  const Result delivered = db_->query(
      "SELECT uri, size_bytes, sha256 FROM artifacts WHERE job_id = $1 AND kind LIKE"
      " 'delivered-%' ORDER BY id",
      id);
  ASSERT_EQ(delivered.rows(), 3);
  for (int i = 0; i < delivered.rows(); ++i) {
    const std::string uri = delivered.text(i, 0);
    ASSERT_TRUE(uri.starts_with("file://" + out.string() + "/word-copy.small.")) << uri;
    const std::filesystem::path path = uri.substr(7);
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    EXPECT_EQ(static_cast<std::int64_t>(std::filesystem::file_size(path)), delivered.int64(i, 1));
    EXPECT_EQ(sched::file_sha256(path), delivered.text(i, 2)) << path;
  }
  int entries = 0;
  for (const auto &entry : std::filesystem::directory_iterator(out)) {
    EXPECT_FALSE(entry.path().filename().string().starts_with("."))
        << "left behind: " << entry.path();
    ++entries;
  }
  EXPECT_EQ(entries, 3);
}

/* A spoken voiceover is a step of its own, once for the variants that share
 * it; the job is planned after it (with its word timings) and rendered. */
TEST_F(DaemonTest, AVoiceoverIsSpokenOnceBeforeThePlan) {
  DaemonProcess daemon(conninfo_, data_dir_, {"--workers", "2"});
  ASSERT_TRUE(daemon.up());
  std::string spoken = spec({"Hi", "Yo"});
  spoken.insert(spoken.size() - 1,
                R"(, "audio": {"voiceover": {"text": "One voice for both.", "tts": {"backend": )"
                R"("espeak"}}})");
  const auto id = submit(daemon.url(), "{\"spec\": " + spoken + "}");
  ASSERT_EQ(final_status(id, 90s), "succeeded") << step_errors() << daemon.log();
  const Result kinds =
      db_->query("SELECT kind, outputs::text FROM steps WHERE job_id = $1 ORDER BY id", id);
  std::vector<std::string> order;
  for (int i = 0; i < kinds.rows(); ++i) order.push_back(kinds.text(i, 0));
  EXPECT_EQ(order, (std::vector<std::string>{"expand", "voiceover", "plan", "render", "render"}));
  EXPECT_NE(kinds.text(1, 1).find("\"words\": 4"), std::string::npos) << kinds.text(1, 1);
  /* Each render's plan read the speech from the TTS cache: its samples and
   * words are inputs of the plan. */
  const auto [render_id, inputs] = first_render(*db_, id);
  ASSERT_TRUE(inputs);
  const plan::RenderPlan planned = plan::from_json(json_object_get_member(object(inputs), "plan"));
  ASSERT_EQ(planned.inputs.size(), 2u);
  EXPECT_EQ(planned.inputs[0].path.extension(), ".pcm");
  EXPECT_EQ(planned.inputs[1].path.extension(), ".json");
  EXPECT_EQ(planned.inputs[0].path.parent_path(), g_getenv("REELFORGE_TTS_CACHE"));
  check_invariants(1);
  EXPECT_EQ(daemon.stop(), 0);
}

}  // namespace
}  // namespace reelforge::test
