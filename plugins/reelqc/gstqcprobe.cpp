/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-qcprobe
 * @title: qcprobe
 *
 * Quality control of a finished video against a platform profile, inline in
 * the pipeline that makes it. Request a `video_sink` and/or an `audio_sink`
 * pad; each is passed through unchanged to the matching `video_src` /
 * `audio_src` pad, which appears when the sink pad is requested. Inside,
 * video runs through blackframedetect and freezedetect and audio through
 * loudnessmeter (their messages still reach the application), while the bin
 * measures the streams: resolution, display aspect ratio, frame rate,
 * duration, audio presence, sample rate and channels.
 *
 * When every requested stream has reached EOS, qcprobe judges what it
 * measured against the profile and posts one `qc-report` element message:
 *
 * - `verdict` (string): `pass`, `warn` or `fail`: fail if any finding
 *   breaks a limit of a level whose severity is fail, warn if any breaks a
 *   warn level.
 * - `profile` (string): the profile's name.
 * - `failures`, `warnings` (guint): how many findings of each severity.
 * - `findings` (GstValueArray of GstStructure `qc-finding`): `check`,
 *   `level`, `severity`, `message` and `expected` (strings), plus
 *   `start` and `end` (guint64, stream time in ns) for findings about a
 *   stretch of the media.
 * - `report` (string): the whole report as JSON, valid against
 *   schemas/qc-report.schema.json.
 * - `timestamp`, `stream-time`, `running-time`, `duration` (guint64, ns):
 *   the stretch of media the report covers.
 *
 * With #GstQcProbe:on-fail=error a failing verdict becomes an element error
 * and the last stream's EOS is dropped, so a muxer further down never
 * finishes the file and a sink (a file or S3 upload) aborts rather than
 * completing a bad video. Streams that end earlier pass their EOS on at
 * once: holding it could stall a muxer still waiting for their data.
 *
 * The limits come from the platform profile named by #GstQcProbe:profile:
 * a built-in name (tiktok, youtube-shorts, instagram-reels, youtube), a name
 * found in a folder listed in `REELFORGE_PLATFORMS_PATH`, or a path to a
 * profile file.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m qcprobe name=qc profile=tiktok location=report.json \
 *     videotestsrc num-buffers=150 ! video/x-raw,width=1080,height=1920,framerate=30/1 ! \
 *         qc.video_sink qc.video_src ! fakesink \
 *     audiotestsrc num-buffers=235 volume=0.28 ! qc.audio_sink qc.audio_src ! fakesink
 * ]| Judges five seconds of test pattern and tone against TikTok's profile,
 * prints the qc-report message and writes the JSON report to report.json.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstqcprobe.h"

#include "analysis-message.h"
#include "element-guard.h"
#include "gst-ptr.h"
#include "json-file.h"
#include "platform-profile.h"
#include "qc-report.h"
#include "time-convert.h"

#include <gst/audio/audio.h>
#include <gst/video/video.h>

#include <cmath>
#include <mutex>
#include <optional>

GST_DEBUG_CATEGORY_STATIC(gst_qc_probe_debug);
#define GST_CAT_DEFAULT gst_qc_probe_debug

namespace {

enum {
  PROP_0,
  PROP_PROFILE,
  PROP_ON_FAIL,
  PROP_LOCATION,
};

constexpr const char *DEFAULT_PROFILE = "tiktok";
constexpr GstQcProbeOnFail DEFAULT_ON_FAIL = GST_QC_PROBE_ON_FAIL_WARN;

using reelforge::GstObjectPtr;
namespace qc = reelforge::qc;

enum class StreamKind { kVideo, kAudio };

/* One passed-through stream: its ghost pads, its analysers' last pad, and
 * what the bin measured on it. */
struct Stream {
  StreamKind kind = StreamKind::kVideo;
  GstPad *sink_ghost = nullptr; /* owned by the element */
  GstPad *src_ghost = nullptr;  /* owned by the element */
  GstObjectPtr<GstPad> tail;    /* the last analyser's src pad */
  /* Our own references: at dispose the bin drops its children before
   * GstElement releases the request pads. */
  std::vector<GstObjectPtr<GstElement>> analysers;
  gulong probe_id = 0;

