/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-captionoverlay
 * @title: captionoverlay
 * @short_description: styled, timed captions and images kept inside a safe zone
 *
 * Draws timed text (with Pango) and PNG images (with Cairo) over raw video,
 * keeping every drawn pixel inside a safe zone: margins of the frame left
 * clear for the platform's own buttons and captions.
 *
 * Items come from two places, both optional:
 *
 * - the #GstCaptionOverlay:cues property: a JSON array of cues, each shown
 *   while the frame's stream time t satisfies `start <= t < end`;
 * - the `text_sink` pad, like textoverlay's: `text/x-raw` buffers
 *   (`format=utf8` or `format=pango-markup`), each shown from its PTS for its
 *   duration (without a duration: until the next text buffer), in running
 *   time, drawn with #GstCaptionOverlay:text-style. While the pad is linked,
 *   a video frame waits until the text stream has reached its time (a text
 *   buffer starting at or after it, a gap event, or EOS).
 *
 * A text cue:
 * |[
 * { "start": 1.0, "end": 3.5, "text": "Buy one, get one free",
 *   "style": { "font": "Sans Bold", "size": 48, "min_size": 32, "color": "#FFFFFF",
 *              "highlight_color": "#FFD400",
 *              "stroke": { "color": "#000000", "width": 3 },
 *              "shadow": { "color": "#00000099", "dx": 2, "dy": 2, "blur": 4 },
 *              "box": { "color": "#00000080", "padding": 12, "radius": 8 },
 *              "anchor": "bottom-center", "x": 0, "y": -20,
 *              "max_width": 0.9, "align": "center" },
 *   "words": [ { "start": 1.0, "end": 1.4, "text": "Buy" }, ... ],
 *   "animation": { "in": "pop", "out": "fade", "duration": 0.3 },
 *   "ignore_safe_zone": false }
 * ]|
 * - `start`, `end`: seconds of stream time; required, `end > start`.
 * - `markup`: true when `text` is Pango markup (`<b>`, `<span foreground=...>`);
 *   not with `words`.
 * - `style.font`: a Pango font description (family, weight, style; its size
 *   is ignored); `size`: pixels; `min_size`: the text shrinks in steps down
 *   to this size when it is too tall for the safe zone (default: `size`, no
 *   shrinking).
 * - colours are `#RRGGBB` or `#RRGGBBAA`.
 * - `stroke.width`: pixels of outline outside the glyphs (default 2 when
 *   `stroke` is given); `shadow`: offset `dx`, `dy` and `blur` spread in
 *   pixels; `box`: a rounded rectangle behind the text, `padding` and
 *   `radius` in pixels.
 * - `anchor`: `top`, `center` or `bottom`, then `-left`, `-center` or
 *   `-right` (`"center"` alone is the middle); `x`, `y`: pixel offsets from
 *   the anchored position (+x right, +y down). The item is then moved back
 *   inside the safe zone if the offsets pushed it out.
 * - `max_width`: fraction (0.05 to 1) of the safe width the item (text,
 *   stroke, shadow and box) may use; the text wraps at word boundaries, or
 *   within a word longer than a line.
 * - `words`: word timings (seconds of stream time) for word-highlight mode:
 *   the word shown at t is drawn in `highlight_color`. Each `text` must occur
 *   in the cue's text after the previous word.
 * - `animation.in`, `animation.out`: `none`, `fade`, `pop` (grows from half
 *   size while fading in), `slide-up` (rises by half its height while
 *   fading in; never leaves the safe zone), `slide-down` (the same, dropping
 *   from above) or `typewriter` (the characters appear one after another in
 *   place; as `out` they go from the last), over `duration` seconds.
 * - `ignore_safe_zone`: true keeps the item inside the frame only.
 *
 * Defaults: font `Sans Bold`, size 48, white, highlight `#FFD900`, anchor
 * `bottom-center`, `max_width` 1, `align` center, no stroke, shadow nor box;
 * a given `stroke` defaults to black, 2 px; `shadow` to `#00000099`, dx 2,
 * dy 2, blur 0; `box` to `#00000099`, padding 8, radius 0; `animation` to
 * none, 0.3 s.
 *
 * An image cue: `{ "start": 0, "end": 5, "image": "logo.png", "anchor":
 * "top-right", "x": 0, "y": 0, "scale": 0.5, "opacity": 0.8,
 * "ignore_safe_zone": false }`. Only PNG files are supported
 * (cairo_image_surface_create_from_png()); `scale` multiplies the image's
 * pixel size; `opacity` is 0 to 1. The default anchor is `top-right`.
 *
 * Errors: a cue list that does not parse, an unknown member, a bad value or
 * an unreadable image is an element error when going to PAUSED, naming the
 * value, e.g. `cues/2/style/color: "reddish" is not a colour like #RRGGBB or
 * #RRGGBBAA (hexadecimal)`. An item that cannot fit the safe zone (too tall
 * at `min_size` after wrapping, or an image larger than the zone) is an
 * element error when the video caps arrive, naming the cue:
 * `cues/0: does not fit the safe zone: ...`.
 *
 * Frames with nothing to show are pushed on untouched: not mapped, not
 * copied, the same buffer. Otherwise the items are blended into the frame
 * with gst_video_overlay_composition_blend(). Rendered sprites are cached
 * while their cue is shown and drawn again only when the highlighted word
 * changes; an animation only changes where and how opaque the cached sprite
 * is blended.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=90 ! \
 *     video/x-raw,width=320,height=568,framerate=30/1 ! \
 *     captionoverlay profile=tiktok cues='"[{\"start\":0.5,\"end\":2.5,\"text\":\"Hello
 * Reelforge\",
 *       \"style\":{\"size\":40,\"box\":{}}}]"' ! videoconvert ! autovideosink
 * ]| shows the caption from 0.5 s to 2.5 s in a box, inside TikTok's safe zone
 * scaled to 320x568 (gst-launch wants a value with spaces in double quotes,
 * so the JSON's own quotes are escaped).
 * |[
 * gst-launch-1.0 videotestsrc num-buffers=90 ! \
 *     video/x-raw,width=320,height=568,framerate=30/1 ! \
 *     captionoverlay name=o safe-bottom=120 text-style='{"size":32,"stroke":{}}' ! \
 *     videoconvert ! autovideosink \
 *     filesrc location=subtitles.srt ! subparse ! o.text_sink
 * ]| draws SubRip subtitles (Pango markup from subparse) with a 2 px outline,
 * 120 px above the bottom edge.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstcaptionoverlay.h"

#include "caption-cues.h"
#include "caption-renderer.h"
#include "element-guard.h"
#include "gst-ptr.h"
#include "platform-profile.h"
#include "time-convert.h"

#include <gst/video/video.h>

#include <cmath>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(gst_caption_overlay_debug);
#define GST_CAT_DEFAULT gst_caption_overlay_debug

namespace {

using namespace reelforge::captions;
using reelforge::BufferPtr;
using reelforge::ElementError;
using reelforge::MiniObjectPtr;

using RectanglePtr = MiniObjectPtr<GstVideoOverlayRectangle>;
using CompositionPtr = MiniObjectPtr<GstVideoOverlayComposition>;

enum {
  PROP_0,
  PROP_CUES,
  PROP_TEXT_STYLE,
  PROP_SAFE_TOP,
  PROP_SAFE_BOTTOM,
  PROP_SAFE_LEFT,
  PROP_SAFE_RIGHT,
  PROP_PROFILE,
  PROP_WORD_HIGHLIGHT,
};

constexpr const char *DEFAULT_CUES = "";
constexpr const char *DEFAULT_TEXT_STYLE = "";
constexpr gint DEFAULT_SAFE_MARGIN = 0;
constexpr gint MAX_SAFE_MARGIN = 16384;
constexpr const char *DEFAULT_PROFILE = "";
constexpr gboolean DEFAULT_WORD_HIGHLIGHT = TRUE;

/* Formats gst_video_overlay_composition_blend() handles, 8 bits a sample. */
#define CAPTION_OVERLAY_VIDEO_CAPS                                           \
  GST_VIDEO_CAPS_MAKE(                                                       \
      "{ I420, YV12, NV12, NV21, Y42B, Y444, AYUV, RGBA, BGRA, ARGB, ABGR, " \
      "RGBx, BGRx, xRGB, xBGR, RGB, BGR }")

GstStaticPadTemplate video_sink_template = GST_STATIC_PAD_TEMPLATE(
    "video_sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(CAPTION_OVERLAY_VIDEO_CAPS));
GstStaticPadTemplate text_sink_template = GST_STATIC_PAD_TEMPLATE(
    "text_sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("text/x-raw, format = (string) { utf8, pango-markup }"));
GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(CAPTION_OVERLAY_VIDEO_CAPS));

struct Settings {
  std::string cues = DEFAULT_CUES;
  std::string text_style = DEFAULT_TEXT_STYLE;
  gint safe_top = DEFAULT_SAFE_MARGIN;
  gint safe_bottom = DEFAULT_SAFE_MARGIN;
  gint safe_left = DEFAULT_SAFE_MARGIN;
  gint safe_right = DEFAULT_SAFE_MARGIN;
  std::string profile = DEFAULT_PROFILE;
  gboolean word_highlight = DEFAULT_WORD_HIGHLIGHT;
};

/* A drawn item kept while it is shown: the sprite is drawn again only when
 * the highlighted word changes, the rectangle only when the animation state
 * does. */
struct CachedItem {
  bool drawn = false;
  int word = -1;
  long characters = -1; /* of a text cue, counted when first drawn */
  long shown = -1;      /* characters drawn (typewriter) */
  Sprite sprite;
  AnimationState state;
  RectanglePtr rectangle;
};

/* A text buffer from the text pad, in running time. */
struct TimedText {
  GstClockTime start = 0;
  GstClockTime end = GST_CLOCK_TIME_NONE; /* NONE: until the next one */
  Cue cue;
  CachedItem cached;
};

}  // namespace

struct GstCaptionOverlayPrivate {
  GstPad *video_sink = nullptr;
  GstPad *text_sink = nullptr;
  GstPad *src = nullptr;

  /* Properties; guarded by the object lock. */
  Settings settings;

  /* Streaming state: set up in READY->PAUSED, then touched only by the
   * video streaming thread (text_* members: under text_lock). */
  Settings active;
  std::vector<Cue> cues;
  std::vector<SurfacePtr> images; /* per cue; null for text cues */
  TextStyle text_style;
  std::optional<reelforge::qc::PlatformProfile> profile;
  GstVideoInfo info{};
  bool have_info = false;
  Rect frame_area, safe_area;
  GstSegment video_segment{};
  std::map<std::size_t, CachedItem> cache; /* by cue index */

  /* The text pad's state, shared by both streaming threads. */
  std::mutex text_lock;
  std::condition_variable text_cond;
  GstSegment text_segment{};
  std::deque<TimedText> text_items;
  GstClockTime text_position = GST_CLOCK_TIME_NONE; /* running time the text has reached */
  bool text_markup = false;
  bool text_eos = false;
  bool text_flushing = false;
  bool video_flushing = false;
};

struct _GstCaptionOverlay {
  GstElement parent;
  GstCaptionOverlayPrivate *priv;
};

G_DEFINE_TYPE_WITH_CODE(GstCaptionOverlay, gst_caption_overlay, GST_TYPE_ELEMENT,
                        GST_DEBUG_CATEGORY_INIT(gst_caption_overlay_debug, "captionoverlay", 0,
                                                "Caption overlay"));
GST_ELEMENT_REGISTER_DEFINE(captionoverlay, "captionoverlay", GST_RANK_NONE,
                            GST_TYPE_CAPTION_OVERLAY);

namespace {

[[noreturn]] void settings_error(const std::string &message) {
  throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, message);
}

/* READY -> PAUSED: snapshot the settings, parse the cues, read the images
 * and the profile. Errors name the value. */
void prepare(GstCaptionOverlay *self) {
  GstCaptionOverlayPrivate &p = *self->priv;
  GST_OBJECT_LOCK(self);
  p.active = p.settings;
  GST_OBJECT_UNLOCK(self);

  p.cues.clear();
  p.images.clear();
  p.cache.clear();
  p.profile.reset();
  p.have_info = false;
  try {
    p.cues = parse_cues(p.active.cues);
    p.text_style = parse_text_style(p.active.text_style, "text-style");
    for (const Cue &cue : p.cues) p.images.push_back(cue.is_image ? load_png(cue) : nullptr);
  } catch (const CueError &e) {
    settings_error(e.what());
  }
  if (!p.active.profile.empty()) {
    try {
      p.profile = reelforge::qc::load_platform_profile(p.active.profile);
    } catch (const std::exception &e) {
      settings_error(std::string("profile: ") + e.what());
    }
  }
  GST_DEBUG_OBJECT(self, "%zu cues, profile \"%s\"", p.cues.size(), p.active.profile.c_str());

  gst_segment_init(&p.video_segment, GST_FORMAT_TIME);
  std::lock_guard lock(p.text_lock);
  gst_segment_init(&p.text_segment, GST_FORMAT_TIME);
  p.text_items.clear();
  p.text_position = GST_CLOCK_TIME_NONE;
  p.text_eos = false;
  p.text_flushing = false;
  p.video_flushing = false;
}

void set_flushing(GstCaptionOverlay *self) {
  GstCaptionOverlayPrivate &p = *self->priv;
  std::lock_guard lock(p.text_lock);
  p.text_flushing = true;
  p.video_flushing = true;
  p.text_cond.notify_all();
}

void release(GstCaptionOverlay *self) {
  GstCaptionOverlayPrivate &p = *self->priv;
  p.cache.clear();
  p.images.clear();
  p.cues.clear();
  p.have_info = false;
  std::lock_guard lock(p.text_lock);
  p.text_items.clear();
}

/* The safe area at the video's size: the profile's margins scaled from its
 * canvas (rounded outwards), or the safe-* properties. */
Rect safe_area_for(const GstCaptionOverlayPrivate &p, int width, int height) {
  int top = p.active.safe_top, bottom = p.active.safe_bottom;
  int left = p.active.safe_left, right = p.active.safe_right;
  if (p.profile) {
    const auto &zone = p.profile->safe_zone;
    const double sx = static_cast<double>(width) / p.profile->canvas_width;
    const double sy = static_cast<double>(height) / p.profile->canvas_height;
    top = static_cast<int>(std::ceil(zone.top * sy - 1e-9));
    bottom = static_cast<int>(std::ceil(zone.bottom * sy - 1e-9));
    left = static_cast<int>(std::ceil(zone.left * sx - 1e-9));
    right = static_cast<int>(std::ceil(zone.right * sx - 1e-9));
  }
  return Rect{left, top, width - left - right, height - top - bottom};
}

const Rect &area_for(const GstCaptionOverlayPrivate &p, const Cue &cue) {
  return cue.ignore_safe_zone ? p.frame_area : p.safe_area;
}

/* New video caps: the safe area, and a trial drawing of every cue so an
 * item that cannot fit is reported now, not at its start time. */
void configure(GstCaptionOverlay *self, GstCaps *caps) {
  GstCaptionOverlayPrivate &p = *self->priv;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, caps)) {
    throw ElementError(GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT, "cannot read the video caps");
  }
  const int width = GST_VIDEO_INFO_WIDTH(&info), height = GST_VIDEO_INFO_HEIGHT(&info);
  const Rect safe = safe_area_for(p, width, height);
  if (safe.width <= 0 || safe.height <= 0) {
    settings_error("the safe zone leaves nothing of the " + std::to_string(width) + "x" +
                   std::to_string(height) + " frame (check safe-* or profile)");
  }
  p.info = info;
  p.frame_area = Rect{0, 0, width, height};
  p.safe_area = safe;
  p.cache.clear();
  GST_DEBUG_OBJECT(self, "%dx%d, safe area %dx%d at (%d, %d)", width, height, safe.width,
                   safe.height, safe.x, safe.y);
  try {
    for (std::size_t i = 0; i < p.cues.size(); ++i) {
      const Cue &cue = p.cues[i];
      if (cue.is_image) {
        render_image(cue, p.images[i].get(), area_for(p, cue));
      } else {
        render_text(cue, area_for(p, cue), -1);
      }
    }
  } catch (const CueError &e) {
    settings_error(e.what());
  }
  p.have_info = true;
}

