/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * stitchbin's fits: how a source picture of any shape fills an output frame
 * (cover, contain or blur-pad).
 */
#pragma once

#include "stitch-converter.h"
#include "stitch-timeline.h"

#include <gst/video/video.h>

namespace reelforge::stitch {

/* Puts a source picture (or a rectangle of it) into an output frame by a
 * clip's fit: cover crops, contain letterboxes, blur-pad letterboxes over a
 * blurred, enlarged copy. */
class FrameFitter {
 public:
  /* out: the output frames' format (I420). */
  explicit FrameFitter(const GstVideoInfo &out);

  /* Writes rect of src into dst, a frame of the output format. */
  void fit(const GstVideoFrame &src, Rect rect, Fit fit, GstVideoFrame &dst);

 private:
  GstVideoInfo out_;
  GstVideoInfo small_;
  Converter main_, shrink_, enlarge_;
};

}  // namespace reelforge::stitch