  GstSegment segment{};
  std::optional<GstVideoInfo> video_info;
  std::optional<GstAudioInfo> audio_info;
  GstClockTime first_time = GST_CLOCK_TIME_NONE; /* stream time */
  GstClockTime end_time = GST_CLOCK_TIME_NONE;   /* stream time */
  guint64 frames = 0;
  bool eos = false;

  void reset_measurements() {
    gst_segment_init(&segment, GST_FORMAT_TIME);
    first_time = end_time = GST_CLOCK_TIME_NONE;
    frames = 0;
    eos = false;
  }
};

struct Settings {
  std::string profile = DEFAULT_PROFILE;
  GstQcProbeOnFail on_fail = DEFAULT_ON_FAIL;
  std::string location;
};

}  // namespace

struct GstQcProbePrivate {
  Settings settings; /* under the object lock */

  std::mutex lock; /* everything below */
  std::optional<qc::PlatformProfile> profile;
  std::optional<Stream> video;
  std::optional<Stream> audio;
  std::vector<qc::TimeRange> black, freeze, silence;
  std::optional<double> integrated_lufs, loudness_range_lu, true_peak_dbtp, sample_peak_dbfs;

  Stream *stream(StreamKind kind) {
    auto &slot = kind == StreamKind::kVideo ? video : audio;
    return slot ? &*slot : nullptr;
  }
};

struct _GstQcProbe {
  GstBin parent;
  GstQcProbePrivate *priv;
};

