/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/fault-window.h"

#include <glib.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace reelforge::sched {

namespace {

struct Windows {
  std::string names; /* ",a,b," for whole-name lookups */
  std::chrono::milliseconds pause{500};
};

const Windows &windows() {
  static const Windows configured = [] {
    Windows w;
    if (const char *names = std::getenv("REELFORGE_FAULT_WINDOWS"); names && *names)
      w.names = std::string(",") + names + ",";
    if (const char *ms = std::getenv("REELFORGE_FAULT_PAUSE_MS"))
      w.pause = std::chrono::milliseconds(g_ascii_strtoll(ms, nullptr, 10));
    return w;
  }();
  return configured;
}

}  // namespace

void fault_window(const char *name, std::int64_t step_id) {
  const Windows &w = windows();
  if (w.names.empty()) return;
  if (w.names != ",all," && w.names.find(std::string(",") + name + ",") == std::string::npos)
    return;
  std::fprintf(stderr, "reelforge: fault window %s (step %lld)\n", name,
               static_cast<long long>(step_id));
  std::fflush(stderr);
  std::this_thread::sleep_for(w.pause);
}

}  // namespace reelforge::sched
