/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stitch-clip-window.h"

#include <utility>

namespace reelforge::stitch {
namespace {

/* A clip is opened this long (output time) before its first frame. */
constexpr GstClockTime OPEN_AHEAD = GST_SECOND;

}  // namespace

ClipWindow::ClipWindow(const Timeline &timeline, Acquire acquire, Release release)
    : timeline_(timeline), acquire_(std::move(acquire)), release_(std::move(release)) {}

std::vector<std::size_t> ClipWindow::advance(GstClockTime t) {
  const Timeline &timeline = timeline_;
  while (first_ < timeline.clips.size() &&
         timeline.frame_time(timeline.clips[first_].end_frame()) <= t) {
    if (first_ < acquired_) {
      release_(first_);
      clips_[first_].reset(); /* its last frame goes with it */
    }
    ++first_;
  }
  while (acquired_ < timeline.clips.size() &&
         timeline.frame_time(timeline.clips[acquired_].start_frame) <= t + OPEN_AHEAD) {
    clips_.push_back(acquire_(acquired_));
    ++acquired_;
  }
  std::vector<std::size_t> active;
  for (std::size_t i = first_; i < acquired_; ++i)
    if (timeline.frame_time(timeline.clips[i].start_frame) <= t &&
        t < timeline.frame_time(timeline.clips[i].end_frame()))
      active.push_back(i);
  return active;
}

void ClipWindow::release_all() {
  for (std::size_t i = first_; i < acquired_; ++i) release_(i);
  first_ = acquired_;
  clips_.clear();
}

}  // namespace reelforge::stitch
