/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The bookkeeping every interval detector shares (black pictures, still
 * pictures, silence): follow a per-frame or per-chunk condition and say when
 * a stretch where it held for at least a minimum duration has ended.
 * Header-only, no GStreamer object involved, so analysers of any media type
 * (and unit tests) can use it as is.
 */
#pragma once

#include <gst/gst.h>

#include <optional>

namespace reelforge {

/* A closed stretch of media [start, end), in buffer timestamps (ns). */
struct TimeInterval {
  GstClockTime start = 0;
  GstClockTime end = 0;

  GstClockTime duration() const { return end - start; }
  bool operator==(const TimeInterval &) const = default;
};

/* Feed it one update() per frame or chunk, in stream order, with whether the
 * condition holds for it and the time it covers. An interval opens at the
 * start of the first chunk where the condition holds and closes at the start
 * of the first chunk where it no longer does; it is returned when it lasted
 * at least min_duration. At the end of a stream (EOS, or a segment change
 * that ends this stretch of timestamps) call finish(): an interval still open
 * closes at the end of the last chunk fed. reset() forgets an open interval
 * without reporting it (flushing seek: its true end is unknown).
 *
 * Not thread-safe: one streaming thread owns it. */
class IntervalTracker {
 public:
  explicit IntervalTracker(GstClockTime min_duration = 0) : min_duration_(min_duration) {}

  void set_min_duration(GstClockTime min_duration) { min_duration_ = min_duration; }
  GstClockTime min_duration() const { return min_duration_; }

  /* One frame or chunk covering [start, end). When active and no interval is
   * open, one opens at start; a caller whose condition is known only in
   * hindsight (a still run starts at the reference frame) passes that
   * earlier start here. Returns the interval an inactive chunk closes, if it
   * lasted at least min_duration. */
  std::optional<TimeInterval> update(bool active, GstClockTime start, GstClockTime end) {
    std::optional<TimeInterval> closed;
    if (active) {
      if (!open_) {
        open_ = true;
        open_start_ = start;
      }
    } else if (open_) {
      open_ = false;
      closed = report(open_start_, start);
    }
    last_end_ = end;
    return closed;
  }

  /* Closes an open interval at the end of the last chunk fed and returns it
   * if it lasted at least min_duration. The tracker is then empty. */
  std::optional<TimeInterval> finish() {
    std::optional<TimeInterval> closed;
    if (open_) closed = report(open_start_, last_end_);
    reset();
    return closed;
  }

  /* Forgets everything, an open interval included, without reporting it. */
  void reset() {
    open_ = false;
    open_start_ = 0;
    last_end_ = 0;
  }

  bool is_open() const { return open_; }
  /* Start of the open interval; meaningful only while is_open(). */
  GstClockTime open_start() const { return open_start_; }

 private:
  /* Timestamps that go backwards (a broken stream, reverse playback) give no
   * interval rather than a negative one. */
  std::optional<TimeInterval> report(GstClockTime start, GstClockTime end) const {
    if (end < start || end - start < min_duration_) return std::nullopt;
    return TimeInterval{start, end};
  }

  GstClockTime min_duration_;
  bool open_ = false;
  GstClockTime open_start_ = 0;
  GstClockTime last_end_ = 0;
};

}  // namespace reelforge
