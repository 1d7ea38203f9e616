/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The variants table: the variants of a job's spec (its variation
 * matrix), in order, each named; steps and artifacts of one variant point
 * at its row.
 */
#pragma once

#include "store/pg.h"

#include <cstdint>
#include <map>
#include <string>

namespace reelforge::store {

void insert_variant(Connection &db, std::int64_t job_id, int ordinal, const std::string &name);

/* The job's variants: id by name. */
std::map<std::string, std::int64_t> variant_ids(Connection &db, std::int64_t job_id);

}  // namespace reelforge::store
