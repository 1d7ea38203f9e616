/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The jobs table: a job's life (queued, running, paused, and its three
 * ends), its document (spec and options), and the views the API serves.
 *
 * Lock order, to keep transactions free of deadlocks: a transaction that
 * writes both a job and its steps locks the job row first (lock_job()).
 * Money on jobs (budgets, reservations) is in store/ledger.h.
 */
#pragma once

#include "store/pg.h"

#include <cstdint>
#include <optional>
#include <string>

namespace reelforge::store {

struct NewJob {
  std::int64_t tenant_id = 0;
  std::string spec = "{}"; /* JSON */
  int priority = 5;
  std::optional<std::int64_t> budget_micros;
  std::string options = "{}"; /* JSON: {"approval": ..., "base_dir": ...} */
};

/* A new job, 'queued'; its id. */
std::int64_t insert_job(Connection &db, const NewJob &job);

/* Locks the job row (FOR NO KEY UPDATE); its status, or nothing when there
 * is no such job. */
std::optional<std::string> lock_job(Connection &db, std::int64_t job_id);

/* A queued job is running (its first step was claimed). */
void mark_job_running(Connection &db, std::int64_t job_id);
/* The job succeeds when it is queued or running and all its steps
 * succeeded; true when it did. */
bool finish_job_if_done(Connection &db, std::int64_t job_id);
/* A queued or running job is paused with reason; true when it was. */
bool pause_job(Connection &db, std::int64_t job_id, const std::string &reason);
/* A queued or running job fails with reason; true when it did. */
bool fail_active_job(Connection &db, std::int64_t job_id, const std::string &reason);
/* The job fails with reason, whatever its status (a rejection). */
void fail_job(Connection &db, std::int64_t job_id, const std::string &reason);
void cancel_job(Connection &db, std::int64_t job_id);
/* The job runs again, its pause reason cleared. */
void resume_job(Connection &db, std::int64_t job_id);

/* What the steps read about their job. */
struct JobDocument {
  std::string spec;    /* JSON */
  std::string options; /* JSON */
};
std::optional<JobDocument> job_document(Connection &db, std::int64_t job_id);

/* The job exists and is the tenant's. */
bool job_belongs_to(Connection &db, std::int64_t job_id, std::int64_t tenant_id);

/* GET /v1/jobs/{id}: the tenant's job as JSON, built by PostgreSQL in one
 * query (status, costs in dollars, progress, steps, artifacts, QC
 * verdicts); nothing when the tenant has no such job. */
std::optional<std::string> job_json(Connection &db, std::int64_t job_id, std::int64_t tenant_id);

/* GET /v1/jobs: a page of the tenant's jobs, newest first. */
struct JobPageQuery {
  std::optional<std::string> status;
  std::optional<std::int64_t> before_id; /* the previous page's next_cursor */
  std::int64_t limit = 20;
};
/* {"jobs": [...], "next_cursor": "<id>" or null}, built by PostgreSQL. */
std::string job_page_json(Connection &db, std::int64_t tenant_id, const JobPageQuery &query);

}  // namespace reelforge::store
