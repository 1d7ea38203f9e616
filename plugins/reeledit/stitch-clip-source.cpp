/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stitch-clip-source.h"

#include "element-guard.h"
#include "stitch-mapped-frame.h"
#include "stitch-title-card.h"
#include "time-convert.h"

#include <gst/app/app.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

/* ClipSource logs as the stitchbin it belongs to. */
GST_DEBUG_CATEGORY_EXTERN(gst_stitch_bin_debug);
#define GST_CAT_DEFAULT gst_stitch_bin_debug

namespace reelforge::stitch {
namespace {

/* How long a clip's pipeline may take to preroll. */
constexpr GstClockTime PREROLL_TIMEOUT = 60 * GST_SECOND;
/* Decodes a URI clip. uridecodebin3 (GStreamer 1.22.0) now and then never
 * prerolled a clip when both cores were busy (its pads never got data), so
 * the clips go through uridecodebin, which did not. */
constexpr const char *URI_DECODER = "uridecodebin";
/* Threads of each clip's video decoder (where it has a max-threads). */
constexpr gint DECODER_THREADS = 1;

/* The crop rectangle of a still with motion at progress q (0..1 over the
 * clip): zooms between 1x and 1.25x and pans across the picture. */
Rect motion_rect(Motion motion, double q, gint width, gint height) {
  double zoom = 1.0, fx = 0.5, fy = 0.5;
  switch (motion) {
    case Motion::kNone:
      break;
    case Motion::kZoomIn:
      zoom = 1.0 + 0.25 * q;
      break;
    case Motion::kZoomOut:
      zoom = 1.25 - 0.25 * q;
      break;
    case Motion::kKenBurns:
      zoom = 1.1 + 0.15 * q;
      fx = 0.2 + 0.6 * q;
      fy = 0.3 + 0.4 * q;
      break;
    case Motion::kPanLeft: /* the view travels leftwards */
      zoom = 1.2;
      fx = 1.0 - q;
      break;
    case Motion::kPanRight:
      zoom = 1.2;
      fx = q;
      break;
  }
  Rect r;
  r.w = std::max(1, static_cast<gint>(std::lround(width / zoom)));
  r.h = std::max(1, static_cast<gint>(std::lround(height / zoom)));
  r.x = static_cast<gint>(std::lround((width - r.w) * fx));
  r.y = static_cast<gint>(std::lround((height - r.h) * fy));
  return r;
}

std::string error_text(GstMessage *message) {
  GError *raw = nullptr;
  gchar *debug = nullptr;
  gst_message_parse_error(message, &raw, &debug);
  GErrorPtr error(raw);
  GCharPtr debug_text(debug);
  return error ? error->message : "unknown error";
}

}  // namespace

ClipSource::ClipSource(GstElement *element, const PlannedClip &clip, const OutputFormat &format,
                       const std::atomic<bool> &stopping)
    : element_(element), clip_(clip), format_(format), stopping_(stopping) {
  for (const GstVideoInfo &info : format.videos) renditions_.emplace_back(info);
}

ClipSource::~ClipSource() {
  close();
}

void ClipSource::open() {
  std::lock_guard lock(open_lock_);
  /* The other stream gets the same failure, not a half-opened clip. */
  if (open_error_) std::rethrow_exception(open_error_);
  if (opened_) return;
  opened_ = true;
  try {
    switch (clip_.spec.kind) {
      case SourceKind::kUri:
        open_uri();
        break;
      case SourceKind::kImage:
        open_image();
        break;
      case SourceKind::kCard:
        for (Rendition &rendition : renditions_)
          rendition.card = render_card(clip_.spec.card, rendition.info);
        break;
    }
  } catch (...) {
    open_error_ = std::current_exception();
    throw;
  }
}

void ClipSource::close() {
  std::lock_guard lock(open_lock_);
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  pipeline_.reset();
  video_sink_ = audio_sink_ = nullptr;
}

BufferPtr ClipSource::video_frame(guint64 j, std::size_t r) {
  const GstClockTime t = frame_to_time(j, format_.fps_n, format_.fps_d);
  Rendition &rendition = renditions_.at(r);
  if (clip_.spec.kind == SourceKind::kCard) return ref(rendition.card.get());
  if (clip_.spec.kind == SourceKind::kImage) return image_frame(j, rendition);

  if (video_sink_ == nullptr) return rendition.black_frame();
  /* The source frame shown at t is the last one starting at or before
   * it (a millisecond of slack absorbs timestamp rounding). */
  while (true) {
    if (!pending_ && !video_eos_) video_eos_ = !pull(video_sink_, pending_);
    if (!pending_ || frame_start(pending_.get()) > t + GST_MSECOND) break;
    current_ = std::move(pending_);
  }
  if (!current_) return rendition.black_frame();
  GstBuffer *source = gst_sample_get_buffer(current_.get());
  if (source == rendition.last_source && rendition.last_output)
    return ref(rendition.last_output.get());

  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, gst_sample_get_caps(current_.get())))
    throw ElementError(GST_STREAM_ERROR, GST_STREAM_ERROR_FORMAT,
                       clip_.spec.describe() + ": unusable video caps");
  BufferPtr out = new_frame_buffer(rendition.info);
  {
    MappedFrame src(info, source, GST_MAP_READ);
    MappedFrame dst(rendition.info, out.get(), GST_MAP_WRITE);
    rendition.fitter.fit(src.get(), Rect{0, 0, info.width, info.height}, clip_.spec.fit, dst.get());
  }
  rendition.last_source = source;
  rendition.last_output = ref(out.get());
  return out;
}

