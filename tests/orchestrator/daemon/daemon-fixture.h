/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What the daemon test programs share: a suite folder with a small
 * platform profile (320x568, 30 fps, house level refusing > 60 s or a
 * wrong aspect), a fresh migrated database per test on the shared
 * PostgreSQL fixture, an API key of tenant "acme", and the invariants any
 * run must leave behind, crashes included.
 */
#pragma once

#include "daemon-process.h"
#include "pg.h"
#include "postgres-server.h"
#include "test-environment.h"

#include <json-glib/json-glib.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

namespace reelforge::test {

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
