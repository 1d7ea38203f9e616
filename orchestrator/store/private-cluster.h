/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A PostgreSQL cluster of our own in a directory: initdb the first time,
 * pg_ctl start, and pg_ctl stop at destruction; the next start reuses the
 * data. `reelforge serve` without --database runs on one, and the tests
 * start one per test program.
 *
 * The server listens on a Unix socket in <directory>/socket only (no TCP
 * port to collide with), trusting local connections: the socket folder is
 * private to the server's user. PostgreSQL refuses to run as root, so a root
 * process runs the server binaries as the `postgres` system user (or
 * REELFORGE_PG_USER) and says so clearly when there is none. The binaries
 * come from /usr/lib/postgresql/<major>/bin (Debian keeps them off PATH) or
 * REELFORGE_PG_BIN.
 */
#pragma once

#include <sys/types.h>

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace reelforge::store {

class ClusterError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class PrivateCluster {
 public:
  struct Options {
    std::filesystem::path directory;
    /* false turns fsync and synchronous commit off: for tests and
     * benchmarks, whose data may be lost with the machine. */
    bool durable = true;
    /* Whether a server found already running (left by a killed process)
     * is stopped at destruction too: `serve` takes it over, a short
     * command (`keys create`) leaves it to the serve that runs it. */
    bool stop_adopted = true;
  };

  /* Creates (if needed) and starts the cluster, and makes sure the
   * `reelforge` database exists. Throws ClusterError naming what to fix. */
  explicit PrivateCluster(Options options);
  /* Stops the server (fast shutdown). */
  ~PrivateCluster();
  PrivateCluster(const PrivateCluster &) = delete;
  PrivateCluster &operator=(const PrivateCluster &) = delete;

  /* libpq connection string for the `reelforge` database (or dbname). */
  std::string conninfo(const std::string &dbname = "reelforge") const;

  void stop();
  void start();

  const std::filesystem::path &directory() const { return options_.directory; }

 private:
  int run_as_server_user(const std::vector<std::string> &argv, const std::filesystem::path &log);
  std::string log_tail(const std::filesystem::path &log) const;
  void initdb();
  void ensure_database();

  Options options_;
  std::filesystem::path bin_dir_;
  std::filesystem::path data_dir_;
  std::filesystem::path socket_dir_;
  bool switch_user_ = false;
  uid_t uid_ = 0;
  gid_t gid_ = 0;
  bool running_ = false;
  bool adopted_ = false;
};

/* The folder holding initdb and pg_ctl; throws ClusterError when PostgreSQL
 * is not installed. */
std::filesystem::path find_server_binaries();

}  // namespace reelforge::store
