/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Lock order, to keep transactions free of deadlocks: a transaction that
 * writes both a job and its steps locks the job row first. Claims and
 * rescues are single statements on steps.
 */
#include "sched/step-queue.h"

#include <glib.h>

#include <algorithm>

#include <utility>

namespace reelforge::sched {

using store::Connection;
using store::Param;
using store::param;
using store::Result;
using store::Transaction;

namespace {

/* SQLSTATE of FOR UPDATE NOWAIT finding the row locked. */
constexpr const char *kLockNotAvailable = "55P03";

std::string millis(std::chrono::milliseconds ms) {
  return std::to_string(ms.count());
}

/* Micro-units as an amount with two decimals, e.g. "1.25" (no currency:
 * jobs carry their own). */
std::string money_text(std::int64_t micros) {
  char text[32];
  g_snprintf(text, sizeof text, "%.2f", static_cast<double>(micros) / 1e6);
  return text;
}

/* Locks the job row; returns its status, or nothing when there is none. */
std::optional<std::string> lock_job(Connection &db, std::int64_t job_id) {
  const Result r = db.query("SELECT status FROM jobs WHERE id = $1 FOR NO KEY UPDATE", job_id);
  if (r.rows() == 0) return std::nullopt;
  return r.text(0, 0);
}

/* Readies the steps that were waiting only for step_id; true if any. */
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
    if (r.text(i, 0) == "ready") return true;
  return false;
}

/* Ends the job when all its steps succeeded (job row locked by caller). */
void finish_job_if_done(Connection &db, std::int64_t job_id) {
  const Result r = db.query(
      "UPDATE jobs SET status = 'succeeded', updated_at = now()"
      " WHERE id = $1 AND status IN ('queued', 'running') AND NOT EXISTS"
      " (SELECT 1 FROM steps WHERE job_id = $1 AND status <> 'succeeded') RETURNING id",
      job_id);
  if (r.rows() > 0)
    db.query(
        "INSERT INTO events (job_id, kind, from_status, to_status) VALUES ($1, 'job', 'running', "
        "'succeeded')",
        job_id);
}

/* Releases the reservations of the calls in ended (rows of id, step_id,
 * reserved_micros, the job row locked by the caller): a ledger entry each
 * and the job's open reservations lowered by their sum. */
void release_reservations(Connection &db, std::int64_t job_id, const Result &ended) {
  std::int64_t released = 0;
  for (int i = 0; i < ended.rows(); ++i) {
    released += ended.int64(i, 2);
    db.query(
        "INSERT INTO cost_ledger (job_id, step_id, provider_call_id, entry, amount_micros)"
        " VALUES ($1, $2, $3, 'release', $4)",
        job_id, ended.int64(i, 1), ended.int64(i, 0), ended.int64(i, 2));
  }
  if (released > 0)
    db.query("UPDATE jobs SET reserved_micros = reserved_micros - $2 WHERE id = $1", job_id,
             released);
}

void pause(Connection &db, std::int64_t job_id, const std::string &reason) {
  const Result r = db.query(
      "UPDATE jobs SET status = 'paused', pause_reason = $2, updated_at = now()"
      " WHERE id = $1 AND status IN ('queued', 'running') RETURNING id",
      job_id, reason);
  if (r.rows() > 0)
    db.query(
        "INSERT INTO events (job_id, kind, from_status, to_status, detail)"
        " VALUES ($1, 'job', 'running', 'paused', jsonb_build_object('reason', $2::text))",
        job_id, reason);
}

}  // namespace

void notify_steps(Connection &connection) {
  connection.query("SELECT pg_notify($1, '')", kStepsChannel);
}

StepQueue::StepQueue(Connection &connection, std::string owner, LeaseSettings lease,
                     RetryPolicy retry)
    : db_(connection), owner_(std::move(owner)), lease_(lease), retry_(retry) {}

void StepQueue::event(std::int64_t job_id, std::optional<std::int64_t> step_id,
                      const std::string &kind, const std::string &from, const std::string &to,
                      std::int64_t token, const std::string &detail) {
  db_.query(
      "INSERT INTO events (job_id, step_id, kind, from_status, to_status, daemon, fencing_token,"
      " detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
      job_id, step_id ? param(*step_id) : std::nullopt, kind, from, to, owner_, token, detail);
}

