/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "caption-renderer.h"

#include <gst/video/video.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

namespace reelforge::captions {

namespace {

struct FontDescriptionDeleter {
  void operator()(PangoFontDescription *d) const noexcept { pango_font_description_free(d); }
};
struct AttrListDeleter {
  void operator()(PangoAttrList *l) const noexcept { pango_attr_list_unref(l); }
};
struct CairoDeleter {
  void operator()(cairo_t *cr) const noexcept { cairo_destroy(cr); }
};
struct FontOptionsDeleter {
  void operator()(cairo_font_options_t *o) const noexcept { cairo_font_options_destroy(o); }
};
using CairoPtr = std::unique_ptr<cairo_t, CairoDeleter>;

/* Blur is three box passes of this radius: close to a Gaussian, and its
 * reach (3 x radius) is exact, so margins can hold it. */
int blur_radius(double blur) {
  return blur > 0 ? static_cast<int>(std::ceil(blur / 3)) : 0;
}

/* Pixels each side of the text block (glyph ink and logical extents) that
 * stroke, box and shadow may cover. */
struct Margins {
  int left = 0, top = 0, right = 0, bottom = 0;
};

Margins text_margins(const TextStyle &s) {
  const double m = s.stroke.width;
  const double p = s.box.enabled ? s.box.padding : 0;
  double l = m + p, r = m + p, t = m + p, b = m + p;
  if (s.shadow.enabled) {
    const double spread = 3 * blur_radius(s.shadow.blur);
    l = std::max(l, m + spread - s.shadow.dx);
    r = std::max(r, m + spread + s.shadow.dx);
    t = std::max(t, m + spread - s.shadow.dy);
    b = std::max(b, m + spread + s.shadow.dy);
  }
  auto up = [](double v) { return static_cast<int>(std::ceil(std::max(v, 0.0))); };
  return {up(l), up(t), up(r), up(b)};
}

/* The rest position of a w x h item anchored in area, kept inside it. */
std::pair<int, int> place(const TextStyle &s, int w, int h, const Rect &area) {
  int x = 0, y = 0;
  switch (s.anchor.horizontal) {
    case HAnchor::kLeft:
      x = area.x;
      break;
    case HAnchor::kCenter:
      x = area.x + (area.width - w) / 2;
      break;
    case HAnchor::kRight:
      x = area.right() - w;
      break;
  }
  switch (s.anchor.vertical) {
    case VAnchor::kTop:
      y = area.y;
      break;
    case VAnchor::kCenter:
      y = area.y + (area.height - h) / 2;
      break;
    case VAnchor::kBottom:
      y = area.bottom() - h;
      break;
  }
  x += static_cast<int>(std::lround(s.x));
  y += static_cast<int>(std::lround(s.y));
  return {std::clamp(x, area.x, area.right() - w), std::clamp(y, area.y, area.bottom() - h)};
}

/* A zeroed premultiplied ARGB buffer with its video meta, and a cairo
 * surface drawing straight into it while mapped. */
class SpriteCanvas {
 public:
  SpriteCanvas(int width, int height) : width_(width), height_(height) {
    stride_ = cairo_format_stride_for_width(CAIRO_FORMAT_ARGB32, width);
    buffer_.reset(gst_buffer_new_allocate(nullptr, static_cast<gsize>(stride_) * height, nullptr));
    if (!buffer_ || !gst_buffer_map(buffer_.get(), &map_, GST_MAP_WRITE)) throw std::bad_alloc();
    std::memset(map_.data, 0, map_.size);
    surface_.reset(cairo_image_surface_create_for_data(map_.data, CAIRO_FORMAT_ARGB32, width,
                                                       height, stride_));
    cr_.reset(cairo_create(surface_.get()));
  }
  ~SpriteCanvas() {
    cr_.reset();
    surface_.reset();
    if (buffer_) gst_buffer_unmap(buffer_.get(), &map_);
  }
  SpriteCanvas(const SpriteCanvas &) = delete;
  SpriteCanvas &operator=(const SpriteCanvas &) = delete;

  cairo_t *cr() { return cr_.get(); }