void ClipSource::read_audio(float *dst, guint64 n) {
  const gint channels = format_.channels;
  while (n > 0) {
    if (audio_sink_ == nullptr || audio_eos_) {
      std::fill(dst, dst + n * channels, 0.0f);
      audio_position_ += n;
      return;
    }
    if (audio_offset_ >= audio_block_.size()) {
      SamplePtr sample;
      if (!pull(audio_sink_, sample)) {
        audio_eos_ = true;
        continue;
      }
      take_audio_block(sample.get());
      continue;
    }
    /* Silence up to where the block starts (a gap in the source). */
    if (audio_block_start_ > static_cast<gint64>(audio_position_)) {
      const guint64 gap =
          std::min<guint64>(n, audio_block_start_ - static_cast<gint64>(audio_position_));
      std::fill(dst, dst + gap * channels, 0.0f);
      dst += gap * channels;
      n -= gap;
      audio_position_ += gap;
      continue;
    }
    const guint64 available = (audio_block_.size() - audio_offset_) / channels;
    const guint64 take = std::min(n, available);
    std::memcpy(dst, audio_block_.data() + audio_offset_, take * channels * sizeof(float));
    audio_offset_ += take * channels;
    dst += take * channels;
    n -= take;
    audio_position_ += take;
  }
}

void ClipSource::fail(GQuark domain, gint code, const std::string &what) {
  throw ElementError(domain, code, clip_.spec.describe() + ": " + what);
}

/* Pops the clip pipeline's messages; an error there is the clip's. */
void ClipSource::check_bus() {
  GstObjectPtr<GstBus> bus(gst_element_get_bus(pipeline_.get()));
  while (GstMessage *raw = gst_bus_pop(bus.get())) {
    MessagePtr message(raw);
    if (GST_MESSAGE_TYPE(raw) == GST_MESSAGE_ERROR)
      fail(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, error_text(raw));
  }
}

/* The next sample from sink; false at end of stream. */
bool ClipSource::pull(GstElement *sink, SamplePtr &out) {
  while (true) {
    if (stopping_) throw StopRequested{};
    if (GstSample *sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 50 * GST_MSECOND)) {
      out.reset(sample);
      return true;
    }
    if (gst_app_sink_is_eos(GST_APP_SINK(sink))) return false;
    check_bus();
  }
}