/* The rectangle to blend for item at stream time t (cues) or for a text
 * buffer; draws the sprite when the cache does not hold it. */
RectanglePtr rectangle_for(GstCaptionOverlayPrivate &p, CachedItem &item, const Cue &cue,
                           cairo_surface_t *image, GstClockTime t, bool timed_cue) {
  const Rect &area = area_for(p, cue);
  const int word =
      timed_cue && p.active.word_highlight && !cue.words.empty() ? word_at(cue, t) : -1;
  const AnimationState state = timed_cue ? animation_at(cue, t) : AnimationState{};
  if (!cue.is_image && item.characters < 0) item.characters = text_characters(cue);
  const long shown = cue.is_image ? -1 : shown_characters(item.characters, state.reveal);
  if (!item.drawn || item.word != word || item.shown != shown) {
    item.sprite =
        cue.is_image ? render_image(cue, image, area) : render_text(cue, area, word, state.reveal);
    item.word = word;
    item.shown = shown;
    item.drawn = true;
    item.rectangle.reset();
  }
  if (!item.rectangle || !(state == item.state)) {
    const Rect r = animated_rect(item.sprite, state, area);
    item.rectangle.reset(gst_video_overlay_rectangle_new_raw(
        item.sprite.pixels.get(), r.x, r.y, static_cast<guint>(r.width),
        static_cast<guint>(r.height), GST_VIDEO_OVERLAY_FORMAT_FLAG_PREMULTIPLIED_ALPHA));
    if (state.alpha < 1.0)
      gst_video_overlay_rectangle_set_global_alpha(item.rectangle.get(),
                                                   static_cast<gfloat>(state.alpha));
    item.state = state;
  }
  return RectanglePtr(
      GST_VIDEO_OVERLAY_RECTANGLE(gst_mini_object_ref(GST_MINI_OBJECT_CAST(item.rectangle.get()))));
}

