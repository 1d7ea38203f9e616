/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stitch-transition.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace reelforge::stitch {
namespace {

/* One plane of the three frames. Chroma planes are smaller; shapes are
 * computed in the plane's own pixels scaled from the picture's, so the
 * boundaries of the planes agree to within a chroma pixel. */
struct Plane {
  const guint8 *a;
  const guint8 *b;
  guint8 *out;
  gint a_stride, b_stride, out_stride;
  gint width, height;
  guint8 black, white;
};

inline guint8 mix(guint8 x, guint8 y, guint weight /* 0..256 of y */) {
  return static_cast<guint8>((x * (256 - weight) + y * weight + 128) >> 8);
}

guint weight_of(double progress) {
  return static_cast<guint>(std::lround(progress * 256));
}

void copy_row(guint8 *out, const guint8 *in, gint n) {
  std::memcpy(out, in, n);
}

void crossfade(const Plane &p, double progress) {
  const guint w = weight_of(progress);
  for (gint y = 0; y < p.height; ++y) {
    const guint8 *ra = p.a + y * p.a_stride;
    const guint8 *rb = p.b + y * p.b_stride;
    guint8 *ro = p.out + y * p.out_stride;
    for (gint x = 0; x < p.width; ++x) ro[x] = mix(ra[x], rb[x], w);
  }
}

/* The first half fades a to a flat level, the second half from it to b. */
void fade_through(const Plane &p, double progress, guint8 level) {
  const bool first_half = progress < 0.5;
  const guint w = weight_of(first_half ? progress * 2 : (1 - progress) * 2);
  for (gint y = 0; y < p.height; ++y) {
    const guint8 *rs = first_half ? p.a + y * p.a_stride : p.b + y * p.b_stride;
    guint8 *ro = p.out + y * p.out_stride;
    for (gint x = 0; x < p.width; ++x) ro[x] = mix(rs[x], level, w);
  }
}

/* b covers the columns [x0, x1) and the rows [y0, y1); a the rest. */
void wipe(const Plane &p, gint x0, gint x1, gint y0, gint y1) {
  for (gint y = 0; y < p.height; ++y) {
    const guint8 *ra = p.a + y * p.a_stride;
    const guint8 *rb = p.b + y * p.b_stride;
    guint8 *ro = p.out + y * p.out_stride;
    if (y < y0 || y >= y1) {
      copy_row(ro, ra, p.width);
      continue;
    }
    copy_row(ro, ra, p.width);
    if (x1 > x0) std::memcpy(ro + x0, rb + x0, x1 - x0);
  }
}

/* a and b side by side (horizontal) or stacked, the pair moved by offset
 * pixels: towards the left/top when forward, else towards the right/bottom. */
void slide_horizontal(const Plane &p, gint offset, bool towards_left) {
  for (gint y = 0; y < p.height; ++y) {
    const guint8 *ra = p.a + y * p.a_stride;
    const guint8 *rb = p.b + y * p.b_stride;
    guint8 *ro = p.out + y * p.out_stride;
    if (towards_left) {
      /* out[x] = a[x + offset] while inside a, then b[x + offset - w] */
      const gint from_a = p.width - offset;
      if (from_a > 0) std::memcpy(ro, ra + offset, from_a);
      if (offset > 0) std::memcpy(ro + from_a, rb, offset);
    } else {
      /* out[x] = b[x - offset + w] for x < offset, then a[x - offset] */
      if (offset > 0) std::memcpy(ro, rb + p.width - offset, offset);
      if (p.width - offset > 0) std::memcpy(ro + offset, ra, p.width - offset);
    }
  }
}

void slide_vertical(const Plane &p, gint offset, bool towards_top) {
  for (gint y = 0; y < p.height; ++y) {
    guint8 *ro = p.out + y * p.out_stride;
    const gint source = towards_top ? y + offset : y - offset;
    if (source >= 0 && source < p.height)
      copy_row(ro, p.a + source * p.a_stride, p.width);
    else if (towards_top)
      copy_row(ro, p.b + (source - p.height) * p.b_stride, p.width);
    else
      copy_row(ro, p.b + (source + p.height) * p.b_stride, p.width);
  }
}

/* b inside a circle around the centre (open) or a inside it (close); the
 * radius is measured in picture pixels so that it is round, not elliptic. */
void circle(const Plane &p, double radius, bool b_inside, double sx, double sy) {
  const double r2 = radius * radius;
  for (gint y = 0; y < p.height; ++y) {
    const guint8 *ra = p.a + y * p.a_stride;
    const guint8 *rb = p.b + y * p.b_stride;
    guint8 *ro = p.out + y * p.out_stride;
    const double dy = ((y + 0.5) - p.height / 2.0) * sy;
    for (gint x = 0; x < p.width; ++x) {
      const double dx = ((x + 0.5) - p.width / 2.0) * sx;
      const bool inside = dx * dx + dy * dy < r2;
      ro[x] = inside == b_inside ? rb[x] : ra[x];
    }
  }
}

/* a magnified about the centre by 1 + progress while b fades in. */
void zoom_in(const Plane &p, double progress) {
  const double scale = 1.0 + progress;
  const guint w = weight_of(progress);
  const double cx = p.width / 2.0, cy = p.height / 2.0;
  for (gint y = 0; y < p.height; ++y) {
    const gint ay = std::clamp(static_cast<gint>(cy + (y + 0.5 - cy) / scale), 0, p.height - 1);
    const guint8 *ra = p.a + ay * p.a_stride;
    const guint8 *rb = p.b + y * p.b_stride;
    guint8 *ro = p.out + y * p.out_stride;
    for (gint x = 0; x < p.width; ++x) {
      const gint ax = std::clamp(static_cast<gint>(cx + (x + 0.5 - cx) / scale), 0, p.width - 1);
      ro[x] = mix(ra[ax], rb[x], w);
    }
  }
}

}  // namespace

double transition_progress(guint64 j, guint64 k) {
  if (k <= 1) return 1.0;
  return static_cast<double>(j) / static_cast<double>(k - 1);
}

void render_transition(TransitionType type, double progress, const GstVideoFrame &a,
                       const GstVideoFrame &b, GstVideoFrame &out) {
  progress = std::clamp(progress, 0.0, 1.0);
  const gint picture_w = GST_VIDEO_FRAME_WIDTH(&out);
  const gint picture_h = GST_VIDEO_FRAME_HEIGHT(&out);
  const double diagonal = std::hypot(picture_w / 2.0, picture_h / 2.0) + 1.0;
  for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS(&out); ++c) {
    Plane p{};
    p.a = static_cast<const guint8 *>(GST_VIDEO_FRAME_COMP_DATA(&a, c));
    p.b = static_cast<const guint8 *>(GST_VIDEO_FRAME_COMP_DATA(&b, c));
    p.out = static_cast<guint8 *>(GST_VIDEO_FRAME_COMP_DATA(&out, c));
    p.a_stride = GST_VIDEO_FRAME_COMP_STRIDE(&a, c);
    p.b_stride = GST_VIDEO_FRAME_COMP_STRIDE(&b, c);
    p.out_stride = GST_VIDEO_FRAME_COMP_STRIDE(&out, c);
    p.width = GST_VIDEO_FRAME_COMP_WIDTH(&out, c);
    p.height = GST_VIDEO_FRAME_COMP_HEIGHT(&out, c);
    const bool luma = c == 0;
    p.black = luma ? 16 : 128;
    p.white = luma ? 235 : 128;
    const gint along_x = static_cast<gint>(std::lround(p.width * progress));
    const gint along_y = static_cast<gint>(std::lround(p.height * progress));
    const double sx = static_cast<double>(picture_w) / p.width;
    const double sy = static_cast<double>(picture_h) / p.height;

    switch (type) {
      case TransitionType::kCut:
        /* A cut has no overlap frames; render b if asked. */
        wipe(p, 0, p.width, 0, p.height);
        break;
      case TransitionType::kCrossfade:
        crossfade(p, progress);
        break;
      case TransitionType::kFadeBlack:
        fade_through(p, progress, p.black);
        break;
      case TransitionType::kFadeWhite:
        fade_through(p, progress, p.white);
        break;
      case TransitionType::kWipeLeft: /* the edge moves leftwards: b enters on the right */
        wipe(p, p.width - along_x, p.width, 0, p.height);
        break;
      case TransitionType::kWipeRight:
        wipe(p, 0, along_x, 0, p.height);
        break;
      case TransitionType::kWipeUp: /* b rises from the bottom */
        wipe(p, 0, p.width, p.height - along_y, p.height);
        break;
      case TransitionType::kWipeDown:
        wipe(p, 0, p.width, 0, along_y);
        break;
      case TransitionType::kSlideLeft:
        slide_horizontal(p, along_x, true);
        break;
      case TransitionType::kSlideRight:
        slide_horizontal(p, along_x, false);
        break;
      case TransitionType::kSlideUp:
        slide_vertical(p, along_y, true);
        break;
      case TransitionType::kSlideDown:
        slide_vertical(p, along_y, false);
        break;
      case TransitionType::kCircleOpen:
        circle(p, progress * diagonal, true, sx, sy);
        break;
      case TransitionType::kCircleClose:
        circle(p, (1 - progress) * diagonal, false, sx, sy);
        break;
      case TransitionType::kZoomIn:
        zoom_in(p, progress);
        break;
    }
  }
}

}  // namespace reelforge::stitch