std::optional<ClaimedStep> StepQueue::claim() {
  const Result r = db_.query(
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
      "  RETURNING s.id, s.job_id, s.variant_id, s.kind, s.inputs::text, s.outputs::text,"
      "    s.attempt, s.max_attempts, s.fencing_token, next.was, next.job_was"
      "), logged AS ("
      "  INSERT INTO events (job_id, step_id, kind, from_status, to_status, daemon, fencing_token)"
      "  SELECT job_id, id, 'claim', was, 'running', $1, fencing_token FROM claimed"
      ") SELECT * FROM claimed",
      owner_, millis(lease_.lease));
  if (r.rows() == 0) return std::nullopt;
  ClaimedStep step;
  step.id = r.int64(0, 0);
  step.job_id = r.int64(0, 1);
  if (!r.is_null(0, 2)) step.variant_id = r.int64(0, 2);
  step.kind = r.text(0, 3);
  step.inputs = r.text(0, 4);
  step.outputs = r.optional_text(0, 5);
  step.attempt = static_cast<int>(r.int64(0, 6));
  step.max_attempts = static_cast<int>(r.int64(0, 7));
  step.fencing_token = r.int64(0, 8);
  step.from_wait = r.text(0, 9) == "waiting";
  /* After the claim committed, so no transaction holds a step and then a
   * job (see the lock order above). */
  if (r.text(0, 10) == "queued")
    db_.query(
        "UPDATE jobs SET status = 'running', updated_at = now() WHERE id = $1 AND status = "
        "'queued'",
        step.job_id);
  return step;
}

bool StepQueue::heartbeat(const ClaimedStep &step) {
  const Result r = db_.query(
      "UPDATE steps SET lease_expires_at = now() + $3::bigint * interval '1 millisecond'"
      " WHERE id = $1 AND fencing_token = $2 AND status = 'running'",
      step.id, step.fencing_token, millis(lease_.lease));
  return r.affected() == 1;
}

void StepQueue::transition(const ClaimedStep &step, const std::string &sql_set,
                           const std::vector<Param> &extra, const std::string &to) {
  std::vector<Param> params{param(step.id), param(step.fencing_token), param(owner_), param(to)};
  params.insert(params.end(), extra.begin(), extra.end());
  /* The update and its event row in one statement: one round trip. */
  const Result r = db_.exec(
      "WITH moved AS (UPDATE steps SET " + sql_set +
          ", lease_owner = NULL, lease_expires_at = NULL, updated_at = now()"
          " WHERE id = $1 AND fencing_token = $2 AND status = 'running' RETURNING job_id)"
          " INSERT INTO events (job_id, step_id, kind, from_status, to_status, daemon,"
          " fencing_token, detail) SELECT job_id, $1, 'transition', 'running', $4, $3, $2, '{}'"
          " FROM moved",
      params);
  if (r.affected() != 1)
    throw LeaseLost("step " + std::to_string(step.id) + " is no longer ours (token " +
                    std::to_string(step.fencing_token) + ")");
}

void StepQueue::succeed(const ClaimedStep &step, const std::string &outputs,
                        const std::function<void(Connection &)> &also) {
  Transaction transaction(db_);
  lock_job(db_, step.job_id);
  transition(step, "status = 'succeeded', outputs = $5::jsonb, error_class = NULL", {outputs},
             "succeeded");
  if (also) also(db_);
  if (unblock_dependents(db_, step.id)) notify_steps(db_);
  finish_job_if_done(db_, step.job_id);
  transaction.commit();
}

void StepQueue::fail(const ClaimedStep &step, ErrorClass error_class, const std::string &message,
                     std::optional<std::chrono::milliseconds> retry_after) {
  const bool retryable = error_class != ErrorClass::kPermanent;
  if (retryable && step.attempt < step.max_attempts) {
    const auto delay = retry_.delay(step.attempt, retry_after);
    transition(step,
               "status = 'ready', error_class = $5, last_error = $6,"
               " next_run_at = now() + $7::bigint * interval '1 millisecond'",
               {error_class_name(error_class), message, millis(delay)}, "ready");
    return;
  }
  Transaction transaction(db_);
  lock_job(db_, step.job_id);
  transition(step, "status = 'failed', error_class = $5, last_error = $6",
             {error_class_name(error_class), message}, "failed");
  const std::string what = "step " + std::to_string(step.id) + " (" + step.kind + ") failed";
  if (retryable) {
    pause(db_, step.job_id,
          what + " after " + std::to_string(step.attempt) + " attempts: " + message +
              " (resume the job to try again)");
  } else {
    const Result r = db_.query(
        "UPDATE jobs SET status = 'failed', pause_reason = $2, updated_at = now()"
        " WHERE id = $1 AND status IN ('queued', 'running') RETURNING id",
        step.job_id, what + ": " + message);
    if (r.rows() > 0) event(step.job_id, std::nullopt, "job", "running", "failed", 0);
  }
  transaction.commit();
}

