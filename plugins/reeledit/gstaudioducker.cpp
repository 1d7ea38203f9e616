/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-audioducker
 * @title: audioducker
 * @short_description: lowers music while a sidechain (voice) is speaking
 *
 * audioducker takes music on its `sink` pad and a voice on its `sidechain`
 * pad and outputs the music on `src` with a gain applied: while the
 * sidechain's level is above #GstAudioDucker:threshold the music is lowered
 * by #GstAudioDucker:amount decibels. The gain moves in decibels along
 * straight ramps, per sample: from 0 dB down to -amount in
 * #GstAudioDucker:attack and back up in #GstAudioDucker:release, so there
 * is no zipper noise. The sidechain is analysed only, never output.
 *
 * The output has the music's caps, buffers and timestamps; only the sample
 * values change (a buffer that needs no gain at all goes out untouched).
 * Both pads take interleaved F32LE or S16LE at any rate and channel count;
 * the sidechain may have another rate and channel count than the music,
 * since it is compared with the music by running time.
 *
 * Sidechain level: the RMS over consecutive 10 ms windows of sidechain
 * samples (all channels together), in dBFS where a full-scale square wave
 * is 0 dBFS (so a sine of peak amplitude A reads 20·log10(A/√2)). The music
 * sample at running time t is ducked when the window containing t is above
 * the threshold. Where the sidechain has no data (before it starts, after
 * it ends, in holes), it counts as silent: if the sidechain reaches EOS
 * before the music, the music recovers (with the release ramp) and
 * continues un-ducked. If the `sidechain` pad is not linked when the element
 * goes to PAUSED, the music passes through unchanged (seeks included); the
 * element ends that pad itself, so linking it later, while PAUSED or
 * PLAYING, is not supported.
 *
 * ## The music bed
 *
 * The element is also the music bed of a render: #GstAudioDucker:volume
 * scales the music (linearly, on top of ducking), and the bed has a start,
 * an optional length and fades. The bed starts at the running time of the
 * start of the music's first segment (the music's first sample when it
 * starts there) and is counted in music frames from there:
 *
 * * #GstAudioDucker:fade-in: the gain rises linearly in amplitude from 0
 *   at the bed's start to full at fade-in.
 * * #GstAudioDucker:duration: the output ends exactly
 *   round(duration x rate) frames after the bed's start (the last buffer is
 *   cut to that sample), then EOS, even if the music goes on: what follows
 *   is dropped and upstream gets %GST_FLOW_EOS. If the music ends earlier
 *   (or jumps past duration), the output is padded with silence (buffers
 *   flagged %GST_BUFFER_FLAG_GAP, up to 100 ms each) up to duration, so the
 *   bed never ends early; with no music at all the whole bed is silence
 *   once the caps are known.
 * * #GstAudioDucker:fade-out: with a duration, the gain falls linearly in
 *   amplitude from full to 0 over the last fade-out before duration. Without
 *   a duration it is ignored, since the end of the music is not known ahead.
 *
 * The fades multiply when they overlap. All of this works the same with the
 * `sidechain` pad unlinked. Ducking follows the music only: when the music
 * ends, or is cut at duration, while ducked, the %FALSE message is posted
 * at its end and padding is not ducked.
 *
 * A flushing seek restarts the sidechain analysis and the gain (0 dB) at the
 * new position, and restarts the bed there too: fade-in, duration and
 * fade-out count from the new segment's start.
 *
 * ## `audioducker` messages
 *
 * * #gboolean `ducking`: %TRUE when the sidechain rose above the threshold
 *   (the gain starts its attack ramp), %FALSE when it fell below it again,
 *   or the sidechain ended, or the music ended while ducked (the gain starts
 *   its release ramp).
 * * #guint64 `timestamp`: buffer time of the music sample where ducking
 *   started, in nanoseconds (in both messages).
 * * #guint64 `stream-time`, `running-time`: of `timestamp`.
 * * #guint64 `duration`: 0 in the %TRUE message; in the %FALSE message the
 *   time from `timestamp` to where ducking stopped, in nanoseconds.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m audiotestsrc freq=440 num-buffers=300 ! audio/x-raw,format=F32LE,rate=48000 ! \
 *     audioducker name=d amount=18 ! audioconvert ! autoaudiosink \
 *     audiotestsrc freq=1000 timestamp-offset=2000000000 num-buffers=100 ! \
 *     audio/x-raw,format=S16LE,rate=48000 ! d.sidechain
 * ]| Plays 6.4 s of a 440 Hz tone, lowered by 18 dB from 2 s to 4.1 s while
 * the 1 kHz tone on the sidechain plays, with one `audioducker` message when
 * ducking starts and one when it stops.
 * |[
 * gst-launch-1.0 audiotestsrc freq=440 num-buffers=1000 ! audio/x-raw,format=F32LE,rate=48000 ! \
 *     audioducker volume=0.5 fade-in=1000000000 duration=5000000000 fade-out=2000000000 ! \
 *     audioconvert ! autoaudiosink
 * ]| A music bed without a voice: 5 s of the tone at -6 dB, fading in over
 * the first second and out over the last two, although the source would go
 * on for 21 s.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstaudioducker.h"

#include "analysis-message.h"
#include "element-guard.h"
#include "gst-ptr.h"
#include "time-convert.h"

#include <gst/audio/audio.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <deque>
#include <mutex>
#include <type_traits>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(gst_audio_ducker_debug);
#define GST_CAT_DEFAULT gst_audio_ducker_debug

namespace {

using reelforge::StructurePtr;

constexpr gdouble DEFAULT_AMOUNT = 12.0;
constexpr gdouble MIN_AMOUNT = 0.0;
constexpr gdouble MAX_AMOUNT = 60.0;
constexpr gdouble DEFAULT_THRESHOLD = -40.0;
constexpr gdouble MIN_THRESHOLD = -100.0;
constexpr gdouble MAX_THRESHOLD = 0.0;
constexpr GstClockTime DEFAULT_ATTACK = 20 * GST_MSECOND;
constexpr GstClockTime DEFAULT_RELEASE = 300 * GST_MSECOND;
constexpr GstClockTime MAX_RAMP = 10 * GST_SECOND;
constexpr gdouble DEFAULT_VOLUME = 1.0;
constexpr gdouble MIN_VOLUME = 0.0;
constexpr gdouble MAX_VOLUME = 10.0;
constexpr GstClockTime DEFAULT_FADE_IN = 0;
constexpr GstClockTime DEFAULT_FADE_OUT = 0;
constexpr GstClockTime DEFAULT_DURATION = 0;
/* Longest fade and duration: keeps frame counts within gint64. */
constexpr GstClockTime MAX_TIME = G_MAXINT64;

/* Silence that pads the music up to duration goes out in buffers of this
 * length at most. */
constexpr gint PADDING_BUFFERS_PER_SECOND = 10;

/* Length of the windows the sidechain RMS is taken over. */
constexpr gint LEVEL_WINDOWS_PER_SECOND = 100;

/* Sidechain buffers this far from where the sample count puts them start a
 * new timeline (audiobasesink's default alignment-threshold). */
constexpr GstClockTime DISCONT_THRESHOLD = 40 * GST_MSECOND;

enum {
  PROP_0,
  PROP_AMOUNT,
  PROP_THRESHOLD,
  PROP_ATTACK,
  PROP_RELEASE,
  PROP_VOLUME,
  PROP_FADE_IN,
  PROP_FADE_OUT,
  PROP_DURATION,
};

GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("audio/x-raw, format = (string) { F32LE, S16LE }, rate = (int) [ 1, MAX ], "
                    "channels = (int) [ 1, MAX ], layout = (string) interleaved"));