  Sprite finish(int x, int y) {
    cr_.reset();
    cairo_surface_flush(surface_.get());
    surface_.reset();
    gst_buffer_unmap(buffer_.get(), &map_);
    gsize offset[GST_VIDEO_MAX_PLANES] = {0};
    gint stride[GST_VIDEO_MAX_PLANES] = {stride_};
    gst_buffer_add_video_meta_full(buffer_.get(), GST_VIDEO_FRAME_FLAG_NONE,
                                   GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, width_, height_, 1,
                                   offset, stride);
    Sprite sprite;
    sprite.pixels = std::move(buffer_);
    sprite.width = width_;
    sprite.height = height_;
    sprite.x = x;
    sprite.y = y;
    return sprite;
  }

 private:
  int width_, height_, stride_ = 0;
  BufferPtr buffer_;
  GstMapInfo map_{};
  SurfacePtr surface_;
  CairoPtr cr_;
};

void set_colour(cairo_t *cr, const Colour &c) {
  cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a);
}

void rounded_rectangle(cairo_t *cr, double x, double y, double w, double h, double r) {
  r = std::min({r, w / 2, h / 2});
  if (r <= 0) {
    cairo_rectangle(cr, x, y, w, h);
    return;
  }
  cairo_new_sub_path(cr);
  cairo_arc(cr, x + w - r, y + r, r, -G_PI / 2, 0);
  cairo_arc(cr, x + w - r, y + h - r, r, 0, G_PI / 2);
  cairo_arc(cr, x + r, y + h - r, r, G_PI / 2, G_PI);
  cairo_arc(cr, x + r, y + r, r, G_PI, 3 * G_PI / 2);
  cairo_close_path(cr);
}

/* One box-blur pass over n samples spaced step bytes apart, per channel. */
void box_blur_line(guint8 *data, int n, int step, int radius, std::vector<int> &scratch) {
  scratch.assign(static_cast<std::size_t>(n) * 4, 0);
  const int window = 2 * radius + 1;
  for (int c = 0; c < 4; ++c) {
    int sum = 0;
    for (int i = 0; i <= std::min(radius, n - 1); ++i) sum += data[i * step + c];
    for (int i = 0; i < n; ++i) {
      scratch[static_cast<std::size_t>(i) * 4 + c] = sum / window;
      const int add = i + radius + 1, remove = i - radius;
      if (add < n) sum += data[add * step + c];
      if (remove >= 0) sum -= data[remove * step + c];
    }
  }
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < 4; ++c)
      data[i * step + c] = static_cast<guint8>(scratch[static_cast<std::size_t>(i) * 4 + c]);
}

void blur_surface(cairo_surface_t *surface, int radius) {
  cairo_surface_flush(surface);
  guint8 *data = cairo_image_surface_get_data(surface);
  const int w = cairo_image_surface_get_width(surface);
  const int h = cairo_image_surface_get_height(surface);
  const int stride = cairo_image_surface_get_stride(surface);
  std::vector<int> scratch;
  for (int pass = 0; pass < 3; ++pass) {
    for (int y = 0; y < h; ++y)
      box_blur_line(data + static_cast<std::ptrdiff_t>(y) * stride, w, 4, radius, scratch);
    for (int x = 0; x < w; ++x)
      box_blur_line(data + static_cast<std::ptrdiff_t>(x) * 4, h, stride, radius, scratch);
  }
  cairo_surface_mark_dirty(surface);
}

PangoAlignment pango_alignment(TextAlign align) {
  switch (align) {
    case TextAlign::kLeft:
      return PANGO_ALIGN_LEFT;
    case TextAlign::kRight:
      return PANGO_ALIGN_RIGHT;
    case TextAlign::kCenter:
      break;
  }
  return PANGO_ALIGN_CENTER;
}

guint16 to_u16(double v) {
  return static_cast<guint16>(std::lround(std::clamp(v, 0.0, 1.0) * 65535));
}

/* The laid-out text and the pixel box holding both its ink and logical
 * extents, relative to the layout's origin. */
