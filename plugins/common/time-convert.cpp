/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "time-convert.h"

#include <cstdio>

namespace reelforge {

std::string format_time(GstClockTime t) {
  if (!GST_CLOCK_TIME_IS_VALID(t)) return "--:--";
  const guint64 ms = (t + GST_MSECOND / 2) / GST_MSECOND;
  const guint64 minutes = ms / 60000;
  const guint64 millis = ms % 60000;
  char text[32];
  std::snprintf(text, sizeof text, "%" G_GUINT64_FORMAT ":%02u.%03u", minutes,
                static_cast<unsigned>(millis / 1000), static_cast<unsigned>(millis % 1000));
  return text;
}

}  // namespace reelforge
