/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The steps table and step_dependencies: claiming under a lease, the
 * runner's fenced transitions, rescues, new steps and their dependencies,
 * approvals, and what the step kinds and /metrics read about steps.
 *
 * Each function is one statement. A runner's writes name its StepLease:
 * they require the step to be 'running' with the token it was claimed
 * with, so after a rescue or a cancel (both give the step a new token)
 * they touch nothing and return false, for the caller to stop.
 */
#pragma once

#include "store/pg.h"

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reelforge::store {

/* A running step as its runner holds it; daemon names the runner in the
 * events its transitions log. */
struct StepLease {
  std::int64_t step_id = 0;
  std::int64_t fencing_token = 0;
  std::string_view daemon;
};

/* claim_step(): the step now running under the caller's lease. */
struct ClaimedStepRow {
  std::int64_t id = 0;
  std::int64_t job_id = 0;
  std::optional<std::int64_t> variant_id;
  std::string kind;
  std::string inputs;                 /* JSON */
  std::optional<std::string> outputs; /* JSON, from an earlier wait */
  int attempt = 0;
  int max_attempts = 0;
  std::int64_t fencing_token = 0;
  std::string previous_status; /* 'ready' or 'waiting' */
  std::string job_status;      /* the job's, when claimed */
};

/* Takes the most urgent due step (priority, then due time) with FOR UPDATE
 * SKIP LOCKED, runs it under a lease of the given length with a fresh
 * token, and logs the claim, in one statement; nothing when none is due. */
std::optional<ClaimedStepRow> claim_step(Connection &db, std::string_view daemon,
                                         std::chrono::milliseconds lease);

/* Extends the lease to now + lease; false when it was lost. */
bool renew_lease(Connection &db, const StepLease &held, std::chrono::milliseconds lease);

/* The runner's transitions out of 'running', each with its event row in the
 * same statement; the lease is dropped. False when the lease was lost. */
bool succeed_step(Connection &db, const StepLease &held, const std::string &outputs);
/* Ready again after delay, the error kept. */
bool retry_step_later(Connection &db, const StepLease &held, const std::string &error_class,
                      const std::string &message, std::chrono::milliseconds delay);
bool fail_step(Connection &db, const StepLease &held, const std::string &error_class,
               const std::string &message);
/* Waits, holding no worker, until a person approves or rejects. */
bool wait_for_approval(Connection &db, const StepLease &held, const std::string &outputs);
/* Waits, holding no worker, to be claimed again after poll_in. */
bool wait_for_provider(Connection &db, const StepLease &held, std::chrono::milliseconds poll_in,
                       const std::string &outputs);
/* Ready at once with a new token; uncount_attempt takes back the attempt
 * the claim counted. */
bool give_step_back(Connection &db, const StepLease &held, bool uncount_attempt);
/* Ready at once (same token), reason kept as the last error. */
bool requeue_step(Connection &db, const StepLease &held, const std::string &reason,
                  bool uncount_attempt);
bool step_needs_attention(Connection &db, const StepLease &held, const std::string &reason);

/* Counts step_id as done for the blocked steps waiting for it; true when
 * any of them is now ready. */
bool unblock_dependents(Connection &db, std::int64_t step_id);

struct RescuedStep {
  std::int64_t id = 0;
  std::int64_t job_id = 0;
  std::string status; /* 'ready', or 'failed' when its attempts are spent */
  int attempt = 0;
};

/* Takes back every running step whose lease expired (a new token), logged
 * as rescued by daemon. */
std::vector<RescuedStep> rescue_expired_steps(Connection &db, std::string_view daemon);

struct NewStepRow {
  std::int64_t job_id = 0;
  std::optional<std::int64_t> variant_id;
  std::string kind;
  std::string inputs = "{}"; /* JSON */
  std::string status;        /* 'ready' or 'blocked' */
  std::int64_t pending_dependencies = 0;
  int max_attempts = 0;
};

/* Inserts a step with its job's priority; nothing when the job is gone. */
std::optional<std::int64_t> insert_step(Connection &db, const NewStepRow &step);
/* A job's first step, ready at once. */
void insert_first_step(Connection &db, std::int64_t job_id, const std::string &kind, int priority,
                       int max_attempts);
void insert_step_dependency(Connection &db, std::int64_t step_id, std::int64_t depends_on);
/* The step exists and has not succeeded. */
bool step_unfinished(Connection &db, std::int64_t step_id);

/* Locks the step if it is still running under held (FOR UPDATE); false
 * when the lease was lost. */
bool lock_running_step(Connection &db, const StepLease &held);

struct WaitingApproval {
  std::int64_t step_id = 0;
  std::int64_t choices = 0; /* candidates offered; 0 when none were listed */
};

/* The job's first approval step waiting for a person, locked. */
std::optional<WaitingApproval> lock_waiting_approval(Connection &db, std::int64_t job_id);
/* The choice recorded by the job's latest succeeded approval. */
std::optional<std::int64_t> approved_choice(Connection &db, std::int64_t job_id);
/* The approval step succeeds with choice added to its outputs. */
void approve_step(Connection &db, std::int64_t step_id, int choice);
/* The job's first waiting approval fails (permanently, with error); its
 * id, or nothing when none was waiting. */
std::optional<std::int64_t> reject_waiting_approval(Connection &db, std::int64_t job_id,
                                                    const std::string &error);
/* An approval of the job was rejected. */
bool approval_rejected(Connection &db, std::int64_t job_id);

/* The job's first succeeded approval at stage: the candidate chosen
 * (nothing if it recorded no choice) and how many were offered. */
struct StageApproval {
  std::optional<std::string> chosen;
  std::int64_t choices = 0;
};
std::optional<StageApproval> stage_approval(Connection &db, std::int64_t job_id,
                                            const std::string &stage);

/* The job's before-render approval (the first, as stage_approval counts
 * them): its status and, as JSON text, the plan hashes it lists for
 * variant ('[]' when none). */
struct ApprovalPlans {
  std::string status;
  std::string hashes_json;
};
std::optional<ApprovalPlans> before_render_approval_plans(Connection &db, std::int64_t job_id,
                                                          const std::string &variant);

/* The job's unfinished steps cancelled with new tokens (their runners lose
 * the lease), waiting ones no longer waiting. */
void cancel_unfinished_steps(Connection &db, std::int64_t job_id);
/* As cancel_unfinished_steps(), after a rejection: steps keep their
 * wait_reason, so the job's page shows what each was waiting for. */
void cancel_steps_of_rejected_job(Connection &db, std::int64_t job_id);
/* The job's failed and needs-attention steps ready again, attempts reset. */
void retry_failed_steps(Connection &db, std::int64_t job_id);

/* A render step of the job, as an upload sees it. */
struct RenderStepState {
  std::string status;
  bool skipped = false;      /* its outputs say it was skipped */
  bool has_verdicts = false; /* its outputs carry QC verdicts */
};
std::optional<RenderStepState> render_step_state(Connection &db, std::int64_t step_id,
                                                 std::int64_t job_id);
/* The outputs whose QC verdict is "fail", by name. */
std::vector<std::string> failed_verdicts(Connection &db, std::int64_t render_step_id);

/* The job's generate steps by the genvideo:// URI they make. */
std::map<std::string, std::int64_t> generate_step_ids(Connection &db, std::int64_t job_id);

/* Seconds the oldest due ready step has waited for a worker (0: none). */
double oldest_ready_step_age_s(Connection &db);

struct StepsInStatus {
  std::string status;
  std::int64_t count = 0;
};
/* Steps per status, all jobs, by status. */
std::vector<StepsInStatus> steps_by_status(Connection &db);

}  // namespace reelforge::store