struct TextBlock {
  GObjectPtr<PangoLayout> layout;
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int width() const { return x1 - x0; }
  int height() const { return y1 - y0; }
};

GObjectPtr<PangoContext> new_context() {
  GObjectPtr<PangoContext> context(
      pango_font_map_create_context(pango_cairo_font_map_get_default()));
  /* Fixed options, so measuring and drawing agree whatever the surface. */
  std::unique_ptr<cairo_font_options_t, FontOptionsDeleter> options(cairo_font_options_create());
  cairo_font_options_set_antialias(options.get(), CAIRO_ANTIALIAS_GRAY);
  cairo_font_options_set_hint_style(options.get(), CAIRO_HINT_STYLE_NONE);
  cairo_font_options_set_hint_metrics(options.get(), CAIRO_HINT_METRICS_OFF);
  pango_cairo_context_set_font_options(context.get(), options.get());
  return context;
}

TextBlock lay_out(PangoContext *context, const Cue &cue, double size, int wrap_width,
                  int highlight_word) {
  TextBlock block;
  block.layout.reset(pango_layout_new(context));
  PangoLayout *layout = block.layout.get();
  std::unique_ptr<PangoFontDescription, FontDescriptionDeleter> font(
      pango_font_description_from_string(cue.style.font.c_str()));
  pango_font_description_set_absolute_size(font.get(), size * PANGO_SCALE);
  pango_layout_set_font_description(layout, font.get());
  pango_layout_set_width(layout, std::max(wrap_width, 1) * PANGO_SCALE);
  pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_alignment(layout, pango_alignment(cue.style.align));

  /* Invalid markup is shown as plain text (pango_layout_set_markup() would
   * only warn). */
  bool markup =
      cue.markup && pango_parse_markup(cue.text.c_str(), -1, 0, nullptr, nullptr, nullptr, nullptr);
  if (markup) {
    pango_layout_set_markup(layout, cue.text.c_str(), -1);
  } else {
    pango_layout_set_text(layout, cue.text.c_str(), -1);
  }
  if (!markup && highlight_word >= 0 &&
      static_cast<std::size_t>(highlight_word) < cue.words.size()) {
    const Word &word = cue.words[static_cast<std::size_t>(highlight_word)];
    const Colour &c = cue.style.highlight_colour;
    std::unique_ptr<PangoAttrList, AttrListDeleter> attrs(pango_attr_list_new());
    PangoAttribute *fg = pango_attr_foreground_new(to_u16(c.r), to_u16(c.g), to_u16(c.b));
    fg->start_index = static_cast<guint>(word.byte_start);
    fg->end_index = static_cast<guint>(word.byte_end);
    pango_attr_list_insert(attrs.get(), fg);
    PangoAttribute *alpha = pango_attr_foreground_alpha_new(std::max<guint16>(to_u16(c.a), 1));
    alpha->start_index = fg->start_index;
    alpha->end_index = fg->end_index;
    pango_attr_list_insert(attrs.get(), alpha);
    pango_layout_set_attributes(layout, attrs.get());
  }

  PangoRectangle ink, logical;
  pango_layout_get_pixel_extents(layout, &ink, &logical);
  block.x0 = std::min(ink.x, logical.x);
  block.y0 = std::min(ink.y, logical.y);
  block.x1 = std::max(ink.x + ink.width, logical.x + logical.width);
  block.y1 = std::max(ink.y + ink.height, logical.y + logical.height);
  return block;
}

void draw_text_path(cairo_t *cr, PangoLayout *layout, double x, double y) {
  cairo_move_to(cr, x, y);
  pango_cairo_layout_path(cr, layout);
}

}  // namespace

/* Clips cr to where the first fraction reveal of layout's characters are
 * drawn at (ox, oy), grown by margins for stroke and shadow: whole lines
 * before the one being typed, and that line up to the next character. */