GstStaticPadTemplate sidechain_template = GST_STATIC_PAD_TEMPLATE(
    "sidechain", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("audio/x-raw, format = (string) { F32LE, S16LE }, rate = (int) [ 1, MAX ], "
                    "channels = (int) [ 1, MAX ], layout = (string) interleaved"));
GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("audio/x-raw, format = (string) { F32LE, S16LE }, rate = (int) [ 1, MAX ], "
                    "channels = (int) [ 1, MAX ], layout = (string) interleaved"));

struct Settings {
  gdouble amount = DEFAULT_AMOUNT;       /* dB */
  gdouble threshold = DEFAULT_THRESHOLD; /* dBFS */
  GstClockTime attack = DEFAULT_ATTACK;
  GstClockTime release = DEFAULT_RELEASE;
  gdouble volume = DEFAULT_VOLUME; /* linear */
  GstClockTime fade_in = DEFAULT_FADE_IN;
  GstClockTime fade_out = DEFAULT_FADE_OUT;
  GstClockTime duration = DEFAULT_DURATION; /* 0: as long as the music */
};

/* One 10 ms stretch of sidechain, in running time. */
struct LevelWindow {
  GstClockTime start;
  GstClockTime end;
  bool loud;
};

/* Turns sidechain samples into a queue of LevelWindows. Frames are counted
 * from base, the running time of the first frame of the current timeline. */
class SidechainLevel {
 public:
  void reset() { *this = SidechainLevel{}; }

  /* After a flush: the analysis starts again, the caps stay. */
  void flush() {
    const GstAudioInfo info = info_;
    const bool have_info = have_info_;
    const gint window_frames = window_frames_;
    const gdouble threshold_ms = threshold_ms_;
    reset();
    info_ = info;
    have_info_ = have_info;
    window_frames_ = window_frames;
    threshold_ms_ = threshold_ms;
  }

  void configure(const GstAudioInfo &info, gdouble threshold_db) {
    if (have_info_ && (GST_AUDIO_INFO_RATE(&info) != GST_AUDIO_INFO_RATE(&info_) ||
                       GST_AUDIO_INFO_CHANNELS(&info) != GST_AUDIO_INFO_CHANNELS(&info_)))
      restart();
    info_ = info;
    have_info_ = true;
    window_frames_ = std::max(1, GST_AUDIO_INFO_RATE(&info) / LEVEL_WINDOWS_PER_SECOND);
    /* Compared with the mean square, so no square root or log per window. */
    threshold_ms_ = std::pow(10.0, threshold_db / 10.0);
  }

  bool has_info() const { return have_info_; }
  const GstAudioInfo &info() const { return info_; }

  /* n_frames frames (nullptr: silence) whose first is at running time rt. */
  void add(const guint8 *data, guint64 n_frames, GstClockTime rt) {
    const gint rate = GST_AUDIO_INFO_RATE(&info_);
    if (!started_ || rt + DISCONT_THRESHOLD < expected() || rt > expected() + DISCONT_THRESHOLD) {
      restart();
      started_ = true;
      base_ = rt;
    }
    const guint channels = GST_AUDIO_INFO_CHANNELS(&info_);
    const bool is_float = GST_AUDIO_INFO_FORMAT(&info_) == GST_AUDIO_FORMAT_F32LE;
    for (guint64 i = 0; i < n_frames; ++i) {
      if (data != nullptr) {
        for (guint c = 0; c < channels; ++c) {
          const guint64 k = i * channels + c;
          const gdouble v = is_float ? reinterpret_cast<const gfloat *>(data)[k]
                                     : reinterpret_cast<const gint16 *>(data)[k] / 32768.0;
          sum_ += v * v;
        }
      }
      ++frames_;
      ++in_window_;
      if (in_window_ == static_cast<guint64>(window_frames_)) close_window(rate);
    }
  }

  /* The sidechain ended: the partial window counts. */
  void finish() {
    if (in_window_ > 0) close_window(GST_AUDIO_INFO_RATE(&info_));
  }

  /* Running time up to which windows exist. */
  GstClockTime analysed_until() const { return analysed_until_; }

  /* Whether the music at running time t is under a loud window; windows
   * ending at or before t are forgotten (t only grows). */
  bool loud_at(GstClockTime t) {
    while (!windows_.empty() && windows_.front().end <= t) windows_.pop_front();
    return !windows_.empty() && windows_.front().start <= t && windows_.front().loud;
  }

 private:
  GstClockTime expected() const {
    return base_ + reelforge::samples_to_time(frames_, GST_AUDIO_INFO_RATE(&info_));
  }

  void restart() {
    if (in_window_ > 0) close_window(GST_AUDIO_INFO_RATE(&info_));
    frames_ = 0;
    in_window_ = 0;
    sum_ = 0.0;
  }

  void close_window(gint rate) {
    const guint64 first = frames_ - in_window_;
    const GstClockTime start = base_ + reelforge::samples_to_time(first, rate);
    const GstClockTime end = base_ + reelforge::samples_to_time(frames_, rate);
    const gdouble mean_square =
        sum_ / static_cast<gdouble>(in_window_ * GST_AUDIO_INFO_CHANNELS(&info_));
    windows_.push_back({start, end, mean_square > threshold_ms_});
    analysed_until_ = std::max(analysed_until_, end);
    in_window_ = 0;
    sum_ = 0.0;
  }

  GstAudioInfo info_{};
  bool have_info_ = false;
  gint window_frames_ = 1;
  gdouble threshold_ms_ = 0.0;
  bool started_ = false;
  GstClockTime base_ = 0;
  guint64 frames_ = 0;
  guint64 in_window_ = 0;
  gdouble sum_ = 0.0;
  GstClockTime analysed_until_ = 0;
  std::deque<LevelWindow> windows_;
};

/* Runtime state, reset in start() and stop(); used from the aggregator's
 * streaming thread only, under state_lock. */