void add_cue_rectangles(GstCaptionOverlayPrivate &p, GstClockTime t,
                        std::vector<RectanglePtr> &rectangles) {
  for (std::size_t i = 0; i < p.cues.size(); ++i) {
    const Cue &cue = p.cues[i];
    if (GST_CLOCK_TIME_IS_VALID(t) && t >= cue.start && t < cue.end) {
      /* The first frame of a fade-in (or typewriter) shows nothing: leave
       * it untouched. */
      const AnimationState state = animation_at(cue, t);
      if (state.alpha <= 0.0 || state.reveal <= 0.0) continue;
      rectangles.push_back(rectangle_for(p, p.cache[i], cue, p.images[i].get(), t, true));
    } else {
      p.cache.erase(i);
    }
  }
}

/* Waits until the text stream has reached running time t (or ended), drops
 * the text that is over and adds what is shown at t. False when flushing. */
bool add_text_rectangles(GstCaptionOverlay *self, GstClockTime t,
                         std::vector<RectanglePtr> &rectangles) {
  GstCaptionOverlayPrivate &p = *self->priv;
  std::unique_lock lock(p.text_lock);
  if (!GST_CLOCK_TIME_IS_VALID(t)) return !p.video_flushing;
  while (!p.video_flushing && !p.text_eos &&
         (!GST_CLOCK_TIME_IS_VALID(p.text_position) || p.text_position < t)) {
    GST_LOG_OBJECT(self, "waiting for text to reach %" GST_TIME_FORMAT, GST_TIME_ARGS(t));
    p.text_cond.wait(lock);
  }
  if (p.video_flushing) return false;
  while (!p.text_items.empty() && GST_CLOCK_TIME_IS_VALID(p.text_items.front().end) &&
         p.text_items.front().end <= t)
    p.text_items.pop_front();
  for (TimedText &item : p.text_items) {
    if (item.start > t) break;
    if (GST_CLOCK_TIME_IS_VALID(item.end) && item.end <= t) continue;
    rectangles.push_back(rectangle_for(p, item.cached, item.cue, nullptr, t, false));
  }
  return true;
}

