/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-stitchbin
 * @title: stitchbin
 *
 * Stitches a list of clips (video files or URLs, still images, title
 * cards) into one continuous raw video stream on the `video` pad (I420 at
 * #GstStitchBin:width x #GstStitchBin:height, #GstStitchBin:framerate,
 * square pixels) and one raw audio stream on the `audio` pad (F32LE
 * interleaved at #GstStitchBin:audio-rate and #GstStitchBin:audio-channels),
 * with cuts or transitions between the clips. #GstStitchBin:renditions adds
 * more video pads (`video_1`, `video_2`, ...) carrying the same timeline at
 * other sizes, e.g. 16:9 next to 9:16, from the same decoded frames. Every
 * pad must be linked.
 *
 * The #GstStitchBin:clips property is a JSON array; each clip has exactly
 * one source:
 *
 * - `"uri"`: anything uridecodebin plays (`file:///...`, `https://...`).
 * - `"image"`: a path to a still (PNG, JPEG...), with `"motion"`: `none`
 *   (default), `ken-burns`, `zoom-in`, `zoom-out`, `pan-left` or `pan-right`.
 * - `"card"`: `{"text": "...", "background": "#RRGGBB" or
 *   {"gradient": ["#RRGGBB", "#RRGGBB"]} (top to bottom), "color":
 *   "#RRGGBB", "font": "Pango font description"}` drawn with Pango/Cairo.
 *
 * and optionally `"in"`, `"out"` (trim points in the source, seconds),
 * `"duration"` (seconds on the output; required for images and cards; for
 * a URI it defaults to `out - in`, else to the clip's length from `in`: a
 * clip shorter than its duration holds its last frame and is silent),
 * `"fit"`: `cover` (default: scale and crop to fill), `contain` (scale to
 * fit, black bars) or `blur-pad` (contain over a blurred, enlarged copy:
 * the copy is scaled down to 1/16, box-blurred and scaled back up, which
 * costs about one extra conversion per frame), and `"transition"`:
 * `{"type": ..., "duration": seconds}` to the next clip. Transition types:
 * `cut`, `crossfade`, `fade-black`, `fade-white`, `wipe-left`, `wipe-right`,
 * `wipe-up`, `wipe-down`, `slide-left`, `slide-right`, `slide-up`,
 * `slide-down`, `circle-open`, `circle-close`, `zoom-in`.
 *
 * Timing is planned in whole output frames: a clip lasts
 * round(duration x framerate) frames and a transition of d seconds overlaps
 * the two clips it joins by round(d x framerate) frames, so the output lasts
 * exactly (sum of clip frames - sum of overlap frames) frames; that is the
 * #GstStitchBin:duration and the answer to the duration query. Transition
 * frame j of k has progress j / (k - 1): its first frame is exactly the
 * outgoing clip and its last exactly the incoming one. The audio of the two
 * clips is crossfaded over the same overlap with equal-power gains
 * (cos / sin of progress x pi/2). Clips without audio, images and cards
 * contribute silence; the audio stream always has exactly
 * round(duration x audio-rate) samples with contiguous timestamps.
 *
 * Inside, each clip is decoded by its own private pipeline
 * (uridecodebin -> appsink for video in its native format, and
 * audioconvert ! audioresample -> appsink at the target audio format; a
 * single decoded frame for an image; a Cairo surface for a card). A clip is
 * opened one second of output before its first frame (so it has prerolled,
 * and for a transition both clips are decoding) and closed right after its
 * last frame and sample, so at most about three clips are open whatever the
 * number of clips. Two threads, one per output stream, walk the output
 * timeline frame by frame (sample block by sample block), take from each
 * clip the source frame current at that time (so any source frame rate
 * becomes the target rate), scale, crop or pad it with one
 * GstVideoConverter (fit), blend transition frames themselves and push
 * the result into two appsrc elements, ghosted as the `video` and `audio`
 * pads. The threads keep within one second of each other. `in` is a
 * flushing accurate seek of the clip's prerolled pipeline before it plays.
 * (uridecodebin rather than uridecodebin3: in GStreamer 1.22.0 a clip's
 * uridecodebin3 now and then never prerolled on a busy machine.) The
 * clips' lengths and streams are probed with GstDiscoverer when the element
 * starts (that is also where a missing file is reported). Seeking
 * stitchbin itself is not supported.
 *
 * At 1080x1920 on two cores, two H.264 clips with a circle-open transition
 * stitch at about 45 frames per second with fit=cover and 25 with
 * fit=blur-pad.
 *
 * While running it posts a `stitchbin-clip` element message when a clip is
 * opened and when it is closed: `index` (guint, position in the clips
 * array), `source` (string: the URI, image path or card text), `state`
 * (string: `opened` or `closed`), and `timestamp`, `stream-time`,
 * `running-time` (guint64, ns: where the clip starts on the output) and
 * `duration` (guint64, ns: how long it is on the output).
 *
 * Errors name the clip by its index and source, e.g.
 * "clips[2] (file:///missing.mp4): file not found": a missing or undecodable
 * file or image, a zero-length clip, a transition longer than either clip it
 * joins, malformed JSON.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 stitchbin name=s width=320 height=568 clips='[
 *     {"card": {"text": "Hello", "background": {"gradient": ["#203040", "#80a0c0"]}},
 *      "duration": 2, "transition": {"type": "crossfade", "duration": 0.5}},
 *     {"card": {"text": "World", "background": "#602020"}, "duration": 2}]' \
 *   s.video ! queue ! videoconvert ! autovideosink \
 *   s.audio ! queue ! audioconvert ! autoaudiosink
 * ]| Shows two title cards, 3.5 seconds in all, joined by a half-second
 * crossfade.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gststitchbin.h"