struct State {
  Settings settings; /* snapshot taken in start() */
  bool have_music_info = false;
  GstAudioInfo music{};
  SidechainLevel sidechain;
  bool sidechain_eos = false;
  gdouble gain_db = 0.0;
  bool ducking = false;
  GstClockTime duck_start = GST_CLOCK_TIME_NONE; /* music buffer time */
  GstClockTime music_position = GST_CLOCK_TIME_NONE;
  /* The bed: the output counted in music frames from bed_origin, the
   * running time of the start of the music's first segment. */
  bool have_bed_origin = false;
  GstClockTime bed_origin = 0;
  guint64 bed_next = 0;       /* frame after the last one output */
  bool music_over = false;    /* music ended: only padding is left */
  bool bed_over = false;      /* the output ended at duration */
  std::vector<gdouble> gains; /* per frame of the current buffer */
  std::vector<StructurePtr> pending;
};

struct AudioDuckerPrivate {
  Settings settings; /* properties, under the object lock */
  std::mutex state_lock;
  State state;
  /* The sidechain was not linked at READY -> PAUSED and is fed an EOS by
   * the element itself. */
  std::atomic<bool> sidechain_ended_here{false};
  /* The output ended (aggregate() returned EOS): buffers reaching the sink
   * pads get GST_FLOW_EOS, until a flush or a restart. */
  std::atomic<bool> output_over{false};
};

}  // namespace

struct _GstAudioDucker {
  GstAggregator parent;
  GstAggregatorPad *music_pad;
  GstAggregatorPad *sidechain_pad;
  AudioDuckerPrivate *priv;
};

G_DEFINE_TYPE(GstAudioDucker, gst_audio_ducker, GST_TYPE_AGGREGATOR);
GST_ELEMENT_REGISTER_DEFINE(audioducker, "audioducker", GST_RANK_NONE, GST_TYPE_AUDIO_DUCKER);

namespace {

void reset_state(State &state, const Settings &settings) {
  state.settings = settings;
  state.have_music_info = false;
  state.sidechain.reset();
  state.sidechain_eos = false;
  state.gain_db = 0.0;
  state.ducking = false;
  state.duck_start = GST_CLOCK_TIME_NONE;
  state.music_position = GST_CLOCK_TIME_NONE;
  state.have_bed_origin = false;
  state.bed_origin = 0;
  state.bed_next = 0;
  state.music_over = false;
  state.bed_over = false;
  state.pending.clear();
}

GstAudioInfo parse_caps(GstCaps *caps) {
  GstAudioInfo info;
  if (caps == nullptr || !gst_audio_info_from_caps(&info, caps)) {
    throw reelforge::ElementError(GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
                                  "cannot parse audio caps");
  }
  return info;
}

/* A buffer mapped while the object lives. */
class Mapping {
 public:
  Mapping(GstBuffer *buffer, GstMapFlags flags) : buffer_(buffer) {
    if (!gst_buffer_map(buffer, &info_, flags)) {
      throw reelforge::ElementError(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
                                    "cannot map an audio buffer");
    }
  }
  ~Mapping() { gst_buffer_unmap(buffer_, &info_); }
  Mapping(const Mapping &) = delete;
  Mapping &operator=(const Mapping &) = delete;
  guint8 *data() const { return info_.data; }
  gsize size() const { return info_.size; }

 private:
  GstBuffer *buffer_;
  GstMapInfo info_{};
};

void analyse_sidechain_buffer(GstAudioDucker *self, State &state, GstBuffer *buffer) {
  if (!state.sidechain.has_info()) return;
  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(pts)) return;
  const GstClockTime rt =
      gst_segment_to_running_time(&self->sidechain_pad->segment, GST_FORMAT_TIME, pts);
  if (!GST_CLOCK_TIME_IS_VALID(rt)) return; /* outside the segment */
  const GstAudioInfo &info = state.sidechain.info();
  const gsize size = gst_buffer_get_size(buffer);
  if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_GAP) || size == 0) {
    /* GAP events reach us as empty GAP buffers: silence for their duration. */
    const GstClockTime duration = GST_BUFFER_DURATION(buffer);
    const guint64 frames =
        size > 0 ? size / GST_AUDIO_INFO_BPF(&info)
                 : (GST_CLOCK_TIME_IS_VALID(duration)
                        ? reelforge::time_to_samples(duration, GST_AUDIO_INFO_RATE(&info))
                        : 0);
    state.sidechain.add(nullptr, frames, rt);
    return;
  }
  const Mapping mapping(buffer, GST_MAP_READ);
  state.sidechain.add(mapping.data(), size / GST_AUDIO_INFO_BPF(&info), rt);
}

void queue_message(GstAudioDucker *self, State &state, bool ducking, GstClockTime at) {
  const GstClockTime start = ducking ? at : state.duck_start;
  const GstClockTime duration = ducking ? 0 : at - state.duck_start;
  GstStructure *s =
      reelforge::new_analysis_structure("audioducker", self->music_pad->segment, start, duration);
  gst_structure_set(s, "ducking", G_TYPE_BOOLEAN, ducking, nullptr);
  state.pending.emplace_back(s);
  GST_DEBUG_OBJECT(self, "ducking %s at %" GST_TIME_FORMAT, ducking ? "starts" : "stops",
                   GST_TIME_ARGS(at));
}

/* Frames in the bed (round(duration x rate)); 0 when it follows the music. */
guint64 bed_length(const State &state) {
  return state.settings.duration > 0 ? reelforge::time_to_samples(state.settings.duration,
                                                                  GST_AUDIO_INFO_RATE(&state.music))
                                     : 0;
}

/* Index of the bed frame at music buffer time pts, negative before the
 * bed's start; for an untimestamped buffer, the frame after the last one
 * output. */
gint64 bed_frame_at(GstAudioDucker *self, const State &state, GstClockTime pts) {
  const GstSegment &segment = self->music_pad->segment;
  guint64 rt = 0;
  const gint sign = GST_CLOCK_TIME_IS_VALID(pts) && segment.format == GST_FORMAT_TIME
                        ? gst_segment_to_running_time_full(&segment, GST_FORMAT_TIME, pts, &rt)
                        : 0;
  if (sign == 0 || !state.have_bed_origin) return static_cast<gint64>(state.bed_next);
  const gint rate = GST_AUDIO_INFO_RATE(&state.music);
  if (sign > 0 && rt >= state.bed_origin)
    return static_cast<gint64>(reelforge::time_to_samples(rt - state.bed_origin, rate));
  const GstClockTime before = sign > 0 ? state.bed_origin - rt : state.bed_origin + rt;
  return -static_cast<gint64>(reelforge::time_to_samples(before, rate));
}

/* Music buffer time of bed frame k. */
GstClockTime bed_frame_time(GstAudioDucker *self, const State &state, guint64 k) {
  const GstClockTime rt =
      state.bed_origin + reelforge::samples_to_time(k, GST_AUDIO_INFO_RATE(&state.music));
  const GstSegment &segment = self->music_pad->segment;
  return segment.format == GST_FORMAT_TIME
             ? gst_segment_position_from_running_time(&segment, GST_FORMAT_TIME, rt)
             : rt;
}

