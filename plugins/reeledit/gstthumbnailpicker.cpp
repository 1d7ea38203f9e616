/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-thumbnailpicker
 * @title: thumbnailpicker
 * @short_description: picks the most detailed, non-black frames as thumbnails
 *
 * A passthrough element on raw video that picks #GstThumbnailPicker:count
 * thumbnails in the same pass that renders the video, and writes them at
 * EOS as JPEG or PNG (by the extension of #GstThumbnailPicker:location).
 *
 * The stream is cut into `count` equal windows when its duration is known
 * (a DURATION query upstream), so the thumbnails spread over the video;
 * otherwise into windows of 2 s of which the `count` best are kept. In each
 * window the frame with the most detail wins: detail is the mean absolute
 * difference between neighbouring luma samples on a grid of every fourth
 * row and column, and a frame whose mean luma is near black scores nothing.
 * At most one frame per #GstThumbnailPicker:sample-interval is scored, and
 * only a window's winner is copied (never a reference on an upstream
 * buffer), so memory stays at `count` + 1 frames.
 *
 * At EOS, after writing the files, it posts a `thumbnailpicker` element
 * message:
 *
 * - `locations` (#GstValueArray of strings): the files written, in time order.
 * - `timestamps` (#GstValueArray of #guint64): each thumbnail's PTS, in ns.
 * - `timestamp`, `stream-time`, `running-time` (#guint64): of the first
 *   thumbnail; `duration` (#guint64): from the first to the last thumbnail.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m videotestsrc num-buffers=150 pattern=smpte horizontal-speed=4 ! \
 *     video/x-raw,width=320,height=568,framerate=30/1 ! \
 *     thumbnailpicker count=3 location=thumb-%02d.jpg ! fakesink
 * ]| writes thumb-01.jpg, thumb-02.jpg and thumb-03.jpg, one from each
 * third of the five seconds.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstthumbnailpicker.h"

#include "analysis-message.h"
#include "element-guard.h"
#include "gst-ptr.h"

#include <gst/video/video.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(gst_thumbnail_picker_debug);
#define GST_CAT_DEFAULT gst_thumbnail_picker_debug

namespace {

enum {
  PROP_0,
  PROP_COUNT,
  PROP_LOCATION,
  PROP_WIDTH,
  PROP_SAMPLE_INTERVAL,
};

constexpr guint DEFAULT_COUNT = 3;
constexpr const char *DEFAULT_LOCATION = "thumbnail-%02d.jpg";
constexpr gint DEFAULT_WIDTH = 0;
constexpr guint64 DEFAULT_SAMPLE_INTERVAL = 200 * GST_MSECOND;
constexpr GstClockTime kUnknownDurationWindow = 2 * GST_SECOND;
/* Limited-range luma 16 + 10% of 219, ffmpeg blackdetect's default. */
constexpr double kNearBlackLuma = 37.9;

#define THUMBNAIL_PICKER_CAPS \
  GST_VIDEO_CAPS_MAKE("{ I420, YV12, NV12, NV21, Y41B, Y42B, Y444, GRAY8 }")

GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS(THUMBNAIL_PICKER_CAPS));
GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE("src", GST_PAD_SRC, GST_PAD_ALWAYS,
                                                            GST_STATIC_CAPS(THUMBNAIL_PICKER_CAPS));

struct Settings {
  guint count = DEFAULT_COUNT;
  std::string location = DEFAULT_LOCATION;
  gint width = DEFAULT_WIDTH;
  guint64 sample_interval = DEFAULT_SAMPLE_INTERVAL;
};

/* The best frame of one window, copied. */
struct Candidate {
  guint64 window = 0;
  double score = -1;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  reelforge::SamplePtr sample;
};

/* Detail of a picture, or a negative score for a near-black one. */
double score_picture(const GstVideoFrame *frame) {
  const guint width = GST_VIDEO_FRAME_COMP_WIDTH(frame, 0);
  const guint height = GST_VIDEO_FRAME_COMP_HEIGHT(frame, 0);
  const gint stride = GST_VIDEO_FRAME_COMP_STRIDE(frame, 0);
  const auto *luma = static_cast<const guint8 *>(GST_VIDEO_FRAME_COMP_DATA(frame, 0));
  if (width < 2 || height < 2) return -1;
  guint64 sum = 0, detail = 0, samples = 0;
  for (guint y = 0; y + 1 < height; y += 4) {
    const guint8 *row = luma + static_cast<gsize>(y) * stride;
    const guint8 *below = row + stride;
    for (guint x = 0; x + 1 < width; x += 4) {
      sum += row[x];
      detail += std::abs(row[x] - row[x + 1]) + std::abs(row[x] - below[x]);
      ++samples;
    }
  }
  const double mean = static_cast<double>(sum) / samples;
  if (mean <= kNearBlackLuma) return -1;
  return static_cast<double>(detail) / samples;
}

std::string thumbnail_path(const std::string &pattern, guint index) {
  reelforge::GCharPtr path(g_strdup_printf(pattern.c_str(), index));
  return path.get();
}

}  // namespace

struct GstThumbnailPickerPrivate {
  Settings settings; /* under the object lock */

  /* Streaming state, touched by the streaming thread (and start/stop). */
  Settings active;
  GstClockTime window_length = GST_CLOCK_TIME_NONE; /* chosen at the first frame */
  GstClockTime next_sample = 0;
  Candidate current;               /* best of the window in progress */
  std::vector<Candidate> retained; /* best windows so far */

  void reset() {
    window_length = GST_CLOCK_TIME_NONE;
    next_sample = 0;
    current = Candidate{};
    retained.clear();
  }
};

struct _GstThumbnailPicker {
  GstVideoFilter parent;
  GstThumbnailPickerPrivate *priv;
};

G_DEFINE_TYPE_WITH_CODE(GstThumbnailPicker, gst_thumbnail_picker, GST_TYPE_VIDEO_FILTER,
                        GST_DEBUG_CATEGORY_INIT(gst_thumbnail_picker_debug, "thumbnailpicker", 0,
                                                "Thumbnail picker"));
GST_ELEMENT_REGISTER_DEFINE(thumbnailpicker, "thumbnailpicker", GST_RANK_NONE,
                            GST_TYPE_THUMBNAIL_PICKER);

namespace {

void choose_window_length(GstThumbnailPicker *self) {
  GstThumbnailPickerPrivate &p = *self->priv;
  gint64 duration = -1;
  if (gst_pad_peer_query_duration(GST_BASE_TRANSFORM_SINK_PAD(self), GST_FORMAT_TIME, &duration) &&
      duration > 0) {
    p.window_length = static_cast<GstClockTime>(duration) / p.active.count;
  } else {
    p.window_length = kUnknownDurationWindow;
  }
  GST_DEBUG_OBJECT(self, "windows of %" GST_TIME_FORMAT, GST_TIME_ARGS(p.window_length));
}

/* Moves the finished window's winner into the retained set, keeping the
 * best `count` when windows outnumber thumbnails. */
void close_window(GstThumbnailPickerPrivate &p) {
  if (!p.current.sample) return;
  p.retained.push_back(std::move(p.current));
  p.current = Candidate{};
  if (p.retained.size() > p.active.count) {
    auto worst =
        std::min_element(p.retained.begin(), p.retained.end(),
                         [](const Candidate &a, const Candidate &b) { return a.score < b.score; });
    p.retained.erase(worst);
  }
}

reelforge::SamplePtr copy_frame(GstThumbnailPicker *self, const GstVideoFrame *frame) {
  reelforge::CapsPtr caps(gst_pad_get_current_caps(GST_BASE_TRANSFORM_SINK_PAD(self)));
  reelforge::BufferPtr copy(gst_buffer_copy_deep(frame->buffer));
  return reelforge::SamplePtr(gst_sample_new(copy.get(), caps.get(), nullptr, nullptr));
}

void consider_frame(GstThumbnailPicker *self, const GstVideoFrame *frame) {
  GstThumbnailPickerPrivate &p = *self->priv;
  const GstClockTime pts = GST_BUFFER_PTS(frame->buffer);
  if (p.active.count == 0 || !GST_CLOCK_TIME_IS_VALID(pts) || pts < p.next_sample) return;
  p.next_sample = pts + p.active.sample_interval;
  if (!GST_CLOCK_TIME_IS_VALID(p.window_length)) choose_window_length(self);

  const guint64 window = pts / p.window_length;
  if (p.current.sample && window != p.current.window) close_window(p);
  const double score = score_picture(frame);
  if (score < 0 || (p.current.sample && score <= p.current.score)) return;
  p.current.window = window;
  p.current.score = score;
  p.current.pts = pts;
  p.current.sample = copy_frame(self, frame);
}

/* Encodes and writes the thumbnails, then posts the message. */
void write_thumbnails(GstThumbnailPicker *self) {
  GstThumbnailPickerPrivate &p = *self->priv;
  if (p.active.count == 0) return;
  close_window(p);
  if (p.retained.empty()) {
    GST_WARNING_OBJECT(self, "no frame worth a thumbnail (all black or none)");
    return;
  }
  std::sort(p.retained.begin(), p.retained.end(),
            [](const Candidate &a, const Candidate &b) { return a.pts < b.pts; });

  const bool png = g_str_has_suffix(p.active.location.c_str(), ".png");
  GValue locations = G_VALUE_INIT, timestamps = G_VALUE_INIT;
  gst_value_array_init(&locations, p.retained.size());
  gst_value_array_init(&timestamps, p.retained.size());
  guint index = 1;
  for (const Candidate &candidate : p.retained) {
    reelforge::CapsPtr to(gst_caps_new_empty_simple(png ? "image/png" : "image/jpeg"));
    if (p.active.width > 0) {
      const GstStructure *s =
          gst_caps_get_structure(gst_sample_get_caps(candidate.sample.get()), 0);
      gint width = 0, height = 0;
      gst_structure_get_int(s, "width", &width);
      gst_structure_get_int(s, "height", &height);
      const gint scaled =
          static_cast<gint>(gst_util_uint64_scale_round(height, p.active.width, width));
      gst_caps_set_simple(to.get(), "width", G_TYPE_INT, p.active.width, "height", G_TYPE_INT,
                          std::max(scaled & ~1, 2), nullptr);
    }
    GError *raw_error = nullptr;
    reelforge::SamplePtr image(
        gst_video_convert_sample(candidate.sample.get(), to.get(), 30 * GST_SECOND, &raw_error));
    reelforge::GErrorPtr error(raw_error);
    if (!image)
      throw reelforge::ElementError(
          GST_STREAM_ERROR, GST_STREAM_ERROR_ENCODE,
          std::string("cannot encode a thumbnail: ") + (error ? error->message : "unknown error"));
    GstMapInfo map;
    GstBuffer *buffer = gst_sample_get_buffer(image.get());
    gst_buffer_map(buffer, &map, GST_MAP_READ);
    const std::string path = thumbnail_path(p.active.location, index++);
    const gboolean written =
        g_file_set_contents(path.c_str(), reinterpret_cast<const gchar *>(map.data),
                            static_cast<gssize>(map.size), &raw_error);
    gst_buffer_unmap(buffer, &map);
    if (!written) {
      reelforge::GErrorPtr write_error(raw_error);
      throw reelforge::ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_WRITE,
                                    "cannot write thumbnail " + path + ": " + write_error->message);
    }
    GST_INFO_OBJECT(self, "thumbnail %s at %" GST_TIME_FORMAT " (detail %.1f)", path.c_str(),
                    GST_TIME_ARGS(candidate.pts), candidate.score);
    GValue location = G_VALUE_INIT, timestamp = G_VALUE_INIT;
    g_value_init(&location, G_TYPE_STRING);
    g_value_set_string(&location, path.c_str());
    gst_value_array_append_and_take_value(&locations, &location);
    g_value_init(&timestamp, G_TYPE_UINT64);
    g_value_set_uint64(&timestamp, candidate.pts);
    gst_value_array_append_and_take_value(&timestamps, &timestamp);
  }

  const GstClockTime first = p.retained.front().pts;
  GstStructure *s = reelforge::new_analysis_structure(
      "thumbnailpicker", GST_BASE_TRANSFORM(self)->segment, first, p.retained.back().pts - first);
  gst_structure_take_value(s, "locations", &locations);
  gst_structure_take_value(s, "timestamps", &timestamps);
  reelforge::post_element_message(GST_ELEMENT(self), s);
}

}  // namespace

static void gst_thumbnail_picker_set_property(GObject *object, guint prop_id, const GValue *value,
                                              GParamSpec *pspec) {
  auto *self = GST_THUMBNAIL_PICKER(object);
  GST_OBJECT_LOCK(self);
  Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_COUNT:
      settings.count = g_value_get_uint(value);
      break;
    case PROP_LOCATION: {
      const gchar *location = g_value_get_string(value);
      settings.location = location ? location : DEFAULT_LOCATION;
      break;
    }
    case PROP_WIDTH:
      settings.width = g_value_get_int(value);
      break;
    case PROP_SAMPLE_INTERVAL:
      settings.sample_interval = g_value_get_uint64(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_thumbnail_picker_get_property(GObject *object, guint prop_id, GValue *value,
                                              GParamSpec *pspec) {
  auto *self = GST_THUMBNAIL_PICKER(object);
  GST_OBJECT_LOCK(self);
  const Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_COUNT:
      g_value_set_uint(value, settings.count);
      break;
    case PROP_LOCATION:
      g_value_set_string(value, settings.location.c_str());
      break;
    case PROP_WIDTH:
      g_value_set_int(value, settings.width);
      break;
    case PROP_SAMPLE_INTERVAL:
      g_value_set_uint64(value, settings.sample_interval);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static gboolean gst_thumbnail_picker_start(GstBaseTransform *trans) {
  auto *self = GST_THUMBNAIL_PICKER(trans);
  GstThumbnailPickerPrivate &p = *self->priv;
  GST_OBJECT_LOCK(self);
  p.active = p.settings;
  GST_OBJECT_UNLOCK(self);
  p.reset();
  return TRUE;
}

static gboolean gst_thumbnail_picker_stop(GstBaseTransform *trans) {
  GST_THUMBNAIL_PICKER(trans)->priv->reset();
  return TRUE;
}

static GstFlowReturn gst_thumbnail_picker_transform_frame_ip(GstVideoFilter *filter,
                                                             GstVideoFrame *frame) {
  auto *self = GST_THUMBNAIL_PICKER(filter);
  return REELFORGE_GUARD(self, GST_FLOW_ERROR, [&] {
    consider_frame(self, frame);
    return GST_FLOW_OK;
  });
}

static gboolean gst_thumbnail_picker_sink_event(GstBaseTransform *trans, GstEvent *event) {
  auto *self = GST_THUMBNAIL_PICKER(trans);
  bool ok = true;
  if (GST_EVENT_TYPE(event) == GST_EVENT_FLUSH_STOP) {
    self->priv->reset();
  } else if (GST_EVENT_TYPE(event) == GST_EVENT_EOS) {
    /* The files exist before EOS leaves: whoever waits for EOS finds them. */
    ok = REELFORGE_GUARD(self, false, [&] {
      write_thumbnails(self);
      return true;
    });
  }
  if (!ok) {
    gst_event_unref(event);
    return FALSE;
  }
  return GST_BASE_TRANSFORM_CLASS(gst_thumbnail_picker_parent_class)->sink_event(trans, event);
}

static void gst_thumbnail_picker_finalize(GObject *object) {
  delete GST_THUMBNAIL_PICKER(object)->priv;
  G_OBJECT_CLASS(gst_thumbnail_picker_parent_class)->finalize(object);
}

static void gst_thumbnail_picker_class_init(GstThumbnailPickerClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  GstVideoFilterClass *filter_class = GST_VIDEO_FILTER_CLASS(klass);

  gobject_class->set_property = gst_thumbnail_picker_set_property;
  gobject_class->get_property = gst_thumbnail_picker_get_property;
  gobject_class->finalize = gst_thumbnail_picker_finalize;

  /**
   * GstThumbnailPicker:count:
   *
   * How many thumbnails to pick, spread over the video. 0 picks none: the
   * frames pass through untouched and nothing is written.
   */
  g_object_class_install_property(
      gobject_class, PROP_COUNT,
      g_param_spec_uint("count", "Count", "How many thumbnails to pick (0: none)", 0, 100,
                        DEFAULT_COUNT,
                        static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_READY)));
  /**
   * GstThumbnailPicker:location:
   *
   * Where to write thumbnail n (from 1): a printf pattern with one integer
   * conversion. A name ending in .png gives PNG, anything else JPEG.
   */
  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Location",
                          "File name pattern with one %d for the thumbnail number (from 1); "
                          ".png gives PNG, otherwise JPEG",
                          DEFAULT_LOCATION,
                          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY)));
  /**
   * GstThumbnailPicker:width:
   *
   * Thumbnail width in pixels, height following the aspect ratio; 0 keeps
   * the video's size.
   */
  g_object_class_install_property(
      gobject_class, PROP_WIDTH,
      g_param_spec_int("width", "Width", "Thumbnail width in pixels (0: the video's width)", 0,
                       8192, DEFAULT_WIDTH,
                       static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                GST_PARAM_MUTABLE_READY)));
  /**
   * GstThumbnailPicker:sample-interval:
   *
   * Score at most one frame per this many nanoseconds of stream time.
   */
  g_object_class_install_property(
      gobject_class, PROP_SAMPLE_INTERVAL,
      g_param_spec_uint64("sample-interval", "Sample interval",
                          "Score at most one frame per this long, in nanoseconds", 0, G_MAXUINT64,
                          DEFAULT_SAMPLE_INTERVAL,
                          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY)));

  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  gst_element_class_set_static_metadata(
      element_class, "Thumbnail picker", "Filter/Analyzer/Video",
      "Picks the most detailed, non-black frames spread over the video and writes them as "
      "JPEG or PNG at EOS, posting a thumbnailpicker message",
      "Reelforge <dev@reelforge.invalid>");

  trans_class->start = gst_thumbnail_picker_start;
  trans_class->stop = gst_thumbnail_picker_stop;
  trans_class->sink_event = gst_thumbnail_picker_sink_event;
  trans_class->passthrough_on_same_caps = TRUE;
  trans_class->transform_ip_on_passthrough = TRUE;
  filter_class->transform_frame_ip = gst_thumbnail_picker_transform_frame_ip;
}

static void gst_thumbnail_picker_init(GstThumbnailPicker *self) {
  self->priv = new GstThumbnailPickerPrivate();
  gst_base_transform_set_passthrough(GST_BASE_TRANSFORM(self), TRUE);
  /* Late frames are still frames to pick from. */
  gst_base_transform_set_qos_enabled(GST_BASE_TRANSFORM(self), FALSE);
}