void StepQueue::wait_for_approval(const ClaimedStep &step, const std::string &outputs,
                                  const std::function<void(Connection &)> &also) {
  Transaction transaction(db_);
  transition(step,
             "status = 'waiting', wait_reason = 'approval', next_run_at = NULL,"
             " outputs = $5::jsonb",
             {outputs}, "waiting");
  if (also) also(db_);
  transaction.commit();
}

void StepQueue::wait_for_provider(const ClaimedStep &step, std::chrono::milliseconds poll_in,
                                  const std::string &outputs) {
  transition(step,
             "status = 'waiting', wait_reason = 'provider', outputs = $5::jsonb,"
             " next_run_at = now() + $6::bigint * interval '1 millisecond'",
             {outputs, millis(poll_in)}, "waiting");
}

void StepQueue::release(const ClaimedStep &step) {
  transition(step,
             "status = 'ready', attempt = attempt - $5, next_run_at = now(),"
             " fencing_token = fencing_token + 1",
             {param(step.from_wait ? 0 : 1)}, "ready");
  notify_steps(db_);
}

void StepQueue::pause_job(const ClaimedStep &step, const std::string &reason) {
  Transaction transaction(db_);
  lock_job(db_, step.job_id);
  transition(step, "status = 'ready', attempt = attempt - $6, next_run_at = now(), last_error = $5",
             {reason, param(step.from_wait ? 0 : 1)}, "ready");
  pause(db_, step.job_id, reason);
  transaction.commit();
}

int StepQueue::rescue_expired() {
  const Result r = db_.query(
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
      owner_);
  bool any_ready = false;
  for (int i = 0; i < r.rows(); ++i) {
    if (r.text(i, 2) == "ready") {
      any_ready = true;
      continue;
    }
    /* A step that keeps losing its daemon (a crash it causes?) stops here. */
    Transaction transaction(db_);
    lock_job(db_, r.int64(i, 1));
    pause(db_, r.int64(i, 1),
          "step " + r.text(i, 0) + " lost its daemon on each of its " + r.text(i, 3) +
              " attempts (resume the job to try again)");
    transaction.commit();
  }
  if (any_ready) notify_steps(db_);
  return r.rows();
}

std::vector<std::int64_t> StepQueue::add_steps(std::int64_t job_id,
                                               const std::vector<NewStep> &steps) {
  std::vector<std::int64_t> ids;
  bool any_ready = false;
  for (const NewStep &s : steps) {
    /* Stored steps that already succeeded are not waited for. The caller
     * holds the job row (succeed() takes it first, as every step's success
     * does), so none of them succeeds meanwhile unseen. */
    std::int64_t pending_stored = 0;
    for (std::int64_t before : s.after_ids)
      pending_stored +=
          db_.query("SELECT 1 FROM steps WHERE id = $1 AND status <> 'succeeded'", before).rows();
    const bool ready = s.after.empty() && pending_stored == 0;
    any_ready |= ready;
    const Result r = db_.query(
        "INSERT INTO steps (job_id, variant_id, kind, inputs, status, pending_dependencies,"
        " priority, max_attempts) SELECT $1, $2, $3, $4::jsonb, $5, $6, j.priority, $7"
        " FROM jobs j WHERE j.id = $1 RETURNING id",
        job_id, s.variant_id ? param(*s.variant_id) : std::nullopt, s.kind, s.inputs,
        ready ? "ready" : "blocked", static_cast<std::int64_t>(s.after.size()) + pending_stored,
        retry_.max_attempts);
    if (r.rows() != 1) throw store::DatabaseError("job " + std::to_string(job_id) + " is gone", "");
    ids.push_back(r.int64(0, 0));
    for (size_t before : s.after) {
      if (before >= ids.size() - 1)
        throw std::logic_error("a step can only wait for steps listed before it");
      db_.query("INSERT INTO step_dependencies (step_id, depends_on) VALUES ($1, $2)", ids.back(),
                ids[before]);
    }
    for (std::int64_t before : s.after_ids)
      db_.query("INSERT INTO step_dependencies (step_id, depends_on) VALUES ($1, $2)", ids.back(),
                before);
  }
  if (any_ready) notify_steps(db_);
  return ids;
}

