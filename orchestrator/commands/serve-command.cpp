/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * reelforge serve [--database URL] [--data-dir DIR] [--listen HOST:PORT] [--workers N]
 */
#include "commands/commands.h"

#include "api/api-server.h"
#include "sched/generate-step.h"
#include "sched/job-steps.h"
#include "sched/worker-pool.h"
#include "store/database-location.h"
#include "store/ledger.h"
#include "store/pg.h"

#include <glib-unix.h>
#include <glib.h>

#include <cstdio>
#include <cstdlib>
#include <optional>

namespace reelforge {

namespace {

constexpr const char *kServeUsage =
    "Usage: reelforge serve [--database URL] [--data-dir DIR] [--listen HOST:PORT]\n"
    "                       [--workers N]\n"
    "\n"
    "Runs jobs durably on PostgreSQL, with the HTTP API. Several serve processes\n"
    "(on several machines) may share one database.\n"
    "\n"
    "  --database URL     postgres://user@host/db (or a libpq conninfo); without it,\n"
    "                     a private PostgreSQL cluster runs in DIR/postgres, is\n"
    "                     stopped on exit and reused next time\n"
    "  --data-dir DIR     the cluster and the rendered files (default:\n"
    "                     ~/.local/share/reelforge; /var/lib/reelforge for root)\n"
    "  --listen ADDR      the API's address (default 127.0.0.1:8750; port 0 picks one)\n"
    "  --workers N        steps run at once by this process (default 2)\n"
    "  --lease S          step lease in seconds (default 30), renewed every\n"
    "  --heartbeat S      (default 10) seconds; idle workers poll every\n"
    "  --poll S           (default 1) seconds besides LISTEN/NOTIFY\n"
    "  --retry-base S     first retry delay (default 2); doubles each attempt\n"
    "  --max-attempts N   runs of a step before its job pauses (default 6), counting\n"
    "                     runs lost with a daemon that died\n"
    "  --provider-limit NAME=N[/M]\n"
    "                     at most N jobs of provider NAME in flight (and at most M\n"
    "                     submitted per minute) across every daemon sharing the\n"
    "                     database; stored there, so the last daemon started with\n"
    "                     the flag sets it (repeatable)\n"
    "\n"
    "Stops on SIGINT/SIGTERM. Without a --database the cluster needs a user other\n"
    "than root: the `postgres` system user (or REELFORGE_PG_USER) runs it.\n";

struct ServeArguments {
  std::optional<std::string> database;
  std::filesystem::path data_dir = store::default_data_dir();
  std::string listen = "127.0.0.1:8750";
  int workers = 2;
  double lease_s = 30, heartbeat_s = 10, poll_s = 1, retry_base_s = 2;
  int max_attempts = 6;
  struct ProviderLimit {
    std::string provider;
    int max_in_flight = 0;
    std::optional<int> per_minute;
  };
  std::vector<ProviderLimit> provider_limits;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

double seconds_value(const std::string &flag, const std::string &text, double min, double max) {
  char *end = nullptr;
  const double value = std::strtod(text.c_str(), &end);
  if (end == text.c_str() || *end != '\0' || value < min || value > max)
    throw UsageError(flag + " takes a number from " + std::to_string(min) + " to " +
                     std::to_string(max) + ", not \"" + text + "\"");
  return value;
}

/* NAME=N or NAME=N/M. */
ServeArguments::ProviderLimit provider_limit(const std::string &text) {
  const auto equals = text.find('=');
  const std::string name = text.substr(0, equals);
  if (equals == std::string::npos || name.empty())
    throw UsageError("--provider-limit takes NAME=N or NAME=N/M (e.g. replicate=20/60), not \"" +
                     text + "\"");
  const std::string counts = text.substr(equals + 1);
  const auto slash = counts.find('/');
  ServeArguments::ProviderLimit limit{
      name, static_cast<int>(
                seconds_value("--provider-limit " + name, counts.substr(0, slash), 1, 1000000))};
  if (slash != std::string::npos)
    limit.per_minute = static_cast<int>(seconds_value("--provider-limit " + name + " per minute",
                                                      counts.substr(slash + 1), 1, 1000000));
  return limit;
}

ServeArguments parse(const std::vector<std::string> &args) {
  ServeArguments parsed;
  if (const char *env = std::getenv("REELFORGE_DATABASE")) parsed.database = env;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a value");
      return args[++i];
    };
    if (arg == "--database")
      parsed.database = value();
    else if (arg == "--data-dir")
      parsed.data_dir = value();
    else if (arg == "--listen")
      parsed.listen = value();
    else if (arg == "--workers")
      parsed.workers = static_cast<int>(seconds_value(arg, value(), 1, 256));
    else if (arg == "--lease")
      parsed.lease_s = seconds_value(arg, value(), 0.1, 3600);
    else if (arg == "--heartbeat")
      parsed.heartbeat_s = seconds_value(arg, value(), 0.05, 1200);
    else if (arg == "--poll")
      parsed.poll_s = seconds_value(arg, value(), 0.01, 1);
    else if (arg == "--max-attempts")
      parsed.max_attempts = static_cast<int>(seconds_value(arg, value(), 1, 1000));
    else if (arg == "--retry-base")
      parsed.retry_base_s = seconds_value(arg, value(), 0.01, 3600);
    else if (arg == "--provider-limit")
      parsed.provider_limits.push_back(provider_limit(value()));
    else
      throw UsageError("unknown argument " + arg);
  }
  if (parsed.heartbeat_s * 2 > parsed.lease_s)
    throw UsageError("--heartbeat must be at most half of --lease, or leases expire between beats");
  return parsed;
}

std::chrono::milliseconds ms(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

gboolean quit_on_signal(gpointer loop) {
  g_main_loop_quit(static_cast<GMainLoop *>(loop));
  return G_SOURCE_CONTINUE;
}

}  // namespace

int serve_command(const std::vector<std::string> &args) {
  for (const auto &arg : args)
    if (arg == "--help" || arg == "-h") {
      std::fputs(kServeUsage, stdout);
      return kExitOk;
    }
  ServeArguments parsed;
  try {
    parsed = parse(args);
  } catch (const UsageError &e) {
    std::fprintf(stderr, "reelforge serve: %s\n\n%s", e.what(), kServeUsage);
    return kExitBadInput;
  }

  store::DatabaseLocation location;
  try {
    location = store::open_database(parsed.database, parsed.data_dir, /*stop_adopted=*/true);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "reelforge serve: %s\n", e.what());
    return kExitBadInput;
  }

