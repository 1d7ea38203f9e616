/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The daemon's workers: N threads, each with its own PostgreSQL
 * connection, claiming steps from the shared StepQueue and running the
 * handler registered for the step's kind. Beside them:
 *
 * - a waker thread LISTENs on `reelforge_steps` and wakes idle workers; it
 *   also polls (LeaseSettings::poll, at most 1 s) and rescues expired leases
 *   on each tick, so a dead peer's steps run again within lease + poll;
 * - a heartbeat thread renews the leases of the steps running here and
 *   flags a step whose lease was lost, so its handler can stop;
 * - a chores thread runs Options::chores every poll (e.g. asking providers
 *   to cancel the jobs of cancelled calls), so slow HTTP there never
 *   delays a wake-up or a rescue.
 *
 * Every thread reconnects by itself when PostgreSQL goes away (restart,
 * failover); a step whose runner lost the connection is rescued once its
 * lease expires. Steps waiting on providers, retry times or approvals are
 * rows, not threads: they hold no worker.
 */
#pragma once

#include "sched/step-queue.h"
#include "store/pg.h"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace reelforge::sched {

/* A step failed in a way its class says how to retry. */
class StepError : public std::runtime_error {
 public:
  StepError(ErrorClass error_class, const std::string &message,
            std::optional<std::chrono::milliseconds> retry_after = {})
      : std::runtime_error(message), error_class_(error_class), retry_after_(retry_after) {}
  ErrorClass error_class() const { return error_class_; }
  std::optional<std::chrono::milliseconds> retry_after() const { return retry_after_; }

 private:
  ErrorClass error_class_;
  std::optional<std::chrono::milliseconds> retry_after_;
};

/* What a handler gets: the step, the worker's queue and connection, and a
 * flag the heartbeat raises when the lease is lost. The handler ends the
 * step itself (queue.succeed(), wait_for_approval()...) or throws: a
 * StepError is recorded with its class, any other exception as transient. */
struct StepRun {
  const ClaimedStep &step;
  StepQueue &queue;
  store::Connection &db;
  const std::atomic<bool> &lease_lost;
};

using StepHandler = std::function<void(StepRun &)>;

class WorkerPool {
 public:
  struct Options {
    std::string conninfo;
    std::string owner; /* unique per process: host:pid:random */
    int workers = 2;
    LeaseSettings lease;
    RetryPolicy retry;
    /* Housekeeping on its own connection, every LeaseSettings::poll. */
    std::function<void(store::Connection &)> chores;
  };

  WorkerPool(Options options, std::map<std::string, StepHandler> handlers);
  /* Stops (see stop()). */
  ~WorkerPool();
  WorkerPool(const WorkerPool &) = delete;
  WorkerPool &operator=(const WorkerPool &) = delete;

  void start();
  /* Stops claiming, stops the running handlers (their lease_lost flag is
   * raised), gives their steps back to the queue at once, and joins the
   * threads. */
  void stop();

  /* Steps running here now (for /metrics and tests). */
  int busy() const { return busy_.load(); }
  /* Rescues this daemon performed. */
  std::int64_t rescues() const { return rescues_.load(); }

 private:
  void worker_loop(int index);
  void waker_loop();
  void heartbeat_loop();
  void chores_loop();
  /* Sleeps up to d, returning early when stopping. */
  void pause_for(std::chrono::milliseconds d);
  void run_step(StepRun &run);
  void record_failure(StepRun &run, ErrorClass error_class, const std::string &message,
                      std::optional<std::chrono::milliseconds> retry_after);

  Options options_;
  std::map<std::string, StepHandler> handlers_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> busy_{0};
  std::atomic<std::int64_t> rescues_{0};

  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::uint64_t wake_generation_ = 0;

  struct Lease {
    ClaimedStep step;
    std::atomic<bool> lost{false};
  };
  void stop_running_steps();
  std::mutex leases_mutex_;
  std::map<std::int64_t, std::shared_ptr<Lease>> leases_;
};

/* host:pid:random, naming this process in leases and events. */
std::string make_owner_name();

}  // namespace reelforge::sched