Intent StepQueue::record_intent(const ClaimedStep &step, const IntentRequest &request) {
  const std::int64_t amount = request.reserve_micros;
  Transaction transaction(db_);
  /* Lock order: the job, its tenant, the provider. Each is locked, not
   * skipped: concurrent reservations queue and each sees the others'
   * committed sums, so together they never exceed a budget or a limit. */
  const Result job = db_.query(
      "SELECT tenant_id, budget_micros, reserved_micros + spent_micros, status,"
      " coalesce(pause_reason, '') FROM jobs WHERE id = $1 FOR NO KEY UPDATE",
      step.job_id);
  const Result mine = db_.query(
      "SELECT 1 FROM steps WHERE id = $1 AND fencing_token = $2 AND status = 'running' FOR UPDATE",
      step.id, step.fencing_token);
  if (job.rows() != 1 || mine.rows() != 1)
    throw LeaseLost("step " + std::to_string(step.id) + " is no longer ours");
  /* A paused job still follows the calls it made, but makes no new ones. */
  if (job.text(0, 3) == "paused")
    return {.outcome = Intent::Outcome::kJobPaused,
            .reason = "the job is paused: " + job.text(0, 4)};
  if (!job.is_null(0, 1) && job.int64(0, 2) + amount > job.int64(0, 1))
    return {.outcome = Intent::Outcome::kOverJobBudget,
            .reason = "the job's budget of " + money_text(job.int64(0, 1)) + " cannot cover " +
                      money_text(amount) + " for " + request.provider + ": " +
                      money_text(job.int64(0, 2)) +
                      " is already spent or reserved (raise the budget, then resume the job)"};

  const Result tenant = db_.query(
      "SELECT t.name, t.daily_budget_micros,"
      "  (SELECT coalesce(sum(l.amount_micros), 0) FROM cost_ledger l JOIN jobs j"
      "     ON j.id = l.job_id WHERE j.tenant_id = t.id AND l.entry = 'charge'"
      "     AND l.created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
      "  + (SELECT coalesce(sum(reserved_micros), 0) FROM jobs WHERE tenant_id = t.id)"
      " FROM tenants t WHERE t.id = $1 FOR NO KEY UPDATE",
      job.int64(0, 0));
  if (tenant.rows() == 1 && !tenant.is_null(0, 1) &&
      tenant.int64(0, 2) + amount > tenant.int64(0, 1))
    return {.outcome = Intent::Outcome::kOverTenantBudget,
            .reason = "tenant " + tenant.text(0, 0) + "'s daily budget of " +
                      money_text(tenant.int64(0, 1)) + " cannot cover " + money_text(amount) +
                      " for " + request.provider + ": " + money_text(tenant.int64(0, 2)) +
                      " is spent today or reserved (resume the job tomorrow, or raise it)"};

  std::optional<Result> limit;
  try {
    limit = db_.query(
        "SELECT max_in_flight, per_minute, (SELECT count(*) FROM provider_calls c"
        "   WHERE c.provider = l.provider AND c.state IN ('submitting', 'submitted')),"
        "  (SELECT count(*) FROM provider_calls c WHERE c.provider = l.provider"
        "   AND c.created_at > now() - interval '1 minute'),"
        "  (SELECT ceil(extract(epoch FROM min(c.created_at) + interval '1 minute' - now())"
        "   * 1000) FROM provider_calls c WHERE c.provider = l.provider"
        "   AND c.created_at > now() - interval '1 minute')"
        " FROM provider_limits l WHERE l.provider = $1 FOR UPDATE NOWAIT",
        request.provider);
  } catch (const store::DatabaseError &e) {
    if (e.sqlstate() != kLockNotAvailable) throw;
    /* A peer is checking the same limit: rather than hold a worker in
     * the lock queue, look again shortly. */
    return {.outcome = Intent::Outcome::kProviderBusy,
            .reason = request.provider + "'s limit is being checked by another step",
            .retry_in = std::chrono::milliseconds(50 + g_random_int_range(0, 200))};
  }
  if (limit->rows() == 1) {
    if (!limit->is_null(0, 0) && limit->int64(0, 2) >= limit->int64(0, 0))
      return {
          .outcome = Intent::Outcome::kProviderBusy,
          .reason = request.provider + " has " + limit->text(0, 2) + " jobs in flight, its limit",
          .retry_in = std::chrono::milliseconds(1000)};
    if (!limit->is_null(0, 1) && limit->int64(0, 3) >= limit->int64(0, 1))
      return {.outcome = Intent::Outcome::kProviderBusy,
              .reason = request.provider + " was sent " + limit->text(0, 3) +
                        " jobs in the last minute, its limit",
              .retry_in = std::chrono::milliseconds(
                  std::max<std::int64_t>(50, limit->is_null(0, 4) ? 1000 : limit->int64(0, 4)))};
  }

  db_.query(
      "UPDATE jobs SET reserved_micros = reserved_micros + $2, updated_at = now() WHERE id = $1",
      step.job_id, amount);
  const Result call = db_.query(
      "INSERT INTO provider_calls (step_id, provider, idempotency_key, state, reserved_micros,"
      " request, chain_index) VALUES ($1, $2, $3, 'submitting', $4, $5::jsonb, $6) RETURNING id",
      step.id, request.provider, request.idempotency_key, amount, request.request,
      static_cast<std::int64_t>(request.chain_index));
  const std::int64_t call_id = call.int64(0, 0);
  db_.query(
      "INSERT INTO cost_ledger (job_id, step_id, provider_call_id, entry, amount_micros)"
      " VALUES ($1, $2, $3, 'reserve', $4)",
      step.job_id, step.id, call_id, amount);
  transaction.commit();
  return {.outcome = Intent::Outcome::kRecorded, .call_id = call_id};
}