void clip_to_revealed(cairo_t *cr, PangoLayout *layout, double ox, double oy, double reveal,
                      const Margins &margins) {
  const char *text = pango_layout_get_text(layout);
  const glong shown = shown_characters(g_utf8_strlen(text, -1), reveal);
  const int end = static_cast<int>(g_utf8_offset_to_pointer(text, shown) - text);
  PangoLayoutIter *iter = pango_layout_get_iter(layout);
  do {
    PangoLayoutLine *line = pango_layout_iter_get_line_readonly(iter);
    if (line->start_index >= end) break;
    PangoRectangle logical;
    pango_layout_iter_get_line_extents(iter, nullptr, &logical);
    double right = pango_units_to_double(logical.x + logical.width) + margins.right;
    if (end < line->start_index + line->length) {
      PangoRectangle next;
      pango_layout_index_to_pos(layout, end, &next);
      right = pango_units_to_double(std::min(next.x, next.x + next.width));
    }
    const double left = pango_units_to_double(logical.x) - margins.left;
    const double top = pango_units_to_double(logical.y) - margins.top;
    const double bottom = pango_units_to_double(logical.y + logical.height) + margins.bottom;
    cairo_rectangle(cr, ox + left, oy + top, right - left, bottom - top);
  } while (pango_layout_iter_next_line(iter));
  pango_layout_iter_free(iter);
  cairo_clip(cr);
}

long text_characters(const Cue &cue) {
  if (!cue.markup) return g_utf8_strlen(cue.text.c_str(), -1);
  gchar *plain = nullptr;
  if (!pango_parse_markup(cue.text.c_str(), -1, 0, nullptr, &plain, nullptr, nullptr))
    return g_utf8_strlen(cue.text.c_str(), -1);
  const long characters = g_utf8_strlen(plain, -1);
  g_free(plain);
  return characters;
}

long shown_characters(long characters, double reveal) {
  return static_cast<long>(std::floor(std::clamp(reveal, 0.0, 1.0) * characters + 0.5));
}

Sprite render_text(const Cue &cue, const Rect &area, int highlight_word, double reveal) {
  const TextStyle &s = cue.style;
  const Margins margins = text_margins(s);
  const int usable_width = static_cast<int>(std::floor(area.width * s.max_width));
  const int wrap_width = usable_width - margins.left - margins.right;
  const int max_height = area.height - margins.top - margins.bottom;
  if (wrap_width < 1 || max_height < 1) {
    throw CueError(cue.pointer + ": does not fit the safe zone: stroke, shadow and box need " +
                   std::to_string(margins.left + margins.right) + "x" +
                   std::to_string(margins.top + margins.bottom) + " px of a " +
                   std::to_string(usable_width) + "x" + std::to_string(area.height) + " px area");
  }

  auto context = new_context();
  const double min_size = s.min_size > 0 ? s.min_size : s.size;
  const double step = std::max(1.0, s.size * 0.05);
  double size = s.size;
  TextBlock block = lay_out(context.get(), cue, size, wrap_width, highlight_word);
  while (block.width() > wrap_width || block.height() > max_height) {
    if (size <= min_size) {
      throw CueError(cue.pointer + ": does not fit the safe zone: " +
                     std::to_string(block.width()) + "x" + std::to_string(block.height()) +
                     " px at font size " + std::to_string(static_cast<int>(size)) + " px, " +
                     std::to_string(wrap_width) + "x" + std::to_string(max_height) +
                     " px available (shorten the text, lower style/min_size or widen "
                     "style/max_width)");
    }
    size = std::max(min_size, size - step);
    block = lay_out(context.get(), cue, size, wrap_width, highlight_word);
  }

  const int width = margins.left + block.width() + margins.right;
  const int height = margins.top + block.height() + margins.bottom;
  const auto [x, y] = place(s, width, height, area);
  /* Layout origin on the sprite. */
  const double ox = margins.left - block.x0;
  const double oy = margins.top - block.y0;
  const double m = s.stroke.width;
  PangoLayout *layout = block.layout.get();

  SpriteCanvas canvas(width, height);
  cairo_t *cr = canvas.cr();
  if (s.box.enabled) {
    const double grow = m + s.box.padding;
    rounded_rectangle(cr, ox + block.x0 - grow, oy + block.y0 - grow, block.width() + 2 * grow,
                      block.height() + 2 * grow, s.box.radius);
    set_colour(cr, s.box.colour);
    cairo_fill(cr);
  }
  if (reveal < 1) clip_to_revealed(cr, layout, ox, oy, reveal, margins);
  if (s.shadow.enabled) {
    SurfacePtr shadow(cairo_image_surface_create(CAIRO_FORMAT_ARGB32, width, height));
    {
      CairoPtr scr(cairo_create(shadow.get()));
      draw_text_path(scr.get(), layout, ox + s.shadow.dx, oy + s.shadow.dy);
      set_colour(scr.get(), s.shadow.colour);
      if (m > 0) {
        cairo_fill_preserve(scr.get());
        cairo_set_line_width(scr.get(), 2 * m);
        cairo_set_line_join(scr.get(), CAIRO_LINE_JOIN_ROUND);
        cairo_stroke(scr.get());
      } else {
        cairo_fill(scr.get());
      }
    }
    if (const int radius = blur_radius(s.shadow.blur); radius > 0)
      blur_surface(shadow.get(), radius);
    cairo_set_source_surface(cr, shadow.get(), 0, 0);
    cairo_paint(cr);
  }
  if (m > 0) {
    draw_text_path(cr, layout, ox, oy);
    cairo_set_line_width(cr, 2 * m);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    set_colour(cr, s.stroke.colour);
    cairo_stroke(cr);
  }
  cairo_move_to(cr, ox, oy);
  set_colour(cr, s.colour);
  pango_cairo_show_layout(cr, layout);
  return canvas.finish(x, y);
}

