/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/tenants.h"

#include "gst-ptr.h"

#include <glib.h>

namespace reelforge::store {

std::string hash_api_key(const std::string &key) {
  GCharPtr hex(g_compute_checksum_for_string(G_CHECKSUM_SHA256, key.c_str(), key.size()));
  return hex.get();
}

std::optional<std::int64_t> tenant_of_api_key(Connection &db, const std::string &key) {
  const Result r =
      db.query("SELECT tenant_id FROM api_keys WHERE key_sha256 = $1 AND revoked_at IS NULL",
               hash_api_key(key));
  if (r.rows() != 1) return std::nullopt;
  return r.int64(0, "tenant_id");
}

void create_tenant_if_new(Connection &db, const std::string &name) {
  db.query("INSERT INTO tenants (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", name);
}

void set_daily_budget(Connection &db, const std::string &tenant,
                      std::optional<std::int64_t> daily_budget_micros) {
  db.query("UPDATE tenants SET daily_budget_micros = $2 WHERE name = $1", tenant,
           daily_budget_micros);
}

void add_api_key(Connection &db, const std::string &tenant, const std::string &key) {
  db.query(
      "INSERT INTO api_keys (tenant_id, key_sha256, prefix)"
      " SELECT id, $2, $3 FROM tenants WHERE name = $1",
      tenant, hash_api_key(key), key.substr(0, 8));
}

}  // namespace reelforge::store
