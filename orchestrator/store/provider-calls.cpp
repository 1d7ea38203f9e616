/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/provider-calls.h"

namespace reelforge::store {

namespace {

std::vector<EndedCall> ended_calls(const Result &r) {
  std::vector<EndedCall> calls;
  for (int i = 0; i < r.rows(); ++i)
    calls.push_back({.id = r.int64(i, "id"),
                     .step_id = r.int64(i, "step_id"),
                     .reserved_micros = r.int64(i, "reserved_micros")});
  return calls;
}

}  // namespace

std::int64_t insert_call_intent(Connection &db, const NewCall &call) {
  return db
      .query(
          "INSERT INTO provider_calls (step_id, provider, idempotency_key, state, reserved_micros,"
          " request, chain_index) VALUES ($1, $2, $3, 'submitting', $4, $5::jsonb, $6)"
          " RETURNING id",
          call.step_id, call.provider, call.idempotency_key, call.reserved_micros, call.request,
          call.chain_index)
      .int64(0, "id");
}

bool mark_call_submitted(Connection &db, const StepLease &held, std::int64_t call_id,
                         const std::string &provider_job_id) {
  return db.query(
               "UPDATE provider_calls c SET state = 'submitted', provider_job_id = $4,"
               " updated_at = now() FROM steps s WHERE c.id = $3 AND c.step_id = s.id"
               " AND s.id = $1 AND s.fencing_token = $2 AND s.status = 'running'"
               " AND c.state = 'submitting'",
               held.step_id, held.fencing_token, call_id, provider_job_id)
             .affected() == 1;
}

std::optional<std::int64_t> settle_call(Connection &db, const StepLease &held, std::int64_t call_id,
                                        bool succeeded, std::int64_t actual_micros,
                                        const std::string &error) {
  const Result r = db.query(
      "UPDATE provider_calls c SET state = $4, actual_micros = $5, error = nullif($6, ''),"
      " updated_at = now() FROM steps s WHERE c.id = $3 AND c.step_id = s.id AND s.id = $1"
      " AND s.fencing_token = $2 AND s.status = 'running'"
      " AND c.state IN ('submitting', 'submitted') RETURNING c.reserved_micros",
      held.step_id, held.fencing_token, call_id, succeeded ? "succeeded" : "failed", actual_micros,
      error);
  if (r.rows() != 1) return std::nullopt;
  return r.int64(0, "reserved_micros");
}

void mark_call_needs_attention(Connection &db, std::int64_t call_id, const std::string &reason) {
  db.query(
      "UPDATE provider_calls SET state = 'needs-attention', error = $2, updated_at = now()"
      " WHERE id = $1 AND state IN ('submitting', 'submitted')",
      call_id, reason);
}

std::vector<StepCall> calls_of_step(Connection &db, std::int64_t step_id) {
  const Result r = db.query(
      "SELECT id, state, coalesce(provider_job_id, '') AS provider_job_id, chain_index,"
      " coalesce((request->>'round')::int, 0) AS round, coalesce(error, '') AS error,"
      " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC' AS created_at"
      " FROM provider_calls WHERE step_id = $1 ORDER BY id",
      step_id);
  std::vector<StepCall> calls;
  for (int i = 0; i < r.rows(); ++i)
    calls.push_back({.id = r.int64(i, "id"),
                     .state = r.text(i, "state"),
                     .provider_job_id = r.text(i, "provider_job_id"),
                     .chain_index = static_cast<int>(r.int64(i, "chain_index")),
                     .round = static_cast<int>(r.int64(i, "round")),
                     .error = r.text(i, "error"),
                     .created_at = r.text(i, "created_at")});
  return calls;
}

std::vector<EndedCall> cancel_open_calls(Connection &db, std::int64_t job_id) {
  return ended_calls(db.query(
      "UPDATE provider_calls c SET state = 'cancelled', updated_at = now() FROM steps s"
      " WHERE c.step_id = s.id AND s.job_id = $1 AND c.state IN ('submitting', 'submitted')"
      " RETURNING c.id, c.step_id, c.reserved_micros",
      job_id));
}

std::vector<EndedCall> abandon_calls_needing_attention(Connection &db, std::int64_t job_id) {
  return ended_calls(db.query(
      "UPDATE provider_calls c SET state = 'failed', actual_micros = 0, updated_at = now(),"
      " error = coalesce(c.error, '') || ' (abandoned when the job was resumed)'"
      " FROM steps s WHERE c.step_id = s.id AND s.job_id = $1"
      " AND c.state = 'needs-attention' RETURNING c.id, c.step_id, c.reserved_micros",
      job_id));
}

std::vector<CallToCancel> take_calls_to_cancel(Connection &db, int limit) {
  const Result r = db.query(
      "UPDATE provider_calls SET cancel_sent_at = now() WHERE id IN"
      " (SELECT id FROM provider_calls WHERE state = 'cancelled' AND provider_job_id IS NOT NULL"
      "  AND cancel_sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)"
      " RETURNING id, provider, provider_job_id, request::text AS request",
      static_cast<std::int64_t>(limit));
  std::vector<CallToCancel> calls;
  for (int i = 0; i < r.rows(); ++i)
    calls.push_back({.call_id = r.int64(i, "id"),
                     .provider = r.text(i, "provider"),
                     .provider_job_id = r.text(i, "provider_job_id"),
                     .request = r.text(i, "request")});
  return calls;
}

std::vector<CallsInFlight> calls_in_flight(Connection &db) {
  const Result r = db.exec(
      "SELECT provider, count(*) AS count FROM provider_calls"
      " WHERE state IN ('submitting', 'submitted') GROUP BY provider ORDER BY provider");
  std::vector<CallsInFlight> counts;
  for (int i = 0; i < r.rows(); ++i)
    counts.push_back({.provider = r.text(i, "provider"), .count = r.int64(i, "count")});
  return counts;
}

}  // namespace reelforge::store
