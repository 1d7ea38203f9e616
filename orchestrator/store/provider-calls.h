/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The provider_calls table: a paid call is an intent row first
 * ('submitting', committed before the POST), the provider's job id second
 * ('submitted'), its end third ('succeeded' or 'failed', with the actual
 * cost). A call left 'submitting' by a crash may or may not exist at the
 * provider: it is handed to a person ('needs-attention'), never resubmitted
 * blindly. A runner's updates name its StepLease, as in store/steps.h.
 */
#pragma once

#include "store/pg.h"
#include "store/steps.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reelforge::store {

struct NewCall {
  std::int64_t step_id = 0;
  std::string provider;
  std::string idempotency_key; /* unique per call */
  std::int64_t reserved_micros = 0;
  std::string request = "{}"; /* JSON, no secrets */
  int chain_index = 0;        /* which provider of a fallback chain */
};
/* The intent row ('submitting'); its id. */
std::int64_t insert_call_intent(Connection &db, const NewCall &call);

/* The provider accepted the call held's step made: its job id. False when
 * the lease was lost or the call is no longer 'submitting'. */
bool mark_call_submitted(Connection &db, const StepLease &held, std::int64_t call_id,
                         const std::string &provider_job_id);
/* The call ended ('succeeded' or 'failed', error saying why, "" for none)
 * at actual_micros; its reservation, or nothing when the lease was lost or
 * the call had already ended. */
std::optional<std::int64_t> settle_call(Connection &db, const StepLease &held, std::int64_t call_id,
                                        bool succeeded, std::int64_t actual_micros,
                                        const std::string &error);
/* A call still open waits for a person, with reason. */
void mark_call_needs_attention(Connection &db, std::int64_t call_id, const std::string &reason);

/* A call of a step, as the generate step follows it across runs. */
struct StepCall {
  std::int64_t id = 0;
  std::string state;
  std::string provider_job_id; /* "" before the provider answered */
  int chain_index = 0;
  int round = 0; /* the request's "round": one walk of the fallback chain */
  std::string error;
  std::string created_at; /* "YYYY-MM-DD HH:MM:SS UTC" */
};
/* The step's calls, oldest first. */
std::vector<StepCall> calls_of_step(Connection &db, std::int64_t step_id);

/* A call whose reservation is to be released. */
struct EndedCall {
  std::int64_t id = 0;
  std::int64_t step_id = 0;
  std::int64_t reserved_micros = 0;
};
/* The job's open calls ('submitting', 'submitted') are cancelled. */
std::vector<EndedCall> cancel_open_calls(Connection &db, std::int64_t job_id);
/* The job's calls of unknown fate fail at no cost: a person checked them. */
std::vector<EndedCall> abandon_calls_needing_attention(Connection &db, std::int64_t job_id);

/* A provider job to cancel: its call was cancelled with the job after the
 * provider had given it an id. */
struct CallToCancel {
  std::int64_t call_id = 0;
  std::string provider;
  std::string provider_job_id;
  std::string request; /* the intent's request JSON */
};

/* Takes up to limit cancelled calls whose provider job has not been asked
 * to cancel yet, marking them asked (cancel_sent_at): each is handed out
 * once, across daemons (FOR UPDATE SKIP LOCKED). */
std::vector<CallToCancel> take_calls_to_cancel(Connection &db, int limit);

struct CallsInFlight {
  std::string provider;
  std::int64_t count = 0;
};
/* Calls submitting or submitted, per provider, by provider. */
std::vector<CallsInFlight> calls_in_flight(Connection &db);

}  // namespace reelforge::store
