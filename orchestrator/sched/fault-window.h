/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Named points where a crash is most dangerous, for the crash tests: with
 * REELFORGE_FAULT_WINDOWS set to a comma-separated list of names (or
 * "all"), a step reaching a listed window writes
 *
 *   reelforge: fault window <name> (step <id>)
 *
 * to stderr and then pauses for REELFORGE_FAULT_PAUSE_MS (default 500)
 * milliseconds, so a test that sees the line can SIGKILL the daemon exactly
 * there. Unset (always, outside tests), a window costs one flag check.
 *
 * The windows: after-intent (the intent row committed, the POST not yet
 * sent), after-submit (the provider answered, its id not yet stored),
 * render (a render pipeline running), upload (an upload running).
 */
#pragma once

#include <cstdint>

namespace reelforge::sched {

void fault_window(const char *name, std::int64_t step_id);

}  // namespace reelforge::sched
