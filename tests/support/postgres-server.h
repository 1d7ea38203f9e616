/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A real PostgreSQL for the tests: one private cluster per test program
 * (the same PrivateCluster `reelforge serve` runs without --database), in a
 * temporary folder, with fsync off, stopped and removed at exit. Each test
 * takes a fresh database of its own from it.
 */
#pragma once

#include "store/private-cluster.h"

#include <filesystem>
#include <memory>
#include <string>

namespace reelforge::test {

class PostgresServer {
 public:
  /* The program's server, started on first use. Throws ClusterError. */
  static PostgresServer &shared();

  ~PostgresServer();

  /* A new empty database; returns its conninfo. */
  std::string fresh_database();
  /* A new database with the migrations applied. */
  std::string migrated_database();

  store::PrivateCluster &cluster() { return *cluster_; }

 private:
  PostgresServer();
  std::filesystem::path dir_;
  std::unique_ptr<store::PrivateCluster> cluster_;
  int databases_ = 0;
};

}  // namespace reelforge::test