#define gst_qc_probe_parent_class parent_class
G_DEFINE_TYPE(GstQcProbe, gst_qc_probe, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE(qcprobe, "qcprobe", GST_RANK_NONE, GST_TYPE_QC_PROBE);

GType gst_qc_probe_on_fail_get_type(void) {
  static GType type = 0;
  static const GEnumValue values[] = {
      {GST_QC_PROBE_ON_FAIL_WARN, "Post the report and let EOS through", "warn"},
      {GST_QC_PROBE_ON_FAIL_ERROR, "Post the report, then an error instead of EOS", "error"},
      {0, nullptr, nullptr},
  };
  if (g_once_init_enter(&type)) {
    GType registered = g_enum_register_static("GstQcProbeOnFail", values);
    g_once_init_leave(&type, registered);
  }
  return type;
}

static GstStaticPadTemplate video_sink_template = GST_STATIC_PAD_TEMPLATE(
    "video_sink", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS("video/x-raw"));
static GstStaticPadTemplate video_src_template = GST_STATIC_PAD_TEMPLATE(
    "video_src", GST_PAD_SRC, GST_PAD_SOMETIMES, GST_STATIC_CAPS("video/x-raw"));
static GstStaticPadTemplate audio_sink_template = GST_STATIC_PAD_TEMPLATE(
    "audio_sink", GST_PAD_SINK, GST_PAD_REQUEST, GST_STATIC_CAPS("audio/x-raw"));
static GstStaticPadTemplate audio_src_template = GST_STATIC_PAD_TEMPLATE(
    "audio_src", GST_PAD_SRC, GST_PAD_SOMETIMES, GST_STATIC_CAPS("audio/x-raw"));

namespace {

Settings settings_snapshot(GstQcProbe *self) {
  GST_OBJECT_LOCK(self);
  Settings settings = self->priv->settings;
  GST_OBJECT_UNLOCK(self);
  return settings;
}

/* Sets the analysers' minimum durations from the profile's detection
 * settings. Called with priv->lock held. */
void configure_analysers(const qc::PlatformProfile &profile, Stream &stream) {
  for (const auto &child : stream.analysers) {
    GstElement *analyser = child.get();
    const gchar *factory = GST_OBJECT_NAME(gst_element_get_factory(analyser));
    if (g_str_equal(factory, "blackframedetect"))
      g_object_set(analyser, "min-duration", reelforge::from_seconds(profile.black_min_s), nullptr);
    else if (g_str_equal(factory, "freezedetect"))
      g_object_set(analyser, "min-duration", reelforge::from_seconds(profile.freeze_min_s),
                   nullptr);
    else if (g_str_equal(factory, "loudnessmeter"))
      g_object_set(analyser, "silence-min-duration", reelforge::from_seconds(profile.silence_min_s),
                   nullptr);
  }
}

qc::Measurements collect_measurements(GstQcProbePrivate &priv) {
  qc::Measurements m;
  GstClockTime first = GST_CLOCK_TIME_NONE, end = GST_CLOCK_TIME_NONE;
  for (Stream *stream : {priv.stream(StreamKind::kVideo), priv.stream(StreamKind::kAudio)}) {
    if (stream == nullptr || !GST_CLOCK_TIME_IS_VALID(stream->first_time)) continue;
    if (!GST_CLOCK_TIME_IS_VALID(first) || stream->first_time < first) first = stream->first_time;
    if (!GST_CLOCK_TIME_IS_VALID(end) || stream->end_time > end) end = stream->end_time;
  }
  if (GST_CLOCK_TIME_IS_VALID(first) && GST_CLOCK_TIME_IS_VALID(end))
    m.duration_s = reelforge::to_seconds(end - first);

  if (Stream *video = priv.stream(StreamKind::kVideo); video && video->video_info) {
    const GstVideoInfo &info = *video->video_info;
    m.has_video = true;
    m.width = GST_VIDEO_INFO_WIDTH(&info);
    m.height = GST_VIDEO_INFO_HEIGHT(&info);
    m.display_aspect =
        static_cast<double>(GST_VIDEO_INFO_WIDTH(&info)) * GST_VIDEO_INFO_PAR_N(&info) /
        (static_cast<double>(GST_VIDEO_INFO_HEIGHT(&info)) * GST_VIDEO_INFO_PAR_D(&info));
    m.frames = video->frames;
    if (GST_VIDEO_INFO_FPS_N(&info) > 0) {
      m.fps = static_cast<double>(GST_VIDEO_INFO_FPS_N(&info)) / GST_VIDEO_INFO_FPS_D(&info);
    } else if (video->frames > 1 && GST_CLOCK_TIME_IS_VALID(video->first_time) &&
               video->end_time > video->first_time) {
      /* Variable frame rate: the average over the stream. */
      m.fps = video->frames / reelforge::to_seconds(video->end_time - video->first_time);
    }
  }

  Stream *audio = priv.stream(StreamKind::kAudio);
  m.has_audio = audio != nullptr && audio->audio_info.has_value();
  if (m.has_audio.value()) {
    m.sample_rate_hz = GST_AUDIO_INFO_RATE(&*audio->audio_info);
    m.channels = GST_AUDIO_INFO_CHANNELS(&*audio->audio_info);
    m.integrated_lufs = priv.integrated_lufs;
    m.loudness_range_lu = priv.loudness_range_lu;
    m.true_peak_dbtp = priv.true_peak_dbtp;
    m.sample_peak_dbfs = priv.sample_peak_dbfs;
  }
  m.black = priv.black;
  m.freeze = priv.freeze;
  m.silence = priv.silence;
  return m;
}

GstStructure *finding_structure(const qc::Finding &finding) {
  GstStructure *s = gst_structure_new("qc-finding", "check", G_TYPE_STRING, finding.check.c_str(),
                                      "level", G_TYPE_STRING, finding.level.c_str(), "severity",
                                      G_TYPE_STRING, qc::severity_name(finding.severity), "message",
                                      G_TYPE_STRING, finding.message.c_str(), "expected",
                                      G_TYPE_STRING, finding.expected.c_str(), nullptr);
  if (finding.range) {
    gst_structure_set(s, "start", G_TYPE_UINT64, reelforge::from_seconds(finding.range->start_s),
                      "end", G_TYPE_UINT64, reelforge::from_seconds(finding.range->end_s), nullptr);
  }
  return s;
}

GstStructure *report_structure(const qc::QcReport &report, const std::string &json,
                               const GstSegment &segment, GstClockTime first_stream_time,
                               GstClockTime duration) {
  guint failures = 0;
  GValue findings = G_VALUE_INIT;
  gst_value_array_init(&findings, report.findings.size());
  for (const auto &finding : report.findings) {
    failures += finding.severity == qc::Severity::kFail;
    GValue item = G_VALUE_INIT;
    g_value_init(&item, GST_TYPE_STRUCTURE);
    g_value_take_boxed(&item, finding_structure(finding));
    gst_value_array_append_and_take_value(&findings, &item);
  }
  const GstClockTime start =
      gst_segment_position_from_stream_time(&segment, GST_FORMAT_TIME, first_stream_time);
  GstStructure *s = reelforge::new_analysis_structure("qc-report", segment, start, duration);
  gst_structure_set(s, "verdict", G_TYPE_STRING, qc::verdict_name(report.verdict), "profile",
                    G_TYPE_STRING, report.profile_name.c_str(), "failures", G_TYPE_UINT, failures,
                    "warnings", G_TYPE_UINT, static_cast<guint>(report.findings.size()) - failures,
                    "report", G_TYPE_STRING, json.c_str(), nullptr);
  gst_structure_take_value(s, "findings", &findings);
  return s;
}

/* Judges, posts the report and writes it to location. Returns whether the
 * verdict lets EOS through. Called without priv->lock. */
bool finish_report(GstQcProbe *self) {
  GstQcProbePrivate *priv = self->priv;
  const Settings settings = settings_snapshot(self);

  std::unique_lock lock(priv->lock);
  if (!priv->profile) throw std::runtime_error("no platform profile loaded");
  qc::QcReport report = qc::judge(*priv->profile, collect_measurements(*priv));
  /* The message's times follow the video when there is video. */
  const Stream &timing = priv->video ? *priv->video : *priv->audio;
  const GstSegment segment = timing.segment;
  const GstClockTime first = GST_CLOCK_TIME_IS_VALID(timing.first_time) ? timing.first_time : 0;
  lock.unlock();

  reelforge::JsonNodePtr json = qc::report_to_json(report);
  const std::string text = reelforge::to_json_string(json.get(), true);
  const GstClockTime duration = reelforge::from_seconds(report.measurements.duration_s.value_or(0));

  GST_INFO_OBJECT(self, "QC %s against %s with %zu findings", qc::verdict_name(report.verdict),
                  report.profile_name.c_str(), report.findings.size());
  gst_element_post_message(
      GST_ELEMENT(self),
      gst_message_new_element(GST_OBJECT(self),
                              report_structure(report, text, segment, first, duration)));

  if (!settings.location.empty()) {
    GError *raw_error = nullptr;
    if (!g_file_set_contents(settings.location.c_str(), (text + "\n").c_str(), -1, &raw_error)) {
      reelforge::GErrorPtr error(raw_error);
      GST_ELEMENT_ERROR(self, RESOURCE, OPEN_WRITE,
                        ("Could not write the QC report to \"%s\": %s", settings.location.c_str(),
                         error->message),
                        (nullptr));
      return false;
    }
  }

  if (report.verdict == qc::Verdict::kFail && settings.on_fail == GST_QC_PROBE_ON_FAIL_ERROR) {
    const qc::Finding &first_failure = report.findings.front();
    GST_ELEMENT_ERROR(
        self, STREAM, FAILED,
        ("QC failed against %s: %s", report.profile_title.c_str(), first_failure.message.c_str()),
        ("%s", qc::format_report_text(report).c_str()));
    return false;
  }
  return true;
}

void record_caps(Stream &stream, GstCaps *caps) {
  if (stream.kind == StreamKind::kVideo) {
    GstVideoInfo info;
    if (gst_video_info_from_caps(&info, caps)) stream.video_info = info;
  } else {
    GstAudioInfo info;
    if (gst_audio_info_from_caps(&info, caps)) stream.audio_info = info;
  }
}

void record_buffer(Stream &stream, GstBuffer *buffer) {
  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(pts)) return;
  const GstClockTime start = gst_segment_to_stream_time(&stream.segment, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID(start)) return;
  GstClockTime length = GST_BUFFER_DURATION(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(length)) {
    if (stream.kind == StreamKind::kAudio && stream.audio_info)
      length = reelforge::samples_to_time(
          gst_buffer_get_size(buffer) / GST_AUDIO_INFO_BPF(&*stream.audio_info),
          GST_AUDIO_INFO_RATE(&*stream.audio_info));
    else if (stream.video_info && GST_VIDEO_INFO_FPS_N(&*stream.video_info) > 0)
      length = reelforge::frame_to_time(1, GST_VIDEO_INFO_FPS_N(&*stream.video_info),
                                        GST_VIDEO_INFO_FPS_D(&*stream.video_info));
    else
      length = 0;
  }
  if (!GST_CLOCK_TIME_IS_VALID(stream.first_time) || start < stream.first_time)
    stream.first_time = start;
  if (!GST_CLOCK_TIME_IS_VALID(stream.end_time) || start + length > stream.end_time)
    stream.end_time = start + length;
  stream.frames++;
}

/* Every item leaving a stream's last analyser passes here: buffers and caps
 * are measured; the last stream's EOS brings the report. */
GstPadProbeReturn stream_probe(GstPad *pad, GstPadProbeInfo *info, gpointer user_data) {
  auto *self = GST_QC_PROBE(user_data);
  return REELFORGE_GUARD(self, GST_PAD_PROBE_DROP, [&]() -> GstPadProbeReturn {
    GstQcProbePrivate *priv = self->priv;
    std::unique_lock lock(priv->lock);
    Stream *stream = nullptr;
    for (Stream *candidate : {priv->stream(StreamKind::kVideo), priv->stream(StreamKind::kAudio)})
      if (candidate && candidate->tail.get() == pad) stream = candidate;
    if (stream == nullptr) return GST_PAD_PROBE_OK;

    if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
      record_buffer(*stream, GST_PAD_PROBE_INFO_BUFFER(info));
      return GST_PAD_PROBE_OK;
    }
    if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
      GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
      for (guint i = 0; i < gst_buffer_list_length(list); ++i)
        record_buffer(*stream, gst_buffer_list_get(list, i));
      return GST_PAD_PROBE_OK;
    }

    GstEvent *event = GST_PAD_PROBE_INFO_EVENT(info);
    switch (GST_EVENT_TYPE(event)) {
      case GST_EVENT_CAPS: {
        GstCaps *caps = nullptr;
        gst_event_parse_caps(event, &caps);
        record_caps(*stream, caps);
        return GST_PAD_PROBE_OK;
      }
      case GST_EVENT_SEGMENT:
        gst_event_copy_segment(event, &stream->segment);
        return GST_PAD_PROBE_OK;
      case GST_EVENT_FLUSH_STOP:
        /* A flushing seek: the streams start over. */
        for (Stream *s : {priv->stream(StreamKind::kVideo), priv->stream(StreamKind::kAudio)})
          if (s) s->eos = false;
        return GST_PAD_PROBE_OK;
      case GST_EVENT_EOS:
        break;
      default:
        return GST_PAD_PROBE_OK;
    }

    /* Streams that end early pass their EOS on: holding it could stall a
     * muxer that still wants their data while the others finish. The last
     * EOS is the one a muxer needs to finish the file, so the verdict
     * decides whether it goes on. */
    stream->eos = true;
    for (Stream *s : {priv->stream(StreamKind::kVideo), priv->stream(StreamKind::kAudio)})
      if (s && !s->eos) return GST_PAD_PROBE_OK;
    lock.unlock();
    return finish_report(self) ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
  });
}

