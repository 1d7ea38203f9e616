/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One daemon with many provider jobs in flight (run by bench/inflight.sh,
 * never by the test suite): a stand-in Replicate whose predictions never
 * finish, J jobs of S generated scenes each submitted straight into the
 * store, and `reelforge serve` claiming, submitting and polling them. It
 * waits until J x S calls are in flight, keeps them there for a while
 * (every one polled again and again), and prints the daemon's resident
 * memory (peak and now), how long the submissions took, and the polls per
 * second it sustained.
 *
 *   inflight-bench REELFORGE_BIN [--jobs J] [--scenes S] [--workers W] [--hold SECONDS]
 */
#include "replicate-stand-in.h"
#include "sched/step-queue.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/private-cluster.h"

#include <glib.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

using namespace reelforge;
using Clock = std::chrono::steady_clock;

namespace {

/* kB of the process's VmHWM (peak) or VmRSS (now), from /proc. */
long status_kb(pid_t pid, const char *field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with(field)) return std::atol(line.c_str() + std::strlen(field) + 1);
  return -1;
}

std::string job_spec(int job, int scenes, const std::string &endpoint) {
  std::string list;
  for (int i = 0; i < scenes; ++i)
    list += std::string(i ? ", " : "") +
            R"({"source": {"generate": {"providers": [{"provider": "replicate", "model": )"
            R"("minimax/hailuo-02", "endpoint": ")" +
            endpoint + R"("}], "prompt": "job )" + std::to_string(job) + " scene " +
            std::to_string(i) + R"(", "duration": 1}}, "duration": 1})";
  return R"({"name": "inflight", "platforms": ["tiktok"], "scenes": [)" + list + "]}";
}

}  // namespace

int main(int argc, char **argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: inflight-bench REELFORGE_BIN [--jobs J] [--scenes S] [--workers W] "
                 "[--hold SECONDS]\n");
    return 2;
  }
  const std::string bin = argv[1];
  int jobs = 50, scenes = 20, workers = 2, hold_s = 30;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--jobs")) jobs = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--scenes")) scenes = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--workers")) workers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--hold")) hold_s = std::atoi(argv[i + 1]);
  }
  const int target = jobs * scenes;
  gchar *dir = g_dir_make_tmp("reelforge-inflight-XXXXXX", nullptr);
  chmod(dir, 0711);
  pid_t daemon = -1;
  try {
    store::PrivateCluster cluster({std::string(dir) + "/cluster", false});
    store::Connection db(cluster.conninfo());
    store::migrate(db);
    test::ReplicateStandIn replicate("never served", 1 << 30);
    const auto tenant =
        db.query("INSERT INTO tenants (name) VALUES ($1) RETURNING id", "bench").int64(0, 0);
    sched::JobControl control(db);
    for (int j = 0; j < jobs; ++j)
      control.create_job(tenant, job_spec(j, scenes, replicate.endpoint()), 5, std::nullopt,
                         "expand", 6, R"({"base_dir": "/"})");

    g_setenv("REPLICATE_API_TOKEN", test::ReplicateStandIn::kToken, TRUE);
    const std::string log = std::string(dir) + "/serve.log";
    const auto start = Clock::now();
    daemon = fork();
    if (daemon == 0) {
      freopen(log.c_str(), "w", stderr);
      execl(bin.c_str(), bin.c_str(), "serve", "--database", cluster.conninfo().c_str(),
            "--data-dir", dir, "--listen", "127.0.0.1:0", "--workers",
            std::to_string(workers).c_str(), nullptr);
      _exit(127);
    }
    double reached_s = -1;
    long peak_kb = 0;
    for (;;) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
      if (waitpid(daemon, nullptr, WNOHANG) == daemon) {
        std::fprintf(stderr, "inflight-bench: reelforge serve died; see %s\n", log.c_str());
        return 1;
      }
      const auto in_flight =
          db.exec("SELECT count(*) FROM provider_calls WHERE state = 'submitted'").int64(0, 0);
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      if (in_flight >= target) {
        reached_s = elapsed;
        break;
      }
      if (elapsed > 600) {
        std::fprintf(stderr, "inflight-bench: only %lld of %d in flight after 10 min\n",
                     static_cast<long long>(in_flight), target);
        return 1;
      }
    }
    const size_t requests_before = replicate.server().total();
    const auto hold_start = Clock::now();
    long rss_kb = 0;
    while (Clock::now() - hold_start < std::chrono::seconds(hold_s)) {
      std::this_thread::sleep_for(std::chrono::seconds(1));
      rss_kb = status_kb(daemon, "VmRSS:");
      peak_kb = std::max(peak_kb, status_kb(daemon, "VmHWM:"));
    }
    const double polls_per_s =
        static_cast<double>(replicate.server().total() - requests_before) / hold_s;
    std::printf(
        "%d provider jobs in flight (%d jobs x %d scenes, %d workers): all submitted in %.1f s;"
        " then %.0f polls/s for %d s; RSS now %.1f MiB, peak %.1f MiB; stand-in saw %d "
        "submissions\n",
        target, jobs, scenes, workers, reached_s, polls_per_s, hold_s, rss_kb / 1024.0,
        peak_kb / 1024.0, replicate.submissions());
    kill(daemon, SIGTERM);
    waitpid(daemon, nullptr, 0);
  } catch (const std::exception &e) {
    std::fprintf(stderr, "inflight-bench: %s\n", e.what());
    if (daemon > 0) kill(daemon, SIGKILL);
    return 1;
  }
  return 0;
}