GstFlowReturn process_video(GstCaptionOverlay *self, BufferPtr buffer) {
  GstCaptionOverlayPrivate &p = *self->priv;
  if (!p.have_info) {
    GST_ELEMENT_ERROR(self, CORE, NEGOTIATION, (nullptr), ("video buffer before caps"));
    return GST_FLOW_NOT_NEGOTIATED;
  }
  const GstClockTime pts = GST_BUFFER_PTS(buffer.get());
  GstClockTime stream_time = GST_CLOCK_TIME_NONE, running_time = GST_CLOCK_TIME_NONE;
  if (GST_CLOCK_TIME_IS_VALID(pts) && p.video_segment.format == GST_FORMAT_TIME) {
    stream_time = gst_segment_to_stream_time(&p.video_segment, GST_FORMAT_TIME, pts);
    running_time = gst_segment_to_running_time(&p.video_segment, GST_FORMAT_TIME, pts);
  }

  std::vector<RectanglePtr> rectangles;
  add_cue_rectangles(p, stream_time, rectangles);
  if (gst_pad_is_linked(p.text_sink) && !add_text_rectangles(self, running_time, rectangles))
    return GST_FLOW_FLUSHING;

  if (rectangles.empty()) return gst_pad_push(p.src, buffer.release());

  GST_LOG_OBJECT(self, "%zu items at %" GST_TIME_FORMAT, rectangles.size(),
                 GST_TIME_ARGS(stream_time));
  CompositionPtr composition(gst_video_overlay_composition_new(rectangles[0].get()));
  for (std::size_t i = 1; i < rectangles.size(); ++i)
    gst_video_overlay_composition_add_rectangle(composition.get(), rectangles[i].get());

  buffer.reset(gst_buffer_make_writable(buffer.release()));
  GstVideoFrame frame;
  if (!gst_video_frame_map(&frame, &p.info, buffer.get(), GST_MAP_READWRITE)) {
    GST_ELEMENT_ERROR(self, STREAM, FAILED, (nullptr), ("cannot map the video frame"));
    return GST_FLOW_ERROR;
  }
  const gboolean blended = gst_video_overlay_composition_blend(composition.get(), &frame);
  gst_video_frame_unmap(&frame);
  if (!blended) GST_WARNING_OBJECT(self, "blending failed, frame left as it was");
  return gst_pad_push(p.src, buffer.release());
}

