/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stitch-title-card.h"

#include "stitch-converter.h"
#include "stitch-mapped-frame.h"

#include <pango/pangocairo.h>

#include <algorithm>
#include <cstring>
#include <utility>

namespace reelforge::stitch {

BufferPtr render_card(const Card &card, const GstVideoInfo &out) {
  const gint w = out.width, h = out.height;
  cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_t *cr = cairo_create(surface);
  const auto channel = [](guint32 rgb, int shift) { return ((rgb >> shift) & 0xff) / 255.0; };
  cairo_pattern_t *pattern = cairo_pattern_create_linear(0, 0, 0, h);
  for (auto [offset, rgb] : {std::pair{0.0, card.background_top}, {1.0, card.background_bottom}})
    cairo_pattern_add_color_stop_rgb(pattern, offset, channel(rgb, 16), channel(rgb, 8),
                                     channel(rgb, 0));
  cairo_set_source(cr, pattern);
  cairo_paint(cr);
  cairo_pattern_destroy(pattern);

  if (!card.text.empty()) {
    PangoLayout *layout = pango_cairo_create_layout(cr);
    PangoFontDescription *font =
        pango_font_description_from_string(card.font.empty() ? "Sans Bold" : card.font.c_str());
    if (pango_font_description_get_size(font) == 0)
      pango_font_description_set_absolute_size(font, std::max(8, w / 12) * PANGO_SCALE);
    pango_layout_set_font_description(layout, font);
    pango_font_description_free(font);
    pango_layout_set_width(layout, static_cast<int>(w * 0.85) * PANGO_SCALE);
    pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(layout, PANGO_ALIGN_CENTER);
    pango_layout_set_text(layout, card.text.c_str(), -1);
    int text_w = 0, text_h = 0;
    pango_layout_get_pixel_size(layout, &text_w, &text_h);
    cairo_set_source_rgb(cr, channel(card.color, 16), channel(card.color, 8),
                         channel(card.color, 0));
    cairo_move_to(cr, (w - w * 0.85) / 2, (h - text_h) / 2.0);
    pango_cairo_show_layout(cr, layout);
    g_object_unref(layout);
  }
  cairo_destroy(cr);
  cairo_surface_flush(surface);

  GstVideoInfo bgrx;
  gst_video_info_set_format(&bgrx, GST_VIDEO_FORMAT_BGRx, w, h);
  const gint stride = cairo_image_surface_get_stride(surface);
  BufferPtr picture = new_frame_buffer(bgrx);
  {
    MappedFrame frame(bgrx, picture.get(), GST_MAP_WRITE);
    const guint8 *pixels = cairo_image_surface_get_data(surface);
    guint8 *data = static_cast<guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(&frame.get(), 0));
    for (gint y = 0; y < h; ++y)
      std::memcpy(data + y * GST_VIDEO_FRAME_PLANE_STRIDE(&frame.get(), 0), pixels + y * stride,
                  static_cast<std::size_t>(w) * 4);
  }
  cairo_surface_destroy(surface);

  BufferPtr result = new_frame_buffer(out);
  MappedFrame src(bgrx, picture.get(), GST_MAP_READ);
  MappedFrame dst(out, result.get(), GST_MAP_WRITE);
  Converter converter;
  converter.convert(src.get(), Rect{0, 0, w, h}, dst.get(), Rect{0, 0, w, h}, true);
  return result;
}

}  // namespace reelforge::stitch
