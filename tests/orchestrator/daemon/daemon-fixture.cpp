/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "daemon-fixture.h"

#include "json-file.h"
#include "sched/job-steps.h"

#include <sys/stat.h>

#include <fstream>
#include <regex>

#include <glib.h>

namespace reelforge::test {

using store::Connection;
using store::Result;

namespace {

constexpr const char *kProfile = R"({"name": "small", "title": "Small test canvas",
  "canvas": {"width": 320, "height": 568, "fps": 30},
  "safe_zone": {"top": 40, "bottom": 120, "left": 0, "right": 40},
  "levels": {"house": {"severity": "fail", "limits": {"duration_s": {"max": 60},
             "aspect": {"equals": "9:16", "tolerance": 0.01}}}}})";

constexpr const char *kStrictProfile = R"({"name": "strict", "title": "Refuses 1 s cards",
  "canvas": {"width": 320, "height": 568, "fps": 30},
  "levels": {"house": {"severity": "fail", "limits": {"duration_s": {"max": 0.5}}}}})";

}  // namespace

s3::S3Response s3_get(const S3Server &server, const std::string &key, const s3::NameValues &query) {
  s3::S3Target target;
  target.bucket = kBucket;
  target.endpoint = server.endpoint();
  target.region = "us-east-1";
  target.credentials = {S3Server::kAccessKey, S3Server::kSecretKey, ""};
  s3::S3Client client(target, s3::RetryPolicy{});
  s3::S3Request request;
  request.method = "GET";
  request.key = key;
  request.query = query;
  request.what = "GET";
  return client.send(request);
}

std::vector<std::string> bucket_keys(const S3Server &server, const std::string &prefix) {
  const s3::S3Response list = s3_get(server, "", {{"list-type", "2"}, {"prefix", prefix}});
  EXPECT_TRUE(list.ok()) << list.error << list.body;
  std::vector<std::string> keys;
  const std::regex key("<Key>([^<]*)</Key>");
  for (std::sregex_iterator i(list.body.begin(), list.body.end(), key), end; i != end; ++i)
    keys.push_back((*i)[1]);
  return keys;
}

std::pair<std::string, std::int64_t> object_digest(const S3Server &server, const std::string &key) {
  const s3::S3Response object = s3_get(server, key);
  EXPECT_TRUE(object.ok()) << key << ": " << object.error;
  gsize size = 0;
  const void *data = object.body_bytes ? g_bytes_get_data(object.body_bytes, &size) : nullptr;
  if (!data) {
    data = object.body.data();
    size = object.body.size();
  }
  GCharPtr sha(
      g_compute_checksum_for_data(G_CHECKSUM_SHA256, static_cast<const guchar *>(data), size));
  return {sha.get(), static_cast<std::int64_t>(size)};
}

TempDir *DaemonFixture::dir_ = nullptr;
int DaemonFixture::serial_ = 0;

void DaemonFixture::SetUpTestSuite() {
  dir_ = new TempDir();
  /* A private cluster's server runs as another user when we are root. */
  chmod(dir_->path().c_str(), 0711);
  std::filesystem::create_directories(dir_->file("profiles"));
  std::ofstream(dir_->file("profiles/small.json")) << kProfile;
  std::ofstream(dir_->file("profiles/strict.json")) << kStrictProfile;
  g_setenv("REELFORGE_PLATFORMS_PATH", dir_->file("profiles").c_str(), TRUE);
}

void DaemonFixture::TearDownTestSuite() {
  delete dir_;
  dir_ = nullptr;
}

void DaemonFixture::SetUp() {
  conninfo_ = PostgresServer::shared().migrated_database();
  db_ = std::make_unique<Connection>(conninfo_);
  data_dir_ = dir_->path() / ("data-" + std::to_string(++serial_));
  key_ = make_key("acme");
}