void StepQueue::record_submitted(const ClaimedStep &step, std::int64_t call_id,
                                 const std::string &provider_job_id) {
  const Result r = db_.query(
      "UPDATE provider_calls c SET state = 'submitted', provider_job_id = $4, updated_at = now()"
      " FROM steps s WHERE c.id = $3 AND c.step_id = s.id AND s.id = $1"
      " AND s.fencing_token = $2 AND s.status = 'running' AND c.state = 'submitting'",
      step.id, step.fencing_token, call_id, provider_job_id);
  if (r.affected() != 1)
    throw LeaseLost("provider call " + std::to_string(call_id) + " of step " +
                    std::to_string(step.id) + " is no longer ours to update");
}

void StepQueue::settle(const ClaimedStep &step, std::int64_t call_id, std::int64_t actual_micros,
                       bool succeeded, const std::string &error) {
  Transaction transaction(db_);
  lock_job(db_, step.job_id);
  const Result call = db_.query(
      "UPDATE provider_calls c SET state = $4, actual_micros = $5, error = nullif($6, ''),"
      " updated_at = now() FROM steps s WHERE c.id = $3 AND c.step_id = s.id AND s.id = $1"
      " AND s.fencing_token = $2 AND s.status = 'running'"
      " AND c.state IN ('submitting', 'submitted') RETURNING c.reserved_micros",
      step.id, step.fencing_token, call_id, succeeded ? "succeeded" : "failed", actual_micros,
      error);
  if (call.rows() != 1)
    throw LeaseLost("provider call " + std::to_string(call_id) + " is no longer ours to settle");
  const std::int64_t reserved = call.int64(0, 0);
  db_.query(
      "UPDATE jobs SET reserved_micros = reserved_micros - $2,"
      " spent_micros = spent_micros + $3, updated_at = now() WHERE id = $1",
      step.job_id, reserved, actual_micros);
  db_.query(
      "INSERT INTO cost_ledger (job_id, step_id, provider_call_id, entry, amount_micros)"
      " VALUES ($1, $2, $3, 'release', $4), ($1, $2, $3, 'charge', $5)",
      step.job_id, step.id, call_id, reserved, actual_micros);
  transaction.commit();
}

void StepQueue::needs_attention(const ClaimedStep &step, std::int64_t call_id,
                                const std::string &reason) {
  Transaction transaction(db_);
  lock_job(db_, step.job_id);
  db_.query(
      "UPDATE provider_calls SET state = 'needs-attention', error = $2, updated_at = now()"
      " WHERE id = $1 AND state IN ('submitting', 'submitted')",
      call_id, reason);
  transition(step, "status = 'needs-attention', last_error = $5", {reason}, "needs-attention");
  pause(db_, step.job_id, reason);
  transaction.commit();
}