/* volume with the fades, at bed frame k (linear in amplitude). */
gdouble bed_envelope(const State &state, gint64 k) {
  const Settings &settings = state.settings;
  const gint rate = GST_AUDIO_INFO_RATE(&state.music);
  gdouble gain = settings.volume;
  if (settings.fade_in > 0) {
    const gdouble fade_frames = reelforge::to_seconds(settings.fade_in) * rate;
    if (static_cast<gdouble>(k) < fade_frames)
      gain *= std::max(0.0, static_cast<gdouble>(k) / fade_frames);
  }
  const guint64 length = bed_length(state);
  if (length > 0 && settings.fade_out > 0) {
    const gdouble fade_frames = reelforge::to_seconds(settings.fade_out) * rate;
    const gdouble left = static_cast<gdouble>(length) - static_cast<gdouble>(k);
    if (left < fade_frames) gain *= std::max(0.0, left / fade_frames);
  }
  return gain;
}

/* Computes state.gains (ducking times the bed envelope) for n_frames of
 * music starting at buffer time pts and bed frame first; returns false when
 * every gain is exactly 1. */
bool compute_gains(GstAudioDucker *self, State &state, GstClockTime pts, gint64 first,
                   guint64 n_frames) {
  const Settings &settings = state.settings;
  const gint rate = GST_AUDIO_INFO_RATE(&state.music);
  const GstClockTime rt0 =
      GST_CLOCK_TIME_IS_VALID(pts)
          ? gst_segment_to_running_time(&self->music_pad->segment, GST_FORMAT_TIME, pts)
          : GST_CLOCK_TIME_NONE;
  /* dB per sample along the ramps; a zero-length ramp is a step. */
  const gdouble attack_step =
      settings.attack > 0 ? settings.amount / (reelforge::to_seconds(settings.attack) * rate)
                          : settings.amount;
  const gdouble release_step =
      settings.release > 0 ? settings.amount / (reelforge::to_seconds(settings.release) * rate)
                           : settings.amount;
  state.gains.resize(n_frames);
  bool any = false;
  gdouble cached_db = 0.0;
  gdouble cached_linear = 1.0;
  for (guint64 i = 0; i < n_frames; ++i) {
    const GstClockTime offset = reelforge::samples_to_time(i, rate);
    const bool loud = GST_CLOCK_TIME_IS_VALID(rt0) && state.sidechain.loud_at(rt0 + offset) &&
                      settings.amount > 0;
    if (loud != state.ducking) {
      queue_message(self, state, loud, pts + offset);
      state.ducking = loud;
      if (loud) state.duck_start = pts + offset;
    }
    const gdouble target = loud ? -settings.amount : 0.0;
    if (state.gain_db > target)
      state.gain_db = std::max(target, state.gain_db - attack_step);
    else if (state.gain_db < target)
      state.gain_db = std::min(target, state.gain_db + release_step);
    if (state.gain_db != cached_db) {
      cached_db = state.gain_db;
      cached_linear = std::pow(10.0, cached_db / 20.0);
    }
    const gdouble gain = cached_linear * bed_envelope(state, first + static_cast<gint64>(i));
    state.gains[i] = gain;
    any = any || gain != 1.0;
  }
  return any;
}

void apply_gains(const State &state, GstBuffer *buffer) {
  const Mapping mapping(buffer, GST_MAP_READWRITE);
  const guint channels = GST_AUDIO_INFO_CHANNELS(&state.music);
  const guint64 frames =
      std::min<guint64>(state.gains.size(), mapping.size() / GST_AUDIO_INFO_BPF(&state.music));
  if (GST_AUDIO_INFO_FORMAT(&state.music) == GST_AUDIO_FORMAT_F32LE) {
    auto *samples = reinterpret_cast<gfloat *>(mapping.data());
    for (guint64 i = 0; i < frames; ++i) {
      const auto g = static_cast<gfloat>(state.gains[i]);
      for (guint c = 0; c < channels; ++c) samples[i * channels + c] *= g;
    }
  } else {
    auto *samples = reinterpret_cast<gint16 *>(mapping.data());
    for (guint64 i = 0; i < frames; ++i) {
      for (guint c = 0; c < channels; ++c) {
        /* volume goes up to 10: 16-bit samples saturate. */
        gint16 &s = samples[i * channels + c];
        s = static_cast<gint16>(std::clamp(std::lround(s * state.gains[i]), -32768L, 32767L));
      }
    }
  }
}

/* Runs body(state) under the state lock, then posts the messages it queued
 * (never under a lock). */
template <typename Body>
auto with_state(GstAudioDucker *self, Body &&body) {
  std::vector<StructurePtr> to_post;
  auto post = [&] {
    for (auto &s : to_post) reelforge::post_element_message(GST_ELEMENT_CAST(self), s.release());
  };
  if constexpr (std::is_void_v<decltype(body(self->priv->state))>) {
    {
      const std::lock_guard<std::mutex> lock(self->priv->state_lock);
      body(self->priv->state);
      to_post.swap(self->priv->state.pending);
    }
    post();
  } else {
    auto result = [&] {
      const std::lock_guard<std::mutex> lock(self->priv->state_lock);
      auto r = body(self->priv->state);
      to_post.swap(self->priv->state.pending);
      return r;
    }();
    post();
    return result;
  }
}

/* What aggregate() decided, taken out of the lock to push. */
struct Step {
  GstFlowReturn flow = GST_FLOW_OK;
  reelforge::BufferPtr output;
  bool last = false; /* output is the end of the bed: EOS after it */
};

/* The music stops counting while ducked: the stop message is at its end. */
void stop_ducking_at(GstAudioDucker *self, State &state, GstClockTime end) {
  if (state.ducking && GST_CLOCK_TIME_IS_VALID(end)) {
    queue_message(self, state, false, end);
    state.ducking = false;
  }
}