std::string DaemonFixture::make_key(const std::string &tenant) {
  const ProgramResult r =
      reelforge({"keys", "create", "--tenant", tenant, "--database", conninfo_});
  EXPECT_EQ(r.status, 0) << r.output;
  std::smatch m;
  const std::regex key("rfk_[0-9a-f]{48}");
  EXPECT_TRUE(std::regex_search(r.output, m, key)) << r.output;
  return m.empty() ? "" : m[0].str();
}

std::int64_t DaemonFixture::submit(const std::string &url, const std::string &body) {
  const HttpReply r = http("POST", url + "/v1/jobs", key_, body);
  EXPECT_EQ(r.status, 201u) << r.body;
  if (r.status != 201) return 0;
  JsonNodePtr reply = parse_json(r.body, "reply");
  return json_object_get_int_member(object(reply), "id");
}

std::string DaemonFixture::status(std::int64_t job) {
  const Result r = db_->query("SELECT status FROM jobs WHERE id = $1", job);
  return r.rows() ? r.text(0, 0) : "";
}

bool DaemonFixture::all_jobs_done(std::chrono::milliseconds timeout) {
  return wait_until(
      [&] {
        return db_->exec(
                      "SELECT count(*) FROM jobs WHERE status NOT IN ('succeeded', 'failed',"
                      " 'cancelled', 'paused')")
                   .int64(0, 0) == 0;
      },
      timeout);
}

std::int64_t DaemonFixture::steps_in(std::int64_t job, const std::string &kind,
                                     const std::string &status) {
  return db_
      ->query("SELECT count(*) FROM steps WHERE job_id = $1 AND kind = $2 AND status = $3", job,
              kind, status)
      .int64(0, 0);
}

std::string DaemonFixture::step_errors() {
  const Result r = db_->exec(
      "SELECT id, kind, status, coalesce(last_error, '') FROM steps WHERE status <> 'succeeded'"
      " ORDER BY id");
  std::string text;
  for (int i = 0; i < r.rows(); ++i)
    text += "step " + r.text(i, 0) + " (" + r.text(i, 1) + ") " + r.text(i, 2) + ": " +
            r.text(i, 3) + "\n";
  return text;
}

std::string DaemonFixture::final_status(std::int64_t job, std::chrono::milliseconds timeout) {
  std::string now;
  wait_until(
      [&] {
        now = status(job);
        return now == "succeeded" || now == "failed" || now == "cancelled" || now == "paused";
      },
      timeout);
  return now;
}

bool DaemonFixture::job_reaches(std::int64_t job, const std::string &statuses,
                                std::chrono::milliseconds timeout) {
  return wait_until(
      [&] { return ("," + statuses + ",").find("," + status(job) + ",") != std::string::npos; },
      timeout);
}