#include "analysis-message.h"
#include "element-guard.h"
#include "gst-ptr.h"
#include "stitch-clip-source.h"
#include "stitch-clip-window.h"
#include "stitch-mapped-frame.h"
#include "stitch-timeline.h"
#include "stitch-transition.h"
#include "time-convert.h"

#include <gst/app/app.h>
#include <gst/audio/audio.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

GST_DEBUG_CATEGORY(gst_stitch_bin_debug);
#define GST_CAT_DEFAULT gst_stitch_bin_debug

namespace {

namespace stitch = reelforge::stitch;
using reelforge::BufferPtr;
using reelforge::CapsPtr;
using reelforge::ElementError;
using reelforge::GstObjectPtr;
using reelforge::SamplePtr;
using stitch::ClipSource;
using stitch::ClipWindow;
using stitch::MappedFrame;
using stitch::new_frame_buffer;
using stitch::OutputFormat;
using stitch::StopRequested;

enum {
  PROP_0,
  PROP_CLIPS,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_FRAMERATE,
  PROP_AUDIO_RATE,
  PROP_AUDIO_CHANNELS,
  PROP_DURATION,
  PROP_RENDITIONS,
};

constexpr const char *DEFAULT_CLIPS = "[]";
constexpr gint DEFAULT_WIDTH = 1080;
constexpr gint DEFAULT_HEIGHT = 1920;
constexpr gint DEFAULT_FPS_N = 30;
constexpr gint DEFAULT_FPS_D = 1;
constexpr gint DEFAULT_AUDIO_RATE = 48000;
constexpr gint DEFAULT_AUDIO_CHANNELS = 2;
constexpr gint MAX_DIMENSION = 8192;

/* The video and audio threads stay within this much of each other. */
constexpr GstClockTime MAX_STREAM_LEAD = GST_SECOND;
/* Audio is pushed in blocks of 1/AUDIO_BLOCKS_PER_SECOND seconds. */
constexpr gint AUDIO_BLOCKS_PER_SECOND = 50;

struct Settings {
  std::string clips = DEFAULT_CLIPS;
  gint width = DEFAULT_WIDTH;
  gint height = DEFAULT_HEIGHT;
  std::string renditions;                             /* "WxH,WxH": video_1, video_2, ... */
  std::vector<std::pair<gint, gint>> rendition_sizes; /* parsed from renditions */
  gint fps_n = DEFAULT_FPS_N;
  gint fps_d = DEFAULT_FPS_D;
  gint audio_rate = DEFAULT_AUDIO_RATE;
  gint audio_channels = DEFAULT_AUDIO_CHANNELS;
};

enum class StreamKind { kVideo, kAudio };

/* "1920x1080,1080x1080" as sizes; nullopt when it is not that. */
std::optional<std::vector<std::pair<gint, gint>>> parse_sizes(const std::string &text) {
  std::vector<std::pair<gint, gint>> sizes;
  if (text.find_first_not_of(' ') == std::string::npos) return sizes;
  std::size_t from = 0;
  while (from <= text.size()) {
    const std::size_t comma = std::min(text.find(',', from), text.size());
    const std::string item = text.substr(from, comma - from);
    gint width = 0, height = 0;
    char trailing = 0;
    if (std::sscanf(item.c_str(), " %dx%d %c", &width, &height, &trailing) != 2 || width < 16 ||
        height < 16 || width > MAX_DIMENSION || height > MAX_DIMENSION)
      return std::nullopt;
    sizes.emplace_back(width, height);
    from = comma + 1;
  }
  return sizes;
}

}  // namespace

struct GstStitchBinPrivate {
  Settings settings;                           /* under the object lock */
  GstClockTime duration = GST_CLOCK_TIME_NONE; /* under the object lock */

  std::vector<GstElement *> video_srcs; /* appsrcs of video, video_1...; owned by the bin */
  GstElement *audio_src = nullptr;

  /* Running state, set up when starting and torn down when stopping. */
  std::optional<stitch::Timeline> timeline;
  OutputFormat format;
  std::atomic<bool> stopping{false};
  std::thread video_thread, audio_thread;

  std::mutex lock; /* everything below */
  std::condition_variable progress_cond;
  std::vector<std::shared_ptr<ClipSource>> open_clips; /* indexed like the clips */
  GstClockTime video_position = 0;
  GstClockTime audio_position = 0;
  bool video_running = false;
  bool audio_running = false;
};

struct _GstStitchBin {
  GstBin parent;
  GstStitchBinPrivate *priv;
};

#define gst_stitch_bin_parent_class parent_class
G_DEFINE_TYPE(GstStitchBin, gst_stitch_bin, GST_TYPE_BIN);
GST_ELEMENT_REGISTER_DEFINE(stitchbin, "stitchbin", GST_RANK_NONE, GST_TYPE_STITCH_BIN);

