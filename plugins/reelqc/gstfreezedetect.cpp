/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-freezedetect
 * @title: freezedetect
 * @short_description: reports intervals where the picture does not change
 *
 * A passthrough analyser on raw video that finds the intervals where the
 * picture stays still, with the definition of ffmpeg's `freezedetect` filter:
 *
 * - the first picture of a still run is the reference;
 * - a picture is frozen when its mean absolute difference from the
 *   reference, over every byte of every plane and divided by 256 (full
 *   scale for 8 bits), is at most #GstFreezeDetect:noise;
 * - the first picture that is not frozen ends the run and becomes the new
 *   reference;
 * - a run lasting at least #GstFreezeDetect:min-duration, from the reference
 *   picture to the first picture that differs, is reported.
 *
 * A run still open at EOS is reported then, ending at the end (PTS +
 * duration) of the last picture; ffmpeg only logs its start. A flushing seek
 * forgets an open run (its true end is unknown); a new segment or a change of
 * picture size or format closes it at the end of its last picture, and the
 * next picture becomes the reference.
 *
 * The element posts one element message per interval, named `freezedetect`,
 * with these fields:
 *
 * - `freeze-start` (#guint64): PTS of the reference picture, in ns.
 * - `freeze-end` (#guint64): PTS of the first picture that differs from it
 *   (or end of the last picture at EOS), in ns.
 * - `freeze-duration` (#guint64): `freeze-end - freeze-start`, in ns.
 * - `timestamp` (#guint64): the same as `freeze-start`.
 * - `stream-time` (#guint64): stream time of `freeze-start`, in ns.
 * - `running-time` (#guint64): running time of `freeze-start`, in ns.
 * - `duration` (#guint64): the same as `freeze-duration`.
 *
 * Buffers are mapped read-only and never held: the reference picture is
 * copied into memory the element allocates when the caps change, so the
 * decoder's buffer pool is never starved.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m videotestsrc pattern=smpte100 num-buffers=75 ! \
 *     video/x-raw,width=320,height=568,framerate=25/1 ! \
 *     freezedetect min-duration=1000000000 ! fakesink
 * ]| prints one `freezedetect` message for the 3 s of still SMPTE bars,
 * posted at EOS.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstfreezedetect.h"

#include "analysis-message.h"
#include "element-guard.h"
#include "interval-tracker.h"

#include <array>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(gst_freeze_detect_debug);
#define GST_CAT_DEFAULT gst_freeze_detect_debug

namespace {

enum {
  PROP_0,
  PROP_NOISE,
  PROP_MIN_DURATION,
};

constexpr gdouble DEFAULT_NOISE = 0.001;
constexpr guint64 DEFAULT_MIN_DURATION = 2 * GST_SECOND;

/* Planar 8-bit YUV and grey; every byte of every plane is a sample. */
#define FREEZE_DETECT_CAPS \
  GST_VIDEO_CAPS_MAKE("{ I420, YV12, NV12, NV21, Y41B, Y42B, Y444, GRAY8 }")

GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE("sink", GST_PAD_SINK, GST_PAD_ALWAYS,
                                                             GST_STATIC_CAPS(FREEZE_DETECT_CAPS));
GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                                                            GST_STATIC_CAPS(FREEZE_DETECT_CAPS));

struct Settings {
  gdouble noise = DEFAULT_NOISE;
  guint64 min_duration = DEFAULT_MIN_DURATION;
};

/* Where one plane of the reference picture lives in the element's copy:
 * rows packed without padding. */
struct PlaneLayout {
  gsize offset = 0;
  guint row_bytes = 0;
  guint rows = 0;
};

/* Sum of |a[i] - b[i]|. The fixed-size inner block over pointers lets GCC
 * vectorise it at -O2 (into psadbw on x86): its "very cheap" cost model
 * wants a known trip count, and unsigned 32-bit index arithmetic stops it. */
inline guint64 sum_abs_diff(const guint8 *a, const guint8 *b, guint n) {
  constexpr std::ptrdiff_t kBlock = 64;
  const guint8 *const end = a + n;
  guint64 sum = 0;
  for (; end - a >= kBlock; a += kBlock, b += kBlock) {
    guint block = 0;
    for (std::ptrdiff_t i = 0; i < kBlock; ++i) block += std::abs(int{a[i]} - int{b[i]});
    sum += block;
  }
  for (; a < end; ++a, ++b) sum += std::abs(int{*a} - int{*b});
  return sum;
}

}  // namespace

struct GstFreezeDetectPrivate {
  /* Properties; guarded by the object lock. */
  Settings settings;

  /* Streaming state: touched only by the streaming thread, and by start()
   * and stop() while it is not running. */
  Settings active; /* snapshot taken in start() */
  std::array<PlaneLayout, GST_VIDEO_MAX_PLANES> planes{};
  guint n_planes = 0;
  guint64 samples = 0;           /* bytes in all planes: ffmpeg's count */
  std::vector<guint8> reference; /* sized on caps change only */
  bool has_reference = false;
  GstClockTime reference_pts = GST_CLOCK_TIME_NONE;
  GstClockTime frame_duration = GST_CLOCK_TIME_NONE; /* from the caps' framerate */
  reelforge::IntervalTracker tracker;
};

struct _GstFreezeDetect {
  GstVideoFilter parent;
  GstFreezeDetectPrivate *priv;
};

G_DEFINE_TYPE_WITH_CODE(GstFreezeDetect, gst_freeze_detect, GST_TYPE_VIDEO_FILTER,
                        GST_DEBUG_CATEGORY_INIT(gst_freeze_detect_debug, "freezedetect", 0,
                                                "Freeze detector"));
GST_ELEMENT_REGISTER_DEFINE(freezedetect, "freezedetect", GST_RANK_NONE, GST_TYPE_FREEZE_DETECT);

namespace {

/* ffmpeg's test: sum of absolute differences over all planes / number of
 * samples / 2^8 <= noise. Comparing with the reference (the first picture of
 * the still run) rather than with the previous picture matters: a slow fade
 * changes each picture from the one before by less than the noise floor, yet
 * drifts away from where it started, so it is not reported as frozen. The
 * sum only grows, so the loop stops as soon as the picture cannot be frozen:
 * moving pictures cost a few rows. */
bool is_frozen(const GstVideoFrame *frame, const GstFreezeDetectPrivate &p) {
  const gdouble count = static_cast<gdouble>(p.samples);
  const gdouble limit = p.active.noise;
  guint64 sad = 0;
  for (guint plane = 0; plane < p.n_planes; ++plane) {
    const PlaneLayout &layout = p.planes[plane];
    const auto *row = static_cast<const guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(frame, plane));
    const gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, plane);
    const guint8 *ref = p.reference.data() + layout.offset;
    for (guint y = 0; y < layout.rows; ++y, row += stride, ref += layout.row_bytes) {
      sad += sum_abs_diff(row, ref, layout.row_bytes);
      if (static_cast<gdouble>(sad) / count / 256 > limit) return false;
    }
  }
  return true;
}

void copy_reference(const GstVideoFrame *frame, GstFreezeDetectPrivate &p) {
  for (guint plane = 0; plane < p.n_planes; ++plane) {
    const PlaneLayout &layout = p.planes[plane];
    const auto *row = static_cast<const guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(frame, plane));
    const gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, plane);
    guint8 *ref = p.reference.data() + layout.offset;
    for (guint y = 0; y < layout.rows; ++y, row += stride, ref += layout.row_bytes)
      std::memcpy(ref, row, layout.row_bytes);
  }
}

void post_freeze_interval(GstFreezeDetect *self, const reelforge::TimeInterval &interval) {
  GST_INFO_OBJECT(self, "frozen from %" GST_TIME_FORMAT " to %" GST_TIME_FORMAT,
                  GST_TIME_ARGS(interval.start), GST_TIME_ARGS(interval.end));
  GstStructure *s = reelforge::new_analysis_structure(
      "freezedetect", GST_BASE_TRANSFORM(self)->segment, interval.start, interval.duration());
  gst_structure_set(s, "freeze-start", G_TYPE_UINT64, interval.start, "freeze-end", G_TYPE_UINT64,
                    interval.end, "freeze-duration", G_TYPE_UINT64, interval.duration(), nullptr);
  reelforge::post_element_message(GST_ELEMENT(self), s);
}

/* The end of a stretch of comparable pictures (EOS, new segment, new
 * layout): report a run still open, and start again from the next picture. */
void finish_run(GstFreezeDetect *self) {
  GstFreezeDetectPrivate &p = *self->priv;
  if (auto interval = p.tracker.finish()) post_freeze_interval(self, *interval);
  p.has_reference = false;
}

/* Lays out the planes as ffmpeg counts them: for each plane, the bytes of
 * its first component's row (an interleaved chroma plane counts both
 * components) times its rows. */
void compute_layout(const GstVideoInfo *info, GstFreezeDetectPrivate &p) {
  const GstVideoFormatInfo *finfo = info->finfo;
  p.n_planes = GST_VIDEO_INFO_N_PLANES(info);
  p.planes = {};
  gsize offset = 0;
  for (guint plane = 0; plane < p.n_planes; ++plane) {
    for (guint comp = 0; comp < GST_VIDEO_INFO_N_COMPONENTS(info); ++comp) {
      if (GST_VIDEO_FORMAT_INFO_PLANE(finfo, comp) != plane) continue;
      PlaneLayout &layout = p.planes[plane];
      layout.offset = offset;
      layout.row_bytes =
          GST_VIDEO_INFO_COMP_WIDTH(info, comp) * GST_VIDEO_INFO_COMP_PSTRIDE(info, comp);
      layout.rows = GST_VIDEO_INFO_COMP_HEIGHT(info, comp);
      offset += static_cast<gsize>(layout.row_bytes) * layout.rows;
      break;
    }
  }
  p.samples = offset;
}

/* The bodies of the vfuncs below, outside their guard lambdas so that log
 * lines name them. */

void start_streaming(GstFreezeDetect *self) {
  GstFreezeDetectPrivate &p = *self->priv;
  GST_OBJECT_LOCK(self);
  p.active = p.settings;
  GST_OBJECT_UNLOCK(self);
  p.tracker.reset();
  p.tracker.set_min_duration(p.active.min_duration);
  p.has_reference = false;
  GST_DEBUG_OBJECT(self, "noise %f, min-duration %" GST_TIME_FORMAT, p.active.noise,
                   GST_TIME_ARGS(p.active.min_duration));
}

void configure(GstFreezeDetect *self, const GstVideoInfo *in_info) {
  GstFreezeDetectPrivate &p = *self->priv;
  const GstVideoFilter *filter = GST_VIDEO_FILTER(self);
  const GstVideoInfo *old_info = &filter->in_info;
  const bool same_layout = filter->negotiated &&
                           GST_VIDEO_INFO_FORMAT(old_info) == GST_VIDEO_INFO_FORMAT(in_info) &&
                           GST_VIDEO_INFO_WIDTH(old_info) == GST_VIDEO_INFO_WIDTH(in_info) &&
                           GST_VIDEO_INFO_HEIGHT(old_info) == GST_VIDEO_INFO_HEIGHT(in_info);
  if (!same_layout) {
    /* Pictures of another size or format cannot be compared with the
     * reference: the run so far ends here. The only allocation. */
    finish_run(self);
    compute_layout(in_info, p);
    p.reference.resize(p.samples);
  }
  p.frame_duration = GST_VIDEO_INFO_FPS_N(in_info) > 0
                         ? gst_util_uint64_scale(GST_SECOND, GST_VIDEO_INFO_FPS_D(in_info),
                                                 GST_VIDEO_INFO_FPS_N(in_info))
                         : GST_CLOCK_TIME_NONE;
  GST_DEBUG_OBJECT(self, "%u planes, %" G_GUINT64_FORMAT " samples per picture", p.n_planes,
                   p.samples);
}

void analyse_frame(GstFreezeDetect *self, const GstVideoFrame *frame) {
  GstFreezeDetectPrivate &p = *self->priv;
  const GstClockTime pts = GST_BUFFER_PTS(frame->buffer);
  if (!GST_CLOCK_TIME_IS_VALID(pts)) {
    GST_DEBUG_OBJECT(self, "buffer without PTS, not analysed");
    return;
  }
  GstClockTime duration = GST_BUFFER_DURATION(frame->buffer);
  if (!GST_CLOCK_TIME_IS_VALID(duration))
    duration = GST_CLOCK_TIME_IS_VALID(p.frame_duration) ? p.frame_duration : 0;

  const bool frozen = p.has_reference && is_frozen(frame, p);
  GST_LOG_OBJECT(self, "%" GST_TIME_FORMAT " %s", GST_TIME_ARGS(pts), frozen ? "frozen" : "-");
  /* A still run starts with its reference picture, known to be part of it
   * only now that a later picture matches it. */
  auto closed = p.tracker.update(frozen, frozen ? p.reference_pts : pts, pts + duration);
  if (!frozen) {
    copy_reference(frame, p);
    p.reference_pts = pts;
    p.has_reference = true;
  }
  if (closed) post_freeze_interval(self, *closed);
}

void track_sink_event(GstFreezeDetect *self, GstEvent *event) {
  GstFreezeDetectPrivate &p = *self->priv;
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_STOP:
      p.tracker.reset();
      p.has_reference = false;
      break;
    case GST_EVENT_SEGMENT: {
      /* Still under the old segment: the base class stores the new one when
       * the event is chained up. */
      const GstSegment *segment = nullptr;
      gst_event_parse_segment(event, &segment);
      if (!gst_segment_is_equal(segment, &GST_BASE_TRANSFORM(self)->segment)) finish_run(self);
      break;
    }
    case GST_EVENT_EOS:
      finish_run(self);
      break;
    default:
      break;
  }
}

}  // namespace

