/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Draws captionoverlay's items with Pango and Cairo into premultiplied
 * ARGB sprites (GStreamer's GST_VIDEO_OVERLAY_COMPOSITION_FORMAT_RGB, i.e.
 * cairo's native CAIRO_FORMAT_ARGB32 layout) and places them inside an area
 * of the frame (the safe zone, or the whole frame for cues that opt out).
 * Everything a sprite draws, stroke, shadow and box included, lies inside
 * its width x height, and the sprite inside the area, or the call throws.
 */
#pragma once

#include "caption-cues.h"
#include "gst-ptr.h"

#include <cairo.h>
#include <gst/gst.h>

#include <memory>
#include <string>

namespace reelforge::captions {

/* Pixels of the frame, top-left origin. */
struct Rect {
  int x = 0, y = 0, width = 0, height = 0;
  int right() const { return x + width; }
  int bottom() const { return y + height; }
};

struct Sprite {
  BufferPtr pixels; /* premultiplied ARGB32 with a GstVideoMeta */
  int width = 0, height = 0;
  int x = 0, y = 0; /* top-left corner in the frame, at rest (no animation) */
};

struct SurfaceDeleter {
  void operator()(cairo_surface_t *s) const noexcept { cairo_surface_destroy(s); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, SurfaceDeleter>;

/* Lays the text cue out in area (wrapping to style.max_width of its width,
 * shrinking down to style.min_size when too tall) and draws it, the word
 * highlight_word (-1: none) in the highlight colour. With reveal < 1 only
 * that fraction of the characters is drawn (typewriter), in place: the
 * layout, and so the sprite's size and position, stay those of the whole
 * text. Throws CueError naming cue.pointer when it cannot fit. */
Sprite render_text(const Cue &cue, const Rect &area, int highlight_word, double reveal = 1);

/* How many characters a text cue shows (its markup stripped), so a
 * typewriter sprite is drawn again only when one more appears. */
long text_characters(const Cue &cue);

/* The characters of a cue of text_characters() shown at reveal (0..1). */
long shown_characters(long characters, double reveal);

/* Reads the PNG file of an image cue; throws CueError naming the cue. */
SurfacePtr load_png(const Cue &cue);

/* Draws image scaled by cue.scale at cue.opacity, placed in area. Throws
 * CueError naming the cue when it is larger than area. */
Sprite render_image(const Cue &cue, cairo_surface_t *image, const Rect &area);

/* Where a sprite of that size goes for an animation state: the rest
 * position, scaled about its centre and lowered by rise, then kept in area. */
Rect animated_rect(const Sprite &sprite, const AnimationState &state, const Rect &area);

}  // namespace reelforge::captions