std::vector<CallToCancel> take_calls_to_cancel(Connection &connection, int limit) {
  const Result r = connection.query(
      "UPDATE provider_calls SET cancel_sent_at = now() WHERE id IN"
      " (SELECT id FROM provider_calls WHERE state = 'cancelled' AND provider_job_id IS NOT NULL"
      "  AND cancel_sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)"
      " RETURNING id, provider, provider_job_id, request::text",
      static_cast<std::int64_t>(limit));
  std::vector<CallToCancel> calls;
  for (int i = 0; i < r.rows(); ++i)
    calls.push_back({r.int64(i, 0), r.text(i, 1), r.text(i, 2), r.text(i, 3)});
  return calls;
}

std::int64_t JobControl::create_job(std::int64_t tenant_id, const std::string &spec_json,
                                    int priority, std::optional<std::int64_t> budget_micros,
                                    const std::string &first_step, int max_attempts,
                                    const std::string &options_json) {
  Transaction transaction(db_);
  const Result job = db_.query(
      "INSERT INTO jobs (tenant_id, spec, priority, budget_micros, options)"
      " VALUES ($1, $2::jsonb, $3, $4, $5::jsonb) RETURNING id",
      tenant_id, spec_json, priority, budget_micros ? param(*budget_micros) : std::nullopt,
      options_json);
  const std::int64_t id = job.int64(0, 0);
  db_.query(
      "INSERT INTO steps (job_id, kind, status, priority, max_attempts)"
      " VALUES ($1, $2, 'ready', $3, $4)",
      id, first_step, priority, max_attempts);
  db_.query("INSERT INTO events (job_id, kind, to_status) VALUES ($1, 'job', 'queued')", id);
  notify_steps(db_);
  transaction.commit();
  return id;
}

JobControl::Outcome JobControl::approve(std::int64_t job_id, int choice) {
  Transaction transaction(db_);
  const auto status = lock_job(db_, job_id);
  if (!status) return Outcome::kNotFound;
  const Result waiting = db_.query(
      "SELECT id, coalesce(jsonb_array_length(outputs->'choices'), 0) FROM steps"
      " WHERE job_id = $1 AND kind = 'approval' AND status = 'waiting'"
      " AND wait_reason = 'approval' ORDER BY id LIMIT 1 FOR UPDATE",
      job_id);
  if (waiting.rows() == 0) {
    const Result done = db_.query(
        "SELECT (outputs->>'choice')::int FROM steps WHERE job_id = $1 AND kind = 'approval'"
        " AND status = 'succeeded' ORDER BY id DESC LIMIT 1",
        job_id);
    if (done.rows() == 0) return Outcome::kConflict; /* nothing to approve (yet) */
    return done.int64(0, 0) == choice ? Outcome::kAlreadyDone : Outcome::kConflict;
  }
  if (*status != "running" && *status != "queued") return Outcome::kConflict;
  const std::int64_t step_id = waiting.int64(0, 0);
  const std::int64_t choices = waiting.int64(0, 1);
  if (choice < 0 || (choices > 0 && choice >= choices) || (choices == 0 && choice != 0))
    return Outcome::kInvalidChoice;
  db_.query(
      "UPDATE steps SET status = 'succeeded', wait_reason = NULL, updated_at = now(),"
      " outputs = coalesce(outputs, '{}'::jsonb) || jsonb_build_object('choice', $2::int)"
      " WHERE id = $1",
      step_id, choice);
  db_.query(
      "INSERT INTO events (job_id, step_id, kind, from_status, to_status, detail)"
      " VALUES ($1, $2, 'approve', 'waiting', 'succeeded', jsonb_build_object('choice', $3::int))",
      job_id, step_id, choice);
  if (unblock_dependents(db_, step_id)) notify_steps(db_);
  finish_job_if_done(db_, job_id);
  transaction.commit();
  return Outcome::kDone;
}

