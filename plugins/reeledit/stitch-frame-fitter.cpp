/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stitch-frame-fitter.h"

#include "stitch-mapped-frame.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace reelforge::stitch {
namespace {

/* The even number nearest value (I420 halves sizes for its chroma). */
gint even(double value) {
  return static_cast<gint>(std::lround(value / 2)) * 2;
}

/* Box blur of every plane of a small frame, in place, a few passes. */
void box_blur(GstVideoFrame &frame, int passes) {
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&frame); ++c) {
    guint8 *data = static_cast<guint8 *>(GST_VIDEO_FRAME_COMP_DATA(&frame, c));
    const gint stride = GST_VIDEO_FRAME_COMP_STRIDE(&frame, c);
    const gint w = GST_VIDEO_FRAME_COMP_WIDTH(&frame, c);
    const gint h = GST_VIDEO_FRAME_COMP_HEIGHT(&frame, c);
    std::vector<guint8> copy(static_cast<std::size_t>(w) * h);
    for (int pass = 0; pass < passes; ++pass) {
      for (gint y = 0; y < h; ++y) std::memcpy(&copy[y * w], data + y * stride, w);
      for (gint y = 0; y < h; ++y) {
        for (gint x = 0; x < w; ++x) {
          guint sum = 0, n = 0;
          for (gint dy = -1; dy <= 1; ++dy)
            for (gint dx = -1; dx <= 1; ++dx) {
              const gint sx = x + dx, sy = y + dy;
              if (sx < 0 || sy < 0 || sx >= w || sy >= h) continue;
              sum += copy[sy * w + sx];
              ++n;
            }
          data[y * stride + x] = static_cast<guint8>((sum + n / 2) / n);
        }
      }
    }
  }
}

}  // namespace

FrameFitter::FrameFitter(const GstVideoInfo &out) : out_(out) {
  small_ = out;
  gst_video_info_set_format(&small_, GST_VIDEO_FORMAT_I420, std::max(2, even(out.width / 16.0)),
                            std::max(2, even(out.height / 16.0)));
}

void FrameFitter::fit(const GstVideoFrame &src, Rect rect, Fit fit, GstVideoFrame &dst) {
  const double par =
      GST_VIDEO_INFO_PAR_D(&src.info) > 0 && GST_VIDEO_INFO_PAR_N(&src.info) > 0
          ? static_cast<double>(GST_VIDEO_INFO_PAR_N(&src.info)) / GST_VIDEO_INFO_PAR_D(&src.info)
          : 1.0;
  const double src_aspect = rect.w * par / rect.h;
  const double dst_aspect = static_cast<double>(out_.width) / out_.height;
  const Rect full_dst{0, 0, out_.width, out_.height};

  /* cover: the centred part of rect with the output's aspect */
  Rect cover = rect;
  if (src_aspect > dst_aspect) {
    cover.w = std::max(1, static_cast<gint>(std::lround(rect.h * dst_aspect / par)));
    cover.x = rect.x + (rect.w - cover.w) / 2;
  } else {
    cover.h = std::max(1, static_cast<gint>(std::lround(rect.w * par / dst_aspect)));
    cover.y = rect.y + (rect.h - cover.h) / 2;
  }
  if (fit == Fit::kCover) {
    main_.convert(src, cover, dst, full_dst, true);
    return;
  }
  /* contain: all of rect, centred, bars around it */
  Rect inner = full_dst;
  if (src_aspect > dst_aspect) {
    inner.h = std::clamp(even(out_.width / src_aspect), 2, out_.height);
    inner.y = even((out_.height - inner.h) / 2.0);
  } else {
    inner.w = std::clamp(even(out_.height * src_aspect), 2, out_.width);
    inner.x = even((out_.width - inner.w) / 2.0);
  }
  if (fit == Fit::kContain) {
    main_.convert(src, rect, dst, inner, true);
    return;
  }
  BufferPtr small = new_frame_buffer(small_);
  {
    MappedFrame small_frame(small_, small.get(), GST_MAP_READWRITE);
    shrink_.convert(src, cover, small_frame.get(), Rect{0, 0, small_.width, small_.height}, true);
    box_blur(small_frame.get(), 3);
    enlarge_.convert(small_frame.get(), Rect{0, 0, small_.width, small_.height}, dst, full_dst,
                     true);
  }
  main_.convert(src, rect, dst, inner, false);
}

}  // namespace reelforge::stitch
