/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/migrations.h"

#include "gst-ptr.h"

#include <gio/gio.h>

/* glib-compile-resources writes a C header without C linkage guards. */
G_BEGIN_DECLS
#include "store-resources.h"
G_END_DECLS

#include <algorithm>
#include <cstdlib>

namespace reelforge::store {

namespace {

constexpr const char *kResourceDir = "/org/reelforge/store/migrations/";
/* pg_advisory_lock key: "reelforge migrations". */
constexpr const char *kMigrationLockKey = "7301522641088";

struct StrvDeleter {
  void operator()(gchar **v) const noexcept { g_strfreev(v); }
};

}  // namespace

std::vector<Migration> bundled_migrations() {
  GResource *resource = reelforge_store_get_resource();
  GError *raw_error = nullptr;
  std::unique_ptr<gchar *, StrvDeleter> names(g_resource_enumerate_children(
      resource, kResourceDir, G_RESOURCE_LOOKUP_FLAGS_NONE, &raw_error));
  GErrorPtr error(raw_error);
  if (!names) throw std::runtime_error(std::string("no migrations compiled in: ") + error->message);
  std::vector<Migration> migrations;
  for (gchar **name = names.get(); *name; ++name) {
    const std::string file = *name;
    if (!file.ends_with(".sql")) continue;
    GBytesPtr bytes(g_resource_lookup_data(resource, (kResourceDir + file).c_str(),
                                           G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr));
    gsize size = 0;
    const auto *data = static_cast<const char *>(g_bytes_get_data(bytes.get(), &size));
    migrations.push_back({std::atoi(file.c_str()), file, std::string(data, size)});
  }
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration &a, const Migration &b) { return a.version < b.version; });
  for (size_t i = 0; i < migrations.size(); ++i)
    if (migrations[i].version != static_cast<int>(i) + 1)
      throw std::runtime_error("migration " + migrations[i].name + " is out of sequence");
  return migrations;
}

int migrate(Connection &connection) {
  const std::vector<Migration> migrations = bundled_migrations();
  connection.query("SELECT pg_advisory_lock($1::bigint)", kMigrationLockKey);
  struct Unlock {
    Connection &c;
    ~Unlock() {
      try {
        c.query("SELECT pg_advisory_unlock($1::bigint)", kMigrationLockKey);
      } catch (const DatabaseError &) {
        /* The lock dies with the session anyway. */
      }
    }
  } unlock{connection};

  connection.exec(
      "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, name text NOT "
      "NULL, applied_at timestamptz NOT NULL DEFAULT now())");
  const Result current = connection.exec("SELECT coalesce(max(version), 0) FROM schema_migrations");
  const int applied = static_cast<int>(current.int64(0, 0));
  if (applied > static_cast<int>(migrations.size()))
    throw DatabaseError("the database schema is at version " + std::to_string(applied) +
                            ", newer than this reelforge (" + std::to_string(migrations.size()) +
                            "): upgrade reelforge",
                        "");
  int ran = 0;
  for (const Migration &m : migrations) {
    if (m.version <= applied) continue;
    Transaction transaction(connection);
    try {
      connection.exec_script(m.sql);
    } catch (const DatabaseError &e) {
      throw DatabaseError("migration " + m.name + " failed: " + e.what(), e.sqlstate());
    }
    connection.query("INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version,
                     m.name);
    transaction.commit();
    ++ran;
  }
  return ran;
}

}  // namespace reelforge::store