static GstStaticPadTemplate video_template = GST_STATIC_PAD_TEMPLATE(
    "video", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE("I420")));
static GstStaticPadTemplate rendition_template = GST_STATIC_PAD_TEMPLATE(
    "video_%u", GST_PAD_SRC, GST_PAD_SOMETIMES, GST_STATIC_CAPS(GST_VIDEO_CAPS_MAKE("I420")));
static GstStaticPadTemplate audio_template = GST_STATIC_PAD_TEMPLATE(
    "audio", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("audio/x-raw, format=F32LE, layout=interleaved, rate=" GST_AUDIO_RATE_RANGE
                    ", channels=" GST_AUDIO_CHANNELS_RANGE));

namespace {

Settings settings_snapshot(GstStitchBin *self) {
  GST_OBJECT_LOCK(self);
  Settings settings = self->priv->settings;
  GST_OBJECT_UNLOCK(self);
  return settings;
}

/* Length and streams of a URI clip, from GstDiscoverer. */
stitch::MediaInfo probe_uri(const stitch::ClipSpec &spec) {
  if (g_str_has_prefix(spec.uri.c_str(), "file:")) {
    reelforge::GCharPtr path(g_filename_from_uri(spec.uri.c_str(), nullptr, nullptr));
    if (!path || !g_file_test(path.get(), G_FILE_TEST_IS_REGULAR))
      throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
                         spec.describe() + ": file not found");
  }
  GError *raw_error = nullptr;
  GstDiscoverer *raw = gst_discoverer_new(30 * GST_SECOND, &raw_error);
  reelforge::GErrorPtr error(raw_error);
  if (raw == nullptr)
    throw ElementError(
        GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
        std::string("cannot create a discoverer: ") + (error ? error->message : "unknown error"));
  reelforge::GObjectPtr<GstDiscoverer> discoverer(raw);
  raw_error = nullptr;
  reelforge::GObjectPtr<GstDiscovererInfo> info(
      gst_discoverer_discover_uri(discoverer.get(), spec.uri.c_str(), &raw_error));
  error.reset(raw_error);
  if (!info || gst_discoverer_info_get_result(info.get()) != GST_DISCOVERER_OK)
    throw ElementError(GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
                       spec.describe() + ": cannot be read: " +
                           (error ? error->message : "not a playable media file"));
  stitch::MediaInfo media;
  media.duration = gst_discoverer_info_get_duration(info.get());
  GList *video = gst_discoverer_info_get_video_streams(info.get());
  GList *audio = gst_discoverer_info_get_audio_streams(info.get());
  media.has_video = video != nullptr;
  media.has_audio = audio != nullptr;
  gst_discoverer_stream_info_list_free(video);
  gst_discoverer_stream_info_list_free(audio);
  if (!media.has_video && !media.has_audio)
    throw ElementError(GST_STREAM_ERROR, GST_STREAM_ERROR_WRONG_TYPE,
                       spec.describe() + ": has neither video nor audio");
  return media;
}

void post_clip_message(GstStitchBin *self, const stitch::Timeline &timeline,
                       const stitch::PlannedClip &clip, const char *state) {
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  const GstClockTime start = timeline.frame_time(clip.start_frame);
  GstStructure *s = reelforge::new_analysis_structure(
      "stitchbin-clip", segment, start, timeline.frame_time(clip.end_frame()) - start);
  const std::string source = clip.spec.kind == stitch::SourceKind::kUri     ? clip.spec.uri
                             : clip.spec.kind == stitch::SourceKind::kImage ? clip.spec.image_path
                                                                            : clip.spec.card.text;
  gst_structure_set(s, "index", G_TYPE_UINT, static_cast<guint>(clip.spec.index), "source",
                    G_TYPE_STRING, source.c_str(), "state", G_TYPE_STRING, state, nullptr);
  reelforge::post_element_message(GST_ELEMENT(self), s);
}

/* The clip at index, opened if this is the first stream to need it. */
std::shared_ptr<ClipSource> acquire_clip(GstStitchBin *self, std::size_t index) {
  GstStitchBinPrivate *priv = self->priv;
  std::shared_ptr<ClipSource> clip;
  bool created = false;
  {
    std::lock_guard lock(priv->lock);
    auto &slot = priv->open_clips.at(index);
    if (!slot) {
      slot = std::make_shared<ClipSource>(GST_ELEMENT(self), priv->timeline->clips[index],
                                          priv->format, priv->stopping);
      created = true;
    }
    clip = slot;
  }
  if (created) {
    GST_DEBUG_OBJECT(self, "opening %s", clip->clip().spec.describe().c_str());
    post_clip_message(self, *priv->timeline, clip->clip(), "opened");
  }
  clip->open();
  return clip;
}

/* Closes the clips every running stream is done with. Called with
 * priv->lock held; returns them so they are closed without it. */
std::vector<std::shared_ptr<ClipSource>> take_finished_clips(GstStitchBinPrivate *priv) {
  std::vector<std::shared_ptr<ClipSource>> finished;
  for (auto &slot : priv->open_clips) {
    if (!slot) continue;
    if ((slot->video_released || !priv->video_running) &&
        (slot->audio_released || !priv->audio_running))
      finished.push_back(std::move(slot));
  }
  return finished;
}

