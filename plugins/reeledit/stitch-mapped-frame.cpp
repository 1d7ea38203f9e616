/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stitch-mapped-frame.h"

#include <cstring>
#include <stdexcept>

namespace reelforge::stitch {

MappedFrame::MappedFrame(const GstVideoInfo &info, GstBuffer *buffer, GstMapFlags flags) {
  if (!gst_video_frame_map(&frame_, const_cast<GstVideoInfo *>(&info), buffer, flags))
    throw std::runtime_error("cannot map a video frame");
}

MappedFrame::~MappedFrame() {
  gst_video_frame_unmap(&frame_);
}

BufferPtr new_frame_buffer(const GstVideoInfo &info) {
  return BufferPtr(gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr));
}

void fill_black(const GstVideoInfo &info, GstBuffer *buffer) {
  MappedFrame frame(info, buffer, GST_MAP_WRITE);
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&frame.get()); ++c) {
    guint8 *data = static_cast<guint8 *>(GST_VIDEO_FRAME_COMP_DATA(&frame.get(), c));
    const gint stride = GST_VIDEO_FRAME_COMP_STRIDE(&frame.get(), c);
    for (gint y = 0; y < GST_VIDEO_FRAME_COMP_HEIGHT(&frame.get(), c); ++y)
      std::memset(data + y * stride, c == 0 ? 16 : 128,
                  GST_VIDEO_FRAME_COMP_WIDTH(&frame.get(), c));
  }
}

}  // namespace reelforge::stitch
