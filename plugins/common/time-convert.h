/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Conversions between GstClockTime (ns), seconds, frames and samples. All
 * integer conversions round to nearest through gst_util_uint64_scale_round()
 * so a frame or sample index maps to one exact timestamp and back.
 */
#pragma once

#include <gst/gst.h>

#include <cmath>
#include <string>

namespace reelforge {

constexpr double to_seconds(GstClockTime t) {
  return static_cast<double>(t) / GST_SECOND;
}

inline GstClockTime from_seconds(double seconds) {
  return seconds <= 0.0 ? 0 : static_cast<GstClockTime>(std::llround(seconds * GST_SECOND));
}

/* Start time of frame n at fps_n/fps_d. */
inline GstClockTime frame_to_time(guint64 n, gint fps_n, gint fps_d) {
  return gst_util_uint64_scale_round(n, static_cast<guint64>(fps_d) * GST_SECOND, fps_n);
}

/* Index of the frame that starts nearest to t. */
inline guint64 time_to_frame(GstClockTime t, gint fps_n, gint fps_d) {
  return gst_util_uint64_scale_round(t, fps_n, static_cast<guint64>(fps_d) * GST_SECOND);
}

inline GstClockTime samples_to_time(guint64 samples, gint rate) {
  return gst_util_uint64_scale_round(samples, GST_SECOND, rate);
}

inline guint64 time_to_samples(GstClockTime t, gint rate) {
  return gst_util_uint64_scale_round(t, rate, GST_SECOND);
}

/* "1:02.345" style, for messages a person reads. */
std::string format_time(GstClockTime t);

}  // namespace reelforge