void close_clips(GstStitchBin *self, std::vector<std::shared_ptr<ClipSource>> clips) {
  for (auto &clip : clips) {
    GST_DEBUG_OBJECT(self, "closing %s", clip->clip().spec.describe().c_str());
    clip->close();
    post_clip_message(self, *self->priv->timeline, clip->clip(), "closed");
  }
}

void release_clip(GstStitchBin *self, StreamKind kind, std::size_t index) {
  GstStitchBinPrivate *priv = self->priv;
  std::vector<std::shared_ptr<ClipSource>> finished;
  {
    std::lock_guard lock(priv->lock);
    auto &slot = priv->open_clips.at(index);
    if (!slot) return;
    (kind == StreamKind::kVideo ? slot->video_released : slot->audio_released) = true;
    finished = take_finished_clips(priv);
  }
  close_clips(self, std::move(finished));
}

/* Records how far a stream has got and waits while it is more than
 * MAX_STREAM_LEAD ahead of the other one. */
void pace(GstStitchBin *self, StreamKind kind, GstClockTime position) {
  GstStitchBinPrivate *priv = self->priv;
  std::unique_lock lock(priv->lock);
  const bool video = kind == StreamKind::kVideo;
  (video ? priv->video_position : priv->audio_position) = position;
  priv->progress_cond.notify_all();
  priv->progress_cond.wait(lock, [&] {
    const bool other_running = video ? priv->audio_running : priv->video_running;
    const GstClockTime other = video ? priv->audio_position : priv->video_position;
    return priv->stopping || !other_running || position <= other + MAX_STREAM_LEAD;
  });
  if (priv->stopping) throw StopRequested{};
}

/* The clips a stream holds open, acquired from and released to the
 * element's shared set. */
ClipWindow clip_window(GstStitchBin *self, StreamKind kind) {
  return ClipWindow(
      *self->priv->timeline, [self](std::size_t index) { return acquire_clip(self, index); },
      [self, kind](std::size_t index) { release_clip(self, kind, index); });
}

void push(GstStitchBin *self, GstElement *appsrc, BufferPtr buffer) {
  const GstFlowReturn ret = gst_app_src_push_buffer(GST_APP_SRC(appsrc), buffer.release());
  if (ret == GST_FLOW_FLUSHING) throw StopRequested{};
  if (ret != GST_FLOW_OK)
    throw ElementError(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
                       std::string("cannot push output: ") + gst_flow_get_name(ret));
  (void)self;
}

/* Output frame n in rendition r: one clip's frame, or two blended. */
BufferPtr compose_frame(const stitch::Timeline &timeline, ClipWindow &window,
                        const std::vector<std::size_t> &active, guint64 n, std::size_t r,
                        const GstVideoInfo &info) {
  const stitch::PlannedClip &first = timeline.clips[active.front()];
  BufferPtr a = window.clip(active.front()).video_frame(n - first.start_frame, r);
  if (active.size() == 1)
    return BufferPtr(gst_buffer_copy(a.get())); /* shares the memory, owns the metadata */
  const stitch::PlannedClip &next = timeline.clips[active.back()];
  BufferPtr b = window.clip(active.back()).video_frame(n - next.start_frame, r);
  BufferPtr out = new_frame_buffer(info);
  MappedFrame fa(info, a.get(), GST_MAP_READ);
  MappedFrame fb(info, b.get(), GST_MAP_READ);
  MappedFrame fo(info, out.get(), GST_MAP_WRITE);
  stitch::render_transition(first.spec.transition,
                            stitch::transition_progress(n - next.start_frame, next.overlap_in),
                            fa.get(), fb.get(), fo.get());
  return out;
}

void video_loop(GstStitchBin *self) {
  GstStitchBinPrivate *priv = self->priv;
  const stitch::Timeline &timeline = *priv->timeline;
  const std::vector<GstVideoInfo> &videos = priv->format.videos;
  ClipWindow window = clip_window(self, StreamKind::kVideo);
  try {
    for (guint64 n = 0; n < timeline.total_frames; ++n) {
      const GstClockTime t = timeline.frame_time(n);
      pace(self, StreamKind::kVideo, t);
      const std::vector<std::size_t> active = window.advance(t);
      if (active.empty())
        throw std::logic_error("no clip covers output frame " + std::to_string(n));
      for (std::size_t r = 0; r < videos.size(); ++r) {
        BufferPtr out = compose_frame(timeline, window, active, n, r, videos[r]);
        GST_BUFFER_PTS(out.get()) = t;
        GST_BUFFER_DTS(out.get()) = GST_CLOCK_TIME_NONE;
        GST_BUFFER_DURATION(out.get()) = timeline.frame_time(n + 1) - t;
        GST_BUFFER_OFFSET(out.get()) = n;
        if (n == 0) GST_BUFFER_FLAG_SET(out.get(), GST_BUFFER_FLAG_DISCONT);
        push(self, priv->video_srcs[r], std::move(out));
      }
    }
    window.release_all();
    for (GstElement *src : priv->video_srcs) gst_app_src_end_of_stream(GST_APP_SRC(src));
  } catch (const StopRequested &) {
    GST_DEBUG_OBJECT(self, "video thread stopped");
    window.release_all();
  }
}

/* Equal-power gain of a clip at its sample s (of length samples) with
 * fades of fade_in and fade_out samples at its ends. */