GstElement *make_analyser(GstQcProbe *self, const char *factory) {
  GstElement *element = gst_element_factory_make(factory, nullptr);
  if (element == nullptr)
    throw reelforge::ElementError(
        GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        std::string("qcprobe needs the ") + factory + " element from the reelqc plugin");
  gst_bin_add(GST_BIN(self), element);
  return element;
}

GstPad *add_stream(GstQcProbe *self, StreamKind kind) {
  GstQcProbePrivate *priv = self->priv;
  const bool video = kind == StreamKind::kVideo;
  std::vector<GstElement *> chain;
  if (video) {
    chain = {make_analyser(self, "blackframedetect"), make_analyser(self, "freezedetect")};
    gst_element_link(chain[0], chain[1]);
  } else {
    chain = {make_analyser(self, "loudnessmeter")};
  }
  GstObjectPtr<GstPad> head(gst_element_get_static_pad(chain.front(), "sink"));
  GstObjectPtr<GstPad> tail(gst_element_get_static_pad(chain.back(), "src"));

  GstPadTemplate *sink_template = gst_element_class_get_pad_template(
      GST_ELEMENT_GET_CLASS(self), video ? "video_sink" : "audio_sink");
  GstPadTemplate *src_template = gst_element_class_get_pad_template(
      GST_ELEMENT_GET_CLASS(self), video ? "video_src" : "audio_src");
  GstPad *sink_ghost = gst_ghost_pad_new_from_template(
      GST_PAD_TEMPLATE_NAME_TEMPLATE(sink_template), head.get(), sink_template);
  GstPad *src_ghost = gst_ghost_pad_new_from_template(GST_PAD_TEMPLATE_NAME_TEMPLATE(src_template),
                                                      tail.get(), src_template);

  Stream stream;
  stream.kind = kind;
  stream.sink_ghost = sink_ghost;
  stream.src_ghost = src_ghost;
  for (GstElement *element : chain) stream.analysers.push_back(reelforge::ref_object(element));
  stream.reset_measurements();
  stream.probe_id = gst_pad_add_probe(
      tail.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                   GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
                                   GST_PAD_PROBE_TYPE_EVENT_FLUSH),
      stream_probe, self, nullptr);
  stream.tail = std::move(tail);
  {
    std::lock_guard lock(priv->lock);
    if (priv->profile) configure_analysers(*priv->profile, stream);
    (video ? priv->video : priv->audio) = std::move(stream);
  }

  /* Children follow the bin's state; once added the pads carry data. */
  for (GstElement *element : chain) gst_element_sync_state_with_parent(element);
  gst_pad_set_active(sink_ghost, TRUE);
  gst_pad_set_active(src_ghost, TRUE);
  gst_element_add_pad(GST_ELEMENT(self), sink_ghost);
  gst_element_add_pad(GST_ELEMENT(self), src_ghost);
  return sink_ghost;
}

}  // namespace

