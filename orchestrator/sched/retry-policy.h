/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * When a failed step runs again. Errors come in classes (as genvideosrc
 * reports them): transient (network, 5xx, a crashed pipeline) and
 * rate-limited (429) are retried; permanent (bad input, 4xx, content
 * refused) is not.
 *
 * The delay before attempt n+1, after attempt n failed (n >= 1), is
 *
 *   delay(n) = min(cap, base * 2^(n-1)) * (1 + jitter * u),  u uniform in [-1, 1]
 *
 * and never less than the provider's Retry-After when it gave one. With the
 * defaults (base 2 s, cap 5 min, jitter 0.2, 6 attempts): about 2, 4, 8, 16,
 * 32 s, so a step gives up about a minute after its first failure. The
 * jitter spreads peers that failed together (a provider outage) so they do
 * not retry in lockstep. When the attempts are exhausted the job is paused,
 * not failed: a person can resume it.
 */
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace reelforge::sched {

enum class ErrorClass { kTransient, kRateLimited, kPermanent };

const char *error_class_name(ErrorClass error_class);

struct RetryPolicy {
  std::chrono::milliseconds base{2000};
  std::chrono::milliseconds cap{300000};
  double jitter = 0.2;
  int max_attempts = 6;

  /* The delay after failed attempt n (1-based); u in [-1, 1] is the jitter
   * draw, passed in so tests can pin it. */
  std::chrono::milliseconds delay(int attempt, double u,
                                  std::optional<std::chrono::milliseconds> retry_after = {}) const;
  /* delay() with a random u. */
  std::chrono::milliseconds delay(int attempt,
                                  std::optional<std::chrono::milliseconds> retry_after = {}) const;
};

}  // namespace reelforge::sched
