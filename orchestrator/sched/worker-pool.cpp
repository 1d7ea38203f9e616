/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/worker-pool.h"

#include <glib.h>
#include <unistd.h>

#include <random>

namespace reelforge::sched {

using namespace std::chrono_literals;
using store::Connection;
using store::DatabaseError;

namespace {

constexpr auto kReconnectDelay = 250ms;

}  // namespace

std::string make_owner_name() {
  char host[256] = "host";
  gethostname(host, sizeof host - 1);
  std::random_device random;
  return std::string(host) + ":" + std::to_string(getpid()) + ":" +
         std::to_string(random() % 100000);
}

WorkerPool::WorkerPool(Options options, std::map<std::string, StepHandler> handlers)
    : options_(std::move(options)), handlers_(std::move(handlers)) {}

WorkerPool::~WorkerPool() {
  stop();
}

void WorkerPool::start() {
  stopping_ = false;
  threads_.emplace_back([this] { waker_loop(); });
  threads_.emplace_back([this] { heartbeat_loop(); });
  if (options_.chores) threads_.emplace_back([this] { chores_loop(); });
  for (int i = 0; i < options_.workers; ++i) threads_.emplace_back([this, i] { worker_loop(i); });
}

void WorkerPool::stop_running_steps() {
  std::lock_guard<std::mutex> lock(leases_mutex_);
  for (auto &[id, lease] : leases_) lease->lost = true;
}

void WorkerPool::stop() {
  stopping_ = true;
  stop_running_steps();
  {
    std::lock_guard<std::mutex> lock(wake_mutex_);
    ++wake_generation_;
  }
  wake_.notify_all();
  for (auto &t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

void WorkerPool::pause_for(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock(wake_mutex_);
  wake_.wait_for(lock, d, [this] { return stopping_.load(); });
}

void WorkerPool::run_step(StepRun &run) {
  const auto handler = handlers_.find(run.step.kind);
  try {
    if (handler == handlers_.end())
      throw StepError(ErrorClass::kPermanent,
                      "this reelforge has no step of kind \"" + run.step.kind + "\"");
    handler->second(run);
  } catch (const LeaseLost &e) {
    g_message("%s: step %" G_GINT64_FORMAT " abandoned: %s", options_.owner.c_str(), run.step.id,
              e.what());
  } catch (const DatabaseError &) {
    throw; /* the worker loop reconnects; the lease expires and is rescued */
  } catch (const StepError &e) {
    record_failure(run, e.error_class(), e.what(), e.retry_after());
  } catch (const std::exception &e) {
    record_failure(run, ErrorClass::kTransient, e.what(), std::nullopt);
  }
}

void WorkerPool::record_failure(StepRun &run, ErrorClass error_class, const std::string &message,
                                std::optional<std::chrono::milliseconds> retry_after) {
  g_message("%s: step %" G_GINT64_FORMAT " (%s) attempt %d failed (%s): %s", options_.owner.c_str(),
            run.step.id, run.step.kind.c_str(), run.step.attempt, error_class_name(error_class),
            message.c_str());
  try {
    run.queue.fail(run.step, error_class, message, retry_after);
  } catch (const LeaseLost &) {
    /* Someone else owns the step now; their outcome stands. */
  }
}

void WorkerPool::worker_loop(int index) {
  std::unique_ptr<Connection> db;
  std::unique_ptr<StepQueue> queue;
  const std::string name = options_.owner;
  while (!stopping_) {
    try {
      if (!db) {
        db = std::make_unique<Connection>(options_.conninfo);
        queue = std::make_unique<StepQueue>(*db, name, options_.lease, options_.retry);
      }
      std::uint64_t generation;
      {
        std::lock_guard<std::mutex> lock(wake_mutex_);
        generation = wake_generation_;
      }
      auto step = queue->claim();
      if (!step) {
        std::unique_lock<std::mutex> lock(wake_mutex_);
        wake_.wait_for(lock, options_.lease.poll,
                       [&] { return stopping_.load() || wake_generation_ != generation; });
        continue;
      }
      auto lease = std::make_shared<Lease>();
      lease->step = *step;
      {
        std::lock_guard<std::mutex> lock(leases_mutex_);
        leases_[step->id] = lease;
      }
      ++busy_;
      StepRun run{lease->step, *queue, *db, lease->lost};
      try {
        run_step(run);
      } catch (...) {
        --busy_;
        std::lock_guard<std::mutex> lock(leases_mutex_);
        leases_.erase(step->id);
        throw;
      }
      --busy_;
      {
        std::lock_guard<std::mutex> lock(leases_mutex_);
        leases_.erase(step->id);
      }
      if (stopping_) {
        /* Interrupted by the shutdown, not by a peer: hand the step back
         * now rather than after the lease expires. Fenced: a no-op when
         * the handler had finished it. */
        try {
          queue->release(*step);
          g_message("%s: step %" G_GINT64_FORMAT " given back at shutdown", name.c_str(), step->id);
        } catch (const LeaseLost &) {
        }
      }
    } catch (const DatabaseError &e) {
      if (e.connection_lost() || !db || !db->ok()) {
        g_message("%s: worker %d lost PostgreSQL (%s); reconnecting", name.c_str(), index,
                  e.what());
        queue.reset();
        db.reset();
        pause_for(kReconnectDelay);
      } else {
        /* A deadlock or serialisation failure: the transaction rolled back
         * whole; the step is still ours or will be rescued. */
        g_message("%s: worker %d: %s", name.c_str(), index, e.what());
        pause_for(50ms);
      }
    }
  }
}

void WorkerPool::waker_loop() {
  std::unique_ptr<Connection> db;
  std::unique_ptr<StepQueue> queue;
  auto next_rescue = std::chrono::steady_clock::now();
  while (!stopping_) {
    try {
      if (!db) {
        db = std::make_unique<Connection>(options_.conninfo);
        db->listen(kStepsChannel);
        queue = std::make_unique<StepQueue>(*db, options_.owner, options_.lease, options_.retry);
        /* Something may have become ready while we were away. */
        std::lock_guard<std::mutex> lock(wake_mutex_);
        ++wake_generation_;
        wake_.notify_all();
      }
      const auto woken = db->wait_for_notifications(options_.lease.poll);
      if (!woken.empty()) {
        std::lock_guard<std::mutex> lock(wake_mutex_);
        ++wake_generation_;
        wake_.notify_all();
      }
      if (std::chrono::steady_clock::now() >= next_rescue) {
        const int rescued = queue->rescue_expired();
        if (rescued > 0) {
          rescues_ += rescued;
          g_message("%s: rescued %d step(s) whose lease expired", options_.owner.c_str(), rescued);
        }
        next_rescue = std::chrono::steady_clock::now() + options_.lease.poll;
      }
    } catch (const DatabaseError &e) {
      g_message("%s: waker lost PostgreSQL (%s); reconnecting", options_.owner.c_str(), e.what());
      queue.reset();
      db.reset();
      pause_for(kReconnectDelay);
    }
  }
}

void WorkerPool::chores_loop() {
  std::unique_ptr<Connection> db;
  while (!stopping_) {
    try {
      if (!db) db = std::make_unique<Connection>(options_.conninfo);
      options_.chores(*db);
    } catch (const DatabaseError &e) {
      g_message("%s: chores lost PostgreSQL (%s); reconnecting", options_.owner.c_str(), e.what());
      db.reset();
    } catch (const std::exception &e) {
      g_message("%s: %s", options_.owner.c_str(), e.what());
    }
    pause_for(options_.lease.poll);
  }
}

void WorkerPool::heartbeat_loop() {
  std::unique_ptr<Connection> db;
  std::unique_ptr<StepQueue> queue;
  while (!stopping_) {
    pause_for(options_.lease.heartbeat);
    if (stopping_) break;
    std::vector<std::shared_ptr<Lease>> running;
    {
      std::lock_guard<std::mutex> lock(leases_mutex_);
      for (const auto &[id, lease] : leases_) running.push_back(lease);
    }
    try {
      if (!db) {
        db = std::make_unique<Connection>(options_.conninfo);
        queue = std::make_unique<StepQueue>(*db, options_.owner, options_.lease, options_.retry);
      }
      for (const auto &lease : running)
        if (!lease->lost && !queue->heartbeat(lease->step)) {
          lease->lost = true;
          g_message("%s: lost the lease of step %" G_GINT64_FORMAT, options_.owner.c_str(),
                    lease->step.id);
        }
    } catch (const DatabaseError &e) {
      g_message("%s: heartbeat lost PostgreSQL (%s); reconnecting", options_.owner.c_str(),
                e.what());
      queue.reset();
      db.reset();
    }
  }
}

}  // namespace reelforge::sched
