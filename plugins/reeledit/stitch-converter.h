/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * stitchbin's scaling and cropping: a GstVideoConverter kept for as long as
 * the formats and rectangles it was made for stay the same, so one is made
 * per clip and output size rather than per frame.
 */
#pragma once

#include <gst/video/video.h>

#include <string>

namespace reelforge::stitch {

/* A rectangle of a frame, in pixels. */
struct Rect {
  gint x = 0, y = 0, w = 0, h = 0;
  bool operator==(const Rect &) const = default;
};

/* A GstVideoConverter owned for as long as its formats and rectangles
 * stay the same. */
class Converter {
 public:
  Converter() = default;
  ~Converter() { reset(); }
  Converter(const Converter &) = delete;
  Converter &operator=(const Converter &) = delete;

  /* Scales src_rect of src into dst_rect of dst; fill_border paints the
   * rest of dst black. Throws std::runtime_error for formats it cannot
   * convert. */
  void convert(const GstVideoFrame &src, const Rect &src_rect, GstVideoFrame &dst,
               const Rect &dst_rect, bool fill_border);

 private:
  void reset();

  GstVideoConverter *converter_ = nullptr;
  std::string key_;
  Rect src_rect_, dst_rect_;
};

}  // namespace reelforge::stitch
