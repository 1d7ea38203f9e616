/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-blackframedetect
 * @title: blackframedetect
 * @short_description: reports intervals of (almost) black pictures
 *
 * A passthrough analyser on raw video that finds the intervals where the
 * picture is black, with the definition of ffmpeg's `blackdetect` filter:
 *
 * - a pixel is black when its luma is at most `16 + 219 × pixel-threshold`
 *   for limited-range video, `255 × pixel-threshold` for full-range video
 *   (the range comes from the caps' colorimetry; unknown counts as limited,
 *   as in ffmpeg);
 * - a picture is black when the ratio of black pixels to all pixels is at
 *   least #GstBlackFrameDetect:picture-threshold;
 * - an interval of consecutive black pictures lasting at least
 *   #GstBlackFrameDetect:min-duration is reported.
 *
 * An interval ends at the start time of the first picture that is not black.
 * One still open at EOS is reported then, ending at the end (PTS + duration)
 * of the last picture; ffmpeg ends it at the last picture's PTS, one frame
 * earlier (vf_blackdetect.c notes it should not). A flushing seek forgets an
 * open interval (its true end is unknown); a new segment closes it at the end
 * of its last picture, since timestamps after it need not continue.
 *
 * The element posts one element message per interval, named
 * `blackframedetect`, with these fields:
 *
 * - `black-start` (#guint64): PTS of the first black picture, in ns.
 * - `black-end` (#guint64): PTS of the first picture after the interval (or
 *   end of the last picture at EOS), in ns.
 * - `black-duration` (#guint64): `black-end - black-start`, in ns.
 * - `timestamp` (#guint64): the same as `black-start`.
 * - `stream-time` (#guint64): stream time of `black-start`, in ns.
 * - `running-time` (#guint64): running time of `black-start`, in ns.
 * - `duration` (#guint64): the same as `black-duration`.
 *
 * Only the luma plane is read, mapped read-only; buffers are never copied
 * nor modified.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m videotestsrc pattern=black num-buffers=75 ! \
 *     video/x-raw,width=320,height=568,framerate=25/1 ! \
 *     blackframedetect min-duration=1000000000 ! fakesink
 * ]| prints one `blackframedetect` message for the 3 s of black pictures,
 * posted at EOS.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstblackframedetect.h"

#include "analysis-message.h"
#include "element-guard.h"
#include "interval-tracker.h"

#include <cstddef>
#include <optional>

GST_DEBUG_CATEGORY_STATIC(gst_black_frame_detect_debug);
#define GST_CAT_DEFAULT gst_black_frame_detect_debug

namespace {

enum {
  PROP_0,
  PROP_PIXEL_THRESHOLD,
  PROP_PICTURE_THRESHOLD,
  PROP_MIN_DURATION,
};

constexpr gdouble DEFAULT_PIXEL_THRESHOLD = 0.10;
constexpr gdouble DEFAULT_PICTURE_THRESHOLD = 0.98;
constexpr guint64 DEFAULT_MIN_DURATION = 2 * GST_SECOND;

/* Planar 8-bit YUV and grey: the luma is plane 0, one byte per pixel. */
#define BLACK_FRAME_DETECT_CAPS \
  GST_VIDEO_CAPS_MAKE("{ I420, YV12, NV12, NV21, Y41B, Y42B, Y444, GRAY8 }")

GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(BLACK_FRAME_DETECT_CAPS));
GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(BLACK_FRAME_DETECT_CAPS));

struct Settings {
  gdouble pixel_threshold = DEFAULT_PIXEL_THRESHOLD;
  gdouble picture_threshold = DEFAULT_PICTURE_THRESHOLD;
  guint64 min_duration = DEFAULT_MIN_DURATION;
};

/* Pixels of row at most threshold. The fixed-size inner block over a
 * pointer lets GCC vectorise at -O2 (its "very cheap" cost model wants a
 * known trip count; unsigned 32-bit index arithmetic also stops it), and a
 * byte counter cannot overflow in 64 steps. */
inline guint count_at_most(const guint8 *row, guint width, guint8 threshold) {
  constexpr std::ptrdiff_t kBlock = 64;
  const guint8 *const end = row + width;
  guint count = 0;
  for (; end - row >= kBlock; row += kBlock) {
    guint8 block = 0;
    for (std::ptrdiff_t i = 0; i < kBlock; ++i) block += row[i] <= threshold;
    count += block;
  }
  for (; row < end; ++row) count += *row <= threshold;
  return count;
}

}  // namespace

struct GstBlackFrameDetectPrivate {
  /* Properties; guarded by the object lock. */
  Settings settings;

  /* Streaming state: touched only by the streaming thread, and by start()
   * and stop() while it is not running. */
  Settings active;                                   /* snapshot taken in start() */
  guint8 luma_threshold = 0;                         /* black when luma <= this */
  GstClockTime frame_duration = GST_CLOCK_TIME_NONE; /* from the caps' framerate */
  reelforge::IntervalTracker tracker;
};

struct _GstBlackFrameDetect {
  GstVideoFilter parent;
  GstBlackFrameDetectPrivate *priv;
};

G_DEFINE_TYPE_WITH_CODE(GstBlackFrameDetect, gst_black_frame_detect, GST_TYPE_VIDEO_FILTER,
                        GST_DEBUG_CATEGORY_INIT(gst_black_frame_detect_debug, "blackframedetect", 0,
                                                "Black frame detector"));
GST_ELEMENT_REGISTER_DEFINE(blackframedetect, "blackframedetect", GST_RANK_NONE,
                            GST_TYPE_BLACK_FRAME_DETECT);

namespace {

/* ffmpeg's test: ratio of black pixels >= picture_threshold. It stops early
 * once even an all-black remainder could not reach the threshold, so most
 * non-black pictures cost a few rows. */
bool is_black_picture(const GstVideoFrame *frame, guint8 luma_threshold,
                      gdouble picture_threshold) {
  const guint width = GST_VIDEO_FRAME_COMP_WIDTH(frame, 0);
  const guint height = GST_VIDEO_FRAME_COMP_HEIGHT(frame, 0);
  const gint stride = GST_VIDEO_FRAME_COMP_STRIDE(frame, 0);
  const auto *row = static_cast<const guint8 *>(GST_VIDEO_FRAME_COMP_DATA(frame, 0));
  const gdouble total = static_cast<gdouble>(width) * height;
  guint64 black = 0;
  for (guint y = 0; y < height; ++y, row += stride) {
    black += count_at_most(row, width, luma_threshold);
    const guint64 best_case = black + static_cast<guint64>(height - 1 - y) * width;
    if (static_cast<gdouble>(best_case) / total < picture_threshold) return false;
  }
  return static_cast<gdouble>(black) / total >= picture_threshold;
}

void post_black_interval(GstBlackFrameDetect *self, const reelforge::TimeInterval &interval) {
  GST_INFO_OBJECT(self, "black from %" GST_TIME_FORMAT " to %" GST_TIME_FORMAT,
                  GST_TIME_ARGS(interval.start), GST_TIME_ARGS(interval.end));
  GstStructure *s = reelforge::new_analysis_structure(
      "blackframedetect", GST_BASE_TRANSFORM(self)->segment, interval.start, interval.duration());
  gst_structure_set(s, "black-start", G_TYPE_UINT64, interval.start, "black-end", G_TYPE_UINT64,
                    interval.end, "black-duration", G_TYPE_UINT64, interval.duration(), nullptr);
  reelforge::post_element_message(GST_ELEMENT(self), s);
}

void post_if_closed(GstBlackFrameDetect *self,
                    const std::optional<reelforge::TimeInterval> &interval) {
  if (interval) post_black_interval(self, *interval);
}

/* The bodies of the vfuncs below, outside their guard lambdas so that log
 * lines name them. */

void start_streaming(GstBlackFrameDetect *self) {
  GstBlackFrameDetectPrivate &p = *self->priv;
  GST_OBJECT_LOCK(self);
  p.active = p.settings;
  GST_OBJECT_UNLOCK(self);
  p.tracker.reset();
  p.tracker.set_min_duration(p.active.min_duration);
  GST_DEBUG_OBJECT(self, "pixel-threshold %f, picture-threshold %f, min-duration %" GST_TIME_FORMAT,
                   p.active.pixel_threshold, p.active.picture_threshold,
                   GST_TIME_ARGS(p.active.min_duration));
}

void configure(GstBlackFrameDetect *self, const GstVideoInfo *in_info) {
  GstBlackFrameDetectPrivate &p = *self->priv;
  /* ffmpeg computes the threshold in double and truncates it; for integer
   * luma, "at most the truncated value" is "at most the exact value". */
  const bool full_range = in_info->colorimetry.range == GST_VIDEO_COLOR_RANGE_0_255;
  const gdouble threshold =
      full_range ? p.active.pixel_threshold * 255 : 16 + p.active.pixel_threshold * 219;
  p.luma_threshold = static_cast<guint8>(threshold);
  p.frame_duration = GST_VIDEO_INFO_FPS_N(in_info) > 0
                         ? gst_util_uint64_scale(GST_SECOND, GST_VIDEO_INFO_FPS_D(in_info),
                                                 GST_VIDEO_INFO_FPS_N(in_info))
                         : GST_CLOCK_TIME_NONE;
  GST_DEBUG_OBJECT(self, "%s range: black when luma <= %u", full_range ? "full" : "limited",
                   p.luma_threshold);
}

void analyse_frame(GstBlackFrameDetect *self, const GstVideoFrame *frame) {
  GstBlackFrameDetectPrivate &p = *self->priv;
  const GstClockTime pts = GST_BUFFER_PTS(frame->buffer);
  if (!GST_CLOCK_TIME_IS_VALID(pts)) {
    GST_DEBUG_OBJECT(self, "buffer without PTS, not analysed");
    return;
  }
  GstClockTime duration = GST_BUFFER_DURATION(frame->buffer);
  if (!GST_CLOCK_TIME_IS_VALID(duration))
    duration = GST_CLOCK_TIME_IS_VALID(p.frame_duration) ? p.frame_duration : 0;

  const bool black = is_black_picture(frame, p.luma_threshold, p.active.picture_threshold);
  GST_LOG_OBJECT(self, "%" GST_TIME_FORMAT " %s", GST_TIME_ARGS(pts), black ? "black" : "-");
  post_if_closed(self, p.tracker.update(black, pts, pts + duration));
}

void track_sink_event(GstBlackFrameDetect *self, GstEvent *event) {
  GstBlackFrameDetectPrivate &p = *self->priv;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_STOP:
      p.tracker.reset();
      break;
    case GST_EVENT_SEGMENT: {
      /* Still under the old segment: the base class stores the new one when
       * the event is chained up. */
      const GstSegment *segment = nullptr;
      gst_event_parse_segment(event, &segment);
      if (!gst_segment_is_equal(segment, &GST_BASE_TRANSFORM(self)->segment))
        post_if_closed(self, p.tracker.finish());
      break;
    }
    case GST_EVENT_EOS:
      post_if_closed(self, p.tracker.finish());
      break;
    default:
      break;
  }
}

}  // namespace

static void gst_black_frame_detect_set_property(GObject *object, guint prop_id, const GValue *value,
                                                GParamSpec *pspec) {
  auto *self = GST_BLACK_FRAME_DETECT(object);
  REELFORGE_GUARD_VOID(self, [&] {
    GST_OBJECT_LOCK(self);
    Settings &settings = self->priv->settings;
    switch (prop_id) {
      case PROP_PIXEL_THRESHOLD:
        settings.pixel_threshold = g_value_get_double(value);
        break;
      case PROP_PICTURE_THRESHOLD:
        settings.picture_threshold = g_value_get_double(value);
        break;
      case PROP_MIN_DURATION:
        settings.min_duration = g_value_get_uint64(value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
  });
}

static void gst_black_frame_detect_get_property(GObject *object, guint prop_id, GValue *value,
                                                GParamSpec *pspec) {
  auto *self = GST_BLACK_FRAME_DETECT(object);
  REELFORGE_GUARD_VOID(self, [&] {
    GST_OBJECT_LOCK(self);
    const Settings &settings = self->priv->settings;
    switch (prop_id) {
      case PROP_PIXEL_THRESHOLD:
        g_value_set_double(value, settings.pixel_threshold);
        break;
      case PROP_PICTURE_THRESHOLD:
        g_value_set_double(value, settings.picture_threshold);
        break;
      case PROP_MIN_DURATION:
        g_value_set_uint64(value, settings.min_duration);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
        break;
    }
    GST_OBJECT_UNLOCK(self);
  });
}

static gboolean gst_black_frame_detect_start(GstBaseTransform *trans) {
  auto *self = GST_BLACK_FRAME_DETECT(trans);
  return REELFORGE_GUARD(self, FALSE, [&] {
    start_streaming(self);
    return TRUE;
  });
}

static gboolean gst_black_frame_detect_stop(GstBaseTransform *trans) {
  auto *self = GST_BLACK_FRAME_DETECT(trans);
  return REELFORGE_GUARD(self, FALSE, [&] {
    self->priv->tracker.reset();
    return TRUE;
  });
}

static gboolean gst_black_frame_detect_set_info(GstVideoFilter *filter, GstCaps *,
                                                GstVideoInfo *in_info, GstCaps *, GstVideoInfo *) {
  auto *self = GST_BLACK_FRAME_DETECT(filter);
  return REELFORGE_GUARD(self, FALSE, [&] {
    configure(self, in_info);
    return TRUE;
  });
}

static GstFlowReturn gst_black_frame_detect_transform_frame_ip(GstVideoFilter *filter,
                                                               GstVideoFrame *frame) {
  auto *self = GST_BLACK_FRAME_DETECT(filter);
  return REELFORGE_GUARD(self, GST_FLOW_ERROR, [&] {
    analyse_frame(self, frame);
    return GST_FLOW_OK;
  });
}

static gboolean gst_black_frame_detect_sink_event(GstBaseTransform *trans, GstEvent *event) {
  auto *self = GST_BLACK_FRAME_DETECT(trans);
  REELFORGE_GUARD_VOID(self, [&] { track_sink_event(self, event); });
  return GST_BASE_TRANSFORM_CLASS(gst_black_frame_detect_parent_class)->sink_event(trans, event);
}

static void gst_black_frame_detect_finalize(GObject *object) {
  auto *self = GST_BLACK_FRAME_DETECT(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_black_frame_detect_parent_class)->finalize(object);
}

static void gst_black_frame_detect_class_init(GstBlackFrameDetectClass *klass) {
  auto *gobject_class = G_OBJECT_CLASS(klass);
  auto *element_class = GST_ELEMENT_CLASS(klass);
  auto *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  auto *filter_class = GST_VIDEO_FILTER_CLASS(klass);

  gobject_class->set_property = gst_black_frame_detect_set_property;
  gobject_class->get_property = gst_black_frame_detect_get_property;
  gobject_class->finalize = gst_black_frame_detect_finalize;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);

  /**
   * GstBlackFrameDetect:pixel-threshold:
   *
   * Fraction of the nominal luma range above the black level under which a
   * pixel counts as black: luma <= 16 + 219 × value in limited range,
   * <= 255 × value in full range (ffmpeg's `pix_th`). Dimensionless.
   */
  g_object_class_install_property(
      gobject_class, PROP_PIXEL_THRESHOLD,
      g_param_spec_double("pixel-threshold", "Pixel threshold",
                          "A pixel is black when its luma is at most the black level plus this "
                          "fraction of the luma range (limited range: 16 + 219 x value; full "
                          "range: 255 x value)",
                          0.0, 1.0, DEFAULT_PIXEL_THRESHOLD, flags));

  /**
   * GstBlackFrameDetect:picture-threshold:
   *
   * Minimum ratio of black pixels to all pixels for a picture to count as
   * black (ffmpeg's `pic_th`). Dimensionless, 0 to 1.
   */
  g_object_class_install_property(
      gobject_class, PROP_PICTURE_THRESHOLD,
      g_param_spec_double("picture-threshold", "Picture threshold",
                          "A picture is black when at least this ratio of its pixels is black", 0.0,
                          1.0, DEFAULT_PICTURE_THRESHOLD, flags));

  /**
   * GstBlackFrameDetect:min-duration:
   *
   * Shortest interval of black pictures that is reported, in nanoseconds
   * (ffmpeg's `d`, which is in seconds).
   */
  g_object_class_install_property(
      gobject_class, PROP_MIN_DURATION,
      g_param_spec_uint64("min-duration", "Minimum duration",
                          "Shortest black interval reported, in nanoseconds", 0, G_MAXUINT64,
                          DEFAULT_MIN_DURATION, flags));

  gst_element_class_set_static_metadata(
      element_class, "Black frame detector", "Filter/Analyzer/Video",
      "Posts a 'blackframedetect' element message (black-start, black-end, black-duration in "
      "ns, plus timestamp, stream-time, running-time, duration) for every interval of black "
      "pictures lasting at least min-duration; same definition as ffmpeg's blackdetect",
      "Reelforge <https://reelforge.invalid/>");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->passthrough_on_same_caps = TRUE;
  trans_class->transform_ip_on_passthrough = TRUE;
  trans_class->start = gst_black_frame_detect_start;
  trans_class->stop = gst_black_frame_detect_stop;
  trans_class->sink_event = gst_black_frame_detect_sink_event;
  filter_class->set_info = gst_black_frame_detect_set_info;
  filter_class->transform_frame_ip = gst_black_frame_detect_transform_frame_ip;
}

static void gst_black_frame_detect_init(GstBlackFrameDetect *self) {
  self->priv = new GstBlackFrameDetectPrivate();
  auto *trans = GST_BASE_TRANSFORM(self);
  gst_base_transform_set_passthrough(trans, TRUE);
  /* GstVideoFilter turns QoS on; an analyser must see every frame, late or
   * not, or it would report intervals that are not there. */
  gst_base_transform_set_qos_enabled(trans, FALSE);
}