static void gst_freeze_detect_set_property(GObject *object, guint prop_id, const GValue *value,
                                           GParamSpec *pspec) {
  auto *self = GST_FREEZE_DETECT(object);
  REELFORGE_GUARD_VOID(self, [&] {
    GST_OBJECT_LOCK(self);
    Settings &settings = self->priv->settings;
    switch (prop_id) {
      case PROP_NOISE:
        settings.noise = g_value_get_double(value);
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

static void gst_freeze_detect_get_property(GObject *object, guint prop_id, GValue *value,
                                           GParamSpec *pspec) {
  auto *self = GST_FREEZE_DETECT(object);
  REELFORGE_GUARD_VOID(self, [&] {
    GST_OBJECT_LOCK(self);
    const Settings &settings = self->priv->settings;
    switch (prop_id) {
      case PROP_NOISE:
        g_value_set_double(value, settings.noise);
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

static gboolean gst_freeze_detect_start(GstBaseTransform *trans) {
  auto *self = GST_FREEZE_DETECT(trans);
  return REELFORGE_GUARD(self, FALSE, [&] {
    start_streaming(self);
    return TRUE;
  });
}

static gboolean gst_freeze_detect_stop(GstBaseTransform *trans) {
  auto *self = GST_FREEZE_DETECT(trans);
  return REELFORGE_GUARD(self, FALSE, [&] {
    GstFreezeDetectPrivate &p = *self->priv;
    p.tracker.reset();
    p.has_reference = false;
    return TRUE;
  });
}

static gboolean gst_freeze_detect_set_info(GstVideoFilter *filter, GstCaps *, GstVideoInfo *in_info,
                                           GstCaps *, GstVideoInfo *) {
  auto *self = GST_FREEZE_DETECT(filter);
  return REELFORGE_GUARD(self, FALSE, [&] {
    configure(self, in_info);
    return TRUE;
  });
}

static GstFlowReturn gst_freeze_detect_transform_frame_ip(GstVideoFilter *filter,
                                                          GstVideoFrame *frame) {
  auto *self = GST_FREEZE_DETECT(filter);
  return REELFORGE_GUARD(self, GST_FLOW_ERROR, [&] {
    analyse_frame(self, frame);
    return GST_FLOW_OK;
  });
}

static gboolean gst_freeze_detect_sink_event(GstBaseTransform *trans, GstEvent *event) {
  auto *self = GST_FREEZE_DETECT(trans);
  REELFORGE_GUARD_VOID(self, [&] { track_sink_event(self, event); });
  return GST_BASE_TRANSFORM_CLASS(gst_freeze_detect_parent_class)->sink_event(trans, event);
}

static void gst_freeze_detect_finalize(GObject *object) {
  auto *self = GST_FREEZE_DETECT(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(gst_freeze_detect_parent_class)->finalize(object);
}

static void gst_freeze_detect_class_init(GstFreezeDetectClass *klass) {
  auto *gobject_class = G_OBJECT_CLASS(klass);
  auto *element_class = GST_ELEMENT_CLASS(klass);
  auto *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  auto *filter_class = GST_VIDEO_FILTER_CLASS(klass);

  gobject_class->set_property = gst_freeze_detect_set_property;
  gobject_class->get_property = gst_freeze_detect_get_property;
  gobject_class->finalize = gst_freeze_detect_finalize;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);

  /**
   * GstFreezeDetect:noise:
   *
   * Largest mean absolute difference from the reference picture for a
   * picture to count as unchanged, as a fraction of full scale (sample
   * difference / 256): 0.001 is about −60 dB (ffmpeg's `n`).
   * Dimensionless, 0 to 1.
   */
  g_object_class_install_property(
      gobject_class, PROP_NOISE,
      g_param_spec_double("noise", "Noise tolerance",
                          "Largest mean absolute difference from the reference picture, as a "
                          "fraction of full scale, for a picture to count as frozen "
                          "(0.001 = -60 dB)",
                          0.0, 1.0, DEFAULT_NOISE, flags));

  /**
   * GstFreezeDetect:min-duration:
   *
   * Shortest still interval that is reported, in nanoseconds (ffmpeg's `d`,
   * which is in seconds).
   */
  g_object_class_install_property(
      gobject_class, PROP_MIN_DURATION,
      g_param_spec_uint64("min-duration", "Minimum duration",
                          "Shortest frozen interval reported, in nanoseconds", 0, G_MAXUINT64,
                          DEFAULT_MIN_DURATION, flags));

  gst_element_class_set_static_metadata(
      element_class, "Freeze detector", "Filter/Analyzer/Video",
      "Posts a 'freezedetect' element message (freeze-start, freeze-end, freeze-duration in "
      "ns, plus timestamp, stream-time, running-time, duration) for every interval where the "
      "picture stays within the noise floor of its first picture for at least min-duration; "
      "same definition as ffmpeg's freezedetect",
      "Reelforge <https://reelforge.invalid/>");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);

  trans_class->passthrough_on_same_caps = TRUE;
  trans_class->transform_ip_on_passthrough = TRUE;
  trans_class->start = gst_freeze_detect_start;
  trans_class->stop = gst_freeze_detect_stop;
  trans_class->sink_event = gst_freeze_detect_sink_event;
  filter_class->set_info = gst_freeze_detect_set_info;
  filter_class->transform_frame_ip = gst_freeze_detect_transform_frame_ip;
}

static void gst_freeze_detect_init(GstFreezeDetect *self) {
  self->priv = new GstFreezeDetectPrivate();
  auto *trans = GST_BASE_TRANSFORM(self);
  gst_base_transform_set_passthrough(trans, TRUE);
  /* GstVideoFilter turns QoS on; an analyser must see every frame, late or
   * not, or a dropped picture could split or fake a still run. */
  gst_base_transform_set_qos_enabled(trans, FALSE);
}
