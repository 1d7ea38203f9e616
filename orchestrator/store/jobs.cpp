/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/jobs.h"

namespace reelforge::store {

std::int64_t insert_job(Connection &db, const NewJob &job) {
  return db
      .query(
          "INSERT INTO jobs (tenant_id, spec, priority, budget_micros, options)"
          " VALUES ($1, $2::jsonb, $3, $4, $5::jsonb) RETURNING id",
          job.tenant_id, job.spec, job.priority, job.budget_micros, job.options)
      .int64(0, "id");
}

std::optional<std::string> lock_job(Connection &db, std::int64_t job_id) {
  /* NO KEY UPDATE: the job's steps, events and artifacts reference it (KEY
   * SHARE) and are still inserted meanwhile. */
  const Result r = db.query("SELECT status FROM jobs WHERE id = $1 FOR NO KEY UPDATE", job_id);
  if (r.rows() == 0) return std::nullopt;
  return r.text(0, "status");
}

void mark_job_running(Connection &db, std::int64_t job_id) {
  db.query(
      "UPDATE jobs SET status = 'running', updated_at = now() WHERE id = $1 AND status = "
      "'queued'",
      job_id);
}

bool finish_job_if_done(Connection &db, std::int64_t job_id) {
  return db.query(
               "UPDATE jobs SET status = 'succeeded', updated_at = now()"
               " WHERE id = $1 AND status IN ('queued', 'running') AND NOT EXISTS"
               " (SELECT 1 FROM steps WHERE job_id = $1 AND status <> 'succeeded') RETURNING id",
               job_id)
             .rows() > 0;
}

bool pause_job(Connection &db, std::int64_t job_id, const std::string &reason) {
  return db.query(
               "UPDATE jobs SET status = 'paused', pause_reason = $2, updated_at = now()"
               " WHERE id = $1 AND status IN ('queued', 'running') RETURNING id",
               job_id, reason)
             .rows() > 0;
}

bool fail_active_job(Connection &db, std::int64_t job_id, const std::string &reason) {
  return db.query(
               "UPDATE jobs SET status = 'failed', pause_reason = $2, updated_at = now()"
               " WHERE id = $1 AND status IN ('queued', 'running') RETURNING id",
               job_id, reason)
             .rows() > 0;
}

void fail_job(Connection &db, std::int64_t job_id, const std::string &reason) {
  db.query("UPDATE jobs SET status = 'failed', pause_reason = $2, updated_at = now() WHERE id = $1",
           job_id, reason);
}

void cancel_job(Connection &db, std::int64_t job_id) {
  db.query("UPDATE jobs SET status = 'cancelled', updated_at = now() WHERE id = $1", job_id);
}

void resume_job(Connection &db, std::int64_t job_id) {
  db.query(
      "UPDATE jobs SET status = 'running', pause_reason = NULL, updated_at = now() WHERE id = $1",
      job_id);
}

std::optional<JobDocument> job_document(Connection &db, std::int64_t job_id) {
  const Result r = db.query(
      "SELECT spec::text AS spec, options::text AS options FROM jobs WHERE id = $1", job_id);
  if (r.rows() != 1) return std::nullopt;
  return JobDocument{.spec = r.text(0, "spec"), .options = r.text(0, "options")};
}

bool job_belongs_to(Connection &db, std::int64_t job_id, std::int64_t tenant_id) {
  return db.query("SELECT 1 FROM jobs WHERE id = $1 AND tenant_id = $2", job_id, tenant_id).rows() >
         0;
}

std::optional<std::string> job_json(Connection &db, std::int64_t job_id, std::int64_t tenant_id) {
  /* Amounts in dollars; a delivered artifact also names where it went. */
  const Result r = db.query(
      "SELECT jsonb_build_object("
      " 'id', j.id, 'status', j.status, 'priority', j.priority, 'reason', j.pause_reason,"
      " 'created_at', j.created_at, 'updated_at', j.updated_at,"
      " 'costs', jsonb_build_object('budget', j.budget_micros / 1e6,"
      "   'reserved', j.reserved_micros / 1e6, 'spent', j.spent_micros / 1e6),"
      " 'progress', (SELECT jsonb_build_object('steps', count(*), 'succeeded',"
      "   count(*) FILTER (WHERE status = 'succeeded')) FROM steps WHERE job_id = j.id),"
      " 'steps', coalesce((SELECT jsonb_agg(jsonb_build_object('id', s.id, 'kind', s.kind,"
      "   'status', s.status, 'waiting_for', s.wait_reason, 'attempt', s.attempt,"
      "   'variant', v.name, 'error', s.last_error, 'outputs', s.outputs) ORDER BY s.id)"
      "   FROM steps s LEFT JOIN variants v ON v.id = s.variant_id WHERE s.job_id = j.id), '[]'),"
      " 'artifacts', coalesce((SELECT jsonb_agg(jsonb_build_object('id', a.id, 'kind', a.kind,"
      "   'url', '/v1/artifacts/' || a.id, 'size', a.size_bytes, 'sha256', a.sha256,"
      "   'variant', v.name) || CASE WHEN a.kind LIKE 'delivered-%' THEN"
      "   jsonb_build_object('uri', a.uri) ELSE '{}' END ORDER BY a.id)"
      "   FROM artifacts a LEFT JOIN variants v ON v.id = a.variant_id WHERE a.job_id = j.id),"
      "   '[]'),"
      " 'qc', coalesce((SELECT jsonb_object_agg(v.key, v.value) FROM steps s,"
      "   jsonb_each(s.outputs->'verdicts') v WHERE s.job_id = j.id AND s.kind = 'render'"
      "   AND s.outputs ? 'verdicts'), '{}'))::text AS job FROM jobs j WHERE j.id = $1 AND"
      " j.tenant_id = $2",
      job_id, tenant_id);
  if (r.rows() == 0) return std::nullopt;
  return r.text(0, "job");
}

std::string job_page_json(Connection &db, std::int64_t tenant_id, const JobPageQuery &query) {
  const Result r = db.query(
      "WITH page AS (SELECT id, status, priority, created_at FROM jobs"
      " WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2)"
      " AND ($3::bigint IS NULL OR id < $3) ORDER BY id DESC LIMIT $4)"
      " SELECT jsonb_build_object('jobs', coalesce(jsonb_agg(jsonb_build_object('id', id,"
      "  'status', status, 'priority', priority, 'created_at', created_at) ORDER BY id DESC),"
      "  '[]'), 'next_cursor', CASE WHEN count(*) = $4 THEN min(id)::text END)::text AS page"
      " FROM page",
      tenant_id, query.status, query.before_id, query.limit);
  return r.text(0, "page");
}

}  // namespace reelforge::store
