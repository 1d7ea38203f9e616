/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/retry-policy.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace reelforge::sched {

const char *error_class_name(ErrorClass error_class) {
  switch (error_class) {
    case ErrorClass::kTransient:
      return "transient";
    case ErrorClass::kRateLimited:
      return "rate-limited";
    case ErrorClass::kPermanent:
      return "permanent";
  }
  return "transient";
}

std::chrono::milliseconds RetryPolicy::delay(
    int attempt, double u, std::optional<std::chrono::milliseconds> retry_after) const {
  const int exponent = std::clamp(attempt - 1, 0, 40);
  const double raw = std::min(static_cast<double>(cap.count()),
                              static_cast<double>(base.count()) * std::ldexp(1.0, exponent));
  const double jittered = raw * (1.0 + jitter * std::clamp(u, -1.0, 1.0));
  auto result = std::chrono::milliseconds(static_cast<long long>(std::max(0.0, jittered)));
  if (retry_after && *retry_after > result) result = *retry_after;
  return result;
}

std::chrono::milliseconds RetryPolicy::delay(
    int attempt, std::optional<std::chrono::milliseconds> retry_after) const {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  std::uniform_real_distribution<double> draw(-1.0, 1.0);
  return delay(attempt, draw(generator), retry_after);
}

}  // namespace reelforge::sched
