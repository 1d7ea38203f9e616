/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Money: the cost ledger, the budgets of jobs and tenants, and the
 * providers' limits. Amounts are micro-units (1 USD = 1 000 000).
 *
 * A paid call reserves its estimate on its job (reserved_micros) with a
 * 'reserve' entry; settling it releases the reservation and records the
 * charge ('release' + 'charge', spent_micros) in one transaction; a
 * cancelled or abandoned call only releases. So for a job, the entries
 * always add up to its reserved_micros and spent_micros.
 */
#pragma once

#include "store/pg.h"

#include <cstdint>
#include <optional>
#include <string>

namespace reelforge::store {

/* A job's budget as a reservation checks it. */
struct JobBudget {
  std::int64_t tenant_id = 0;
  std::optional<std::int64_t> budget_micros; /* none: no budget */
  std::int64_t committed_micros = 0;         /* reserved + spent */
  std::string status;
  std::string pause_reason; /* "" when none */
};
/* Locks the job row (FOR NO KEY UPDATE) and reads its budget. */
std::optional<JobBudget> lock_job_budget(Connection &db, std::int64_t job_id);

/* A tenant's daily budget as a reservation checks it. */
struct TenantBudget {
  std::string name;
  std::optional<std::int64_t> daily_budget_micros; /* none: no budget */
  /* Charged today (UTC) plus reserved now, all the tenant's jobs. */
  std::int64_t committed_micros = 0;
};
/* Locks the tenant row (FOR NO KEY UPDATE) and sums its spending. */
std::optional<TenantBudget> lock_tenant_budget(Connection &db, std::int64_t tenant_id);

/* A provider's limit and how much of it is used. */
struct ProviderLoad {
  std::optional<std::int64_t> max_in_flight; /* none: no limit */
  std::optional<std::int64_t> per_minute;    /* none: no limit */
  std::int64_t in_flight = 0;                /* calls submitting or submitted */
  std::int64_t started_last_minute = 0;
  /* Until the oldest call of the last minute leaves it (none: no call). */
  std::optional<std::int64_t> next_start_in_ms;
};
/* Locks the provider's limit row FOR UPDATE NOWAIT and counts its calls;
 * nothing when the provider has no limit. A peer holding the row makes it
 * throw DatabaseError with SQLSTATE kLockNotAvailable. */
std::optional<ProviderLoad> lock_provider_limit(Connection &db, const std::string &provider);

/* Sets (or replaces) a provider's limit, as `serve --provider-limit` says. */
void set_provider_limit(Connection &db, const std::string &provider, int max_in_flight,
                        std::optional<int> per_minute);

/* The job's reservations grow by amount. */
void reserve_job_money(Connection &db, std::int64_t job_id, std::int64_t amount);
/* The job's reservations shrink by amount (calls cancelled or abandoned). */
void release_job_money(Connection &db, std::int64_t job_id, std::int64_t amount);
/* A settled call: its reservation released, its charge spent. */
void charge_job_money(Connection &db, std::int64_t job_id, std::int64_t released,
                      std::int64_t charged);

/* Ledger entries for one provider call of step (the job row locked). */
void ledger_reserve(Connection &db, std::int64_t job_id, std::int64_t step_id, std::int64_t call_id,
                    std::int64_t amount);
void ledger_release(Connection &db, std::int64_t job_id, std::int64_t step_id, std::int64_t call_id,
                    std::int64_t amount);
/* The release and the charge of a settled call, together. */
void ledger_settle(Connection &db, std::int64_t job_id, std::int64_t step_id, std::int64_t call_id,
                   std::int64_t released, std::int64_t charged);

/* Money charged by providers, all jobs, in dollars as PostgreSQL prints
 * a float8. */
std::string total_spent_usd(Connection &db);

}  // namespace reelforge::store