void DaemonFixture::check_invariants(int expected_jobs) {
  EXPECT_EQ(db_->exec("SELECT count(*) FROM jobs WHERE status = 'succeeded'").int64(0, 0),
            expected_jobs);
  EXPECT_EQ(db_->exec("SELECT count(*) FROM jobs").int64(0, 0), expected_jobs);
  const Result terminal = db_->exec(
      "SELECT j.id, count(e.id) FROM jobs j LEFT JOIN events e ON e.job_id = j.id AND e.kind ="
      " 'job' AND e.to_status IN ('succeeded', 'failed', 'cancelled') GROUP BY j.id");
  for (int i = 0; i < terminal.rows(); ++i)
    EXPECT_EQ(terminal.int64(i, 1), 1)
        << "job " << terminal.text(i, 0) << " ended " << terminal.text(i, 1) << " times";
  const Result steps = db_->exec(
      "SELECT s.id, s.status, (SELECT count(*) FROM events e WHERE e.step_id = s.id AND"
      " e.kind = 'transition' AND e.to_status = 'succeeded'), s.kind || ': ' ||"
      " coalesce(s.last_error, '') FROM steps s");
  for (int i = 0; i < steps.rows(); ++i) {
    EXPECT_EQ(steps.text(i, 1), "succeeded")
        << "step " << steps.text(i, 0) << " " << steps.text(i, 3);
    EXPECT_EQ(steps.int64(i, 2), 1)
        << "step " << steps.text(i, 0) << " succeeded " << steps.text(i, 2) << " times";
  }
  /* Between two claims of a step there is always its end or a rescue. */
  const Result overlaps = db_->exec(
      "SELECT step_id, id FROM (SELECT step_id, id, kind, lag(kind) OVER"
      " (PARTITION BY step_id ORDER BY id) AS before FROM events WHERE kind IN ('claim',"
      " 'transition', 'rescue') AND step_id IS NOT NULL) e"
      " WHERE kind = 'claim' AND before = 'claim'");
  EXPECT_EQ(overlaps.rows(), 0) << "step " << (overlaps.rows() ? overlaps.text(0, 0) : "")
                                << " was claimed while another runner held it";
  const Result renders = db_->exec(
      "SELECT s.id, count(a.id), count(DISTINCT a.kind) FROM steps s LEFT JOIN artifacts a ON"
      " a.step_id = s.id WHERE s.kind = 'render' AND NOT s.outputs ? 'skipped' GROUP BY s.id");
  for (int i = 0; i < renders.rows(); ++i) {
    EXPECT_EQ(renders.int64(i, 1), 3) << "render step " << renders.text(i, 0) << " recorded "
                                      << renders.text(i, 1) << " artifacts";
    EXPECT_EQ(renders.int64(i, 2), 3);
  }
  const Result files = db_->exec("SELECT uri, size_bytes, sha256 FROM artifacts");
  for (int i = 0; i < files.rows(); ++i) {
    if (!files.text(i, 0).starts_with("file://")) continue;
    const std::filesystem::path path = files.text(i, 0).substr(7);
    ASSERT_TRUE(std::filesystem::exists(path)) << path;
    EXPECT_EQ(static_cast<std::int64_t>(std::filesystem::file_size(path)), files.int64(i, 1));
    EXPECT_EQ(sched::file_sha256(path), files.text(i, 2)) << path << " changed after recording";
  }
}

std::int64_t DaemonFixture::check_ledger() {
  const Result jobs = db_->exec(
      "SELECT j.id, j.reserved_micros, j.spent_micros,"
      " (SELECT coalesce(sum(CASE entry WHEN 'reserve' THEN amount_micros"
      "   WHEN 'release' THEN -amount_micros ELSE 0 END), 0) FROM cost_ledger l"
      "   WHERE l.job_id = j.id),"
      " (SELECT coalesce(sum(amount_micros), 0) FROM cost_ledger l WHERE l.job_id = j.id"
      "   AND entry = 'charge'),"
      " (SELECT coalesce(sum(c.actual_micros), 0) FROM provider_calls c JOIN steps s"
      "   ON s.id = c.step_id WHERE s.job_id = j.id),"
      " coalesce(j.budget_micros, -1) FROM jobs j");
  std::int64_t charged = 0;
  for (int i = 0; i < jobs.rows(); ++i) {
    const std::string job = "job " + jobs.text(i, 0);
    EXPECT_EQ(jobs.int64(i, 3), jobs.int64(i, 1)) << job << ": reservations disagree";
    EXPECT_EQ(jobs.int64(i, 4), jobs.int64(i, 2)) << job << ": charges disagree with its spend";
    EXPECT_EQ(jobs.int64(i, 5), jobs.int64(i, 2)) << job << ": the calls' costs disagree";
    if (jobs.int64(i, 6) >= 0) {
      EXPECT_LE(jobs.int64(i, 1) + jobs.int64(i, 2), jobs.int64(i, 6)) << job << " overspent";
    }
    charged += jobs.int64(i, 2);
  }
  return charged;
}

}  // namespace reelforge::test
