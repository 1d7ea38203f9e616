/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The scheduler's own speed on a local PostgreSQL (run by bench/daemon.sh,
 * never by the test suite): W claimer threads, each on its own connection,
 * drain S no-op steps (claim, then succeed: two fenced transitions, each
 * with its event row), timing every claim.
 *
 *   daemon-bench [--steps S] [--workers W] [--durable]
 *
 * Prints transitions per second and claim latency percentiles. The private
 * cluster runs with fsync off unless --durable.
 */
#include "sched/step-queue.h"
#include "store/migrations.h"
#include "store/pg.h"
#include "store/private-cluster.h"

#include <glib.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

using namespace reelforge;
using Clock = std::chrono::steady_clock;

int main(int argc, char **argv) {
  int steps = 5000, workers = 2;
  bool durable = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--steps") && i + 1 < argc)
      steps = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--workers") && i + 1 < argc)
      workers = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--durable"))
      durable = true;
    else {
      std::fprintf(stderr, "usage: daemon-bench [--steps S] [--workers W] [--durable]\n");
      return 2;
    }
  }
  gchar *dir = g_dir_make_tmp("reelforge-bench-XXXXXX", nullptr);
  chmod(dir, 0711);
  try {
    store::PrivateCluster cluster({std::string(dir) + "/cluster", durable});
    store::Connection db(cluster.conninfo());
    store::migrate(db);
    const auto tenant =
        db.query("INSERT INTO tenants (name) VALUES ($1) RETURNING id", "bench").int64(0, 0);
    sched::JobControl control(db);
    const auto job = control.create_job(tenant, "{}", 5, std::nullopt, "root");
    sched::StepQueue setup(db, "setup");
    auto root = setup.claim();
    setup.succeed(*root, "{}", [&](store::Connection &) {
      setup.add_steps(job, std::vector<sched::NewStep>(steps, sched::NewStep{.kind = "noop"}));
    });

    std::mutex mutex;
    std::vector<double> claim_ms;
    claim_ms.reserve(steps + workers);
    std::atomic<int> done{0};
    const auto start = Clock::now();
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w)
      threads.emplace_back([&, w] {
        store::Connection conn(cluster.conninfo());
        sched::StepQueue queue(conn, "bench-" + std::to_string(w));
        std::vector<double> mine;
        for (;;) {
          const auto t0 = Clock::now();
          auto step = queue.claim();
          mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
          if (!step) break;
          queue.succeed(*step);
          ++done;
        }
        std::lock_guard<std::mutex> lock(mutex);
        claim_ms.insert(claim_ms.end(), mine.begin(), mine.end());
      });
    for (auto &t : threads) t.join();
    const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    std::sort(claim_ms.begin(), claim_ms.end());
    auto pct = [&](double p) {
      return claim_ms[std::min(claim_ms.size() - 1, static_cast<size_t>(p * claim_ms.size()))];
    };
    const auto status = db.query("SELECT status FROM jobs WHERE id = $1", job).text(0, 0);
    std::printf("steps %d, workers %d, fsync %s: %.2f s, job %s\n", done.load(), workers,
                durable ? "on" : "off", elapsed, status.c_str());
    std::printf("step transitions per second: %.0f (goal >= 500)\n", 2 * done.load() / elapsed);
    std::printf("claim latency ms: p50 %.2f, p90 %.2f, p99 %.2f, max %.2f (goal p99 < 100)\n",
                pct(0.5), pct(0.9), pct(0.99), claim_ms.back());
  } catch (const std::exception &e) {
    std::fprintf(stderr, "daemon-bench: %s\n", e.what());
    return 1;
  }
  std::string rm = std::string("rm -rf '") + dir + "'";
  if (std::system(rm.c_str()) != 0) std::fprintf(stderr, "could not remove %s\n", dir);
  g_free(dir);
  return 0;
}