/* After the music: silence up to duration, then EOS. */
Step pad_with_silence(GstAudioDucker *self, State &state) {
  Step step;
  const guint64 length = bed_length(state);
  if (length == 0 || !state.have_music_info || state.bed_next >= length) {
    state.bed_over = true;
    step.flow = GST_FLOW_EOS;
    return step;
  }
  if (!state.have_bed_origin) {
    /* No music buffer came: the bed starts with the music's segment. */
    const GstSegment &segment = self->music_pad->segment;
    state.bed_origin = segment.format == GST_FORMAT_TIME
                           ? gst_segment_to_running_time(&segment, GST_FORMAT_TIME, segment.start)
                           : 0;
    state.have_bed_origin = GST_CLOCK_TIME_IS_VALID(state.bed_origin);
    if (!state.have_bed_origin) state.bed_origin = 0;
  }
  const gint rate = GST_AUDIO_INFO_RATE(&state.music);
  const guint64 chunk = std::max(1, rate / PADDING_BUFFERS_PER_SECOND);
  const guint64 n = std::min(chunk, length - state.bed_next);
  const gsize size = n * GST_AUDIO_INFO_BPF(&state.music);
  reelforge::BufferPtr buffer(gst_buffer_new_allocate(nullptr, size, nullptr));
  {
    const Mapping mapping(buffer.get(), GST_MAP_WRITE);
    gst_audio_format_info_fill_silence(state.music.finfo, mapping.data(), mapping.size());
  }
  const GstClockTime pts = bed_frame_time(self, state, state.bed_next);
  GST_BUFFER_PTS(buffer.get()) = pts;
  GST_BUFFER_DURATION(buffer.get()) = bed_frame_time(self, state, state.bed_next + n) - pts;
  GST_BUFFER_FLAG_SET(buffer.get(), GST_BUFFER_FLAG_GAP);
  state.bed_next += n;
  state.music_position = pts + GST_BUFFER_DURATION(buffer.get());
  step.last = state.bed_next >= length;
  state.bed_over = step.last;
  step.output = std::move(buffer);
  return step;
}

/* Cuts buffer (n_frames, writable) to its first keep frames, ending at
 * buffer time end. */
void clip_buffer(GstBuffer *buffer, const State &state, guint64 n_frames, guint64 keep,
                 GstClockTime end) {
  if (gst_buffer_get_size(buffer) > 0)
    gst_buffer_resize(buffer, 0, static_cast<gssize>(keep * GST_AUDIO_INFO_BPF(&state.music)));
  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  GST_BUFFER_DURATION(buffer) =
      GST_CLOCK_TIME_IS_VALID(pts) && end >= pts
          ? end - pts
          : reelforge::samples_to_time(keep, GST_AUDIO_INFO_RATE(&state.music));
  if (GST_BUFFER_OFFSET_IS_VALID(buffer) && GST_BUFFER_OFFSET_END_IS_VALID(buffer))
    GST_BUFFER_OFFSET_END(buffer) -= n_frames - keep;
}

Step aggregate_step(GstAudioDucker *self, State &state, gboolean timeout) {
  Step step;
  if (state.bed_over) {
    step.flow = GST_FLOW_EOS;
    return step;
  }
  if (state.music_over) return pad_with_silence(self, state);
  GstAggregatorPad *music = self->music_pad;
  reelforge::BufferPtr peeked(gst_aggregator_pad_peek_buffer(music));
  if (!peeked) {
    if (gst_aggregator_pad_is_eos(music)) {
      stop_ducking_at(self, state, state.music_position);
      state.music_over = true;
      return pad_with_silence(self, state);
    }
    return step; /* live timeout without music: nothing to output */
  }
  if (!state.have_music_info) {
    step.flow = GST_FLOW_NOT_NEGOTIATED;
    return step;
  }
  const GstClockTime pts = GST_BUFFER_PTS(peeked.get());
  const gsize size = gst_buffer_get_size(peeked.get());
  const gint rate = GST_AUDIO_INFO_RATE(&state.music);
  /* GAP events come as empty buffers that only have a duration. */
  const GstClockTime in_duration = GST_BUFFER_DURATION(peeked.get());
  const guint64 frames = size > 0 ? size / GST_AUDIO_INFO_BPF(&state.music)
                                  : (GST_CLOCK_TIME_IS_VALID(in_duration)
                                         ? reelforge::time_to_samples(in_duration, rate)
                                         : 0);
  const gint64 first = bed_frame_at(self, state, pts);
  const guint64 length = bed_length(state);
  if (length > 0 && first >= static_cast<gint64>(length)) {
    /* Music past the end of the bed: dropped; what is missing before it is
     * padded. */
    gst_aggregator_pad_drop_buffer(music);
    stop_ducking_at(self, state, state.music_position);
    state.music_over = true;
    return pad_with_silence(self, state);
  }
  const guint64 keep =
      length > 0
          ? std::min<guint64>(frames, static_cast<guint64>(static_cast<gint64>(length) - first))
          : frames;
  const bool last =
      length > 0 && first + static_cast<gint64>(frames) >= static_cast<gint64>(length);
  const GstClockTime duration = reelforge::samples_to_time(keep, rate);
  if (GST_CLOCK_TIME_IS_VALID(pts)) {
    /* The sidechain must be analysed up to the end of this buffer. */
    const GstClockTime end_rt = gst_segment_to_running_time(
        &music->segment, GST_FORMAT_TIME, pts + std::max<GstClockTime>(duration, 1));
    while (!state.sidechain_eos && GST_CLOCK_TIME_IS_VALID(end_rt) &&
           state.sidechain.analysed_until() < end_rt) {
      reelforge::BufferPtr sc(gst_aggregator_pad_pop_buffer(self->sidechain_pad));
      if (sc) {
        analyse_sidechain_buffer(self, state, sc.get());
      } else if (gst_aggregator_pad_is_eos(self->sidechain_pad)) {
        state.sidechain.finish();
        state.sidechain_eos = true;
      } else if (timeout) {
        break; /* live and late: what is missing counts as silence */
      } else {
        return step; /* called again once the sidechain has data */
      }
    }
  }
  reelforge::BufferPtr buffer(gst_aggregator_pad_pop_buffer(music));
  if (!buffer) return step;
  if (keep < frames) {
    buffer.reset(gst_buffer_make_writable(buffer.release()));
    clip_buffer(buffer.get(), state, frames, keep, bed_frame_time(self, state, length));
  }
  const bool needs_gain = keep > 0 && size > 0 &&
                          !GST_BUFFER_FLAG_IS_SET(buffer.get(), GST_BUFFER_FLAG_GAP) &&
                          compute_gains(self, state, pts, first, keep);
  if (needs_gain) {
    buffer.reset(gst_buffer_make_writable(buffer.release()));
    apply_gains(state, buffer.get());
  }
  if (GST_CLOCK_TIME_IS_VALID(pts))
    state.music_position = pts + (keep < frames ? GST_BUFFER_DURATION(buffer.get()) : duration);
  state.bed_next =
      std::max<gint64>(static_cast<gint64>(state.bed_next), first + static_cast<gint64>(keep));
  if (last) {
    stop_ducking_at(self, state, state.music_position);
    state.bed_over = true;
    step.last = true;
  }
  step.output = std::move(buffer);
  return step;
}

}  // namespace