static GstPad *gst_qc_probe_request_new_pad(GstElement *element, GstPadTemplate *templ,
                                            const gchar *, const GstCaps *) {
  GstQcProbe *self = GST_QC_PROBE(element);
  return REELFORGE_GUARD(self, static_cast<GstPad *>(nullptr), [&]() -> GstPad * {
    const bool video = g_str_equal(GST_PAD_TEMPLATE_NAME_TEMPLATE(templ), "video_sink");
    {
      std::lock_guard lock(self->priv->lock);
      if ((video ? self->priv->video : self->priv->audio).has_value()) {
        GST_WARNING_OBJECT(self, "qcprobe takes one %s stream; %s_sink is already in use",
                           video ? "video" : "audio", video ? "video" : "audio");
        return nullptr;
      }
    }
    return add_stream(self, video ? StreamKind::kVideo : StreamKind::kAudio);
  });
}

static void gst_qc_probe_release_pad(GstElement *element, GstPad *pad) {
  GstQcProbe *self = GST_QC_PROBE(element);
  std::optional<Stream> released;
  {
    std::lock_guard lock(self->priv->lock);
    for (auto *slot : {&self->priv->video, &self->priv->audio}) {
      if (*slot && (*slot)->sink_ghost == pad) {
        released = std::move(*slot);
        slot->reset();
      }
    }
  }
  if (!released) return;
  gst_pad_remove_probe(released->tail.get(), released->probe_id);
  gst_pad_set_active(released->src_ghost, FALSE);
  gst_pad_set_active(released->sink_ghost, FALSE);
  gst_element_remove_pad(element, released->src_ghost);
  gst_element_remove_pad(element, released->sink_ghost);
  for (const auto &analyser : released->analysers) {
    if (GST_OBJECT_PARENT(analyser.get()) != GST_OBJECT(self)) continue;
    gst_element_set_state(analyser.get(), GST_STATE_NULL);
    gst_bin_remove(GST_BIN(self), analyser.get());
  }
}