/* A text buffer: kept, in running time, until the video has passed it. */
GstFlowReturn process_text(GstCaptionOverlay *self, BufferPtr buffer) {
  GstCaptionOverlayPrivate &p = *self->priv;
  std::string text;
  {
    GstMapInfo map;
    if (!gst_buffer_map(buffer.get(), &map, GST_MAP_READ)) {
      GST_ELEMENT_ERROR(self, STREAM, FAILED, (nullptr), ("cannot map a text buffer"));
      return GST_FLOW_ERROR;
    }
    text.assign(reinterpret_cast<const char *>(map.data), map.size);
    gst_buffer_unmap(buffer.get(), &map);
  }
  while (!text.empty() && (text.back() == '\0' || text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) {
    reelforge::GCharPtr valid(g_utf8_make_valid(text.data(), static_cast<gssize>(text.size())));
    text = valid.get();
  }

  std::lock_guard lock(p.text_lock);
  if (p.text_flushing) return GST_FLOW_FLUSHING;
  if (p.text_eos) return GST_FLOW_EOS;
  const GstClockTime pts = GST_BUFFER_PTS(buffer.get());
  const GstClockTime duration = GST_BUFFER_DURATION(buffer.get());
  if (!GST_CLOCK_TIME_IS_VALID(pts)) {
    GST_WARNING_OBJECT(self, "text buffer without PTS dropped");
    return GST_FLOW_OK;
  }
  guint64 start = pts, stop = GST_CLOCK_TIME_NONE;
  const GstClockTime end = GST_CLOCK_TIME_IS_VALID(duration) ? pts + duration : GST_CLOCK_TIME_NONE;
  if (!gst_segment_clip(&p.text_segment, GST_FORMAT_TIME, pts, end, &start, &stop)) {
    GST_DEBUG_OBJECT(self, "text buffer outside the segment dropped");
    return GST_FLOW_OK;
  }
  TimedText item;
  item.start = gst_segment_to_running_time(&p.text_segment, GST_FORMAT_TIME, start);
  if (GST_CLOCK_TIME_IS_VALID(end))
    item.end = gst_segment_to_running_time(&p.text_segment, GST_FORMAT_TIME, stop);
  if (!p.text_items.empty() && !GST_CLOCK_TIME_IS_VALID(p.text_items.back().end))
    p.text_items.back().end = item.start;
  p.text_position = item.start;
  if (!text.empty() && (!GST_CLOCK_TIME_IS_VALID(item.end) || item.end > item.start)) {
    item.cue.pointer = "text_sink buffer at " + reelforge::format_time(pts);
    item.cue.text = std::move(text);
    item.cue.markup = p.text_markup;
    item.cue.style = p.text_style;
    GST_LOG_OBJECT(self, "text \"%s\" from %" GST_TIME_FORMAT, item.cue.text.c_str(),
                   GST_TIME_ARGS(item.start));
    p.text_items.push_back(std::move(item));
  }
  p.text_cond.notify_all();
  return GST_FLOW_OK;
}

/* Text pad events stop here: the text stream only feeds the overlay. */
void handle_text_event(GstCaptionOverlay *self, GstEvent *event) {
  GstCaptionOverlayPrivate &p = *self->priv;
  std::lock_guard lock(p.text_lock);
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps *caps = nullptr;
      gst_event_parse_caps(event, &caps);
      const gchar *format = gst_structure_get_string(gst_caps_get_structure(caps, 0), "format");
      p.text_markup = g_strcmp0(format, "pango-markup") == 0;
      break;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment *segment = nullptr;
      gst_event_parse_segment(event, &segment);
      if (segment->format == GST_FORMAT_TIME) {
        gst_segment_copy_into(segment, &p.text_segment);
      } else {
        GST_ELEMENT_WARNING(self, STREAM, FORMAT, (nullptr),
                            ("text segment not in time format, text ignored"));
      }
      break;
    }
    case GST_EVENT_GAP: {
      GstClockTime timestamp = GST_CLOCK_TIME_NONE, duration = GST_CLOCK_TIME_NONE;
      gst_event_parse_gap(event, &timestamp, &duration);
      if (GST_CLOCK_TIME_IS_VALID(timestamp)) {
        if (GST_CLOCK_TIME_IS_VALID(duration)) timestamp += duration;
        const GstClockTime rt =
            gst_segment_to_running_time(&p.text_segment, GST_FORMAT_TIME, timestamp);
        if (GST_CLOCK_TIME_IS_VALID(rt)) {
          if (!p.text_items.empty() && !GST_CLOCK_TIME_IS_VALID(p.text_items.back().end))
            p.text_items.back().end = rt;
          p.text_position = rt;
        }
      }
      break;
    }
    case GST_EVENT_EOS:
      p.text_eos = true;
      break;
    case GST_EVENT_FLUSH_START:
      p.text_flushing = true;
      break;
    case GST_EVENT_FLUSH_STOP:
      p.text_flushing = false;
      p.text_eos = false;
      p.text_items.clear();
      p.text_position = GST_CLOCK_TIME_NONE;
      gst_segment_init(&p.text_segment, GST_FORMAT_TIME);
      break;
    default:
      break;
  }
  p.text_cond.notify_all();
}

