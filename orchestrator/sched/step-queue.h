/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The durable step queue on PostgreSQL, shared by every daemon:
 *
 * - claim(): the most urgent due step (priority, then due time) is taken
 *   with FOR UPDATE SKIP LOCKED, under a lease (about 30 s) and a fresh
 *   fencing token;
 * - heartbeat(): the runner renews its lease (about every 10 s);
 * - every later write by the runner (succeed, fail, wait, intents) carries
 *   `AND fencing_token = $n AND status = 'running'`: a daemon whose lease
 *   expired and was rescued writes nothing, and learns it (LeaseLost);
 * - rescue_expired(): any daemon puts steps whose lease expired back to
 *   ready with a new token; with a 30 s lease and a 1 s poll, a dead
 *   daemon's steps run again within 45 s;
 * - waiting (on a provider, a retry time or a person) is a row state, not a
 *   thread: a waiting step holds no worker. The provider jobs of a paused
 *   job are still followed (they are paid for), but no new one starts.
 *
 * Steps becoming ready NOTIFY the channel `reelforge_steps`; idle daemons
 * LISTEN on it and also poll (at most every second) in case a notification
 * was missed while reconnecting.
 */
#pragma once

#include "sched/retry-policy.h"
#include "store/pg.h"
#include "store/provider-calls.h"
#include "store/steps.h"

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace reelforge::sched {

inline constexpr const char *kStepsChannel = "reelforge_steps";

struct LeaseSettings {
  std::chrono::milliseconds lease{30000};
  std::chrono::milliseconds heartbeat{10000};
  std::chrono::milliseconds poll{1000};
};

struct ClaimedStep {
  std::int64_t id = 0;
  std::int64_t job_id = 0;
  std::optional<std::int64_t> variant_id;
  std::string kind;
  std::string inputs;                 /* JSON */
  std::optional<std::string> outputs; /* JSON, from an earlier wait */
  int attempt = 0;
  int max_attempts = 0;
  std::int64_t fencing_token = 0;
  /* Claimed from a wait (a provider poll), which does not count an attempt. */
  bool from_wait = false;
};

/* The lease was lost (expired and rescued, or the job was cancelled): the
 * runner must stop and write nothing more. */
class LeaseLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/* A step to create: kind, inputs and the indexes (into the same batch) of
 * the steps it waits for; after_ids names stored steps it also waits for
 * (those that already succeeded count as done). */
struct NewStep {
  std::string kind;
  std::string inputs = "{}";
  std::optional<std::int64_t> variant_id;
  std::vector<size_t> after;
  std::vector<std::int64_t> after_ids;
};

/* A paid call about to be made: what record_intent() reserves and records. */
struct IntentRequest {
  std::string provider;
  std::string idempotency_key; /* unique per call */
  std::int64_t reserve_micros = 0;
  int chain_index = 0;        /* which provider of a fallback chain */
  std::string request = "{}"; /* JSON, no secrets */
};

struct Intent {
  enum class Outcome {
    kRecorded,         /* call_id is the intent row, committed */
    kOverJobBudget,    /* the job's budget cannot cover it */
    kOverTenantBudget, /* the tenant's daily budget cannot cover it */
    kProviderBusy,     /* the provider is at its limit: try again in retry_in */
    kJobPaused,        /* the job was paused meanwhile: no new calls */
  };
  Outcome outcome = Outcome::kRecorded;
  std::int64_t call_id = 0;
  std::string reason; /* for the three refusals, a sentence for people */
  std::chrono::milliseconds retry_in{0};
};

class StepQueue {
 public:
  StepQueue(store::Connection &connection, std::string owner, LeaseSettings lease = {},
            RetryPolicy retry = {});

  const std::string &owner() const { return owner_; }
  const LeaseSettings &lease_settings() const { return lease_; }

  /* Takes the most urgent due step, or nothing. */
  std::optional<ClaimedStep> claim();

  /* Renews the lease; false when it was lost. */
  bool heartbeat(const ClaimedStep &step);

  /* Marks the step succeeded, runs also (more writes in the same
   * transaction, e.g. artifacts or new steps), readies the steps that were
   * waiting only for it, and ends the job when nothing is left. */
  void succeed(const ClaimedStep &step, const std::string &outputs = "{}",
               const std::function<void(store::Connection &)> &also = {});

  /* Records a failure: retried after RetryPolicy::delay() for retryable
   * classes with attempts left; otherwise the step fails and its job is
   * paused (retryable, exhausted) or failed (permanent). */
  void fail(const ClaimedStep &step, ErrorClass error_class, const std::string &message,
            std::optional<std::chrono::milliseconds> retry_after = {});

  /* Releases the worker: the step waits for approve()/reject() with the
   * candidates in outputs (JSON); also writes more in the same transaction
   * (e.g. preview artifacts). */
  void wait_for_approval(const ClaimedStep &step, const std::string &outputs,
                         const std::function<void(store::Connection &)> &also = {});
  /* Releases the worker: the step is claimed again after poll_in (e.g. to
   * poll a provider job), keeping its attempt count. */
  void wait_for_provider(const ClaimedStep &step, std::chrono::milliseconds poll_in,
                         const std::string &outputs);

  /* Gives the step back at once (a daemon shutting down): ready again,
   * the attempt not counted, a new token. */
  void release(const ClaimedStep &step);

  /* Puts running steps whose lease expired back to ready (new token);
   * returns how many. */
  int rescue_expired();

  /* Inserts steps for job (in the caller's transaction when in one). Steps
   * without `after` are ready, the others blocked. Returns their ids. */
  std::vector<std::int64_t> add_steps(std::int64_t job_id, const std::vector<NewStep> &steps);

  /* Budget and limits: reserves amount for a paid call of step and records
   * the intent row (state 'submitting') in one transaction, committed
   * before the caller POSTs. Nothing is recorded (and nothing reserved)
   * when the job's budget or its tenant's daily budget cannot cover it, or
   * when provider is at its limit (provider_limits) or a peer is checking
   * that limit right now. */
  Intent record_intent(const ClaimedStep &step, const IntentRequest &request);
  /* The provider accepted the call: its id. */
  void record_submitted(const ClaimedStep &step, std::int64_t call_id,
                        const std::string &provider_job_id);
  /* The provider's final charge: the reservation is released and the
   * charge recorded, atomically; error says why a failed call failed. */
  void settle(const ClaimedStep &step, std::int64_t call_id, std::int64_t actual_micros,
              bool succeeded, const std::string &error = "");

  /* A call whose fate is unknown (no answer to the POST, no id stored
   * before a crash, and no way to ask the provider): the call and the step
   * wait for a person (needs-attention, the reservation kept, since the
   * money may be spent) and the job is paused with reason. Resuming the
   * job says the person checked: the call is abandoned (its reservation
   * released) and the step runs again. */
  void needs_attention(const ClaimedStep &step, std::int64_t call_id, const std::string &reason);

  /* The step cannot go on until a person acts (e.g. the budget is spent):
   * it goes back to ready without using up an attempt, and its job is
   * paused with reason. */
  void pause_job(const ClaimedStep &step, const std::string &reason);

 private:
  /* The lease this daemon holds step under, for the store's fenced writes. */
  store::StepLease lease_of(const ClaimedStep &step) const {
    return {.step_id = step.id, .fencing_token = step.fencing_token, .daemon = owner_};
  }
  /* Throws LeaseLost unless a fenced write found step still ours. */
  static void expect_held(bool held, const ClaimedStep &step);

  store::Connection &db_;
  std::string owner_;
  LeaseSettings lease_;
  RetryPolicy retry_;
};

/* Job-level commands (the API's approve/reject/cancel/resume), all
 * idempotent. Each returns a short outcome for the caller to report. */
class JobControl {
 public:
  explicit JobControl(store::Connection &connection) : db_(connection) {}

  /* Creates a job with one first step (kind first_step, usually
   * "expand"). */
  std::int64_t create_job(std::int64_t tenant_id, const std::string &spec_json, int priority,
                          std::optional<std::int64_t> budget_micros,
                          const std::string &first_step = "expand", int max_attempts = 6,
                          const std::string &options_json = "{}");

  enum class Outcome { kDone, kAlreadyDone, kNotFound, kConflict, kInvalidChoice };
  /* Approves the job's waiting approval with choice (0-based). Approving
   * again with the same choice is kAlreadyDone, another choice kConflict. */
  Outcome approve(std::int64_t job_id, int choice);
  Outcome reject(std::int64_t job_id, const std::string &reason);
  /* Cancels the job: unfinished steps cancelled (their runners lose the
   * lease and stop), open reservations released. */
  Outcome cancel(std::int64_t job_id);
  /* A paused job runs again: its failed steps get fresh attempts. */
  Outcome resume(std::int64_t job_id);

 private:
  store::Connection &db_;
};

/* The provider jobs of cancelled calls, each handed out once across
 * daemons (store/provider-calls.h), for the chores that cancel them. */
using store::CallToCancel;
using store::take_calls_to_cancel;

/* Wakes everybody listening on kStepsChannel (delivered at commit). */
void notify_steps(store::Connection &connection);

}  // namespace reelforge::sched
