/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The schema as numbered .sql files (migrations/NNN-name.sql, compiled into
 * the program as a GResource), applied in order at start. Several daemons
 * may start at once: the work happens under a PostgreSQL advisory lock, each
 * file in its own transaction, recorded in schema_migrations.
 */
#pragma once

#include "store/pg.h"

#include <string>
#include <vector>

namespace reelforge::store {

struct Migration {
  int version = 0;
  std::string name; /* "001-initial.sql" */
  std::string sql;
};

/* The migrations compiled in, in order. */
std::vector<Migration> bundled_migrations();

/* Applies the migrations not yet applied; returns how many ran. Throws
 * DatabaseError (naming the file) when one fails, and refuses a database
 * whose schema is newer than this program. */
int migrate(Connection &connection);

}  // namespace reelforge::store