float clip_gain(guint64 s, guint64 length, guint64 fade_in, guint64 fade_out) {
  double gain = 1.0;
  if (s < fade_in) gain *= std::sin((s + 0.5) / fade_in * G_PI / 2);
  if (fade_out > 0 && s + fade_out >= length) {
    const guint64 into = s - (length - fade_out);
    gain *= std::cos((into + 0.5) / fade_out * G_PI / 2);
  }
  return static_cast<float>(gain);
}

void audio_loop(GstStitchBin *self) {
  GstStitchBinPrivate *priv = self->priv;
  const stitch::Timeline &timeline = *priv->timeline;
  const gint rate = priv->format.rate, channels = priv->format.channels;
  const auto sample_of_frame = [&](guint64 frame) {
    return reelforge::time_to_samples(timeline.frame_time(frame), rate);
  };
  const guint64 total = sample_of_frame(timeline.total_frames);
  const guint64 block = std::max(1, rate / AUDIO_BLOCKS_PER_SECOND);
  ClipWindow window = clip_window(self, StreamKind::kAudio);
  std::vector<float> scratch;
  try {
    for (guint64 s0 = 0; s0 < total; s0 += block) {
      const guint64 n = std::min(block, total - s0);
      const GstClockTime t = reelforge::samples_to_time(s0, rate);
      pace(self, StreamKind::kAudio, t);
      /* Every clip overlapping the block, not only those covering s0. */
      std::vector<std::size_t> active = window.advance(t);
      const GstClockTime block_end = reelforge::samples_to_time(s0 + n, rate);
      if (!active.empty()) {
        const std::size_t after = active.back() + 1;
        if (after < timeline.clips.size() &&
            timeline.frame_time(timeline.clips[after].start_frame) < block_end)
          active.push_back(after);
      }
      BufferPtr out(gst_buffer_new_allocate(nullptr, n * channels * sizeof(float), nullptr));
      GstMapInfo map;
      gst_buffer_map(out.get(), &map, GST_MAP_WRITE);
      float *mix = reinterpret_cast<float *>(map.data);
      std::fill(mix, mix + n * channels, 0.0f);
      for (std::size_t index : active) {
        const stitch::PlannedClip &clip = timeline.clips[index];
        const guint64 start = sample_of_frame(clip.start_frame);
        const guint64 end = sample_of_frame(clip.end_frame());
        const guint64 from = std::max(s0, start), to = std::min(s0 + n, end);
        if (from >= to) continue;
        const guint64 fade_in = sample_of_frame(clip.start_frame + clip.overlap_in) - start;
        const guint64 fade_out =
            clip.overlap_out ? end - sample_of_frame(clip.end_frame() - clip.overlap_out) : 0;
        scratch.resize((to - from) * channels);
        window.clip(index).read_audio(scratch.data(), to - from);
        for (guint64 s = from; s < to; ++s) {
          const float gain = clip_gain(s - start, end - start, fade_in, fade_out);
          for (gint c = 0; c < channels; ++c)
            mix[(s - s0) * channels + c] += gain * scratch[(s - from) * channels + c];
        }
      }
      gst_buffer_unmap(out.get(), &map);
      GST_BUFFER_PTS(out.get()) = t;
      GST_BUFFER_DURATION(out.get()) = block_end - t;
      GST_BUFFER_OFFSET(out.get()) = s0;
      GST_BUFFER_OFFSET_END(out.get()) = s0 + n;
      if (s0 == 0) GST_BUFFER_FLAG_SET(out.get(), GST_BUFFER_FLAG_DISCONT);
      push(self, priv->audio_src, std::move(out));
    }
    window.release_all();
    gst_app_src_end_of_stream(GST_APP_SRC(priv->audio_src));
  } catch (const StopRequested &) {
    GST_DEBUG_OBJECT(self, "audio thread stopped");
    window.release_all();
  }
}

/* Runs a stream's loop; an error stops that stream and is posted. */
void run_stream(GstStitchBin *self, StreamKind kind) {
  REELFORGE_GUARD_VOID(self, [&] {
    if (kind == StreamKind::kVideo)
      video_loop(self);
    else
      audio_loop(self);
  });
  GstStitchBinPrivate *priv = self->priv;
  std::vector<std::shared_ptr<ClipSource>> finished;
  {
    std::lock_guard lock(priv->lock);
    (kind == StreamKind::kVideo ? priv->video_running : priv->audio_running) = false;
    priv->progress_cond.notify_all();
    finished = take_finished_clips(priv);
  }
  REELFORGE_GUARD_VOID(self, [&] { close_clips(self, std::move(finished)); });
}

stitch::Timeline plan(GstStitchBin *self, const Settings &settings) {
  (void)self;
  return stitch::plan_timeline(stitch::parse_clips(settings.clips), settings.fps_n, settings.fps_d,
                               probe_uri);
}