  try {
    store::Connection db(location.conninfo);
    for (const auto &limit : parsed.provider_limits)
      store::set_provider_limit(db, limit.provider, limit.max_in_flight, limit.per_minute);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "reelforge serve: --provider-limit: %s\n", e.what());
    return kExitBadInput;
  }

  sched::WorkerPool::Options options;
  options.conninfo = location.conninfo;
  options.owner = sched::make_owner_name();
  options.workers = parsed.workers;
  options.lease = {ms(parsed.lease_s), ms(parsed.heartbeat_s), ms(parsed.poll_s)};
  options.retry.base = ms(parsed.retry_base_s);
  options.retry.max_attempts = parsed.max_attempts;
  options.chores = sched::cancel_provider_jobs;
  const sched::JobStepsConfig steps{
      .artifacts_dir = std::filesystem::absolute(parsed.data_dir) / "artifacts",
      .clips_dir = std::filesystem::absolute(parsed.data_dir) / "clips"};
  sched::WorkerPool pool(options, sched::job_step_handlers(steps));

  std::unique_ptr<GMainLoop, decltype(&g_main_loop_unref)> loop(g_main_loop_new(nullptr, FALSE),
                                                                g_main_loop_unref);
  std::unique_ptr<api::ApiServer> server;
  try {
    server = std::make_unique<api::ApiServer>(api::ApiServer::Options{
        location.conninfo, parsed.listen, &pool, 1 << 20, parsed.max_attempts});
  } catch (const std::exception &e) {
    std::fprintf(stderr, "reelforge serve: %s\n", e.what());
    return kExitBadInput;
  }
  pool.start();
  std::fprintf(stderr, "reelforge serve: %s with %d worker%s, API on %s\n", options.owner.c_str(),
               parsed.workers, parsed.workers == 1 ? "" : "s", server->url().c_str());
  std::fflush(stderr);

  const guint sigint = g_unix_signal_add(SIGINT, quit_on_signal, loop.get());
  const guint sigterm = g_unix_signal_add(SIGTERM, quit_on_signal, loop.get());
  g_main_loop_run(loop.get());
  g_source_remove(sigint);
  g_source_remove(sigterm);

  std::fprintf(stderr, "reelforge serve: stopping (running steps are given back to the queue)\n");
  server.reset();
  pool.stop();
  return kExitOk;
}

}  // namespace reelforge