/* Running time of a sample's buffer: 0 at the clip's `in` point. */
GstClockTime ClipSource::frame_start(GstSample *sample) {
  const GstSegment *segment = gst_sample_get_segment(sample);
  const GstClockTime pts = GST_BUFFER_PTS(gst_sample_get_buffer(sample));
  if (!GST_CLOCK_TIME_IS_VALID(pts) || segment == nullptr) return 0;
  const GstClockTime t = gst_segment_to_running_time(segment, GST_FORMAT_TIME, pts);
  return GST_CLOCK_TIME_IS_VALID(t) ? t : 0;
}

void ClipSource::take_audio_block(GstSample *sample) {
  GstBuffer *buffer = gst_sample_get_buffer(sample);
  const gint channels = format_.channels;
  GstMapInfo map;
  if (!gst_buffer_map(buffer, &map, GST_MAP_READ))
    fail(GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE, "cannot map audio");
  const float *samples = reinterpret_cast<const float *>(map.data);
  audio_block_.assign(samples, samples + map.size / sizeof(float));
  gst_buffer_unmap(buffer, &map);
  audio_offset_ = 0;

  /* Place the block by its timestamp when it strays more than a
   * millisecond from where the samples so far end (a gap, or data from
   * before `in`); otherwise keep the samples contiguous. */
  const GstSegment *segment = gst_sample_get_segment(sample);
  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  audio_block_start_ = static_cast<gint64>(audio_position_);
  if (segment == nullptr || !GST_CLOCK_TIME_IS_VALID(pts)) return;
  guint64 running = 0;
  const int sign = gst_segment_to_running_time_full(segment, GST_FORMAT_TIME, pts, &running);
  if (sign == 0) return;
  const gint64 start = sign > 0 ? static_cast<gint64>(time_to_samples(running, format_.rate))
                                : -static_cast<gint64>(time_to_samples(running, format_.rate));
  const gint64 drift = start - static_cast<gint64>(audio_position_);
  if (std::llabs(drift) * 1000 <= format_.rate) return;
  if (drift > 0) {
    audio_block_start_ = start;
  } else {
    /* Skip what lies before the current position. */
    audio_offset_ =
        std::min<std::size_t>(audio_block_.size(), static_cast<std::size_t>(-drift) * channels);
  }
}

BufferPtr ClipSource::image_frame(guint64 j, Rendition &rendition) {
  const GstVideoInfo &info = still_info_;
  const double q = clip_.frames > 1 ? static_cast<double>(j) / (clip_.frames - 1) : 0.0;
  const Rect rect = motion_rect(clip_.spec.motion, q, info.width, info.height);
  if (rect == rendition.last_rect && rendition.last_output) return ref(rendition.last_output.get());
  BufferPtr out = new_frame_buffer(rendition.info);
  {
    MappedFrame src(info, still_.get(), GST_MAP_READ);
    MappedFrame dst(rendition.info, out.get(), GST_MAP_WRITE);
    rendition.fitter.fit(src.get(), rect, clip_.spec.fit, dst.get());
  }
  rendition.last_rect = rect;
  rendition.last_output = ref(out.get());
  return out;
}

GstElement *ClipSource::make(const char *factory) {
  GstElement *element = gst_element_factory_make(factory, nullptr);
  if (element == nullptr)
    fail(GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
         std::string("the ") + factory + " element is missing");
  gst_bin_add(GST_BIN(pipeline_.get()), element);
  return element;
}

GstElement *ClipSource::make_appsink(GstCaps *caps, guint max_buffers) {
  GstElement *sink = make("appsink");
  g_object_set(sink, "sync", FALSE, "max-buffers", max_buffers, "drop", FALSE, "enable-last-sample",
               FALSE, "caps", caps, nullptr);
  return sink;
}

