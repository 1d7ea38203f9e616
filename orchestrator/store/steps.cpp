/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/steps.h"

namespace reelforge::store {

namespace {

std::int64_t millis(std::chrono::milliseconds ms) {
  return static_cast<std::int64_t>(ms.count());
}

/* Moves the step held from running to another state: set is the SET list
 * of the new state, its parameters numbered from $5 ($1 the step, $2 the
 * token, $3 the daemon, $4 the new status). The update and its event row
 * in one statement: one round trip. */
bool move_running_step(Connection &db, const StepLease &held, std::string_view set,
                       const std::string &to, std::vector<Param> extra = {}) {
  std::vector<Param> params{param(held.step_id), param(held.fencing_token), param(held.daemon),
                            param(to)};
  params.insert(params.end(), std::make_move_iterator(extra.begin()),
                std::make_move_iterator(extra.end()));
  const Result r = db.exec(
      "WITH moved AS (UPDATE steps SET " + std::string(set) +
          ", lease_owner = NULL, lease_expires_at = NULL, updated_at = now()"
          " WHERE id = $1 AND fencing_token = $2 AND status = 'running' RETURNING job_id)"
          " INSERT INTO events (job_id, step_id, kind, from_status, to_status, daemon,"
          " fencing_token, detail) SELECT job_id, $1, 'transition', 'running', $4, $3, $2, '{}'"
          " FROM moved",
      params);
  return r.affected() == 1;
}

}  // namespace

std::optional<ClaimedStepRow> claim_step(Connection &db, std::string_view daemon,
                                         std::chrono::milliseconds lease) {
  /* A step waiting on a provider keeps its attempt count (a poll is not an
   * attempt), and is claimed even when its job is paused: the provider job
   * was paid for and is followed to its end. */
  const Result r = db.query(
      "WITH next AS ("
      "  SELECT s.id, s.status AS was, j.status AS job_was FROM steps s"
      "  JOIN jobs j ON j.id = s.job_id"
      "  WHERE s.status IN ('ready', 'waiting') AND s.next_run_at <= now()"
      "    AND (j.status IN ('queued', 'running')"
      "      OR (j.status = 'paused' AND s.wait_reason = 'provider'))"
      "  ORDER BY s.priority DESC, s.next_run_at, s.id"
      "  LIMIT 1 FOR UPDATE OF s SKIP LOCKED"
      "), claimed AS ("
      "  UPDATE steps s SET status = 'running',"
      "    attempt = CASE WHEN s.status = 'waiting' THEN s.attempt ELSE s.attempt + 1 END,"
      "    wait_reason = NULL, lease_owner = $1,"
      "    lease_expires_at = now() + $2::bigint * interval '1 millisecond',"
      "    fencing_token = s.fencing_token + 1, updated_at = now()"
      "  FROM next WHERE s.id = next.id"
      "  RETURNING s.id, s.job_id, s.variant_id, s.kind, s.inputs::text AS inputs,"
      "    s.outputs::text AS outputs, s.attempt, s.max_attempts, s.fencing_token, next.was,"
      "    next.job_was"
      "), logged AS ("
      "  INSERT INTO events (job_id, step_id, kind, from_status, to_status, daemon, fencing_token)"
      "  SELECT job_id, id, 'claim', was, 'running', $1, fencing_token FROM claimed"
      ") SELECT * FROM claimed",
      daemon, millis(lease));
  if (r.rows() == 0) return std::nullopt;
  return ClaimedStepRow{.id = r.int64(0, "id"),
                        .job_id = r.int64(0, "job_id"),
                        .variant_id = r.optional_int64(0, "variant_id"),
                        .kind = r.text(0, "kind"),
                        .inputs = r.text(0, "inputs"),
                        .outputs = r.optional_text(0, "outputs"),
                        .attempt = static_cast<int>(r.int64(0, "attempt")),
                        .max_attempts = static_cast<int>(r.int64(0, "max_attempts")),
                        .fencing_token = r.int64(0, "fencing_token"),
                        .previous_status = r.text(0, "was"),
                        .job_status = r.text(0, "job_was")};
}

bool renew_lease(Connection &db, const StepLease &held, std::chrono::milliseconds lease) {
  const Result r = db.query(
      "UPDATE steps SET lease_expires_at = now() + $3::bigint * interval '1 millisecond'"
      " WHERE id = $1 AND fencing_token = $2 AND status = 'running'",
      held.step_id, held.fencing_token, millis(lease));
  return r.affected() == 1;
}

bool succeed_step(Connection &db, const StepLease &held, const std::string &outputs) {
  return move_running_step(db, held,
                           "status = 'succeeded', outputs = $5::jsonb, error_class = NULL",
                           "succeeded", {param(outputs)});
}

bool retry_step_later(Connection &db, const StepLease &held, const std::string &error_class,
                      const std::string &message, std::chrono::milliseconds delay) {
  return move_running_step(db, held,
                           "status = 'ready', error_class = $5, last_error = $6,"
                           " next_run_at = now() + $7::bigint * interval '1 millisecond'",
                           "ready", {param(error_class), param(message), param(millis(delay))});
}

bool fail_step(Connection &db, const StepLease &held, const std::string &error_class,
               const std::string &message) {
  return move_running_step(db, held, "status = 'failed', error_class = $5, last_error = $6",
                           "failed", {param(error_class), param(message)});
}

bool wait_for_approval(Connection &db, const StepLease &held, const std::string &outputs) {
  return move_running_step(db, held,
                           "status = 'waiting', wait_reason = 'approval', next_run_at = NULL,"
                           " outputs = $5::jsonb",
                           "waiting", {param(outputs)});
}

bool wait_for_provider(Connection &db, const StepLease &held, std::chrono::milliseconds poll_in,
                       const std::string &outputs) {
  return move_running_step(db, held,
                           "status = 'waiting', wait_reason = 'provider', outputs = $5::jsonb,"
                           " next_run_at = now() + $6::bigint * interval '1 millisecond'",
                           "waiting", {param(outputs), param(millis(poll_in))});
}

bool give_step_back(Connection &db, const StepLease &held, bool uncount_attempt) {
  return move_running_step(db, held,
                           "status = 'ready', attempt = attempt - $5, next_run_at = now(),"
                           " fencing_token = fencing_token + 1",
                           "ready", {param(uncount_attempt ? 1 : 0)});
}

bool requeue_step(Connection &db, const StepLease &held, const std::string &reason,
                  bool uncount_attempt) {
  return move_running_step(
      db, held, "status = 'ready', attempt = attempt - $6, next_run_at = now(), last_error = $5",
      "ready", {param(reason), param(uncount_attempt ? 1 : 0)});
}

bool step_needs_attention(Connection &db, const StepLease &held, const std::string &reason) {
  return move_running_step(db, held, "status = 'needs-attention', last_error = $5",
                           "needs-attention", {param(reason)});
}

bool unblock_dependents(Connection &db, std::int64_t step_id) {
  const Result r = db.query(
      "UPDATE steps SET pending_dependencies = pending_dependencies - 1,"
      " status = CASE WHEN pending_dependencies = 1 THEN 'ready' ELSE status END,"
      " next_run_at = now(), updated_at = now()"
      " WHERE status = 'blocked' AND id IN"
      " (SELECT step_id FROM step_dependencies WHERE depends_on = $1)"
      " RETURNING status",
      step_id);
  for (int i = 0; i < r.rows(); ++i)
    if (r.text(i, "status") == "ready") return true;
  return false;
}

std::vector<RescuedStep> rescue_expired_steps(Connection &db, std::string_view daemon) {
  /* A step whose attempts are spent fails here rather than run a crash it
   * may cause once more. */
  const Result r = db.query(
      "WITH rescued AS ("
      "  UPDATE steps SET"
      "    status = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'ready' END,"
      "    last_error = 'lease of ' || lease_owner || ' expired', error_class = 'transient',"
      "    lease_owner = NULL, lease_expires_at = NULL, fencing_token = fencing_token + 1,"
      "    next_run_at = now(), updated_at = now()"
      "  WHERE status = 'running' AND lease_expires_at < now()"
      "  RETURNING id, job_id, status, fencing_token, attempt"
      "), logged AS ("
      "  INSERT INTO events (job_id, step_id, kind, from_status, to_status, daemon, fencing_token)"
      "  SELECT job_id, id, 'rescue', 'running', status, $1, fencing_token FROM rescued"
      ") SELECT id, job_id, status, attempt FROM rescued",
      daemon);
  std::vector<RescuedStep> rescued;
  for (int i = 0; i < r.rows(); ++i)
    rescued.push_back({.id = r.int64(i, "id"),
                       .job_id = r.int64(i, "job_id"),
                       .status = r.text(i, "status"),
                       .attempt = static_cast<int>(r.int64(i, "attempt"))});
  return rescued;
}

std::optional<std::int64_t> insert_step(Connection &db, const NewStepRow &step) {
  const Result r = db.query(
      "INSERT INTO steps (job_id, variant_id, kind, inputs, status, pending_dependencies,"
      " priority, max_attempts) SELECT $1, $2, $3, $4::jsonb, $5, $6, j.priority, $7"
      " FROM jobs j WHERE j.id = $1 RETURNING id",
      step.job_id, step.variant_id, step.kind, step.inputs, step.status, step.pending_dependencies,
      step.max_attempts);
  if (r.rows() != 1) return std::nullopt;
  return r.int64(0, "id");
}

void insert_first_step(Connection &db, std::int64_t job_id, const std::string &kind, int priority,
                       int max_attempts) {
  db.query(
      "INSERT INTO steps (job_id, kind, status, priority, max_attempts)"
      " VALUES ($1, $2, 'ready', $3, $4)",
      job_id, kind, priority, max_attempts);
}

void insert_step_dependency(Connection &db, std::int64_t step_id, std::int64_t depends_on) {
  db.query("INSERT INTO step_dependencies (step_id, depends_on) VALUES ($1, $2)", step_id,
           depends_on);
}

bool step_unfinished(Connection &db, std::int64_t step_id) {
  return db.query("SELECT 1 FROM steps WHERE id = $1 AND status <> 'succeeded'", step_id).rows() >
         0;
}

bool lock_running_step(Connection &db, const StepLease &held) {
  return db.query(
               "SELECT 1 FROM steps WHERE id = $1 AND fencing_token = $2 AND status = 'running'"
               " FOR UPDATE",
               held.step_id, held.fencing_token)
             .rows() == 1;
}

std::optional<WaitingApproval> lock_waiting_approval(Connection &db, std::int64_t job_id) {
  const Result r = db.query(
      "SELECT id, coalesce(jsonb_array_length(outputs->'choices'), 0) AS choices FROM steps"
      " WHERE job_id = $1 AND kind = 'approval' AND status = 'waiting'"
      " AND wait_reason = 'approval' ORDER BY id LIMIT 1 FOR UPDATE",
      job_id);
  if (r.rows() == 0) return std::nullopt;
  return WaitingApproval{.step_id = r.int64(0, "id"), .choices = r.int64(0, "choices")};
}

std::optional<std::int64_t> approved_choice(Connection &db, std::int64_t job_id) {
  const Result r = db.query(
      "SELECT (outputs->>'choice')::int AS choice FROM steps WHERE job_id = $1"
      " AND kind = 'approval' AND status = 'succeeded' ORDER BY id DESC LIMIT 1",
      job_id);
  if (r.rows() == 0) return std::nullopt;
  return r.int64(0, "choice");
}

void approve_step(Connection &db, std::int64_t step_id, int choice) {
  db.query(
      "UPDATE steps SET status = 'succeeded', wait_reason = NULL, updated_at = now(),"
      " outputs = coalesce(outputs, '{}'::jsonb) || jsonb_build_object('choice', $2::int)"
      " WHERE id = $1",
      step_id, choice);
}

std::optional<std::int64_t> reject_waiting_approval(Connection &db, std::int64_t job_id,
                                                    const std::string &error) {
  const Result r = db.query(
      "UPDATE steps SET status = 'failed', wait_reason = NULL, error_class = 'permanent',"
      " last_error = $2, updated_at = now()"
      " WHERE id = (SELECT id FROM steps WHERE job_id = $1 AND kind = 'approval'"
      "   AND status = 'waiting' ORDER BY id LIMIT 1) RETURNING id",
      job_id, error);
  if (r.rows() == 0) return std::nullopt;
  return r.int64(0, "id");
}

bool approval_rejected(Connection &db, std::int64_t job_id) {
  return db.query(
               "SELECT 1 FROM steps WHERE job_id = $1 AND kind = 'approval' AND status = 'failed'"
               " AND last_error LIKE 'rejected%'",
               job_id)
             .rows() > 0;
}

std::optional<StageApproval> stage_approval(Connection &db, std::int64_t job_id,
                                            const std::string &stage) {
  /* Approvals written before stages were named are before the render. */
  const Result r = db.query(
      "SELECT outputs->'choices'->>((outputs->>'choice')::int) AS chosen,"
      " jsonb_array_length(outputs->'choices') AS choices FROM steps WHERE job_id = $1"
      " AND kind = 'approval' AND status = 'succeeded'"
      " AND coalesce(inputs->>'stage', 'before-render') = $2 ORDER BY id LIMIT 1",
      job_id, stage);
  if (r.rows() == 0) return std::nullopt;
  return StageApproval{.chosen = r.optional_text(0, "chosen"), .choices = r.int64(0, "choices")};
}

std::optional<ApprovalPlans> before_render_approval_plans(Connection &db, std::int64_t job_id,
                                                          const std::string &variant) {
  const Result r = db.query(
      "SELECT status, coalesce(inputs->'plans'->$2, '[]'::jsonb)::text AS hashes FROM steps"
      " WHERE job_id = $1 AND kind = 'approval'"
      " AND coalesce(inputs->>'stage', 'before-render') = 'before-render' ORDER BY id LIMIT 1",
      job_id, variant);
  if (r.rows() == 0) return std::nullopt;
  return ApprovalPlans{.status = r.text(0, "status"), .hashes_json = r.text(0, "hashes")};
}

void cancel_unfinished_steps(Connection &db, std::int64_t job_id) {
  db.query(
      "UPDATE steps SET status = 'cancelled', fencing_token = fencing_token + 1,"
      " lease_owner = NULL, lease_expires_at = NULL, wait_reason = NULL, updated_at = now()"
      " WHERE job_id = $1 AND status IN ('blocked', 'ready', 'running', 'waiting')",
      job_id);
}

void cancel_steps_of_rejected_job(Connection &db, std::int64_t job_id) {
  db.query(
      "UPDATE steps SET status = 'cancelled', fencing_token = fencing_token + 1,"
      " lease_owner = NULL, lease_expires_at = NULL, updated_at = now()"
      " WHERE job_id = $1 AND status IN ('blocked', 'ready', 'running', 'waiting')",
      job_id);
}

void retry_failed_steps(Connection &db, std::int64_t job_id) {
  db.query(
      "UPDATE steps SET status = 'ready', attempt = 0, next_run_at = now(), updated_at = now()"
      " WHERE job_id = $1 AND status IN ('failed', 'needs-attention')",
      job_id);
}

std::optional<RenderStepState> render_step_state(Connection &db, std::int64_t step_id,
                                                 std::int64_t job_id) {
  const Result r = db.query(
      "SELECT status, outputs ? 'skipped' AS skipped, outputs ? 'verdicts' AS has_verdicts"
      " FROM steps WHERE id = $1 AND job_id = $2 AND kind = 'render'",
      step_id, job_id);
  if (r.rows() != 1) return std::nullopt;
  return RenderStepState{.status = r.text(0, "status"),
                         .skipped = r.boolean(0, "skipped"),
                         .has_verdicts = r.boolean(0, "has_verdicts")};
}

std::vector<std::string> failed_verdicts(Connection &db, std::int64_t render_step_id) {
  const Result r = db.query(
      "SELECT v.key AS output FROM steps s, jsonb_each_text(s.outputs->'verdicts') v"
      " WHERE s.id = $1 AND v.value = 'fail' ORDER BY v.key",
      render_step_id);
  std::vector<std::string> outputs;
  for (int i = 0; i < r.rows(); ++i) outputs.push_back(r.text(i, "output"));
  return outputs;
}

std::map<std::string, std::int64_t> generate_step_ids(Connection &db, std::int64_t job_id) {
  const Result r = db.query(
      "SELECT inputs->>'uri' AS uri, id FROM steps WHERE job_id = $1 AND kind = 'generate'",
      job_id);
  std::map<std::string, std::int64_t> ids;
  for (int i = 0; i < r.rows(); ++i) ids[r.text(i, "uri")] = r.int64(i, "id");
  return ids;
}

double oldest_ready_step_age_s(Connection &db) {
  return db
      .exec(
          "SELECT coalesce(extract(epoch FROM now() - min(next_run_at)), 0) AS age FROM steps"
          " WHERE status = 'ready' AND next_run_at <= now()")
      .number(0, "age");
}

std::vector<StepsInStatus> steps_by_status(Connection &db) {
  const Result r =
      db.exec("SELECT status, count(*) AS count FROM steps GROUP BY status ORDER BY 1");
  std::vector<StepsInStatus> counts;
  for (int i = 0; i < r.rows(); ++i)
    counts.push_back({.status = r.text(i, "status"), .count = r.int64(i, "count")});
  return counts;
}

}  // namespace reelforge::store