/* Video pad events that change the element's state; false to drop. */
bool handle_video_event(GstCaptionOverlay *self, GstEvent *event) {
  GstCaptionOverlayPrivate &p = *self->priv;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: {
      GstCaps *caps = nullptr;
      gst_event_parse_caps(event, &caps);
      configure(self, caps);
      break;
    }
    case GST_EVENT_SEGMENT: {
      const GstSegment *segment = nullptr;
      gst_event_parse_segment(event, &segment);
      gst_segment_copy_into(segment, &p.video_segment);
      if (segment->format != GST_FORMAT_TIME)
        GST_WARNING_OBJECT(self, "segment not in time format: nothing is drawn");
      break;
    }
    case GST_EVENT_FLUSH_START: {
      std::lock_guard lock(p.text_lock);
      p.video_flushing = true;
      p.text_cond.notify_all();
      break;
    }
    case GST_EVENT_FLUSH_STOP: {
      std::lock_guard lock(p.text_lock);
      p.video_flushing = false;
      gst_segment_init(&p.video_segment, GST_FORMAT_TIME);
      break;
    }
    default:
      break;
  }
  return true;
}

}  // namespace

static GstFlowReturn gst_caption_overlay_video_chain(GstPad *, GstObject *parent,
                                                     GstBuffer *buffer) {
  auto *self = GST_CAPTION_OVERLAY(parent);
  BufferPtr owned(buffer);
  return REELFORGE_GUARD(self, GST_FLOW_ERROR,
                         [&] { return process_video(self, std::move(owned)); });
}

static GstFlowReturn gst_caption_overlay_text_chain(GstPad *, GstObject *parent,
                                                    GstBuffer *buffer) {
  auto *self = GST_CAPTION_OVERLAY(parent);
  BufferPtr owned(buffer);
  return REELFORGE_GUARD(self, GST_FLOW_ERROR,
                         [&] { return process_text(self, std::move(owned)); });
}

static gboolean gst_caption_overlay_video_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  auto *self = GST_CAPTION_OVERLAY(parent);
  const bool keep = REELFORGE_GUARD(self, false, [&] { return handle_video_event(self, event); });
  if (!keep) {
    gst_event_unref(event);
    return FALSE;
  }
  return gst_pad_event_default(pad, parent, event);
}

static gboolean gst_caption_overlay_text_event(GstPad *, GstObject *parent, GstEvent *event) {
  auto *self = GST_CAPTION_OVERLAY(parent);
  REELFORGE_GUARD_VOID(self, [&] { handle_text_event(self, event); });
  gst_event_unref(event);
  return TRUE;
}

static gboolean gst_caption_overlay_src_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  auto *self = GST_CAPTION_OVERLAY(parent);
  /* A seek goes to the text stream too, so both restart together. */
  if (GST_EVENT_TYPE(event) == GST_EVENT_SEEK && gst_pad_is_linked(self->priv->text_sink))
    gst_pad_push_event(self->priv->text_sink, gst_event_ref(event));
  return gst_pad_event_default(pad, parent, event);
}

/* Caps go through unchanged between the video pads. */
static gboolean gst_caption_overlay_video_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  if (GST_QUERY_TYPE(query) == GST_QUERY_CAPS) return gst_pad_proxy_query_caps(pad, query);
  return gst_pad_query_default(pad, parent, query);
}

