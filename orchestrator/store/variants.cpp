/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/variants.h"

namespace reelforge::store {

void insert_variant(Connection &db, std::int64_t job_id, int ordinal, const std::string &name) {
  db.query("INSERT INTO variants (job_id, ordinal, name) VALUES ($1, $2, $3)", job_id, ordinal,
           name);
}

std::map<std::string, std::int64_t> variant_ids(Connection &db, std::int64_t job_id) {
  const Result r = db.query("SELECT name, id FROM variants WHERE job_id = $1", job_id);
  std::map<std::string, std::int64_t> ids;
  for (int i = 0; i < r.rows(); ++i) ids[r.text(i, "name")] = r.int64(i, "id");
  return ids;
}

}  // namespace reelforge::store