/* Waits for the clip's pipeline to preroll, watching for errors. */
void ClipSource::wait_preroll() {
  const gint64 deadline = g_get_monotonic_time() + PREROLL_TIMEOUT / GST_USECOND;
  while (true) {
    if (stopping_) throw StopRequested{};
    check_bus();
    const GstStateChangeReturn ret =
        gst_element_get_state(pipeline_.get(), nullptr, nullptr, 50 * GST_MSECOND);
    if (ret == GST_STATE_CHANGE_SUCCESS || ret == GST_STATE_CHANGE_NO_PREROLL) return;
    if (ret == GST_STATE_CHANGE_FAILURE) {
      check_bus();
      fail(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, "cannot be played");
    }
    if (g_get_monotonic_time() > deadline)
      fail(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED, "timed out while starting to decode");
  }
}

/* A clip's video decoder gets DECODER_THREADS threads: frame threading
 * keeps a set of full-size pictures per thread, and two or three clips
 * decode at once beside an encoder that has the cores anyway. */
void ClipSource::on_element_added(GstBin *, GstBin *, GstElement *element, gpointer) {
  GstElementFactory *factory = gst_element_get_factory(element);
  if (factory == nullptr ||
      !gst_element_factory_list_is_type(
          factory, GST_ELEMENT_FACTORY_TYPE_DECODER | GST_ELEMENT_FACTORY_TYPE_MEDIA_VIDEO))
    return;
  if (GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(element), "max-threads");
      spec != nullptr && spec->value_type == G_TYPE_INT)
    g_object_set(element, "max-threads", DECODER_THREADS, nullptr);
}

void ClipSource::on_pad_added(GstElement *, GstPad *pad, gpointer user_data) {
  auto *source = static_cast<ClipSource *>(user_data);
  REELFORGE_GUARD_VOID(source->element_, [&] { source->link_decoded_pad(pad); });
}

