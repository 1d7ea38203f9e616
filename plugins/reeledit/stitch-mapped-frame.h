/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * stitchbin's raw video frames: buffers of an output format, and a frame
 * mapped for reading or writing for as long as an object lives.
 */
#pragma once

#include "gst-ptr.h"

#include <gst/video/video.h>

namespace reelforge::stitch {

/* A video frame mapped for as long as the object lives. */
class MappedFrame {
 public:
  /* Throws std::runtime_error when buffer cannot be mapped as info. */
  MappedFrame(const GstVideoInfo &info, GstBuffer *buffer, GstMapFlags flags);
  ~MappedFrame();
  MappedFrame(const MappedFrame &) = delete;
  MappedFrame &operator=(const MappedFrame &) = delete;
  GstVideoFrame &get() { return frame_; }

 private:
  GstVideoFrame frame_{};
};

/* A new buffer the size of one frame of info (contents undefined). */
BufferPtr new_frame_buffer(const GstVideoInfo &info);

/* Paints buffer, a frame of info in a YUV format, black. */
void fill_black(const GstVideoInfo &info, GstBuffer *buffer);

}  // namespace reelforge::stitch
