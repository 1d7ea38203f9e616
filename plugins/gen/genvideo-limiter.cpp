/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "genvideo-limiter.h"

#include <condition_variable>
#include <map>
#include <mutex>

namespace reelforge::gen {

namespace {

using Clock = std::chrono::steady_clock;

struct ProviderState {
  int in_flight = 0;
  Clock::time_point next_start{};
};

struct Limits {
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, ProviderState> providers;
};

Limits &limits() {
  static Limits *instance = new Limits; /* never destroyed: elements may outlive main() */
  return *instance;
}

void wake_waiters(GCancellable *, gpointer) {
  Limits &l = limits();
  std::lock_guard lock(l.mutex);
  l.changed.notify_all();
}

}  // namespace

ProviderSlot::~ProviderSlot() {
  if (provider_.empty()) return;
  Limits &l = limits();
  {
    std::lock_guard lock(l.mutex);
    --l.providers[provider_].in_flight;
  }
  l.changed.notify_all();
}

ProviderSlot acquire_provider_slot(const std::string &provider, int max_concurrent,
                                   std::chrono::milliseconds stagger, http::HttpClient &client) {
  Limits &l = limits();
  /* Connected before taking the lock: the handler runs at once if the
   * cancellable is already cancelled, and takes the lock itself. */
  const gulong handler =
      g_cancellable_connect(client.cancellable(), G_CALLBACK(wake_waiters), nullptr, nullptr);
  Clock::time_point start;
  {
    std::unique_lock lock(l.mutex);
    ProviderState &state = l.providers[provider];
    l.changed.wait(
        lock, [&] { return client.cancelled() || state.in_flight < std::max(1, max_concurrent); });
    if (!client.cancelled()) {
      ++state.in_flight;
      start = std::max(Clock::now(), state.next_start);
      state.next_start = start + stagger;
    }
  }
  g_cancellable_disconnect(client.cancellable(), handler);
  if (client.cancelled()) throw http::Cancelled();
  ProviderSlot slot(provider);
  const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(start - Clock::now());
  if (wait.count() > 0) client.wait(wait); /* the slot is released if this throws */
  return slot;
}

int provider_jobs_in_flight(const std::string &provider) {
  Limits &l = limits();
  std::lock_guard lock(l.mutex);
  auto it = l.providers.find(provider);
  return it == l.providers.end() ? 0 : it->second.in_flight;
}

}  // namespace reelforge::gen
