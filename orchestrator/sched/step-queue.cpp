/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * When steps and jobs move, and what they may spend; the statements are in
 * store/ (steps.h, jobs.h, ledger.h, provider-calls.h, events.h).
 *
 * Lock order, to keep transactions free of deadlocks: a transaction that
 * writes both a job and its steps locks the job row first. Claims and
 * rescues are single statements on steps.
 */
#include "sched/step-queue.h"

#include "json-writer.h"
#include "store/events.h"
#include "store/jobs.h"
#include "store/ledger.h"

#include <glib.h>

#include <algorithm>
#include <utility>

namespace reelforge::sched {

using store::Connection;
using store::Transaction;

namespace {

/* Micro-units as an amount with two decimals, e.g. "1.25" (no currency:
 * jobs carry their own). */
std::string money_text(std::int64_t micros) {
  char text[32];
  g_snprintf(text, sizeof text, "%.2f", static_cast<double>(micros) / 1e6);
  return text;
}

/* An event's detail: {"<name>": value}. */
template <typename T>
std::string detail(const char *name, const T &value) {
  JsonWriter w;
  w.begin_object();
  w.member(name, value);
  w.end_object();
  return w.text();
}

/* Ends the job when all its steps succeeded (job row locked by caller). */
void end_job_if_done(Connection &db, std::int64_t job_id) {
  if (store::finish_job_if_done(db, job_id))
    store::record_event(
        db, {.job_id = job_id, .kind = "job", .from_status = "running", .to_status = "succeeded"});
}

/* Releases the reservations of the calls that ended (the job row locked by
 * the caller): a ledger entry each and the job's open reservations lowered
 * by their sum. */
void release_reservations(Connection &db, std::int64_t job_id,
                          const std::vector<store::EndedCall> &ended) {
  std::int64_t released = 0;
  for (const store::EndedCall &call : ended) {
    released += call.reserved_micros;
    store::ledger_release(db, job_id, call.step_id, call.id, call.reserved_micros);
  }
  if (released > 0) store::release_job_money(db, job_id, released);
}

void pause(Connection &db, std::int64_t job_id, const std::string &reason) {
  if (store::pause_job(db, job_id, reason))
    store::record_event(db, {.job_id = job_id,
                             .kind = "job",
                             .from_status = "running",
                             .to_status = "paused",
                             .detail = detail("reason", reason)});
}

/* Why the job's budget, or its tenant's daily budget, cannot cover amount
 * for provider; nothing when both can (rows locked). */
std::optional<Intent> budget_refusal(Connection &db, const store::JobBudget &job,
                                     std::int64_t amount, const std::string &provider) {
  if (job.budget_micros && job.committed_micros + amount > *job.budget_micros)
    return Intent{.outcome = Intent::Outcome::kOverJobBudget,
                  .reason = "the job's budget of " + money_text(*job.budget_micros) +
                            " cannot cover " + money_text(amount) + " for " + provider + ": " +
                            money_text(job.committed_micros) +
                            " is already spent or reserved (raise the budget, then resume the "
                            "job)"};
  const auto tenant = store::lock_tenant_budget(db, job.tenant_id);
  if (tenant && tenant->daily_budget_micros &&
      tenant->committed_micros + amount > *tenant->daily_budget_micros)
    return Intent{.outcome = Intent::Outcome::kOverTenantBudget,
                  .reason = "tenant " + tenant->name + "'s daily budget of " +
                            money_text(*tenant->daily_budget_micros) + " cannot cover " +
                            money_text(amount) + " for " + provider + ": " +
                            money_text(tenant->committed_micros) +
                            " is spent today or reserved (resume the job tomorrow, or raise it)"};
  return std::nullopt;
}

/* Why provider cannot take another call now; nothing when it can (its
 * limit row locked). */
std::optional<Intent> limit_refusal(Connection &db, const std::string &provider) {
  std::optional<store::ProviderLoad> load;
  try {
    load = store::lock_provider_limit(db, provider);
  } catch (const store::DatabaseError &e) {
    if (e.sqlstate() != store::kLockNotAvailable) throw;
    /* A peer is checking the same limit: rather than hold a worker in
     * the lock queue, look again shortly. */
    return Intent{.outcome = Intent::Outcome::kProviderBusy,
                  .reason = provider + "'s limit is being checked by another step",
                  .retry_in = std::chrono::milliseconds(50 + g_random_int_range(0, 200))};
  }
  if (!load) return std::nullopt;
  if (load->max_in_flight && load->in_flight >= *load->max_in_flight)
    return Intent{.outcome = Intent::Outcome::kProviderBusy,
                  .reason = provider + " has " + std::to_string(load->in_flight) +
                            " jobs in flight, its limit",
                  .retry_in = std::chrono::milliseconds(1000)};
  if (load->per_minute && load->started_last_minute >= *load->per_minute)
    return Intent{.outcome = Intent::Outcome::kProviderBusy,
                  .reason = provider + " was sent " + std::to_string(load->started_last_minute) +
                            " jobs in the last minute, its limit",
                  .retry_in = std::chrono::milliseconds(
                      std::max<std::int64_t>(50, load->next_start_in_ms.value_or(1000)))};
  return std::nullopt;
}

}  // namespace

void notify_steps(Connection &connection) {
  connection.notify(kStepsChannel);
}

StepQueue::StepQueue(Connection &connection, std::string owner, LeaseSettings lease,
                     RetryPolicy retry)
    : db_(connection), owner_(std::move(owner)), lease_(lease), retry_(retry) {}

void StepQueue::expect_held(bool held, const ClaimedStep &step) {
  if (!held)
    throw LeaseLost("step " + std::to_string(step.id) + " is no longer ours (token " +
                    std::to_string(step.fencing_token) + ")");
}

std::optional<ClaimedStep> StepQueue::claim() {
  const auto row = store::claim_step(db_, owner_, lease_.lease);
  if (!row) return std::nullopt;
  ClaimedStep step{.id = row->id,
                   .job_id = row->job_id,
                   .variant_id = row->variant_id,
                   .kind = row->kind,
                   .inputs = row->inputs,
                   .outputs = row->outputs,
                   .attempt = row->attempt,
                   .max_attempts = row->max_attempts,
                   .fencing_token = row->fencing_token,
                   .from_wait = row->previous_status == "waiting"};
  /* After the claim committed, so no transaction holds a step and then a
   * job (see the lock order above). */
  if (row->job_status == "queued") store::mark_job_running(db_, step.job_id);
  return step;
}

bool StepQueue::heartbeat(const ClaimedStep &step) {
  return store::renew_lease(db_, lease_of(step), lease_.lease);
}

void StepQueue::succeed(const ClaimedStep &step, const std::string &outputs,
                        const std::function<void(Connection &)> &also) {
  Transaction transaction(db_);
  store::lock_job(db_, step.job_id);
  expect_held(store::succeed_step(db_, lease_of(step), outputs), step);
  if (also) also(db_);
  if (store::unblock_dependents(db_, step.id)) notify_steps(db_);
  end_job_if_done(db_, step.job_id);
  transaction.commit();
}

void StepQueue::fail(const ClaimedStep &step, ErrorClass error_class, const std::string &message,
                     std::optional<std::chrono::milliseconds> retry_after) {
  const bool retryable = error_class != ErrorClass::kPermanent;
  if (retryable && step.attempt < step.max_attempts) {
    const auto delay = retry_.delay(step.attempt, retry_after);
    expect_held(
        store::retry_step_later(db_, lease_of(step), error_class_name(error_class), message, delay),
        step);
    return;
  }
  Transaction transaction(db_);
  store::lock_job(db_, step.job_id);
  expect_held(store::fail_step(db_, lease_of(step), error_class_name(error_class), message), step);
  const std::string what = "step " + std::to_string(step.id) + " (" + step.kind + ") failed";
  if (retryable) {
    pause(db_, step.job_id,
          what + " after " + std::to_string(step.attempt) + " attempts: " + message +
              " (resume the job to try again)");
  } else if (store::fail_active_job(db_, step.job_id, what + ": " + message)) {
    store::record_event(db_, {.job_id = step.job_id,
                              .kind = "job",
                              .from_status = "running",
                              .to_status = "failed",
                              .daemon = owner_,
                              .fencing_token = 0,
                              .detail = "{}"});
  }
  transaction.commit();
}

void StepQueue::wait_for_approval(const ClaimedStep &step, const std::string &outputs,
                                  const std::function<void(Connection &)> &also) {
  Transaction transaction(db_);
  expect_held(store::wait_for_approval(db_, lease_of(step), outputs), step);
  if (also) also(db_);
  transaction.commit();
}

void StepQueue::wait_for_provider(const ClaimedStep &step, std::chrono::milliseconds poll_in,
                                  const std::string &outputs) {
  expect_held(store::wait_for_provider(db_, lease_of(step), poll_in, outputs), step);
}

void StepQueue::release(const ClaimedStep &step) {
  expect_held(store::give_step_back(db_, lease_of(step), !step.from_wait), step);
  notify_steps(db_);
}

void StepQueue::pause_job(const ClaimedStep &step, const std::string &reason) {
  Transaction transaction(db_);
  store::lock_job(db_, step.job_id);
  expect_held(store::requeue_step(db_, lease_of(step), reason, !step.from_wait), step);
  pause(db_, step.job_id, reason);
  transaction.commit();
}

int StepQueue::rescue_expired() {
  const std::vector<store::RescuedStep> rescued = store::rescue_expired_steps(db_, owner_);
  bool any_ready = false;
  for (const store::RescuedStep &step : rescued) {
    if (step.status == "ready") {
      any_ready = true;
      continue;
    }
    /* A step that keeps losing its daemon (a crash it causes?) stops here. */
    Transaction transaction(db_);
    store::lock_job(db_, step.job_id);
    pause(db_, step.job_id,
          "step " + std::to_string(step.id) + " lost its daemon on each of its " +
              std::to_string(step.attempt) + " attempts (resume the job to try again)");
    transaction.commit();
  }
  if (any_ready) notify_steps(db_);
  return static_cast<int>(rescued.size());
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
      if (store::step_unfinished(db_, before)) ++pending_stored;
    const bool ready = s.after.empty() && pending_stored == 0;
    any_ready |= ready;
    const auto id = store::insert_step(
        db_, {.job_id = job_id,
              .variant_id = s.variant_id,
              .kind = s.kind,
              .inputs = s.inputs,
              .status = ready ? "ready" : "blocked",
              .pending_dependencies = static_cast<std::int64_t>(s.after.size()) + pending_stored,
              .max_attempts = retry_.max_attempts});
    if (!id) throw store::DatabaseError("job " + std::to_string(job_id) + " is gone", "");
    ids.push_back(*id);
    for (size_t before : s.after) {
      if (before >= ids.size() - 1)
        throw std::logic_error("a step can only wait for steps listed before it");
      store::insert_step_dependency(db_, ids.back(), ids[before]);
    }
    for (std::int64_t before : s.after_ids) store::insert_step_dependency(db_, ids.back(), before);
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
  const auto job = store::lock_job_budget(db_, step.job_id);
  const bool mine = store::lock_running_step(db_, lease_of(step));
  if (!job || !mine) throw LeaseLost("step " + std::to_string(step.id) + " is no longer ours");
  /* A paused job still follows the calls it made, but makes no new ones. */
  if (job->status == "paused")
    return {.outcome = Intent::Outcome::kJobPaused,
            .reason = "the job is paused: " + job->pause_reason};
  if (auto refusal = budget_refusal(db_, *job, amount, request.provider)) return *refusal;
  if (auto refusal = limit_refusal(db_, request.provider)) return *refusal;

  store::reserve_job_money(db_, step.job_id, amount);
  const std::int64_t call_id =
      store::insert_call_intent(db_, {.step_id = step.id,
                                      .provider = request.provider,
                                      .idempotency_key = request.idempotency_key,
                                      .reserved_micros = amount,
                                      .request = request.request,
                                      .chain_index = request.chain_index});
  store::ledger_reserve(db_, step.job_id, step.id, call_id, amount);
  transaction.commit();
  return {.outcome = Intent::Outcome::kRecorded, .call_id = call_id};
}

void StepQueue::record_submitted(const ClaimedStep &step, std::int64_t call_id,
                                 const std::string &provider_job_id) {
  if (!store::mark_call_submitted(db_, lease_of(step), call_id, provider_job_id))
    throw LeaseLost("provider call " + std::to_string(call_id) + " of step " +
                    std::to_string(step.id) + " is no longer ours to update");
}

void StepQueue::settle(const ClaimedStep &step, std::int64_t call_id, std::int64_t actual_micros,
                       bool succeeded, const std::string &error) {
  Transaction transaction(db_);
  store::lock_job(db_, step.job_id);
  const auto reserved =
      store::settle_call(db_, lease_of(step), call_id, succeeded, actual_micros, error);
  if (!reserved)
    throw LeaseLost("provider call " + std::to_string(call_id) + " is no longer ours to settle");
  store::charge_job_money(db_, step.job_id, *reserved, actual_micros);
  store::ledger_settle(db_, step.job_id, step.id, call_id, *reserved, actual_micros);
  transaction.commit();
}

void StepQueue::needs_attention(const ClaimedStep &step, std::int64_t call_id,
                                const std::string &reason) {
  Transaction transaction(db_);
  store::lock_job(db_, step.job_id);
  store::mark_call_needs_attention(db_, call_id, reason);
  expect_held(store::step_needs_attention(db_, lease_of(step), reason), step);
  pause(db_, step.job_id, reason);
  transaction.commit();
}

std::int64_t JobControl::create_job(std::int64_t tenant_id, const std::string &spec_json,
                                    int priority, std::optional<std::int64_t> budget_micros,
                                    const std::string &first_step, int max_attempts,
                                    const std::string &options_json) {
  Transaction transaction(db_);
  const std::int64_t id = store::insert_job(db_, {.tenant_id = tenant_id,
                                                  .spec = spec_json,
                                                  .priority = priority,
                                                  .budget_micros = budget_micros,
                                                  .options = options_json});
  store::insert_first_step(db_, id, first_step, priority, max_attempts);
  store::record_event(db_, {.job_id = id, .kind = "job", .to_status = "queued"});
  notify_steps(db_);
  transaction.commit();
  return id;
}

JobControl::Outcome JobControl::approve(std::int64_t job_id, int choice) {
  Transaction transaction(db_);
  const auto status = store::lock_job(db_, job_id);
  if (!status) return Outcome::kNotFound;
  const auto waiting = store::lock_waiting_approval(db_, job_id);
  if (!waiting) {
    const auto approved = store::approved_choice(db_, job_id);
    if (!approved) return Outcome::kConflict; /* nothing to approve (yet) */
    return *approved == choice ? Outcome::kAlreadyDone : Outcome::kConflict;
  }
  if (*status != "running" && *status != "queued") return Outcome::kConflict;
  const std::int64_t choices = waiting->choices;
  if (choice < 0 || (choices > 0 && choice >= choices) || (choices == 0 && choice != 0))
    return Outcome::kInvalidChoice;
  store::approve_step(db_, waiting->step_id, choice);
  store::record_event(db_, {.job_id = job_id,
                            .step_id = waiting->step_id,
                            .kind = "approve",
                            .from_status = "waiting",
                            .to_status = "succeeded",
                            .detail = detail("choice", choice)});
  if (store::unblock_dependents(db_, waiting->step_id)) notify_steps(db_);
  end_job_if_done(db_, job_id);
  transaction.commit();
  return Outcome::kDone;
}

JobControl::Outcome JobControl::reject(std::int64_t job_id, const std::string &reason) {
  Transaction transaction(db_);
  const auto status = store::lock_job(db_, job_id);
  if (!status) return Outcome::kNotFound;
  const auto step_id = store::reject_waiting_approval(db_, job_id, "rejected: " + reason);
  if (!step_id)
    return store::approval_rejected(db_, job_id) ? Outcome::kAlreadyDone : Outcome::kConflict;
  store::fail_job(db_, job_id, "rejected by a reviewer: " + reason);
  store::cancel_steps_of_rejected_job(db_, job_id);
  store::record_event(db_, {.job_id = job_id,
                            .step_id = *step_id,
                            .kind = "reject",
                            .from_status = "waiting",
                            .to_status = "failed"});
  transaction.commit();
  return Outcome::kDone;
}

JobControl::Outcome JobControl::cancel(std::int64_t job_id) {
  Transaction transaction(db_);
  const auto status = store::lock_job(db_, job_id);
  if (!status) return Outcome::kNotFound;
  if (*status == "cancelled") return Outcome::kAlreadyDone;
  if (*status == "succeeded" || *status == "failed") return Outcome::kConflict;
  /* New tokens: runners of these steps find their lease gone at their next
   * heartbeat or write, and stop. */
  store::cancel_unfinished_steps(db_, job_id);
  release_reservations(db_, job_id, store::cancel_open_calls(db_, job_id));
  store::cancel_job(db_, job_id);
  store::record_event(
      db_, {.job_id = job_id, .kind = "job", .from_status = *status, .to_status = "cancelled"});
  transaction.commit();
  return Outcome::kDone;
}

JobControl::Outcome JobControl::resume(std::int64_t job_id) {
  Transaction transaction(db_);
  const auto status = store::lock_job(db_, job_id);
  if (!status) return Outcome::kNotFound;
  if (*status == "running" || *status == "queued") return Outcome::kAlreadyDone;
  if (*status != "paused") return Outcome::kConflict;
  /* Resuming a job that waits for a person says the person looked at the
   * calls of unknown fate: they are abandoned, their reservations
   * released, and their steps submit anew. */
  release_reservations(db_, job_id, store::abandon_calls_needing_attention(db_, job_id));
  store::retry_failed_steps(db_, job_id);
  store::resume_job(db_, job_id);
  store::record_event(
      db_, {.job_id = job_id, .kind = "job", .from_status = "paused", .to_status = "running"});
  notify_steps(db_);
  transaction.commit();
  return Outcome::kDone;
}

}  // namespace reelforge::sched
