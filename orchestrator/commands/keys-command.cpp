/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * reelforge keys create --tenant NAME [--database URL] [--data-dir DIR]
 */
#include "commands/commands.h"

#include "store/database-location.h"
#include "store/pg.h"
#include "store/tenants.h"

#include <glib.h>
#include <sys/random.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace reelforge {

namespace {

constexpr const char *kKeysUsage =
    "Usage: reelforge keys create --tenant NAME [--daily-budget USD]\n"
    "                             [--database URL] [--data-dir DIR]\n"
    "\n"
    "Creates an API key for tenant NAME (made if new: lowercase letters, digits,\n"
    "- and _) and prints it once; only its SHA-256 is stored. The database is the\n"
    "one `reelforge serve` uses with the same --database or --data-dir.\n"
    "\n"
    "  --daily-budget USD  the most the tenant's jobs may spend per UTC day, all\n"
    "                      jobs together (spent plus reserved); a generation that\n"
    "                      would exceed it pauses its job. 'none' removes it.\n";

std::string random_key() {
  unsigned char bytes[24];
  size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) throw std::runtime_error("no randomness for a key (getrandom failed)");
    got += static_cast<size_t>(n);
  }
  std::string key = "rfk_";
  static const char hex[] = "0123456789abcdef";
  for (unsigned char b : bytes) {
    key += hex[b >> 4];
    key += hex[b & 15];
  }
  return key;
}

}  // namespace

int keys_command(const std::vector<std::string> &args) {
  std::optional<std::string> database;
  if (const char *env = std::getenv("REELFORGE_DATABASE")) database = env;
  std::filesystem::path data_dir = store::default_data_dir();
  std::string tenant;
  std::optional<std::string> daily_budget;
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::fputs(kKeysUsage, args.empty() ? stderr : stdout);
    return args.empty() ? kExitBadInput : kExitOk;
  }
  if (args[0] != "create") {
    std::fprintf(stderr, "reelforge keys: unknown action \"%s\"\n\n%s", args[0].c_str(),
                 kKeysUsage);
    return kExitBadInput;
  }
  for (size_t i = 1; i < args.size(); ++i) {
    const bool has_value = i + 1 < args.size();
    if (args[i] == "--tenant" && has_value)
      tenant = args[++i];
    else if (args[i] == "--database" && has_value)
      database = args[++i];
    else if (args[i] == "--data-dir" && has_value)
      data_dir = args[++i];
    else if (args[i] == "--daily-budget" && has_value)
      daily_budget = args[++i];
    else {
      std::fprintf(stderr, "reelforge keys: unknown or incomplete argument %s\n\n%s",
                   args[i].c_str(), kKeysUsage);
      return kExitBadInput;
    }
  }
  if (tenant.empty()) {
    std::fprintf(stderr, "reelforge keys create: which tenant? Give --tenant NAME\n");
    return kExitBadInput;
  }
  /* Micro-dollars; nothing for "none". */
  std::optional<std::int64_t> daily_micros;
  if (daily_budget && *daily_budget != "none") {
    char *end = nullptr;
    const double usd = g_ascii_strtod(daily_budget->c_str(), &end);
    if (end == daily_budget->c_str() || *end != '\0' || !(usd >= 0) || usd > 1e9) {
      std::fprintf(stderr,
                   "reelforge keys create: --daily-budget takes US dollars (e.g. 25 or 7.50) or "
                   "none, not \"%s\"\n",
                   daily_budget->c_str());
      return kExitBadInput;
    }
    daily_micros = std::llround(usd * 1e6);
  }
  try {
    auto location = store::open_database(database, data_dir, /*stop_adopted=*/false);
    store::Connection db(location.conninfo);
    const std::string key = random_key();
    store::Transaction transaction(db);
    try {
      store::create_tenant_if_new(db, tenant);
    } catch (const store::DatabaseError &e) {
      if (e.sqlstate() == store::kCheckViolation) {
        std::fprintf(stderr,
                     "reelforge keys create: --tenant \"%s\": use lowercase letters, digits, - "
                     "and _ (at most 63)\n",
                     tenant.c_str());
        return kExitBadInput;
      }
      throw;
    }
    if (daily_budget) store::set_daily_budget(db, tenant, daily_micros);
    store::add_api_key(db, tenant, key);
    transaction.commit();
    std::printf("%s\n", key.c_str());
    std::fprintf(stderr, "reelforge keys: created a key for tenant %s; it is shown only now\n",
                 tenant.c_str());
  } catch (const std::exception &e) {
    std::fprintf(stderr, "reelforge keys: %s\n", e.what());
    return kExitBadInput;
  }
  return kExitOk;
}

}  // namespace reelforge