/* Analysers' findings reach the bin here, synchronously in the streaming
 * thread that posts them, before that thread forwards EOS. */
static void gst_qc_probe_handle_message(GstBin *bin, GstMessage *message) {
  GstQcProbe *self = GST_QC_PROBE(bin);
  const GstStructure *s = gst_message_get_structure(message);
  if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT && s != nullptr &&
      GST_MESSAGE_SRC(message) != GST_OBJECT(self)) {
    GstClockTime start = 0, length = 0;
    gst_structure_get_uint64(s, "stream-time", &start);
    gst_structure_get_uint64(s, "duration", &length);
    const qc::TimeRange range{reelforge::to_seconds(start), reelforge::to_seconds(start + length)};
    GstQcProbePrivate *priv = self->priv;
    std::lock_guard lock(priv->lock);
    if (gst_structure_has_name(s, "blackframedetect")) {
      priv->black.push_back(range);
    } else if (gst_structure_has_name(s, "freezedetect")) {
      priv->freeze.push_back(range);
    } else if (gst_structure_has_name(s, "loudnessmeter-silence")) {
      priv->silence.push_back(range);
    } else if (gst_structure_has_name(s, "loudnessmeter")) {
      gboolean summary = FALSE;
      gst_structure_get_boolean(s, "summary", &summary);
      double value;
      if (summary) {
        if (gst_structure_get_double(s, "integrated", &value)) priv->integrated_lufs = value;
        if (gst_structure_get_double(s, "loudness-range", &value)) priv->loudness_range_lu = value;
        if (gst_structure_get_double(s, "true-peak", &value)) priv->true_peak_dbtp = value;
        if (gst_structure_get_double(s, "sample-peak", &value)) priv->sample_peak_dbfs = value;
      }
    }
  }
  GST_BIN_CLASS(parent_class)->handle_message(bin, message);
}

