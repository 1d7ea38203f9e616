/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The store on a real PostgreSQL: the libpq layer, the migrations and the
 * private cluster.
 */
#include "postgres-server.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/private-cluster.h"
#include "test-environment.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <thread>
#include <vector>

namespace reelforge::test {
namespace {

using store::Connection;
using store::DatabaseError;

TEST(Store, ParametersTravelApartFromTheSql) {
  Connection db(PostgresServer::shared().fresh_database());
  const std::string hostile = "x'); DROP TABLE pg_class; --";
  const auto r = db.query("SELECT $1::text, $2::bigint, $3::text IS NULL", hostile,
                          std::int64_t{9007199254740993}, std::nullopt);
  ASSERT_EQ(r.rows(), 1);
  EXPECT_EQ(r.text(0, 0), hostile);
  EXPECT_EQ(r.int64(0, 1), 9007199254740993);
  EXPECT_TRUE(r.boolean(0, 2));
}

TEST(Store, ColumnsAreReadByName) {
  Connection db(PostgresServer::shared().fresh_database());
  const auto r = db.query(
      "SELECT $1::bigint AS id, NULL::bigint AS budget, 't'::bool AS ok,"
      " $2::text AS name",
      std::int64_t{7}, "seven");
  EXPECT_EQ(r.int64(0, "id"), 7);
  EXPECT_EQ(r.optional_int64(0, "budget"), std::nullopt);
  EXPECT_TRUE(r.is_null(0, "budget"));
  EXPECT_TRUE(r.boolean(0, "ok"));
  EXPECT_EQ(r.text(0, "name"), "seven");
  try {
    r.text(0, "nmae");
    FAIL() << "read a column the statement does not have";
  } catch (const std::logic_error &e) {
    EXPECT_NE(std::string(e.what()).find("no column \"nmae\" (it has: id, budget, ok, name)"),
              std::string::npos)
        << e.what();
  }
}

TEST(Store, AServerErrorCarriesItsMessageAndSqlstate) {
  Connection db(PostgresServer::shared().fresh_database());
  try {
    db.exec("SELEC 1");
    FAIL() << "a syntax error was accepted";
  } catch (const DatabaseError &e) {
    EXPECT_EQ(e.sqlstate(), "42601");
    EXPECT_NE(std::string(e.what()).find("syntax error"), std::string::npos) << e.what();
    EXPECT_FALSE(e.connection_lost());
  }
  /* The connection is still usable after an error. */
  EXPECT_EQ(db.exec("SELECT 41 + 1").int64(0, 0), 42);
}

TEST(Store, ATransactionRollsBackUnlessCommitted) {
  Connection db(PostgresServer::shared().fresh_database());
  db.exec("CREATE TABLE t (v int)");
  {
    store::Transaction transaction(db);
    db.query("INSERT INTO t VALUES ($1)", 1);
  }
  {
    store::Transaction transaction(db);
    db.query("INSERT INTO t VALUES ($1)", 2);
    transaction.commit();
  }
  const auto r = db.exec("SELECT array_agg(v)::text FROM t");
  EXPECT_EQ(r.text(0, 0), "{2}");
}

TEST(Store, ABadConninfoIsAClearError) {
  try {
    Connection db("host=/nonexistent-socket-dir dbname=nothing connect_timeout=2");
    FAIL() << "connected to nothing";
  } catch (const DatabaseError &e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect to PostgreSQL"), std::string::npos);
    EXPECT_TRUE(e.connection_lost());
  }
}

TEST(Migrations, AreNumberedFromOneAndCompiledIn) {
  const auto migrations = store::bundled_migrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(migrations.front().version, 1);
  EXPECT_EQ(migrations.front().name, "001-initial.sql");
  EXPECT_NE(migrations.front().sql.find("CREATE TABLE steps"), std::string::npos);
}

TEST(Migrations, ApplyOnceEvenWhenDaemonsStartTogether) {
  const std::string conninfo = PostgresServer::shared().fresh_database();
  std::atomic<int> applied{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> daemons;
  for (int i = 0; i < 4; ++i) {
    daemons.emplace_back([&] {
      try {
        Connection db(conninfo);
        applied += store::migrate(db);
      } catch (const std::exception &) {
        ++failures;
      }
    });
  }
  for (auto &t : daemons) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(applied.load(), static_cast<int>(store::bundled_migrations().size()));

  Connection db(conninfo);
  EXPECT_EQ(store::migrate(db), 0) << "a second start applied migrations again";
  EXPECT_EQ(db.exec("SELECT count(*) FROM schema_migrations").int64(0, 0),
            static_cast<std::int64_t>(store::bundled_migrations().size()));
  for (const char *table : {"tenants", "api_keys", "jobs", "variants", "steps", "provider_calls",
                            "artifacts", "cost_ledger", "events"})
    EXPECT_EQ(db.query("SELECT to_regclass($1) IS NOT NULL", table).text(0, 0), "t") << table;
}

TEST(Migrations, ANewerSchemaIsRefused) {
  Connection db(PostgresServer::shared().migrated_database());
  db.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", 999, "999-future.sql");
  try {
    store::migrate(db);
    FAIL() << "ran on a schema from the future";
  } catch (const DatabaseError &e) {
    EXPECT_NE(std::string(e.what()).find("upgrade reelforge"), std::string::npos) << e.what();
  }
}

TEST(PrivateCluster, KeepsItsDataAcrossARestart) {
  auto &cluster = PostgresServer::shared().cluster();
  const std::string conninfo = PostgresServer::shared().fresh_database();
  {
    Connection db(conninfo);
    db.exec("CREATE TABLE kept (v text)");
    db.query("INSERT INTO kept VALUES ($1)", "still here");
  }
  cluster.stop();
  EXPECT_THROW(Connection{conninfo}, DatabaseError) << "the server did not stop";
  cluster.start();
  Connection db(conninfo);
  EXPECT_EQ(db.exec("SELECT v FROM kept").text(0, 0), "still here");
}

TEST(PrivateCluster, WithoutAnUnprivilegedUserSaysWhatToDo) {
  if (geteuid() != 0) GTEST_SKIP() << "only root needs another user to run PostgreSQL";
  TempDir dir;
  chmod(dir.path().c_str(), 0711);
  setenv("REELFORGE_PG_USER", "no-such-reelforge-user", 1);
  try {
    store::PrivateCluster cluster({dir.path() / "c", false});
    unsetenv("REELFORGE_PG_USER");
    FAIL() << "started a cluster as a user that does not exist";
  } catch (const store::ClusterError &e) {
    unsetenv("REELFORGE_PG_USER");
    const std::string message = e.what();
    EXPECT_NE(message.find("refuses to run as root"), std::string::npos) << message;
    EXPECT_NE(message.find("no-such-reelforge-user"), std::string::npos) << message;
  }
}

TEST(PrivateCluster, AFolderTheServerCannotEnterIsNamed) {
  if (geteuid() != 0) GTEST_SKIP() << "as a normal user the server runs as that user";
  TempDir dir; /* 0700, owned by root: the postgres user cannot get in */
  try {
    store::PrivateCluster cluster({dir.path() / "c", false});
    FAIL() << "started a cluster in a folder its user cannot enter";
  } catch (const store::ClusterError &e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(dir.path().string()), std::string::npos) << message;
    EXPECT_NE(message.find("--data-dir"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace reelforge::test
