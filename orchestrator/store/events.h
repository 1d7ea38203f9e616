/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The events table: every transition of a job or a step, for status pages,
 * metrics and audits. Claims, rescues and a runner's transitions log their
 * events in the same statement as the change (store/steps.h); the rest go
 * through record_event().
 */
#pragma once

#include "store/pg.h"

#include <cstdint>
#include <optional>
#include <string>

namespace reelforge::store {

/* An event row; what is left unset is NULL. */
struct NewEvent {
  std::int64_t job_id = 0;
  std::optional<std::int64_t> step_id;
  std::string kind; /* job, claim, transition, rescue, approve, reject */
  std::optional<std::string> from_status;
  std::optional<std::string> to_status;
  std::optional<std::string> daemon;
  std::optional<std::int64_t> fencing_token;
  std::optional<std::string> detail; /* JSON */
};

void record_event(Connection &db, const NewEvent &event);

/* Steps put back to ready (or failed) after a lease expired, all time. */
std::int64_t rescue_count(Connection &db);
/* Failed attempts scheduled to run again, all time. */
std::int64_t retry_count(Connection &db);

}  // namespace reelforge::store
