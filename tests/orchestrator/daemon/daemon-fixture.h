/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the daemon test programs share: a suite folder with two small
 * platform profiles ("small": 320x568, 30 fps, house level refusing > 60 s
 * or a wrong aspect; "strict": refusing anything over half a second, so a
 * one-second card fails its QC), a fresh migrated database per test on the shared
 * PostgreSQL fixture, an API key of tenant "acme", and the invariants any
 * run must leave behind, crashes included.
 */
#pragma once

#include "daemon-process.h"
#include "postgres-server.h"
#include "s3-client.h"
#include "s3-server.h"
#include "store/pg.h"
#include "test-environment.h"

#include <json-glib/json-glib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace reelforge::test {

/* The bucket the tests' s3rver has. */
inline constexpr const char *kBucket = "reelforge-test";

s3::S3Response s3_get(const S3Server &server, const std::string &key,
                      const s3::NameValues &query = {});
/* The keys under prefix in the bucket, as the server lists them. */
std::vector<std::string> bucket_keys(const S3Server &server, const std::string &prefix);
/* sha256 and size of the object's bytes as the server returns them. */
std::pair<std::string, std::int64_t> object_digest(const S3Server &server, const std::string &key);

inline JsonObject *object(const JsonNodePtr &node) {
  return json_node_get_object(node.get());
}

class DaemonFixture : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  /* A new key of tenant (created if new), from `reelforge keys create`. */
  std::string make_key(const std::string &tenant);
  /* POSTs body to /v1/jobs with key_; the job id, 0 (and a failure) if
   * not 201. */
  std::int64_t submit(const std::string &url, const std::string &body);
  std::string status(std::int64_t job);
  /* Waits until no job is queued or running. */
  bool all_jobs_done(std::chrono::milliseconds timeout);
  /* How many of job's steps of kind are in status now. */
  std::int64_t steps_in(std::int64_t job, const std::string &kind, const std::string &status);
  /* The unfinished steps with their last errors, for failure messages. */
  std::string step_errors();
  /* Waits for the job to end (or pause); its status then. */
  std::string final_status(std::int64_t job, std::chrono::milliseconds timeout);
  /* Waits until job's status is one of the listed ones (comma-separated). */
  bool job_reaches(std::int64_t job, const std::string &statuses,
                   std::chrono::milliseconds timeout);

  /* What must hold after any run, crashes included: expected_jobs jobs,
   * each succeeded exactly once; every step succeeded once and was never
   * held by two runners at a time; every render recorded its three files
   * once; every artifact present and intact. */
  void check_invariants(int expected_jobs);
  /* The books balance: for every job, the open reservations equal the
   * ledger's reserves minus releases, and its spend the ledger's charges
   * and the calls' actual costs. Returns the total charged (micros). */
  std::int64_t check_ledger();

  static std::filesystem::path suite_dir() { return dir_->path(); }

  static TempDir *dir_;
  static int serial_;
  std::string conninfo_;
  std::unique_ptr<store::Connection> db_;
  std::filesystem::path data_dir_;
  std::string key_;
};

}  // namespace reelforge::test
