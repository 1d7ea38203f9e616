/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stitch-converter.h"

#include <stdexcept>

namespace reelforge::stitch {

void Converter::convert(const GstVideoFrame &src, const Rect &src_rect, GstVideoFrame &dst,
                        const Rect &dst_rect, bool fill_border) {
  const std::string key = std::string(gst_video_format_to_string(GST_VIDEO_FRAME_FORMAT(&src))) +
                          ":" + std::to_string(GST_VIDEO_FRAME_WIDTH(&src)) + "x" +
                          std::to_string(GST_VIDEO_FRAME_HEIGHT(&src)) + ":" +
                          std::to_string(GST_VIDEO_FRAME_WIDTH(&dst)) + "x" +
                          std::to_string(GST_VIDEO_FRAME_HEIGHT(&dst)) +
                          (fill_border ? ":fill" : ":keep");
  if (converter_ == nullptr || key != key_ || !(src_rect == src_rect_) ||
      !(dst_rect == dst_rect_)) {
    reset();
    GstStructure *config = gst_structure_new(
        "GstVideoConverter", GST_VIDEO_CONVERTER_OPT_SRC_X, G_TYPE_INT, src_rect.x,
        GST_VIDEO_CONVERTER_OPT_SRC_Y, G_TYPE_INT, src_rect.y, GST_VIDEO_CONVERTER_OPT_SRC_WIDTH,
        G_TYPE_INT, src_rect.w, GST_VIDEO_CONVERTER_OPT_SRC_HEIGHT, G_TYPE_INT, src_rect.h,
        GST_VIDEO_CONVERTER_OPT_DEST_X, G_TYPE_INT, dst_rect.x, GST_VIDEO_CONVERTER_OPT_DEST_Y,
        G_TYPE_INT, dst_rect.y, GST_VIDEO_CONVERTER_OPT_DEST_WIDTH, G_TYPE_INT, dst_rect.w,
        GST_VIDEO_CONVERTER_OPT_DEST_HEIGHT, G_TYPE_INT, dst_rect.h,
        GST_VIDEO_CONVERTER_OPT_FILL_BORDER, G_TYPE_BOOLEAN, fill_border,
        GST_VIDEO_CONVERTER_OPT_BORDER_ARGB, G_TYPE_UINT, 0xff000000u,
        GST_VIDEO_CONVERTER_OPT_DITHER_METHOD, GST_TYPE_VIDEO_DITHER_METHOD, GST_VIDEO_DITHER_NONE,
        GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD, GST_TYPE_VIDEO_RESAMPLER_METHOD,
        GST_VIDEO_RESAMPLER_METHOD_LINEAR, nullptr);
    /* The converter neither changes rates nor deinterlaces: say both
     * sides match (the frame chosen for each output time is ours). */
    GstVideoInfo in = src.info, out = dst.info;
    GST_VIDEO_INFO_FPS_N(&in) = GST_VIDEO_INFO_FPS_N(&out) = 0;
    GST_VIDEO_INFO_FPS_D(&in) = GST_VIDEO_INFO_FPS_D(&out) = 1;
    GST_VIDEO_INFO_INTERLACE_MODE(&in) = GST_VIDEO_INFO_INTERLACE_MODE(&out);
    converter_ = gst_video_converter_new(&in, &out, config);
    if (converter_ == nullptr)
      throw std::runtime_error("cannot convert " + key + " to the output format");
    key_ = key;
    src_rect_ = src_rect;
    dst_rect_ = dst_rect;
  }
  gst_video_converter_frame(converter_, &src, &dst);
}

void Converter::reset() {
  if (converter_ != nullptr) gst_video_converter_free(converter_);
  converter_ = nullptr;
}

}  // namespace reelforge::stitch