static GstStateChangeReturn gst_qc_probe_change_state(GstElement *element,
                                                      GstStateChange transition) {
  GstQcProbe *self = GST_QC_PROBE(element);
  GstQcProbePrivate *priv = self->priv;

  if (transition == GST_STATE_CHANGE_NULL_TO_READY) {
    const Settings settings = settings_snapshot(self);
    try {
      qc::PlatformProfile profile = qc::load_platform_profile(settings.profile);
      std::lock_guard lock(priv->lock);
      for (Stream *stream : {priv->stream(StreamKind::kVideo), priv->stream(StreamKind::kAudio)})
        if (stream) configure_analysers(profile, *stream);
      priv->profile = std::move(profile);
    } catch (const std::exception &e) {
      GST_ELEMENT_ERROR(self, RESOURCE, NOT_FOUND, ("%s", e.what()), (nullptr));
      return GST_STATE_CHANGE_FAILURE;
    }
  }
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    std::lock_guard lock(priv->lock);
    for (Stream *stream : {priv->stream(StreamKind::kVideo), priv->stream(StreamKind::kAudio)})
      if (stream) stream->reset_measurements();
    priv->black.clear();
    priv->freeze.clear();
    priv->silence.clear();
    priv->integrated_lufs = priv->loudness_range_lu = std::nullopt;
    priv->true_peak_dbtp = priv->sample_peak_dbfs = std::nullopt;
  }

  const GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);

  if (transition == GST_STATE_CHANGE_READY_TO_NULL) {
    std::lock_guard lock(priv->lock);
    priv->profile.reset();
  }
  return ret;
}

