/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/database-location.h"

#include "store/migrations.h"
#include "store/pg.h"

#include <glib.h>
#include <unistd.h>

namespace reelforge::store {

std::filesystem::path default_data_dir() {
  /* root's home is closed to the postgres user who runs the private
   * cluster: a system folder instead. */
  if (geteuid() == 0) return "/var/lib/reelforge";
  return std::filesystem::path(g_get_user_data_dir()) / "reelforge";
}

DatabaseLocation open_database(const std::optional<std::string> &database,
                               const std::filesystem::path &data_dir, bool stop_adopted) {
  DatabaseLocation location;
  if (database) {
    location.conninfo = *database;
  } else {
    location.cluster = std::make_unique<PrivateCluster>(
        PrivateCluster::Options{data_dir / "postgres", /*durable=*/true, stop_adopted});
    location.conninfo = location.cluster->conninfo();
  }
  Connection connection(location.conninfo);
  migrate(connection);
  return location;
}

}  // namespace reelforge::store