void start(GstStitchBin *self) {
  GstStitchBinPrivate *priv = self->priv;
  const Settings settings = settings_snapshot(self);
  if (!parse_sizes(settings.renditions))
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS,
                       "renditions \"" + settings.renditions +
                           "\" is not a list of WIDTHxHEIGHT sizes (16 to 8192), e.g. "
                           "\"1920x1080,1080x1080\"");
  stitch::Timeline timeline;
  try {
    timeline = plan(self, settings);
  } catch (const ElementError &) {
    throw;
  } catch (const std::exception &e) {
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_SETTINGS, e.what());
  }
  GST_INFO_OBJECT(self, "%zu clips, %" G_GUINT64_FORMAT " frames, %" GST_TIME_FORMAT,
                  timeline.clips.size(), timeline.total_frames, GST_TIME_ARGS(timeline.duration()));

  OutputFormat &format = priv->format;
  std::vector<std::pair<gint, gint>> sizes{{settings.width, settings.height}};
  sizes.insert(sizes.end(), settings.rendition_sizes.begin(), settings.rendition_sizes.end());
  format.videos.clear();
  for (auto [width, height] : sizes) {
    GstVideoInfo &video = format.videos.emplace_back();
    gst_video_info_set_format(&video, GST_VIDEO_FORMAT_I420, width, height);
    GST_VIDEO_INFO_FPS_N(&video) = settings.fps_n;
    GST_VIDEO_INFO_FPS_D(&video) = settings.fps_d;
  }
  format.fps_n = settings.fps_n;
  format.fps_d = settings.fps_d;
  format.rate = settings.audio_rate;
  format.channels = settings.audio_channels;
  gst_audio_info_set_format(&format.audio, GST_AUDIO_FORMAT_F32LE, settings.audio_rate,
                            settings.audio_channels, nullptr);

  const GstClockTime duration = timeline.duration();
  for (std::size_t r = 0; r < format.videos.size(); ++r) {
    CapsPtr video_caps(gst_video_info_to_caps(&format.videos[r]));
    g_object_set(priv->video_srcs.at(r), "caps", video_caps.get(), "duration", duration,
                 "max-bytes", static_cast<guint64>(GST_VIDEO_INFO_SIZE(&format.videos[r])) * 2,
                 nullptr);
  }
  CapsPtr audio_caps(gst_audio_info_to_caps(&format.audio));
  g_object_set(priv->audio_src, "caps", audio_caps.get(), "duration", duration, "max-bytes",
               static_cast<guint64>(settings.audio_rate / 5) * settings.audio_channels * 4,
               nullptr);

  GST_OBJECT_LOCK(self);
  priv->duration = duration;
  GST_OBJECT_UNLOCK(self);

  priv->timeline = std::move(timeline);
  priv->stopping = false;
  std::lock_guard lock(priv->lock);
  priv->open_clips.clear();
  priv->open_clips.resize(priv->timeline->clips.size());
  priv->video_position = priv->audio_position = 0;
}

void start_threads(GstStitchBin *self) {
  GstStitchBinPrivate *priv = self->priv;
  {
    std::lock_guard lock(priv->lock);
    priv->video_running = priv->audio_running = true;
  }
  priv->video_thread = std::thread(run_stream, self, StreamKind::kVideo);
  priv->audio_thread = std::thread(run_stream, self, StreamKind::kAudio);
}

/* Makes the threads give up: clips stop waiting, pace() wakes up. */
void request_stop(GstStitchBin *self) {
  GstStitchBinPrivate *priv = self->priv;
  std::lock_guard lock(priv->lock);
  priv->stopping = true;
  priv->progress_cond.notify_all();
}

void join_threads(GstStitchBin *self) {
  GstStitchBinPrivate *priv = self->priv;
  if (priv->video_thread.joinable()) priv->video_thread.join();
  if (priv->audio_thread.joinable()) priv->audio_thread.join();
  std::vector<std::shared_ptr<ClipSource>> left;
  {
    std::lock_guard lock(priv->lock);
    for (auto &slot : priv->open_clips)
      if (slot) left.push_back(std::move(slot));
  }
  if (priv->timeline) close_clips(self, std::move(left));
}

}  // namespace

static GstElement *add_output(GstStitchBin *self, const char *template_name,
                              const std::string &name);
static void sync_rendition_pads(GstStitchBin *self, std::size_t count);