static void gst_qc_probe_set_property(GObject *object, guint prop_id, const GValue *value,
                                      GParamSpec *pspec) {
  GstQcProbe *self = GST_QC_PROBE(object);
  GST_OBJECT_LOCK(self);
  Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_PROFILE: {
      const gchar *profile = g_value_get_string(value);
      settings.profile = profile ? profile : DEFAULT_PROFILE;
      break;
    }
    case PROP_ON_FAIL:
      settings.on_fail = static_cast<GstQcProbeOnFail>(g_value_get_enum(value));
      break;
    case PROP_LOCATION: {
      const gchar *location = g_value_get_string(value);
      settings.location = location ? location : "";
      break;
    }
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_qc_probe_get_property(GObject *object, guint prop_id, GValue *value,
                                      GParamSpec *pspec) {
  GstQcProbe *self = GST_QC_PROBE(object);
  GST_OBJECT_LOCK(self);
  const Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_PROFILE:
      g_value_set_string(value, settings.profile.c_str());
      break;
    case PROP_ON_FAIL:
      g_value_set_enum(value, settings.on_fail);
      break;
    case PROP_LOCATION:
      g_value_set_string(value, settings.location.empty() ? nullptr : settings.location.c_str());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_qc_probe_finalize(GObject *object) {
  delete GST_QC_PROBE(object)->priv;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static void gst_qc_probe_class_init(GstQcProbeClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);
  GstBinClass *bin_class = GST_BIN_CLASS(klass);

  gobject_class->set_property = gst_qc_probe_set_property;
  gobject_class->get_property = gst_qc_probe_get_property;
  gobject_class->finalize = gst_qc_probe_finalize;

  /**
   * GstQcProbe:profile:
   *
   * The platform profile to judge against: a built-in name (tiktok,
   * youtube-shorts, instagram-reels, youtube), a name found as NAME.json in
   * a folder of REELFORGE_PLATFORMS_PATH, or the path of a profile file.
   * Loaded when the element goes to READY; an unknown profile is an error.
   */
  g_object_class_install_property(
      gobject_class, PROP_PROFILE,
      g_param_spec_string("profile", "Profile",
                          "Platform profile: a built-in name (tiktok, youtube-shorts, "
                          "instagram-reels, youtube) or a path to a profile JSON file",
                          DEFAULT_PROFILE,
                          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY)));

  /**
   * GstQcProbe:on-fail:
   *
   * What a failing verdict does: `warn` posts the report and lets EOS
   * through; `error` posts the report and then an element error instead of
   * EOS, so downstream sinks abort rather than finish a bad video.
   */
  g_object_class_install_property(
      gobject_class, PROP_ON_FAIL,
      g_param_spec_enum("on-fail", "On fail",
                        "What a failing verdict does: warn lets EOS through, error posts an "
                        "element error instead of EOS",
                        GST_TYPE_QC_PROBE_ON_FAIL, DEFAULT_ON_FAIL,
                        static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                 GST_PARAM_MUTABLE_READY)));

  /**
   * GstQcProbe:location:
   *
   * Where to write the JSON report at the end of the stream (written
   * atomically), or NULL to only post the message.
   */
  g_object_class_install_property(
      gobject_class, PROP_LOCATION,
      g_param_spec_string("location", "Report location",
                          "File to write the JSON QC report to at EOS (NULL: message only)",
                          nullptr,
                          static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                   GST_PARAM_MUTABLE_READY)));

  gst_element_class_add_static_pad_template(element_class, &video_sink_template);
  gst_element_class_add_static_pad_template(element_class, &video_src_template);
  gst_element_class_add_static_pad_template(element_class, &audio_sink_template);
  gst_element_class_add_static_pad_template(element_class, &audio_src_template);
  gst_element_class_set_static_metadata(
      element_class, "QC probe", "Filter/Analyzer/Video/Audio",
      "Measures video and audio passing through and judges them against a platform profile, "
      "posting a qc-report message at EOS",
      "Reelforge <dev@reelforge.invalid>");

  element_class->request_new_pad = gst_qc_probe_request_new_pad;
  element_class->release_pad = gst_qc_probe_release_pad;
  element_class->change_state = gst_qc_probe_change_state;
  bin_class->handle_message = gst_qc_probe_handle_message;

  gst_type_mark_as_plugin_api(GST_TYPE_QC_PROBE_ON_FAIL, static_cast<GstPluginAPIFlags>(0));
  GST_DEBUG_CATEGORY_INIT(gst_qc_probe_debug, "qcprobe", 0, "QC probe");
}

static void gst_qc_probe_init(GstQcProbe *self) {
  self->priv = new GstQcProbePrivate();
}