JobControl::Outcome JobControl::reject(std::int64_t job_id, const std::string &reason) {
  Transaction transaction(db_);
  const auto status = lock_job(db_, job_id);
  if (!status) return Outcome::kNotFound;
  const Result waiting = db_.query(
      "UPDATE steps SET status = 'failed', wait_reason = NULL, error_class = 'permanent',"
      " last_error = $2, updated_at = now()"
      " WHERE id = (SELECT id FROM steps WHERE job_id = $1 AND kind = 'approval'"
      "   AND status = 'waiting' ORDER BY id LIMIT 1) RETURNING id",
      job_id, "rejected: " + reason);
  if (waiting.rows() == 0) {
    const Result rejected = db_.query(
        "SELECT 1 FROM steps WHERE job_id = $1 AND kind = 'approval' AND status = 'failed'"
        " AND last_error LIKE 'rejected%'",
        job_id);
    return rejected.rows() > 0 ? Outcome::kAlreadyDone : Outcome::kConflict;
  }
  db_.query(
      "UPDATE jobs SET status = 'failed', pause_reason = $2, updated_at = now() WHERE id = $1",
      job_id, "rejected by a reviewer: " + reason);
  db_.query(
      "UPDATE steps SET status = 'cancelled', fencing_token = fencing_token + 1,"
      " lease_owner = NULL, lease_expires_at = NULL, updated_at = now()"
      " WHERE job_id = $1 AND status IN ('blocked', 'ready', 'running', 'waiting')",
      job_id);
  db_.query(
      "INSERT INTO events (job_id, step_id, kind, from_status, to_status)"
      " VALUES ($1, $2, 'reject', 'waiting', 'failed')",
      job_id, waiting.int64(0, 0));
  transaction.commit();
  return Outcome::kDone;
}

JobControl::Outcome JobControl::cancel(std::int64_t job_id) {
  Transaction transaction(db_);
  const auto status = lock_job(db_, job_id);
  if (!status) return Outcome::kNotFound;
  if (*status == "cancelled") return Outcome::kAlreadyDone;
  if (*status == "succeeded" || *status == "failed") return Outcome::kConflict;
  /* New tokens: runners of these steps find their lease gone at their next
   * heartbeat or write, and stop. */
  db_.query(
      "UPDATE steps SET status = 'cancelled', fencing_token = fencing_token + 1,"
      " lease_owner = NULL, lease_expires_at = NULL, wait_reason = NULL, updated_at = now()"
      " WHERE job_id = $1 AND status IN ('blocked', 'ready', 'running', 'waiting')",
      job_id);
  release_reservations(
      db_, job_id,
      db_.query(
          "UPDATE provider_calls c SET state = 'cancelled', updated_at = now() FROM steps s"
          " WHERE c.step_id = s.id AND s.job_id = $1 AND c.state IN ('submitting', 'submitted')"
          " RETURNING c.id, c.step_id, c.reserved_micros",
          job_id));
  db_.query("UPDATE jobs SET status = 'cancelled', updated_at = now() WHERE id = $1", job_id);
  db_.query(
      "INSERT INTO events (job_id, kind, from_status, to_status) VALUES ($1, 'job', $2, "
      "'cancelled')",
      job_id, *status);
  transaction.commit();
  return Outcome::kDone;
}

JobControl::Outcome JobControl::resume(std::int64_t job_id) {
  Transaction transaction(db_);
  const auto status = lock_job(db_, job_id);
  if (!status) return Outcome::kNotFound;
  if (*status == "running" || *status == "queued") return Outcome::kAlreadyDone;
  if (*status != "paused") return Outcome::kConflict;
  /* Resuming a job that waits for a person says the person looked at the
   * calls of unknown fate: they are abandoned, their reservations
   * released, and their steps submit anew. */
  release_reservations(
      db_, job_id,
      db_.query(
          "UPDATE provider_calls c SET state = 'failed', actual_micros = 0, updated_at = now(),"
          " error = coalesce(c.error, '') || ' (abandoned when the job was resumed)'"
          " FROM steps s WHERE c.step_id = s.id AND s.job_id = $1"
          " AND c.state = 'needs-attention' RETURNING c.id, c.step_id, c.reserved_micros",
          job_id));
  db_.query(
      "UPDATE steps SET status = 'ready', attempt = 0, next_run_at = now(), updated_at = now()"
      " WHERE job_id = $1 AND status IN ('failed', 'needs-attention')",
      job_id);
  db_.query(
      "UPDATE jobs SET status = 'running', pause_reason = NULL, updated_at = now() WHERE id = $1",
      job_id);
  db_.query(
      "INSERT INTO events (job_id, kind, from_status, to_status) VALUES ($1, 'job', 'paused', "
      "'running')",
      job_id);
  notify_steps(db_);
  transaction.commit();
  return Outcome::kDone;
}

}  // namespace reelforge::sched