static gboolean gst_caption_overlay_text_query(GstPad *pad, GstObject *, GstQuery *query) {
  switch (GST_QUERY_TYPE(query)) {
    case GST_QUERY_CAPS: {
      GstCaps *filter = nullptr;
      gst_query_parse_caps(query, &filter);
      reelforge::CapsPtr caps(gst_pad_get_pad_template_caps(pad));
      if (filter) caps.reset(gst_caps_intersect_full(filter, caps.get(), GST_CAPS_INTERSECT_FIRST));
      gst_query_set_caps_result(query, caps.get());
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS: {
      GstCaps *caps = nullptr;
      gst_query_parse_accept_caps(query, &caps);
      reelforge::CapsPtr templ(gst_pad_get_pad_template_caps(pad));
      gst_query_set_accept_caps_result(query, gst_caps_is_subset(caps, templ.get()));
      return TRUE;
    }
    default:
      return FALSE;
  }
}

/* The video pads are linked to each other only; the text pad to nothing. */
static GstIterator *gst_caption_overlay_iterate_internal_links(GstPad *pad, GstObject *parent) {
  auto *self = GST_CAPTION_OVERLAY(parent);
  GstPad *other = nullptr;
  if (pad == self->priv->src) other = self->priv->video_sink;
  if (pad == self->priv->video_sink) other = self->priv->src;
  if (other == nullptr) return nullptr;
  GValue value = G_VALUE_INIT;
  g_value_init(&value, GST_TYPE_PAD);
  g_value_set_object(&value, other);
  GstIterator *it = gst_iterator_new_single(GST_TYPE_PAD, &value);
  g_value_unset(&value);
  return it;
}

static GstStateChangeReturn gst_caption_overlay_change_state(GstElement *element,
                                                             GstStateChange transition) {
  auto *self = GST_CAPTION_OVERLAY(element);
  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (!REELFORGE_GUARD(self, false, [&] {
            prepare(self);
            return true;
          }))
        return GST_STATE_CHANGE_FAILURE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* Wake a video thread waiting for text before the pads deactivate. */
      set_flushing(self);
      break;
    default:
      break;
  }
  const GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_caption_overlay_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY)
    REELFORGE_GUARD_VOID(self, [&] { release(self); });
  return ret;
}

