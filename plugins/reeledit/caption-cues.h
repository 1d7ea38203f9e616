/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The captionoverlay cue list: plain values read once from the `cues` JSON
 * (see gstcaptionoverlay.cpp for the format). Errors name the offending
 * value by JSON pointer without the leading slash, as the element reports
 * them: `cues/2/style/color: "reddish" is not a colour like #RRGGBB`.
 */
#pragma once

#include <gst/gst.h>

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace reelforge::captions {

/* A cue list (or style) that cannot be used; the message names the value. */
class CueError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/* Straight (not premultiplied) colour, components 0..1. */
struct Colour {
  double r = 1, g = 1, b = 1, a = 1;
};

enum class VAnchor { kTop, kCenter, kBottom };
enum class HAnchor { kLeft, kCenter, kRight };

struct Anchor {
  VAnchor vertical = VAnchor::kBottom;
  HAnchor horizontal = HAnchor::kCenter;
};

enum class TextAlign { kLeft, kCenter, kRight };

struct Stroke {
  Colour colour{0, 0, 0, 1};
  double width = 0; /* pixels outside the glyphs; 0 = none */
};

struct Shadow {
  bool enabled = false;
  Colour colour{0, 0, 0, 0.6};
  double dx = 2, dy = 2; /* pixels */
  double blur = 0;       /* pixels the shadow spreads; 0 = sharp */
};

struct Box {
  bool enabled = false;
  Colour colour{0, 0, 0, 0.6};
  double padding = 8; /* pixels between the text (with stroke) and the box edge */
  double radius = 0;  /* corner radius, pixels */
};

struct TextStyle {
  std::string font = "Sans Bold"; /* Pango font description; its size is ignored */
  double size = 48;               /* pixels (Pango absolute size) */
  double min_size = 0;            /* shrink down to this to fit; 0 = size (never shrink) */
  Colour colour;
  Colour highlight_colour{1, 0.85, 0, 1};
  Stroke stroke;
  Shadow shadow;
  Box box;
  Anchor anchor;
  double x = 0, y = 0;    /* offsets from the anchored position, pixels, +x right, +y down */
  double max_width = 1.0; /* fraction of the safe width the item may use */
  TextAlign align = TextAlign::kCenter;
};

enum class Animation { kNone, kFade, kPop, kSlideUp, kSlideDown, kTypewriter };

/* A word of a text cue with its own display time (word-highlight mode). The
 * byte range locates it in the cue's text. */
struct Word {
  GstClockTime start = 0, end = 0;
  std::string text;
  std::size_t byte_start = 0, byte_end = 0;
};

struct Cue {
  std::string pointer;             /* "cues/3", for errors */
  GstClockTime start = 0, end = 0; /* stream time, ns; shown on [start, end) */
  bool is_image = false;

  /* Text cues. */
  std::string text;
  bool markup = false; /* text is Pango markup ("markup": true, or format=pango-markup) */
  TextStyle style;
  std::vector<Word> words;
  Animation animation_in = Animation::kNone;
  Animation animation_out = Animation::kNone;
  GstClockTime animation_duration = 300 * GST_MSECOND;

  /* Image cues. */
  std::string image_path;
  double scale = 1.0;   /* of the image's own pixel size */
  double opacity = 1.0; /* 0..1 */

  /* Both; for images only anchor, x, y of the style are used. */
  bool ignore_safe_zone = false;
};

/* Parses the `cues` property value. An empty string is an empty list.
 * Throws CueError. Image files are not read here. */
std::vector<Cue> parse_cues(std::string_view json);

/* Parses a style object (the `text-style` property) over the defaults; empty
 * means the defaults. origin prefixes errors ("text-style"). */
TextStyle parse_text_style(std::string_view json, const std::string &origin);

/* The cue's animation state at stream time t within [start, end). */
struct AnimationState {
  double alpha = 1;  /* 0..1, multiplies the whole item */
  double scale = 1;  /* 0..1 about the item's centre */
  double rise = 0;   /* -1..1 of the slide distance still to travel up (< 0: down) */
  double reveal = 1; /* 0..1 of the text's characters shown (typewriter) */
  bool operator==(const AnimationState &) const = default;
};
AnimationState animation_at(const Cue &cue, GstClockTime t);

/* Index of the word shown at t, or -1. */
int word_at(const Cue &cue, GstClockTime t);

}  // namespace reelforge::captions
