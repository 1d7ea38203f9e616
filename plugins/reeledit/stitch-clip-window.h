/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Which of stitchbin's clips one output stream holds open as it walks the
 * timeline: a clip is acquired OPEN_AHEAD before its first frame (so it has
 * prerolled when needed) and released after its last, so only about three
 * clips are open at once whatever the number of clips.
 */
#pragma once

#include "stitch-clip-source.h"
#include "stitch-timeline.h"

#include <gst/gst.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

namespace reelforge::stitch {

/* Which clips a stream holds open: those from `first` on whose window
 * (OPEN_AHEAD before their start to their end) contains position. */
class ClipWindow {
 public:
  /* acquire(index) opens clip index for this stream (or shares the other
   * stream's); release(index) says this stream is done with it. */
  using Acquire = std::function<std::shared_ptr<ClipSource>(std::size_t index)>;
  using Release = std::function<void(std::size_t index)>;

  ClipWindow(const Timeline &timeline, Acquire acquire, Release release);

  /* Opens and releases clips for output time t; returns the indices of
   * the clips that cover t (one, or two in a transition). */
  std::vector<std::size_t> advance(GstClockTime t);

  ClipSource &clip(std::size_t index) { return *clips_.at(index); }

  /* Releases everything still held (at the end, or when stopping). */
  void release_all();

 private:
  const Timeline &timeline_;
  Acquire acquire_;
  Release release_;
  std::size_t first_ = 0;                          /* clips before it are released */
  std::size_t acquired_ = 0;                       /* clips before it were acquired */
  std::vector<std::shared_ptr<ClipSource>> clips_; /* by index from 0 */
};

}  // namespace reelforge::stitch