void ClipSource::link_decoded_pad(GstPad *pad) {
  GstObjectPtr<GstStream> stream(gst_pad_get_stream(pad));
  GstStreamType type = stream ? gst_stream_get_stream_type(stream.get()) : GST_STREAM_TYPE_UNKNOWN;
  /* decodebin3 names its pads after the stream type */
  if (type == GST_STREAM_TYPE_UNKNOWN && g_str_has_prefix(GST_PAD_NAME(pad), "video_"))
    type = GST_STREAM_TYPE_VIDEO;
  if (type == GST_STREAM_TYPE_UNKNOWN && g_str_has_prefix(GST_PAD_NAME(pad), "audio_"))
    type = GST_STREAM_TYPE_AUDIO;
  if (type == GST_STREAM_TYPE_UNKNOWN) {
    /* decodebin (for stills) has no streams: go by the caps */
    CapsPtr caps(gst_pad_get_current_caps(pad));
    if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
    const GstStructure *s =
        caps && !gst_caps_is_empty(caps.get()) ? gst_caps_get_structure(caps.get(), 0) : nullptr;
    if (s && gst_structure_has_name(s, "video/x-raw")) type = GST_STREAM_TYPE_VIDEO;
    if (s && gst_structure_has_name(s, "audio/x-raw")) type = GST_STREAM_TYPE_AUDIO;
  }
  /* Each decoded stream has its own streaming thread. */
  std::lock_guard lock(pads_lock_);
  GstElement *target = nullptr;
  if ((type & GST_STREAM_TYPE_VIDEO) && video_head_ != nullptr) {
    target = video_head_;
    video_head_ = nullptr;
  } else if ((type & GST_STREAM_TYPE_AUDIO) && audio_head_ != nullptr) {
    target = audio_head_;
    audio_head_ = nullptr;
  }
  if (target == nullptr) {
    /* Streams we do not use (a second audio track, subtitles) go nowhere. */
    GstElement *sink = gst_element_factory_make("fakesink", nullptr);
    g_object_set(sink, "async", FALSE, "sync", FALSE, nullptr);
    gst_bin_add(GST_BIN(pipeline_.get()), sink);
    gst_element_sync_state_with_parent(sink);
    target = sink;
  }
  GST_DEBUG_OBJECT(element_, "%s: %s pad %s", clip_.spec.describe().c_str(),
                   gst_stream_type_get_name(type), GST_PAD_NAME(pad));
  GstObjectPtr<GstPad> sink_pad(gst_element_get_static_pad(target, "sink"));
  if (gst_pad_link(pad, sink_pad.get()) != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT(element_, "%s: cannot link %s", clip_.spec.describe().c_str(),
                       GST_PAD_NAME(pad));
}

void ClipSource::open_uri() {
  const ClipSpec &spec = clip_.spec;
  const std::string name = "stitchbin-clip-" + std::to_string(spec.index);
  pipeline_ = adopt_floating(gst_pipeline_new(name.c_str()));
  GstElement *decode = make(URI_DECODER);
  g_object_set(decode, "uri", spec.uri.c_str(), nullptr);
  if (clip_.media.has_video) {
    CapsPtr caps(gst_caps_from_string("video/x-raw"));
    video_sink_ = make_appsink(caps.get(), 4);
    video_head_ = video_sink_;
  }
  if (clip_.media.has_audio) {
    GstElement *convert = make("audioconvert");
    GstElement *resample = make("audioresample");
    CapsPtr caps(gst_audio_info_to_caps(&format_.audio));
    audio_sink_ = make_appsink(caps.get(), 0);
    if (!gst_element_link_many(convert, resample, audio_sink_, nullptr))
      fail(GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION, "cannot build the audio branch");
    audio_head_ = convert;
  }
  g_signal_connect(decode, "pad-added", G_CALLBACK(on_pad_added), this);
  g_signal_connect(pipeline_.get(), "deep-element-added", G_CALLBACK(on_element_added), nullptr);
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PAUSED) == GST_STATE_CHANGE_FAILURE) {
    check_bus();
    fail(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_OPEN_READ, "cannot be opened");
  }
  wait_preroll();
  if (spec.in_s > 0) {
    if (!gst_element_seek_simple(
            pipeline_.get(), GST_FORMAT_TIME,
            static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE),
            from_seconds(spec.in_s)))
      fail(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SEEK, "cannot seek to \"in\"");
    wait_preroll();
  }
  gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING);
}

void ClipSource::open_image() {
  const std::string &path = clip_.spec.image_path;
  if (!g_file_test(path.c_str(), G_FILE_TEST_IS_REGULAR))
    fail(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND, "file not found");
  pipeline_ = adopt_floating(gst_pipeline_new(nullptr));
  GstElement *src = make("filesrc");
  g_object_set(src, "location", path.c_str(), nullptr);
  GstElement *decode = make("decodebin");
  GstElement *convert = make("videoconvert");
  CapsPtr caps(gst_caps_from_string("video/x-raw,format=BGRx"));
  GstElement *sink = make_appsink(caps.get(), 1);
  gst_element_link(src, decode);
  gst_element_link(convert, sink);
  video_head_ = convert;
  g_signal_connect(decode, "pad-added", G_CALLBACK(on_pad_added), this);
  gst_element_set_state(pipeline_.get(), GST_STATE_PAUSED);
  wait_preroll();
  SamplePtr sample(gst_app_sink_pull_preroll(GST_APP_SINK(sink)));
  if (!sample || !gst_video_info_from_caps(&still_info_, gst_sample_get_caps(sample.get())))
    fail(GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE, "cannot read the image");
  still_ = ref(gst_sample_get_buffer(sample.get()));
  sample.reset();
  gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  pipeline_.reset();
}

BufferPtr ClipSource::Rendition::black_frame() {
  if (!black) {
    black = new_frame_buffer(info);
    fill_black(info, black.get());
  }
  return ref(black.get());
}

}  // namespace reelforge::stitch