static void gst_caption_overlay_set_property(GObject *object, guint prop_id, const GValue *value,
                                             GParamSpec *pspec) {
  auto *self = GST_CAPTION_OVERLAY(object);
  REELFORGE_GUARD_VOID(self, [&] {
    GST_OBJECT_LOCK(self);
    Settings &s = self->priv->settings;
    auto string_value = [value] {
      const gchar *v = g_value_get_string(value);
      return std::string(v != nullptr ? v : "");
    };
    switch (prop_id) {
      case PROP_CUES:
        s.cues = string_value();
        break;
      case PROP_TEXT_STYLE:
        s.text_style = string_value();
        break;
      case PROP_SAFE_TOP:
        s.safe_top = g_value_get_int(value);
        break;
      case PROP_SAFE_BOTTOM:
        s.safe_bottom = g_value_get_int(value);
        break;
      case PROP_SAFE_LEFT:
        s.safe_left = g_value_get_int(value);
        break;
      case PROP_SAFE_RIGHT:
        s.safe_right = g_value_get_int(value);
        break;
      case PROP_PROFILE:
        s.profile = string_value();
        break;
      case PROP_WORD_HIGHLIGHT:
        s.word_highlight = g_value_get_boolean(value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
  });
}

static void gst_caption_overlay_get_property(GObject *object, guint prop_id, GValue *value,
                                             GParamSpec *pspec) {
  auto *self = GST_CAPTION_OVERLAY(object);
  REELFORGE_GUARD_VOID(self, [&] {
    GST_OBJECT_LOCK(self);
    const Settings &s = self->priv->settings;
    switch (prop_id) {
      case PROP_CUES:
        g_value_set_string(value, s.cues.c_str());
        break;
      case PROP_TEXT_STYLE:
        g_value_set_string(value, s.text_style.c_str());
        break;
      case PROP_SAFE_TOP:
        g_value_set_int(value, s.safe_top);
        break;
      case PROP_SAFE_BOTTOM:
        g_value_set_int(value, s.safe_bottom);
        break;
      case PROP_SAFE_LEFT:
        g_value_set_int(value, s.safe_left);
        break;
      case PROP_SAFE_RIGHT:
        g_value_set_int(value, s.safe_right);
        break;
      case PROP_PROFILE:
        g_value_set_string(value, s.profile.c_str());
        break;
      case PROP_WORD_HIGHLIGHT:
        g_value_set_boolean(value, s.word_highlight);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
  });
}

static void gst_caption_overlay_finalize(GObject *object) {
  auto *self = GST_CAPTION_OVERLAY(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_caption_overlay_parent_class)->finalize(object);
}

static void install_margin_property(GObjectClass *gobject_class, guint id, const char *name,
                                    const char *nick, const char *blurb, GParamFlags flags) {
  g_object_class_install_property(
      gobject_class, id,
      g_param_spec_int(name, nick, blurb, 0, MAX_SAFE_MARGIN, DEFAULT_SAFE_MARGIN, flags));
}

static void gst_caption_overlay_class_init(GstCaptionOverlayClass *klass) {
  auto *gobject_class = G_OBJECT_CLASS(klass);
  auto *element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->set_property = gst_caption_overlay_set_property;
  gobject_class->get_property = gst_caption_overlay_get_property;
  gobject_class->finalize = gst_caption_overlay_finalize;
  element_class->change_state = gst_caption_overlay_change_state;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);

  /**
   * GstCaptionOverlay:cues:
   *
   * The timed items: a JSON array of text and image cues (format in the
   * element's description). Times are seconds of stream time. Read when
   * going to PAUSED; empty means no cues.
   */
  g_object_class_install_property(
      gobject_class, PROP_CUES,
      g_param_spec_string("cues", "Cues",
                          "JSON array of timed text and image cues (times in seconds of stream "
                          "time; see the element description for the format)",
                          DEFAULT_CUES, flags));

  /**
   * GstCaptionOverlay:text-style:
   *
   * A JSON style object (the `style` of a text cue) for the text arriving on
   * the `text_sink` pad. Empty means the defaults: Sans Bold, 48 px, white,
   * bottom-center.
   */
  g_object_class_install_property(
      gobject_class, PROP_TEXT_STYLE,
      g_param_spec_string("text-style", "Text style",
                          "JSON style object (as a text cue's \"style\") for text from the "
                          "text_sink pad; empty for the defaults",
                          DEFAULT_TEXT_STYLE, flags));

  /**
   * GstCaptionOverlay:safe-top:
   *
   * Pixels at the top of the frame kept clear, at the video's size. Ignored
   * when #GstCaptionOverlay:profile is set.
   */
  install_margin_property(gobject_class, PROP_SAFE_TOP, "safe-top", "Safe top",
                          "Pixels at the top kept clear (ignored when profile is set)", flags);
  /**
   * GstCaptionOverlay:safe-bottom:
   *
   * Pixels at the bottom of the frame kept clear, at the video's size.
   */
  install_margin_property(gobject_class, PROP_SAFE_BOTTOM, "safe-bottom", "Safe bottom",
                          "Pixels at the bottom kept clear (ignored when profile is set)", flags);
  /**
   * GstCaptionOverlay:safe-left:
   *
   * Pixels at the left of the frame kept clear, at the video's size.
   */
  install_margin_property(gobject_class, PROP_SAFE_LEFT, "safe-left", "Safe left",
                          "Pixels at the left kept clear (ignored when profile is set)", flags);
  /**
   * GstCaptionOverlay:safe-right:
   *
   * Pixels at the right of the frame kept clear, at the video's size.
   */
  install_margin_property(gobject_class, PROP_SAFE_RIGHT, "safe-right", "Safe right",
                          "Pixels at the right kept clear (ignored when profile is set)", flags);

  /**
   * GstCaptionOverlay:profile:
   *
   * A platform profile ("tiktok", a name on $REELFORGE_PLATFORMS_PATH, or a
   * profile file) whose `safe_zone`, given in canvas pixels, is scaled to the
   * video's size (rounded outwards). Overrides the safe-* properties. Empty:
   * use them.
   */
  g_object_class_install_property(
      gobject_class, PROP_PROFILE,
      g_param_spec_string("profile", "Platform profile",
                          "Platform profile whose safe zone (scaled from its canvas to the video "
                          "size) is kept clear; overrides safe-*",
                          DEFAULT_PROFILE, flags));

  /**
   * GstCaptionOverlay:word-highlight:
   *
   * Draw the word shown at the current time in the cue's highlight colour,
   * for cues that carry `words`.
   */
  g_object_class_install_property(
      gobject_class, PROP_WORD_HIGHLIGHT,
      g_param_spec_boolean("word-highlight", "Word highlight",
                           "Draw the current word of cues with \"words\" in the highlight colour",
                           DEFAULT_WORD_HIGHLIGHT, flags));

  gst_element_class_set_static_metadata(
      element_class, "Caption overlay", "Filter/Editor/Video/Overlay/Subtitle",
      "Draws styled, timed captions (with word highlight and animations) and images over raw "
      "video, kept inside a platform's safe zone; cues from a JSON property or a text pad",
      "Reelforge <https://reelforge.invalid/>");
  gst_element_class_add_static_pad_template(element_class, &video_sink_template);
  gst_element_class_add_static_pad_template(element_class, &text_sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
}

static void gst_caption_overlay_init(GstCaptionOverlay *self) {
  self->priv = new GstCaptionOverlayPrivate();
  GstCaptionOverlayPrivate &p = *self->priv;

  p.video_sink = gst_pad_new_from_static_template(&video_sink_template, "video_sink");
  gst_pad_set_chain_function(p.video_sink, gst_caption_overlay_video_chain);
  gst_pad_set_event_function(p.video_sink, gst_caption_overlay_video_event);
  gst_pad_set_query_function(p.video_sink, gst_caption_overlay_video_query);
  gst_pad_set_iterate_internal_links_function(p.video_sink,
                                              gst_caption_overlay_iterate_internal_links);
  GST_PAD_SET_PROXY_CAPS(p.video_sink);
  GST_PAD_SET_PROXY_ALLOCATION(p.video_sink);
  gst_element_add_pad(GST_ELEMENT(self), p.video_sink);

  p.text_sink = gst_pad_new_from_static_template(&text_sink_template, "text_sink");
  gst_pad_set_chain_function(p.text_sink, gst_caption_overlay_text_chain);
  gst_pad_set_event_function(p.text_sink, gst_caption_overlay_text_event);
  gst_pad_set_query_function(p.text_sink, gst_caption_overlay_text_query);
  gst_pad_set_iterate_internal_links_function(p.text_sink,
                                              gst_caption_overlay_iterate_internal_links);
  gst_element_add_pad(GST_ELEMENT(self), p.text_sink);

  p.src = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_event_function(p.src, gst_caption_overlay_src_event);
  gst_pad_set_query_function(p.src, gst_caption_overlay_video_query);
  gst_pad_set_iterate_internal_links_function(p.src, gst_caption_overlay_iterate_internal_links);
  GST_PAD_SET_PROXY_CAPS(p.src);
  gst_element_add_pad(GST_ELEMENT(self), p.src);

  gst_segment_init(&p.video_segment, GST_FORMAT_TIME);
  gst_segment_init(&p.text_segment, GST_FORMAT_TIME);
}
