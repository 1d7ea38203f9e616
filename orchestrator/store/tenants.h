/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The tenants table and their API keys. Only a key's SHA-256 is stored
 * (hash_api_key), with its first 8 characters so a person can tell keys
 * apart; a request's key is hashed and looked up.
 */
#pragma once

#include "store/pg.h"

#include <cstdint>
#include <optional>
#include <string>

namespace reelforge::store {

/* SHA-256 hex of an API key, as stored. */
std::string hash_api_key(const std::string &key);

/* The tenant whose unrevoked key this is. */
std::optional<std::int64_t> tenant_of_api_key(Connection &db, const std::string &key);

/* Creates tenant name unless it exists. A name the schema refuses
 * (lowercase letters, digits, - and _, at most 63) throws DatabaseError
 * with SQLSTATE kCheckViolation. */
void create_tenant_if_new(Connection &db, const std::string &name);
/* The most the tenant's jobs may spend per UTC day; none removes it. */
void set_daily_budget(Connection &db, const std::string &tenant,
                      std::optional<std::int64_t> daily_budget_micros);
/* Stores key (its hash and prefix) for tenant. */
void add_api_key(Connection &db, const std::string &tenant, const std::string &key);

}  // namespace reelforge::store
