/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/ledger.h"

namespace reelforge::store {

std::optional<JobBudget> lock_job_budget(Connection &db, std::int64_t job_id) {
  const Result r = db.query(
      "SELECT tenant_id, budget_micros, reserved_micros + spent_micros AS committed_micros,"
      " status, coalesce(pause_reason, '') AS pause_reason FROM jobs WHERE id = $1"
      " FOR NO KEY UPDATE",
      job_id);
  if (r.rows() != 1) return std::nullopt;
  return JobBudget{.tenant_id = r.int64(0, "tenant_id"),
                   .budget_micros = r.optional_int64(0, "budget_micros"),
                   .committed_micros = r.int64(0, "committed_micros"),
                   .status = r.text(0, "status"),
                   .pause_reason = r.text(0, "pause_reason")};
}

std::optional<TenantBudget> lock_tenant_budget(Connection &db, std::int64_t tenant_id) {
  const Result r = db.query(
      "SELECT t.name, t.daily_budget_micros,"
      "  (SELECT coalesce(sum(l.amount_micros), 0) FROM cost_ledger l JOIN jobs j"
      "     ON j.id = l.job_id WHERE j.tenant_id = t.id AND l.entry = 'charge'"
      "     AND l.created_at >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')"
      "  + (SELECT coalesce(sum(reserved_micros), 0) FROM jobs WHERE tenant_id = t.id)"
      "  AS committed_micros"
      " FROM tenants t WHERE t.id = $1 FOR NO KEY UPDATE",
      tenant_id);
  if (r.rows() != 1) return std::nullopt;
  return TenantBudget{.name = r.text(0, "name"),
                      .daily_budget_micros = r.optional_int64(0, "daily_budget_micros"),
                      .committed_micros = r.int64(0, "committed_micros")};
}

std::optional<ProviderLoad> lock_provider_limit(Connection &db, const std::string &provider) {
  const Result r = db.query(
      "SELECT max_in_flight, per_minute, (SELECT count(*) FROM provider_calls c"
      "   WHERE c.provider = l.provider AND c.state IN ('submitting', 'submitted')) AS in_flight,"
      "  (SELECT count(*) FROM provider_calls c WHERE c.provider = l.provider"
      "   AND c.created_at > now() - interval '1 minute') AS started_last_minute,"
      "  (SELECT ceil(extract(epoch FROM min(c.created_at) + interval '1 minute' - now())"
      "   * 1000) FROM provider_calls c WHERE c.provider = l.provider"
      "   AND c.created_at > now() - interval '1 minute') AS next_start_in_ms"
      " FROM provider_limits l WHERE l.provider = $1 FOR UPDATE NOWAIT",
      provider);
  if (r.rows() != 1) return std::nullopt;
  return ProviderLoad{.max_in_flight = r.optional_int64(0, "max_in_flight"),
                      .per_minute = r.optional_int64(0, "per_minute"),
                      .in_flight = r.int64(0, "in_flight"),
                      .started_last_minute = r.int64(0, "started_last_minute"),
                      .next_start_in_ms = r.optional_int64(0, "next_start_in_ms")};
}

void set_provider_limit(Connection &db, const std::string &provider, int max_in_flight,
                        std::optional<int> per_minute) {
  db.query(
      "INSERT INTO provider_limits (provider, max_in_flight, per_minute) VALUES ($1, $2, $3)"
      " ON CONFLICT (provider) DO UPDATE SET max_in_flight = excluded.max_in_flight,"
      " per_minute = excluded.per_minute",
      provider, max_in_flight, per_minute ? param(*per_minute) : std::nullopt);
}

void reserve_job_money(Connection &db, std::int64_t job_id, std::int64_t amount) {
  db.query(
      "UPDATE jobs SET reserved_micros = reserved_micros + $2, updated_at = now() WHERE id = $1",
      job_id, amount);
}

void release_job_money(Connection &db, std::int64_t job_id, std::int64_t amount) {
  db.query("UPDATE jobs SET reserved_micros = reserved_micros - $2 WHERE id = $1", job_id, amount);
}

void charge_job_money(Connection &db, std::int64_t job_id, std::int64_t released,
                      std::int64_t charged) {
  db.query(
      "UPDATE jobs SET reserved_micros = reserved_micros - $2,"
      " spent_micros = spent_micros + $3, updated_at = now() WHERE id = $1",
      job_id, released, charged);
}

void ledger_reserve(Connection &db, std::int64_t job_id, std::int64_t step_id, std::int64_t call_id,
                    std::int64_t amount) {
  db.query(
      "INSERT INTO cost_ledger (job_id, step_id, provider_call_id, entry, amount_micros)"
      " VALUES ($1, $2, $3, 'reserve', $4)",
      job_id, step_id, call_id, amount);
}

void ledger_release(Connection &db, std::int64_t job_id, std::int64_t step_id, std::int64_t call_id,
                    std::int64_t amount) {
  db.query(
      "INSERT INTO cost_ledger (job_id, step_id, provider_call_id, entry, amount_micros)"
      " VALUES ($1, $2, $3, 'release', $4)",
      job_id, step_id, call_id, amount);
}

void ledger_settle(Connection &db, std::int64_t job_id, std::int64_t step_id, std::int64_t call_id,
                   std::int64_t released, std::int64_t charged) {
  db.query(
      "INSERT INTO cost_ledger (job_id, step_id, provider_call_id, entry, amount_micros)"
      " VALUES ($1, $2, $3, 'release', $4), ($1, $2, $3, 'charge', $5)",
      job_id, step_id, call_id, released, charged);
}

std::string total_spent_usd(Connection &db) {
  return db.exec("SELECT (coalesce(sum(spent_micros), 0) / 1e6)::float8 AS usd FROM jobs")
      .text(0, "usd");
}

}  // namespace reelforge::store