static void gst_audio_ducker_set_property(GObject *object, guint prop_id, const GValue *value,
                                          GParamSpec *pspec) {
  auto *self = GST_AUDIO_DUCKER(object);
  GST_OBJECT_LOCK(self);
  Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_AMOUNT:
      settings.amount = g_value_get_double(value);
      break;
    case PROP_THRESHOLD:
      settings.threshold = g_value_get_double(value);
      break;
    case PROP_ATTACK:
      settings.attack = g_value_get_uint64(value);
      break;
    case PROP_RELEASE:
      settings.release = g_value_get_uint64(value);
      break;
    case PROP_VOLUME:
      settings.volume = g_value_get_double(value);
      break;
    case PROP_FADE_IN:
      settings.fade_in = g_value_get_uint64(value);
      break;
    case PROP_FADE_OUT:
      settings.fade_out = g_value_get_uint64(value);
      break;
    case PROP_DURATION:
      settings.duration = g_value_get_uint64(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_audio_ducker_get_property(GObject *object, guint prop_id, GValue *value,
                                          GParamSpec *pspec) {
  auto *self = GST_AUDIO_DUCKER(object);
  GST_OBJECT_LOCK(self);
  const Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_AMOUNT:
      g_value_set_double(value, settings.amount);
      break;
    case PROP_THRESHOLD:
      g_value_set_double(value, settings.threshold);
      break;
    case PROP_ATTACK:
      g_value_set_uint64(value, settings.attack);
      break;
    case PROP_RELEASE:
      g_value_set_uint64(value, settings.release);
      break;
    case PROP_VOLUME:
      g_value_set_double(value, settings.volume);
      break;
    case PROP_FADE_IN:
      g_value_set_uint64(value, settings.fade_in);
      break;
    case PROP_FADE_OUT:
      g_value_set_uint64(value, settings.fade_out);
      break;
    case PROP_DURATION:
      g_value_set_uint64(value, settings.duration);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static gboolean gst_audio_ducker_start(GstAggregator *agg) {
  auto *self = GST_AUDIO_DUCKER(agg);
  return REELFORGE_GUARD(self, FALSE, [&] {
    GST_OBJECT_LOCK(self);
    const Settings settings = self->priv->settings;
    GST_OBJECT_UNLOCK(self);
    with_state(self, [&](State &state) { reset_state(state, settings); });
    self->priv->output_over = false;
    return TRUE;
  });
}

static gboolean gst_audio_ducker_stop(GstAggregator *agg) {
  auto *self = GST_AUDIO_DUCKER(agg);
  return REELFORGE_GUARD(self, FALSE, [&] {
    with_state(self, [&](State &state) { reset_state(state, state.settings); });
    return TRUE;
  });
}

static GstFlowReturn gst_audio_ducker_flush(GstAggregator *agg) {
  auto *self = GST_AUDIO_DUCKER(agg);
  return REELFORGE_GUARD(self, GST_FLOW_ERROR, [&] {
    /* A seek: the sidechain's level and the gain start afresh (no message
     * for a ducked stretch cut short by the flush). */
    with_state(self, [&](State &state) {
      state.sidechain.flush();
      state.sidechain_eos = false;
      state.gain_db = 0.0;
      state.ducking = false;
      state.duck_start = GST_CLOCK_TIME_NONE;
      state.music_position = GST_CLOCK_TIME_NONE;
      state.have_bed_origin = false;
      state.bed_origin = 0;
      state.bed_next = 0;
      state.music_over = false;
      state.bed_over = false;
    });
    self->priv->output_over = false;
    auto *parent_class = GST_AGGREGATOR_CLASS(gst_audio_ducker_parent_class);
    return parent_class->flush != nullptr ? parent_class->flush(agg) : GST_FLOW_OK;
  });
}

/* The base class pushes EOS when aggregate() returns it, but since
 * GStreamer 1.24 it leaves the sink pads as they are: upstream blocked
 * waiting for its queued buffer to be taken (music that goes on past
 * duration, a longer voice) would wait forever. So the queued buffers are
 * dropped and later ones refused with GST_FLOW_EOS (see
 * gst_audio_ducker_refuse_after_end()), as 1.22 does itself. */
static GstFlowReturn gst_audio_ducker_end_output(GstAudioDucker *self) {
  self->priv->output_over = true;
  while (gst_aggregator_pad_drop_buffer(self->music_pad)) {
  }
  while (gst_aggregator_pad_drop_buffer(self->sidechain_pad)) {
  }
  return GST_FLOW_EOS;
}

/* Buffer probe on the sink pads: after the end of the output, a buffer is
 * dropped and its sender told the stream is over. */
static GstPadProbeReturn gst_audio_ducker_refuse_after_end(GstPad *, GstPadProbeInfo *info,
                                                           gpointer user_data) {
  auto *self = static_cast<GstAudioDucker *>(user_data);
  if (!self->priv->output_over) return GST_PAD_PROBE_OK;
  gst_mini_object_unref(GST_MINI_OBJECT_CAST(GST_PAD_PROBE_INFO_DATA(info)));
  GST_PAD_PROBE_INFO_DATA(info) = nullptr;
  GST_PAD_PROBE_INFO_FLOW_RETURN(info) = GST_FLOW_EOS;
  return GST_PAD_PROBE_HANDLED;
}

static GstFlowReturn gst_audio_ducker_aggregate(GstAggregator *agg, gboolean timeout) {
  auto *self = GST_AUDIO_DUCKER(agg);
  return REELFORGE_GUARD(self, GST_FLOW_ERROR, [&] {
    Step step =
        with_state(self, [&](State &state) { return aggregate_step(self, state, timeout); });
    if (!step.output)
      return step.flow == GST_FLOW_EOS ? gst_audio_ducker_end_output(self) : step.flow;
    const GstClockTime pts = GST_BUFFER_PTS(step.output.get());
    const GstClockTime duration = GST_BUFFER_DURATION(step.output.get());
    if (GST_CLOCK_TIME_IS_VALID(pts)) {
      GST_OBJECT_LOCK(self);
      GST_AGGREGATOR_PAD(agg->srcpad)->segment.position =
          pts + (GST_CLOCK_TIME_IS_VALID(duration) ? duration : 0);
      GST_OBJECT_UNLOCK(self);
    }
    const GstFlowReturn ret = gst_aggregator_finish_buffer(agg, step.output.release());
    if (ret == GST_FLOW_OK && step.last) return gst_audio_ducker_end_output(self);
    return ret;
  });
}

/* Feeds the unlinked sidechain pad as an upstream element would: an
 * unlinked pad never gets data, so the aggregator would wait for it forever.
 * It is ended at start, and flushed and ended again with the music, since a
 * flushing seek makes the aggregator wait for FLUSH_STOP on every pad. */
static void gst_audio_ducker_feed_unlinked_sidechain(GstAudioDucker *self, GstEventType what,
                                                     guint32 seqnum = GST_SEQNUM_INVALID) {
  GstPad *pad = GST_PAD(self->sidechain_pad);
  /* The aggregator matches a seek's flushes by sequence number. */
  auto with_seqnum = [seqnum](GstEvent *event) {
    if (seqnum != GST_SEQNUM_INVALID) gst_event_set_seqnum(event, seqnum);
    return event;
  };
  switch (what) {
    case GST_EVENT_FLUSH_START:
      gst_pad_send_event(pad, with_seqnum(gst_event_new_flush_start()));
      return;
    case GST_EVENT_FLUSH_STOP:
      gst_pad_send_event(pad, with_seqnum(gst_event_new_flush_stop(TRUE)));
      return;
    case GST_EVENT_STREAM_START: {
      /* gst_pad_create_stream_id() is for source pads of one-input elements. */
      reelforge::GCharPtr stream_id(g_strdup_printf("audioducker-%p/unlinked-sidechain", self));
      gst_pad_send_event(pad, gst_event_new_stream_start(stream_id.get()));
      break;
    }
    default:
      break;
  }
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  gst_pad_send_event(pad, gst_event_new_segment(&segment));
  gst_pad_send_event(pad, gst_event_new_eos());
}

static gboolean gst_audio_ducker_sink_event(GstAggregator *agg, GstAggregatorPad *pad,
                                            GstEvent *event) {
  auto *self = GST_AUDIO_DUCKER(agg);
  const bool handled = REELFORGE_GUARD(self, false, [&] {
    if (GST_EVENT_TYPE(event) == GST_EVENT_CAPS) {
      GstCaps *caps = nullptr;
      gst_event_parse_caps(event, &caps);
      const GstAudioInfo info = parse_caps(caps);
      if (pad == self->music_pad) {
        with_state(self, [&](State &state) {
          state.music = info;
          state.have_music_info = true;
        });
        gst_pad_mark_reconfigure(agg->srcpad);
      } else {
        with_state(
            self, [&](State &state) { state.sidechain.configure(info, state.settings.threshold); });
      }
    } else if (GST_EVENT_TYPE(event) == GST_EVENT_SEGMENT && pad == self->music_pad) {
      const GstSegment *segment = nullptr;
      gst_event_parse_segment(event, &segment);
      gst_aggregator_update_segment(agg, segment);
      with_state(self, [&](State &state) {
        if (state.have_bed_origin || segment->format != GST_FORMAT_TIME) return;
        /* Later segments (without a flush) continue the same bed. */
        const GstClockTime origin =
            gst_segment_to_running_time(segment, GST_FORMAT_TIME, segment->start);
        state.have_bed_origin = GST_CLOCK_TIME_IS_VALID(origin);
        state.bed_origin = state.have_bed_origin ? origin : 0;
      });
    }
    return true;
  });
  if (!handled) {
    gst_event_unref(event);
    return FALSE;
  }
  const GstEventType type = GST_EVENT_TYPE(event);
  const bool feed_sidechain = pad == self->music_pad && self->priv->sidechain_ended_here &&
                              (type == GST_EVENT_FLUSH_START || type == GST_EVENT_FLUSH_STOP);
  /* The sidechain's FLUSH_STOP must be in before the music's, which
   * restarts the aggregator once every pad has had one. */
  const guint32 seqnum = GST_EVENT_SEQNUM(event);
  if (feed_sidechain && type == GST_EVENT_FLUSH_STOP)
    gst_audio_ducker_feed_unlinked_sidechain(self, GST_EVENT_FLUSH_STOP, seqnum);
  const gboolean ret =
      GST_AGGREGATOR_CLASS(gst_audio_ducker_parent_class)->sink_event(agg, pad, event);
  if (feed_sidechain) {
    gst_audio_ducker_feed_unlinked_sidechain(
        self, type == GST_EVENT_FLUSH_START ? GST_EVENT_FLUSH_START : GST_EVENT_EOS, seqnum);
  }
  return ret;
}

static gboolean gst_audio_ducker_sink_query(GstAggregator *agg, GstAggregatorPad *pad,
                                            GstQuery *query) {
  auto *self = GST_AUDIO_DUCKER(agg);
  if (GST_QUERY_TYPE(query) == GST_QUERY_CAPS && pad == self->music_pad) {
    /* The music goes out as it came in: what downstream takes, within the
     * template. */
    GstCaps *filter = nullptr;
    gst_query_parse_caps(query, &filter);
    reelforge::CapsPtr templ(gst_pad_get_pad_template_caps(GST_PAD(pad)));
    reelforge::CapsPtr downstream(gst_pad_peer_query_caps(agg->srcpad, templ.get()));
    reelforge::CapsPtr result(
        filter ? gst_caps_intersect_full(filter, downstream.get(), GST_CAPS_INTERSECT_FIRST)
               : gst_caps_ref(downstream.get()));
    gst_query_set_caps_result(query, result.get());
    return TRUE;
  }
  return GST_AGGREGATOR_CLASS(gst_audio_ducker_parent_class)->sink_query(agg, pad, query);
}

static GstFlowReturn gst_audio_ducker_update_src_caps(GstAggregator *agg, GstCaps *downstream,
                                                      GstCaps **ret) {
  auto *self = GST_AUDIO_DUCKER(agg);
  reelforge::CapsPtr music(gst_pad_get_current_caps(GST_PAD(self->music_pad)));
  if (!music) return GST_AGGREGATOR_FLOW_NEED_DATA;
  *ret = gst_caps_intersect(downstream, music.get());
  return gst_caps_is_empty(*ret) ? GST_FLOW_NOT_NEGOTIATED : GST_FLOW_OK;
}

static GstStateChangeReturn gst_audio_ducker_change_state(GstElement *element,
                                                          GstStateChange transition) {
  auto *self = GST_AUDIO_DUCKER(element);
  const GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_audio_ducker_parent_class)->change_state(element, transition);
  if (ret != GST_STATE_CHANGE_FAILURE && transition == GST_STATE_CHANGE_READY_TO_PAUSED &&
      !gst_pad_is_linked(GST_PAD(self->sidechain_pad))) {
    GST_INFO_OBJECT(self, "sidechain not linked: passing the music through");
    self->priv->sidechain_ended_here = true;
    gst_audio_ducker_feed_unlinked_sidechain(self, GST_EVENT_STREAM_START);
  }
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) self->priv->sidechain_ended_here = false;
  return ret;
}

static void gst_audio_ducker_finalize(GObject *object) {
  delete GST_AUDIO_DUCKER(object)->priv;
  G_OBJECT_CLASS(gst_audio_ducker_parent_class)->finalize(object);
}

static void gst_audio_ducker_class_init(GstAudioDuckerClass *klass) {
  auto *gobject_class = G_OBJECT_CLASS(klass);
  auto *element_class = GST_ELEMENT_CLASS(klass);
  auto *agg_class = GST_AGGREGATOR_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_audio_ducker_debug, "audioducker", 0,
                          "Sidechain ducking of music under a voice");

  gobject_class->set_property = gst_audio_ducker_set_property;
  gobject_class->get_property = gst_audio_ducker_get_property;
  gobject_class->finalize = gst_audio_ducker_finalize;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);
  /**
   * GstAudioDucker:amount:
   *
   * How far the music is lowered while the sidechain is above the
   * threshold, in dB (0 disables ducking).
   */
  g_object_class_install_property(
      gobject_class, PROP_AMOUNT,
      g_param_spec_double("amount", "Amount",
                          "How far the music is lowered while the sidechain is above the "
                          "threshold, in dB",
                          MIN_AMOUNT, MAX_AMOUNT, DEFAULT_AMOUNT, flags));
  /**
   * GstAudioDucker:threshold:
   *
   * Sidechain RMS level (10 ms windows) above which the music is ducked, in
   * dBFS (a full-scale sine is -3 dBFS).
   */
  g_object_class_install_property(
      gobject_class, PROP_THRESHOLD,
      g_param_spec_double("threshold", "Threshold",
                          "Sidechain RMS level (10 ms windows) above which the music is ducked, "
                          "in dBFS (a full-scale sine is -3 dBFS)",
                          MIN_THRESHOLD, MAX_THRESHOLD, DEFAULT_THRESHOLD, flags));
  /**
   * GstAudioDucker:attack:
   *
   * Time the gain takes to go from 0 dB down to -amount, in nanoseconds
   * (a straight ramp in dB; 0 is a step).
   */
  g_object_class_install_property(
      gobject_class, PROP_ATTACK,
      g_param_spec_uint64("attack", "Attack",
                          "Time the gain takes to go from 0 dB down to -amount, in nanoseconds", 0,
                          MAX_RAMP, DEFAULT_ATTACK, flags));
  /**
   * GstAudioDucker:release:
   *
   * Time the gain takes to go from -amount back up to 0 dB, in nanoseconds
   * (a straight ramp in dB; 0 is a step).
   */
  g_object_class_install_property(
      gobject_class, PROP_RELEASE,
      g_param_spec_uint64("release", "Release",
                          "Time the gain takes to go from -amount back up to 0 dB, in nanoseconds",
                          0, MAX_RAMP, DEFAULT_RELEASE, flags));
  /**
   * GstAudioDucker:volume:
   *
   * Gain applied to the music on top of ducking and the fades, linear
   * (1.0 leaves it alone, 0.5 is -6.02 dB). F32LE output is not clipped;
   * S16LE output saturates.
   */
  g_object_class_install_property(
      gobject_class, PROP_VOLUME,
      g_param_spec_double("volume", "Volume",
                          "Gain applied to the music on top of ducking and the fades, linear "
                          "(1.0 leaves it alone)",
                          MIN_VOLUME, MAX_VOLUME, DEFAULT_VOLUME, flags));
  /**
   * GstAudioDucker:fade-in:
   *
   * Length of the fade-in at the start of the bed, in nanoseconds: the
   * gain rises linearly in amplitude from 0 at the bed's first frame to
   * full at fade-in (0: no fade).
   */
  g_object_class_install_property(
      gobject_class, PROP_FADE_IN,
      g_param_spec_uint64("fade-in", "Fade in",
                          "Length of the fade-in at the start of the bed, linear in amplitude "
                          "from 0, in nanoseconds (0: none)",
                          0, MAX_TIME, DEFAULT_FADE_IN, flags));
  /**
   * GstAudioDucker:fade-out:
   *
   * Length of the fade-out before #GstAudioDucker:duration, in
   * nanoseconds: the gain falls linearly in amplitude from full to 0 at
   * duration (0: no fade). Ignored when duration is 0, since the end of the
   * music is not known in advance.
   */
  g_object_class_install_property(
      gobject_class, PROP_FADE_OUT,
      g_param_spec_uint64("fade-out", "Fade out",
                          "Length of the fade-out to 0 at the end of duration, linear in "
                          "amplitude, in nanoseconds (0: none; ignored without duration)",
                          0, MAX_TIME, DEFAULT_FADE_OUT, flags));
  /**
   * GstAudioDucker:duration:
   *
   * Length of the bed, in nanoseconds: the output is exactly
   * round(duration x rate) frames of music, then EOS; longer music is cut,
   * shorter music is padded with silence. 0 follows the music.
   */
  g_object_class_install_property(
      gobject_class, PROP_DURATION,
      g_param_spec_uint64("duration", "Duration",
                          "Length of the output, in nanoseconds: longer music is cut, shorter "
                          "music padded with silence (0: as long as the music)",
                          0, MAX_TIME, DEFAULT_DURATION, flags));

  gst_element_class_set_static_metadata(
      element_class, "Audio ducker", "Filter/Effect/Audio",
      "Lowers the music on its sink pad while the sidechain (a voice) is above a threshold",
      "Reelforge <https://reelforge.invalid/>");

  gst_element_class_add_static_pad_template_with_gtype(element_class, &src_template,
                                                       GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template_with_gtype(element_class, &sink_template,
                                                       GST_TYPE_AGGREGATOR_PAD);
  gst_element_class_add_static_pad_template_with_gtype(element_class, &sidechain_template,
                                                       GST_TYPE_AGGREGATOR_PAD);

  element_class->change_state = GST_DEBUG_FUNCPTR(gst_audio_ducker_change_state);
  agg_class->start = GST_DEBUG_FUNCPTR(gst_audio_ducker_start);
  agg_class->stop = GST_DEBUG_FUNCPTR(gst_audio_ducker_stop);
  agg_class->aggregate = GST_DEBUG_FUNCPTR(gst_audio_ducker_aggregate);
  agg_class->flush = GST_DEBUG_FUNCPTR(gst_audio_ducker_flush);
  agg_class->sink_event = GST_DEBUG_FUNCPTR(gst_audio_ducker_sink_event);
  agg_class->sink_query = GST_DEBUG_FUNCPTR(gst_audio_ducker_sink_query);
  agg_class->update_src_caps = GST_DEBUG_FUNCPTR(gst_audio_ducker_update_src_caps);
  agg_class->get_next_time = gst_aggregator_simple_get_next_time;
}

static void gst_audio_ducker_init(GstAudioDucker *self) {
  self->priv = new AudioDuckerPrivate();
  reset_state(self->priv->state, self->priv->settings);
  auto *element_class = GST_ELEMENT_GET_CLASS(self);
  auto make_pad = [&](const char *name) {
    GstPadTemplate *templ = gst_element_class_get_pad_template(element_class, name);
    return GST_AGGREGATOR_PAD(g_object_new(GST_TYPE_AGGREGATOR_PAD, "name", name, "direction",
                                           GST_PAD_SINK, "template", templ, nullptr));
  };
  self->music_pad = make_pad("sink");
  self->sidechain_pad = make_pad("sidechain");
  gst_element_add_pad(GST_ELEMENT(self), GST_PAD(self->music_pad));
  gst_element_add_pad(GST_ELEMENT(self), GST_PAD(self->sidechain_pad));
  for (GstAggregatorPad *pad : {self->music_pad, self->sidechain_pad}) {
    gst_pad_add_probe(
        GST_PAD(pad),
        static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
        gst_audio_ducker_refuse_after_end, self, nullptr);
  }
}
