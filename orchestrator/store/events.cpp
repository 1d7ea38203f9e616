/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/events.h"

namespace reelforge::store {

void record_event(Connection &db, const NewEvent &event) {
  db.query(
      "INSERT INTO events (job_id, step_id, kind, from_status, to_status, daemon, fencing_token,"
      " detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb)",
      event.job_id, event.step_id, event.kind, event.from_status, event.to_status, event.daemon,
      event.fencing_token, event.detail);
}

std::int64_t rescue_count(Connection &db) {
  return db.exec("SELECT count(*) AS count FROM events WHERE kind = 'rescue'").int64(0, "count");
}

std::int64_t retry_count(Connection &db) {
  /* Runners' transitions from running back to ready: mostly retries, but
   * a step given back at shutdown or requeued as its job pauses counts too. */
  return db
      .exec(
          "SELECT count(*) AS count FROM events WHERE kind = 'transition' AND from_status ="
          " 'running' AND to_status = 'ready'")
      .int64(0, "count");
}

}  // namespace reelforge::store