static void gst_stitch_bin_set_property(GObject *object, guint prop_id, const GValue *value,
                                        GParamSpec *pspec) {
  GstStitchBin *self = GST_STITCH_BIN(object);
  if (prop_id == PROP_RENDITIONS) {
    /* Pads are added and removed without the object lock, which they take. */
    const gchar *text = g_value_get_string(value);
    const std::string renditions = text ? text : "";
    const auto sizes = parse_sizes(renditions);
    if (!sizes)
      GST_WARNING_OBJECT(self, "renditions \"%s\" is not a list of WIDTHxHEIGHT sizes",
                         renditions.c_str());
    GST_OBJECT_LOCK(self);
    self->priv->settings.renditions = renditions;
    self->priv->settings.rendition_sizes = sizes.value_or(decltype(*sizes){});
    GST_OBJECT_UNLOCK(self);
    sync_rendition_pads(self, sizes ? sizes->size() : 0);
    return;
  }
  GST_OBJECT_LOCK(self);
  Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_CLIPS: {
      const gchar *text = g_value_get_string(value);
      settings.clips = text ? text : DEFAULT_CLIPS;
      self->priv->duration = GST_CLOCK_TIME_NONE;
      break;
    }
    case PROP_WIDTH:
      settings.width = g_value_get_int(value);
      break;
    case PROP_HEIGHT:
      settings.height = g_value_get_int(value);
      break;
    case PROP_FRAMERATE:
      settings.fps_n = gst_value_get_fraction_numerator(value);
      settings.fps_d = gst_value_get_fraction_denominator(value);
      self->priv->duration = GST_CLOCK_TIME_NONE;
      break;
    case PROP_AUDIO_RATE:
      settings.audio_rate = g_value_get_int(value);
      break;
    case PROP_AUDIO_CHANNELS:
      settings.audio_channels = g_value_get_int(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

/* The total length when every clip's length is written in the JSON, so
 * the property is useful before the element starts. */
static GstClockTime duration_without_probing(const Settings &settings) {
  try {
    std::vector<stitch::ClipSpec> clips = stitch::parse_clips(settings.clips);
    if (clips.empty() || !stitch::durations_known(clips)) return GST_CLOCK_TIME_NONE;
    return stitch::plan_timeline(std::move(clips), settings.fps_n, settings.fps_d,
                                 [](const stitch::ClipSpec &) { return stitch::MediaInfo{}; })
        .duration();
  } catch (const std::exception &) {
    return GST_CLOCK_TIME_NONE;
  }
}

static void gst_stitch_bin_get_property(GObject *object, guint prop_id, GValue *value,
                                        GParamSpec *pspec) {
  GstStitchBin *self = GST_STITCH_BIN(object);
  if (prop_id == PROP_DURATION) {
    GST_OBJECT_LOCK(self);
    GstClockTime duration = self->priv->duration;
    const Settings settings = self->priv->settings;
    GST_OBJECT_UNLOCK(self);
    if (!GST_CLOCK_TIME_IS_VALID(duration)) duration = duration_without_probing(settings);
    g_value_set_uint64(value, duration);
    return;
  }
  GST_OBJECT_LOCK(self);
  const Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_CLIPS:
      g_value_set_string(value, settings.clips.c_str());
      break;
    case PROP_WIDTH:
      g_value_set_int(value, settings.width);
      break;
    case PROP_HEIGHT:
      g_value_set_int(value, settings.height);
      break;
    case PROP_FRAMERATE:
      gst_value_set_fraction(value, settings.fps_n, settings.fps_d);
      break;
    case PROP_AUDIO_RATE:
      g_value_set_int(value, settings.audio_rate);
      break;
    case PROP_AUDIO_CHANNELS:
      g_value_set_int(value, settings.audio_channels);
      break;
    case PROP_RENDITIONS:
      g_value_set_string(value, settings.renditions.c_str());
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static GstStateChangeReturn gst_stitch_bin_change_state(GstElement *element,
                                                        GstStateChange transition) {
  GstStitchBin *self = GST_STITCH_BIN(element);
  return REELFORGE_GUARD(self, GST_STATE_CHANGE_FAILURE, [&] {
    switch (transition) {
      case GST_STATE_CHANGE_READY_TO_PAUSED:
        start(self);
        break;
      case GST_STATE_CHANGE_PAUSED_TO_READY:
        request_stop(self);
        break;
      default:
        break;
    }
    const GstStateChangeReturn ret =
        GST_ELEMENT_CLASS(parent_class)->change_state(element, transition);
    switch (transition) {
      case GST_STATE_CHANGE_READY_TO_PAUSED:
        if (ret != GST_STATE_CHANGE_FAILURE) start_threads(self);
        break;
      case GST_STATE_CHANGE_PAUSED_TO_READY:
        join_threads(self);
        self->priv->timeline.reset();
        break;
      default:
        break;
    }
    return ret;
  });
}

static void gst_stitch_bin_finalize(GObject *object) {
  GstStitchBin *self = GST_STITCH_BIN(object);
  delete self->priv;
  self->priv = nullptr;
  G_OBJECT_CLASS(parent_class)->finalize(object);
}

static GstElement *add_output(GstStitchBin *self, const char *template_name,
                              const std::string &name) {
  GstElement *appsrc = gst_element_factory_make("appsrc", (name + "-src").c_str());
  g_object_set(appsrc, "format", GST_FORMAT_TIME, "is-live", FALSE, "block", TRUE, "stream-type",
               GST_APP_STREAM_TYPE_STREAM, "max-buffers", G_GUINT64_CONSTANT(0), nullptr);
  gst_bin_add(GST_BIN(self), appsrc);
  GstObjectPtr<GstPad> target(gst_element_get_static_pad(appsrc, "src"));
  GstPadTemplate *templ =
      gst_element_class_get_pad_template(GST_ELEMENT_GET_CLASS(self), template_name);
  GstPad *ghost = gst_ghost_pad_new_from_template(name.c_str(), target.get(), templ);
  gst_pad_set_active(ghost, TRUE);
  gst_element_add_pad(GST_ELEMENT(self), ghost);
  return appsrc;
}

/* Makes video_1 ... video_count exist, and no more. */
static void sync_rendition_pads(GstStitchBin *self, std::size_t count) {
  std::vector<GstElement *> &srcs = self->priv->video_srcs;
  while (srcs.size() > count + 1) {
    GstElement *appsrc = srcs.back();
    srcs.pop_back();
    const std::string name = "video_" + std::to_string(srcs.size());
    GstObjectPtr<GstPad> ghost(gst_element_get_static_pad(GST_ELEMENT(self), name.c_str()));
    if (ghost) gst_element_remove_pad(GST_ELEMENT(self), ghost.get());
    gst_element_set_state(appsrc, GST_STATE_NULL);
    gst_bin_remove(GST_BIN(self), appsrc);
  }
  while (srcs.size() < count + 1)
    srcs.push_back(add_output(self, "video_%u", "video_" + std::to_string(srcs.size())));
}

static void gst_stitch_bin_init(GstStitchBin *self) {
  self->priv = new GstStitchBinPrivate();
  self->priv->video_srcs.push_back(add_output(self, "video", "video"));
  self->priv->audio_src = add_output(self, "audio", "audio");
}

static void gst_stitch_bin_class_init(GstStitchBinClass *klass) {
  GObjectClass *gobject_class = G_OBJECT_CLASS(klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS(klass);

  gobject_class->set_property = gst_stitch_bin_set_property;
  gobject_class->get_property = gst_stitch_bin_get_property;
  gobject_class->finalize = gst_stitch_bin_finalize;

  constexpr auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                                  GST_PARAM_MUTABLE_READY);

  /**
   * GstStitchBin:clips:
   *
   * The clips, in order, as a JSON array (see the element's description
   * for the fields; times are in seconds).
   */
  g_object_class_install_property(
      gobject_class, PROP_CLIPS,
      g_param_spec_string("clips", "Clips",
                          "JSON array of clips: {uri|image|card, in, out, duration (s), fit, "
                          "motion, transition: {type, duration (s)}}",
                          DEFAULT_CLIPS, flags));
  /**
   * GstStitchBin:width:
   *
   * Width of the output video, in pixels (even).
   */
  g_object_class_install_property(gobject_class, PROP_WIDTH,
                                  g_param_spec_int("width", "Width", "Output width in pixels", 16,
                                                   MAX_DIMENSION, DEFAULT_WIDTH, flags));
  /**
   * GstStitchBin:height:
   *
   * Height of the output video, in pixels (even).
   */
  g_object_class_install_property(gobject_class, PROP_HEIGHT,
                                  g_param_spec_int("height", "Height", "Output height in pixels",
                                                   16, MAX_DIMENSION, DEFAULT_HEIGHT, flags));
  /**
   * GstStitchBin:framerate:
   *
   * Frame rate of the output video, in frames per second.
   */
  g_object_class_install_property(
      gobject_class, PROP_FRAMERATE,
      gst_param_spec_fraction("framerate", "Frame rate", "Output frame rate (frames per second)", 1,
                              1, 240, 1, DEFAULT_FPS_N, DEFAULT_FPS_D, flags));
  /**
   * GstStitchBin:audio-rate:
   *
   * Sample rate of the output audio, in Hz.
   */
  g_object_class_install_property(
      gobject_class, PROP_AUDIO_RATE,
      g_param_spec_int("audio-rate", "Audio rate", "Output sample rate in Hz", 8000, 192000,
                       DEFAULT_AUDIO_RATE, flags));
  /**
   * GstStitchBin:audio-channels:
   *
   * Channels of the output audio.
   */
  g_object_class_install_property(
      gobject_class, PROP_AUDIO_CHANNELS,
      g_param_spec_int("audio-channels", "Audio channels", "Output audio channels", 1, 8,
                       DEFAULT_AUDIO_CHANNELS, flags));
  /**
   * GstStitchBin:duration:
   *
   * Total length of the output in nanoseconds: the clips' frames minus the
   * transitions' overlaps. Known once the element has started, or before
   * if every clip has a "duration" or an "out"; GST_CLOCK_TIME_NONE
   * otherwise.
   */
  g_object_class_install_property(
      gobject_class, PROP_DURATION,
      g_param_spec_uint64("duration", "Duration", "Total output length in nanoseconds", 0,
                          G_MAXUINT64, GST_CLOCK_TIME_NONE,
                          static_cast<GParamFlags>(G_PARAM_READABLE | G_PARAM_STATIC_STRINGS)));

  /**
   * GstStitchBin:renditions:
   *
   * Further video outputs of the same timeline at other sizes, as
   * "WIDTHxHEIGHT" separated by commas: "1920x1080,1080x1080" adds the pads
   * video_1 and video_2. Each source frame is decoded once and fitted to
   * every size (each clip's fit applies per size), so a 9:16 and a 16:9
   * rendition cost one decode. Empty (the default): only the video pad.
   */
  g_object_class_install_property(
      gobject_class, PROP_RENDITIONS,
      g_param_spec_string("renditions", "Renditions",
                          "Further output sizes \"WxH,WxH\" on pads video_1, video_2, ... "
                          "(one decode for all)",
                          "", flags));

  element_class->change_state = gst_stitch_bin_change_state;
  gst_element_class_add_static_pad_template(element_class, &video_template);
  gst_element_class_add_static_pad_template(element_class, &rendition_template);
  gst_element_class_add_static_pad_template(element_class, &audio_template);
  gst_element_class_set_static_metadata(
      element_class, "Clip stitcher", "Generic/Bin/Source",
      "Joins video files, stills and title cards into one continuous video and audio stream "
      "with transitions",
      "Reelforge <https://reelforge.invalid/>");
  GST_DEBUG_CATEGORY_INIT(gst_stitch_bin_debug, "stitchbin", 0, "Clip stitcher");
}
