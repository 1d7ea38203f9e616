/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Where the daemon's commands find PostgreSQL: --database when given,
 * otherwise the private cluster in <data-dir>/postgres, started on demand.
 */
#pragma once

#include "store/private-cluster.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace reelforge::store {

struct DatabaseLocation {
  std::unique_ptr<PrivateCluster> cluster; /* when we run the server */
  std::string conninfo;
};

/* The default --data-dir: $XDG_DATA_HOME/reelforge (~/.local/share/reelforge),
 * or /var/lib/reelforge for root. */
std::filesystem::path default_data_dir();

/* Opens the database (starting the private cluster when database is
 * empty) and applies the migrations. Throws ClusterError or
 * DatabaseError. */
DatabaseLocation open_database(const std::optional<std::string> &database,
                               const std::filesystem::path &data_dir, bool stop_adopted);

}  // namespace reelforge::store