SurfacePtr load_png(const Cue &cue) {
  SurfacePtr image(cairo_image_surface_create_from_png(cue.image_path.c_str()));
  const cairo_status_t status = cairo_surface_status(image.get());
  if (status != CAIRO_STATUS_SUCCESS) {
    throw CueError(cue.pointer + "/image: cannot read \"" + cue.image_path +
                   "\" as PNG: " + cairo_status_to_string(status));
  }
  return image;
}

Sprite render_image(const Cue &cue, cairo_surface_t *image, const Rect &area) {
  const int iw = cairo_image_surface_get_width(image);
  const int ih = cairo_image_surface_get_height(image);
  const int width = std::max(1, static_cast<int>(std::lround(iw * cue.scale)));
  const int height = std::max(1, static_cast<int>(std::lround(ih * cue.scale)));
  if (width > area.width || height > area.height) {
    throw CueError(cue.pointer + ": does not fit the safe zone: the image is " +
                   std::to_string(width) + "x" + std::to_string(height) + " px after scale, " +
                   std::to_string(area.width) + "x" + std::to_string(area.height) +
                   " px available (lower scale)");
  }
  const auto [x, y] = place(cue.style, width, height, area);
  SpriteCanvas canvas(width, height);
  cairo_t *cr = canvas.cr();
  cairo_scale(cr, static_cast<double>(width) / iw, static_cast<double>(height) / ih);
  cairo_set_source_surface(cr, image, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_GOOD);
  /* The edge pixels are repeated while filtering, so a scaled image keeps
   * hard, fully opaque edges instead of fading into transparency. */
  cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
  cairo_paint_with_alpha(cr, cue.opacity);
  return canvas.finish(x, y);
}

Rect animated_rect(const Sprite &sprite, const AnimationState &state, const Rect &area) {
  Rect r;
  r.width = std::max(1, static_cast<int>(std::lround(sprite.width * state.scale)));
  r.height = std::max(1, static_cast<int>(std::lround(sprite.height * state.scale)));
  r.x = sprite.x + (sprite.width - r.width) / 2;
  /* Slides by half its height (up, or down when rise < 0), never out of
   * the area. */
  r.y = sprite.y + (sprite.height - r.height) / 2 +
        static_cast<int>(std::lround(state.rise * sprite.height * 0.5));
  r.x = std::clamp(r.x, area.x, std::max(area.x, area.right() - r.width));
  r.y = std::clamp(r.y, area.y, std::max(area.y, area.bottom() - r.height));
  return r;
}

}  // namespace reelforge::captions
