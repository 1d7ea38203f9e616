/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "postgres-server.h"

#include "gst-ptr.h"
#include "store/migrations.h"
#include "store/pg.h"

#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

namespace reelforge::test {

PostgresServer &PostgresServer::shared() {
  static std::unique_ptr<PostgresServer> server(new PostgresServer());
  return *server;
}

PostgresServer::PostgresServer() {
  GError *raw_error = nullptr;
  GCharPtr dir(g_dir_make_tmp("reelforge-pg-XXXXXX", &raw_error));
  GErrorPtr error(raw_error);
  if (!dir) throw store::ClusterError(std::string("no temporary folder: ") + error->message);
  dir_ = dir.get();
  /* The server runs as another user when we are root: it must get in. */
  chmod(dir_.c_str(), 0711);
  cluster_ = std::make_unique<store::PrivateCluster>(
      store::PrivateCluster::Options{dir_ / "cluster", /*durable=*/false});
}

PostgresServer::~PostgresServer() {
  cluster_.reset();
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

std::string PostgresServer::fresh_database() {
  const std::string name = "test_" + std::to_string(getpid()) + "_" + std::to_string(++databases_);
  store::Connection admin(cluster_->conninfo("postgres"));
  /* name is digits and underscores only: safe to splice. */
  admin.exec("CREATE DATABASE " + name);
  return cluster_->conninfo(name);
}

std::string PostgresServer::migrated_database() {
  const std::string conninfo = fresh_database();
  store::Connection connection(conninfo);
  store::migrate(connection);
  return conninfo;
}

}  // namespace reelforge::test
