/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-loudnessmeter
 * @title: loudnessmeter
 * @short_description: EBU R128 loudness, true peak and silent intervals of raw audio
 *
 * loudnessmeter passes raw audio through unchanged and measures it with
 * libebur128 (ITU-R BS.1770-4 / EBU R128: momentary, short-term and
 * integrated loudness, loudness range, sample peak and true peak). It also
 * finds silent stretches with the same definition as ffmpeg's silencedetect
 * filter. Results are posted as element messages on the bus.
 *
 * ## `loudnessmeter` messages (one per interval)
 *
 * Every #GstLoudnessMeter:interval of audio the element posts a message named
 * `loudnessmeter` whose structure holds:
 *
 * * #guint64 `timestamp`: buffer time (PTS) of the first sample of the
 *   interval, in nanoseconds.
 * * #guint64 `stream-time`: stream time of `timestamp`.
 * * #guint64 `running-time`: running time of `timestamp`.
 * * #guint64 `duration`: length of the interval in nanoseconds. It equals
 *   #GstLoudnessMeter:interval except for the last interval before EOS, a
 *   flush, a new segment or a change of rate or channels, which covers what
 *   was left and is shorter.
 * * #gdouble `momentary`: momentary loudness (last 400 ms) at the end of the
 *   interval, in LUFS.
 * * #gdouble `short-term`: short-term loudness (last 3 s) at the end of the
 *   interval, in LUFS.
 * * #gdouble `integrated`: gated integrated loudness of everything measured
 *   since the element started, in LUFS.
 * * #gdouble `loudness-range`: loudness range (EBU Tech 3342) of everything
 *   measured since the element started, in LU.
 * * #gdouble `sample-peak`: highest absolute sample value within the
 *   interval, maximum over all channels, in dBFS.
 * * #gdouble `true-peak`: highest true (4x oversampled below 96 kHz, 2x
 *   below 192 kHz) peak within the interval, maximum over all channels, in
 *   dBTP.
 * * #gboolean `summary`: %FALSE.
 *
 * Silence has no loudness: momentary, short-term and integrated loudness,
 * sample peak and true peak of digital silence are negative infinity (the
 * #gdouble `-inf`, not a sentinel number), and the loudness range is 0 until
 * 3 s blocks louder than -70 LUFS exist. Right after start or a flush,
 * momentary and short-term loudness count the part of their window not yet
 * filled as silence (libebur128's convention).
 *
 * Intervals are counted in samples from the first sample after start, a
 * flush, a new segment or a change of rate or channels, so the first
 * interval starts at that sample's timestamp.
 *
 * ## The summary at EOS
 *
 * On EOS, before the EOS event goes downstream (so a parent bin sees the
 * summary before the EOS), the element posts one more `loudnessmeter`
 * message with the same fields and `summary` = %TRUE:
 *
 * * `integrated` and `loudness-range` cover everything measured since the
 *   element started.
 * * `sample-peak` and `true-peak` are the maxima over the whole stream and
 *   all channels.
 * * `momentary` and `short-term` are the values at the end of the stream.
 * * `timestamp` is the time of the first sample measured (stream-time and
 *   running-time in the segment that sample belonged to), `duration` the
 *   total duration measured (the sum over the pieces played when there were
 *   seeks). With no audio at all, `timestamp` is GST_CLOCK_TIME_NONE and
 *   `duration` 0.
 *
 * No summary is posted when the element is stopped before EOS.
 *
 * ## `loudnessmeter-silence` messages
 *
 * A sample frame is silent when the absolute value of every channel's sample
 * is below #GstLoudnessMeter:silence-threshold (strictly, as ffmpeg
 * silencedetect with its default mono=0; for integer formats the threshold
 * is truncated to an integer sample value as ffmpeg does, but digital zero is
 * always silent). A run of consecutive silent frames lasting at least
 * #GstLoudnessMeter:silence-min-duration is reported when it ends, with:
 *
 * * #guint64 `silence-start`: time of the first silent sample, in
 *   nanoseconds (buffer PTS plus the sample offset).
 * * #guint64 `silence-end`: time of the first sample that is not silent;
 *   for a run still open at EOS, the end of the stream.
 * * #guint64 `silence-duration`: `silence-end` - `silence-start`.
 * * `timestamp` (= `silence-start`), `stream-time`, `running-time` and
 *   `duration` (= `silence-duration`).
 *
 * Times are sample exact. `silence-start` and `silence-end` are buffer times;
 * the position in the media is `stream-time` (and `stream-time` +
 * `silence-duration`), which is what ffmpeg prints: they differ when the
 * segment maps them, e.g. an MP4 edit list hiding an AAC encoder's priming
 * samples. ffmpeg counts silent samples channel by channel, so its start and
 * end can differ from these by one sample frame.
 *
 * ## Seeks, segments, gaps, discontinuities and caps changes
 *
 * * A flush (flushing seek) ends the current interval (posting it, shorter)
 *   and any silent run (reported, ending at the last sample before the flush,
 *   if long enough). Momentary and short-term loudness restart empty after
 *   the flush. Integrated loudness, loudness range and the summary peaks keep
 *   accumulating across seeks: they describe all the audio that went through
 *   the element, as if the pieces played were spliced together. Silence is
 *   never counted across a seek.
 * * A new segment without a flush ends the interval and silent run the same
 *   way, but keeps the momentary and short-term windows (the audio is assumed
 *   continuous, as in gapless playback).
 * * A change of rate, channels or channel layout does the same and restarts
 *   momentary and short-term loudness; integrated loudness and loudness range
 *   continue. A change of sample format alone changes nothing.
 * * GAP events, buffers flagged GAP and holes in the timestamps (a buffer
 *   starting more than 40 ms after the end of the previous one, or any whole
 *   sample later when flagged DISCONT) are measured as digital silence, as an
 *   audio sink would play them. Buffers that go back in time by as much are
 *   measured only from where the previous buffer ended. Smaller timestamp
 *   jitter is ignored and samples are counted.
 * * Negative playback rates are passed through without measurement.
 *
 * Channels are weighted as BS.1770-4 says: front left, right and centre
 * 1.0, surround channels (rear channels of 5.1, side channels) 1.41, LFE
 * ignored. Mono is measured as dual mono (as it plays on two loudspeakers,
 * like gst-plugins-rs ebur128level), 3 dB above ffmpeg's ebur128 default.
 * Unpositioned channels take GStreamer's default layout for their count.
 * Integrated loudness and loudness range use libebur128's histogram mode
 * (constant memory, 0.1 LU bins).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m audiotestsrc freq=1000 volume=0.1 num-buffers=200 ! \
 *     audio/x-raw,rate=48000,channels=2 ! loudnessmeter interval=500000000 ! fakesink
 * ]| Measures 4.27 s of a 1 kHz sine at -20 dBFS in both channels (-20 LUFS),
 * printing a message every 500 ms and the summary at EOS.
 * |[
 * gst-launch-1.0 -m audiotestsrc wave=silence num-buffers=150 ! \
 *     loudnessmeter silence-min-duration=1000000000 ! fakesink
 * ]| Reports one `loudnessmeter-silence` from 0 to the end of the stream
 * (3.48 s: 150 buffers of 1024 samples at 44.1 kHz).
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstloudnessmeter.h"

#include "analysis-message.h"
#include "element-guard.h"
#include "gst-ptr.h"
#include "time-convert.h"

#include <ebur128.h>
#include <gst/audio/audio.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(gst_loudness_meter_debug);
#define GST_CAT_DEFAULT gst_loudness_meter_debug

namespace {

using reelforge::StructurePtr;

constexpr GstClockTime DEFAULT_INTERVAL = GST_SECOND;
constexpr GstClockTime MIN_INTERVAL = 10 * GST_MSECOND;
constexpr gdouble DEFAULT_SILENCE_THRESHOLD = -60.0;
constexpr gdouble MIN_SILENCE_THRESHOLD = -200.0;
constexpr gdouble MAX_SILENCE_THRESHOLD = 0.0;
constexpr GstClockTime DEFAULT_SILENCE_MIN_DURATION = 2 * GST_SECOND;

/* Timestamps jitter; only a buffer this far from where the sample count puts
 * it (or any whole sample when flagged DISCONT) is a hole or an overlap. The
 * value is audiobasesink's default alignment-threshold. */
constexpr GstClockTime DISCONT_THRESHOLD = 40 * GST_MSECOND;

/* Gaps are measured as digital silence, fed from a zeroed buffer this many
 * frames long. */
constexpr guint64 ZERO_CHUNK_FRAMES = 4096;

enum {
  PROP_0,
  PROP_INTERVAL,
  PROP_SILENCE_THRESHOLD,
  PROP_SILENCE_MIN_DURATION,
};

/* Finds runs of silent sample frames on a timeline counted in frames and
 * reports the runs that last at least min_frames when they end. A frame is
 * silent when every channel's sample lies strictly between -threshold and
 * threshold (ffmpeg silencedetect, mono=0). */
class SilenceRunTracker {
 public:
  struct Run {
    guint64 start; /* first silent frame */
    guint64 end;   /* first frame after the run */
  };

  void reset(guint64 min_frames) {
    min_frames_ = min_frames;
    in_run_ = false;
    run_start_ = 0;
  }

  /* Looks at n_frames interleaved frames, the first of which is frame
   * first_frame of the timeline; calls on_run(const Run &) for each run that
   * ends inside them. */
  template <typename T, typename OnRun>
  void scan(const T *samples, guint64 n_frames, guint channels, T threshold, guint64 first_frame,
            OnRun &&on_run) {
    const T lower = static_cast<T>(-threshold);
    for (guint64 i = 0; i < n_frames; ++i, samples += channels) {
      bool silent = true;
      for (guint c = 0; c < channels; ++c) {
        if (!(samples[c] < threshold && samples[c] > lower)) {
          silent = false;
          break;
        }
      }
      if (silent) {
        if (!in_run_) {
          in_run_ = true;
          run_start_ = first_frame + i;
        }
      } else if (in_run_) {
        end_run(first_frame + i, on_run);
      }
    }
  }

  /* n_frames of digital silence (a gap) starting at first_frame. */
  void add_silence(guint64 first_frame, guint64 n_frames) {
    if (n_frames > 0 && !in_run_) {
      in_run_ = true;
      run_start_ = first_frame;
    }
  }

  /* The timeline stops at end_frame (EOS, flush, new segment): an open run
   * ends there. */
  template <typename OnRun>
  void finish(guint64 end_frame, OnRun &&on_run) {
    if (in_run_) end_run(end_frame, on_run);
  }

 private:
  template <typename OnRun>
  void end_run(guint64 end_frame, OnRun &&on_run) {
    in_run_ = false;
    if (end_frame - run_start_ >= min_frames_) on_run(Run{run_start_, end_frame});
  }

  guint64 min_frames_ = 0;
  bool in_run_ = false;
  guint64 run_start_ = 0;
};

struct Ebur128Deleter {
  void operator()(ebur128_state *state) const noexcept { ebur128_destroy(&state); }
};
using Ebur128Ptr = std::unique_ptr<ebur128_state, Ebur128Deleter>;

enum class SampleKind { S16, S32, F32, F64 };

/* The silence threshold in each sample type, derived as ffmpeg silencedetect
 * does (integer formats: truncated amplitude * INT_MAX), except that it never
 * drops below 1 so digital zero is always silent. */
struct SilenceThreshold {
  gint16 s16 = 1;
  gint32 s32 = 1;
  gfloat f32 = 0.0f;
  gdouble f64 = 0.0;
};

struct Settings {
  GstClockTime interval = DEFAULT_INTERVAL;
  gdouble silence_threshold = DEFAULT_SILENCE_THRESHOLD; /* dBFS */
  GstClockTime silence_min_duration = DEFAULT_SILENCE_MIN_DURATION;
};

/* One stretch of contiguous audio on which intervals and silent runs are
 * counted: from the first sample after start, a flush, a new segment or a
 * layout change to the next of those or EOS. Positions are frames from the
 * first one, whose PTS is base. */
struct Timeline {
  bool started = false;
  GstClockTime base = 0;
  guint64 position = 0; /* frames measured so far, gap silence included */
  guint64 interval_index = 0;
  guint64 interval_start = 0;
  guint64 interval_end = 0;
  gdouble interval_sample_peak = 0.0; /* linear, max over channels */
  gdouble interval_true_peak = 0.0;
  SilenceRunTracker silence;
};

/* What the EOS summary covers: everything measured since start. */
struct Programme {
  GstClockTime first_timestamp = GST_CLOCK_TIME_NONE;
  GstSegment first_segment{};
  GstClockTime measured = 0;
  gdouble sample_peak = 0.0; /* linear, max over channels */
  gdouble true_peak = 0.0;
};

/* Runtime state, reset in start() and stop(); guarded by state_lock. */
struct State {
  Settings settings; /* snapshot taken in start() */
  bool have_format = false;
  GstAudioInfo info{};
  SampleKind kind = SampleKind::S16;
  SilenceThreshold threshold;
  guint64 silence_min_frames = 0;
  std::vector<guint8> zeros;
  /* Momentary, short-term, sample and true peak: restarts at flushes. */
  Ebur128Ptr window_meter;
  /* Integrated loudness and loudness range of everything since start. */
  Ebur128Ptr programme_meter;
  GstSegment segment{};
  Timeline timeline;
  Programme programme;
  /* Messages built under state_lock, posted once it is released. */
  std::vector<StructurePtr> pending;
};

struct LoudnessMeterPrivate {
  Settings settings; /* properties, under the object lock */
  std::mutex state_lock;
  State state;
};

}  // namespace

struct _GstLoudnessMeter {
  GstAudioFilter parent;
  LoudnessMeterPrivate *priv;
};

G_DEFINE_TYPE(GstLoudnessMeter, gst_loudness_meter, GST_TYPE_AUDIO_FILTER);
GST_ELEMENT_REGISTER_DEFINE(loudnessmeter, "loudnessmeter", GST_RANK_NONE, GST_TYPE_LOUDNESS_METER);

namespace {

gdouble to_db(gdouble linear) {
  return linear > 0.0 ? 20.0 * std::log10(linear) : -std::numeric_limits<gdouble>::infinity();
}

/* BS.1770-4 weights channels by direction: 1.41 for 60°..120° azimuth, 1.0
 * elsewhere; LFE is left out. In 5.1 the rear pair sits at ±110°; when side
 * channels exist too (7.1) the rear pair is behind them, at ±135°. */
int ebur128_channel_for(GstAudioChannelPosition position, bool mono, bool has_side_channels) {
  switch (position) {
    case GST_AUDIO_CHANNEL_POSITION_MONO:
      return mono ? EBUR128_DUAL_MONO : EBUR128_CENTER;
    case GST_AUDIO_CHANNEL_POSITION_FRONT_LEFT:
      return EBUR128_LEFT;
    case GST_AUDIO_CHANNEL_POSITION_FRONT_RIGHT:
      return EBUR128_RIGHT;
    case GST_AUDIO_CHANNEL_POSITION_FRONT_CENTER:
      return EBUR128_CENTER;
    case GST_AUDIO_CHANNEL_POSITION_LFE1:
    case GST_AUDIO_CHANNEL_POSITION_LFE2:
      return EBUR128_UNUSED;
    case GST_AUDIO_CHANNEL_POSITION_REAR_LEFT:
      return has_side_channels ? EBUR128_Mp135 : EBUR128_LEFT_SURROUND;
    case GST_AUDIO_CHANNEL_POSITION_REAR_RIGHT:
      return has_side_channels ? EBUR128_Mm135 : EBUR128_RIGHT_SURROUND;
    case GST_AUDIO_CHANNEL_POSITION_SIDE_LEFT:
      return EBUR128_Mp090;
    case GST_AUDIO_CHANNEL_POSITION_SIDE_RIGHT:
      return EBUR128_Mm090;
    case GST_AUDIO_CHANNEL_POSITION_SURROUND_LEFT:
      return EBUR128_Mp110;
    case GST_AUDIO_CHANNEL_POSITION_SURROUND_RIGHT:
      return EBUR128_Mm110;
    case GST_AUDIO_CHANNEL_POSITION_WIDE_LEFT:
      return EBUR128_Mp060;
    case GST_AUDIO_CHANNEL_POSITION_WIDE_RIGHT:
      return EBUR128_Mm060;
    case GST_AUDIO_CHANNEL_POSITION_FRONT_LEFT_OF_CENTER:
      return EBUR128_MpSC;
    case GST_AUDIO_CHANNEL_POSITION_FRONT_RIGHT_OF_CENTER:
      return EBUR128_MmSC;
    case GST_AUDIO_CHANNEL_POSITION_REAR_CENTER:
      return EBUR128_Mp180;
    case GST_AUDIO_CHANNEL_POSITION_TOP_FRONT_LEFT:
      return EBUR128_Up030;
    case GST_AUDIO_CHANNEL_POSITION_TOP_FRONT_RIGHT:
      return EBUR128_Um030;
    case GST_AUDIO_CHANNEL_POSITION_TOP_FRONT_CENTER:
      return EBUR128_Up000;
    case GST_AUDIO_CHANNEL_POSITION_TOP_CENTER:
      return EBUR128_Tp000;
    case GST_AUDIO_CHANNEL_POSITION_TOP_REAR_LEFT:
      return EBUR128_Up135;
    case GST_AUDIO_CHANNEL_POSITION_TOP_REAR_RIGHT:
      return EBUR128_Um135;
    case GST_AUDIO_CHANNEL_POSITION_TOP_SIDE_LEFT:
      return EBUR128_Up090;
    case GST_AUDIO_CHANNEL_POSITION_TOP_SIDE_RIGHT:
      return EBUR128_Um090;
    case GST_AUDIO_CHANNEL_POSITION_TOP_REAR_CENTER:
      return EBUR128_Up180;
    case GST_AUDIO_CHANNEL_POSITION_BOTTOM_FRONT_CENTER:
      return EBUR128_Bp000;
    case GST_AUDIO_CHANNEL_POSITION_BOTTOM_FRONT_LEFT:
      return EBUR128_Bp045;
    case GST_AUDIO_CHANNEL_POSITION_BOTTOM_FRONT_RIGHT:
      return EBUR128_Bm045;
    default:
      return EBUR128_UNUSED;
  }
}

void apply_channel_map(GstLoudnessMeter *self, ebur128_state *meter, const GstAudioInfo &info) {
  const gint channels = GST_AUDIO_INFO_CHANNELS(&info);
  GstAudioChannelPosition positions[64] = {};
  if (GST_AUDIO_INFO_IS_UNPOSITIONED(&info)) {
    const guint64 mask = gst_audio_channel_get_fallback_mask(channels);
    if (mask == 0 || !gst_audio_channel_positions_from_mask(channels, mask, positions)) {
      GST_INFO_OBJECT(self, "no default layout for %d channels, weighting all as centre", channels);
      for (gint c = 0; c < channels; ++c) ebur128_set_channel(meter, c, EBUR128_CENTER);
      return;
    }
  } else {
    std::copy_n(info.position, channels, positions);
  }
  const bool has_side_channels =
      std::any_of(positions, positions + channels, [](GstAudioChannelPosition p) {
        return p == GST_AUDIO_CHANNEL_POSITION_SIDE_LEFT ||
               p == GST_AUDIO_CHANNEL_POSITION_SIDE_RIGHT;
      });
  for (gint c = 0; c < channels; ++c) {
    const int channel = ebur128_channel_for(positions[c], channels == 1, has_side_channels);
    GST_DEBUG_OBJECT(self, "channel %d at position %d weighted as ebur128 channel %d", c,
                     positions[c], channel);
    ebur128_set_channel(meter, c, channel);
  }
}

Ebur128Ptr make_meter(GstLoudnessMeter *self, const GstAudioInfo &info, int mode) {
  Ebur128Ptr meter(ebur128_init(GST_AUDIO_INFO_CHANNELS(&info), GST_AUDIO_INFO_RATE(&info), mode));
  if (!meter) {
    throw reelforge::ElementError(GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
                                  "libebur128 cannot measure this format");
  }
  apply_channel_map(self, meter.get(), info);
  return meter;
}

constexpr int WINDOW_METER_MODE = EBUR128_MODE_S | EBUR128_MODE_TRUE_PEAK;
constexpr int PROGRAMME_METER_MODE = EBUR128_MODE_I | EBUR128_MODE_LRA | EBUR128_MODE_HISTOGRAM;

void add_frames(ebur128_state *meter, SampleKind kind, const guint8 *data, guint64 frames) {
  int result = EBUR128_SUCCESS;
  switch (kind) {
    case SampleKind::S16:
      result = ebur128_add_frames_short(meter, reinterpret_cast<const short *>(data), frames);
      break;
    case SampleKind::S32:
      result = ebur128_add_frames_int(meter, reinterpret_cast<const int *>(data), frames);
      break;
    case SampleKind::F32:
      result = ebur128_add_frames_float(meter, reinterpret_cast<const float *>(data), frames);
      break;
    case SampleKind::F64:
      result = ebur128_add_frames_double(meter, reinterpret_cast<const double *>(data), frames);
      break;
  }
  if (result != EBUR128_SUCCESS) throw std::bad_alloc();
}

GstClockTime frame_time(const State &state, guint64 frame) {
  return state.timeline.base + reelforge::samples_to_time(frame, GST_AUDIO_INFO_RATE(&state.info));
}

/* Frame index (relative to the timeline's base) at which time t falls. */
gint64 frame_at(const State &state, GstClockTime t) {
  const gint rate = GST_AUDIO_INFO_RATE(&state.info);
  const GstClockTime base = state.timeline.base;
  return t >= base ? static_cast<gint64>(reelforge::time_to_samples(t - base, rate))
                   : -static_cast<gint64>(reelforge::time_to_samples(base - t, rate));
}

/* End frame of interval k - 1, i.e. the frame where interval k starts. */
guint64 interval_boundary(const State &state, guint64 k) {
  GstClockTime offset = 0;
  if (__builtin_mul_overflow(k, state.settings.interval, &offset)) return G_MAXUINT64;
  return reelforge::time_to_samples(offset, GST_AUDIO_INFO_RATE(&state.info));
}

void queue_silence(State &state, const SilenceRunTracker::Run &run) {
  const GstClockTime start = frame_time(state, run.start);
  const GstClockTime end = frame_time(state, run.end);
  GstStructure *s =
      reelforge::new_analysis_structure("loudnessmeter-silence", state.segment, start, end - start);
  gst_structure_set(s, "silence-start", G_TYPE_UINT64, start, "silence-end", G_TYPE_UINT64, end,
                    "silence-duration", G_TYPE_UINT64, end - start, nullptr);
  state.pending.emplace_back(s);
}

struct Loudness {
  gdouble momentary = -std::numeric_limits<gdouble>::infinity();
  gdouble short_term = -std::numeric_limits<gdouble>::infinity();
  gdouble integrated = -std::numeric_limits<gdouble>::infinity();
  gdouble range = 0.0;
};

Loudness current_loudness(const State &state) {
  Loudness l;
  if (state.window_meter) {
    ebur128_loudness_momentary(state.window_meter.get(), &l.momentary);
    ebur128_loudness_shortterm(state.window_meter.get(), &l.short_term);
  }
  if (state.programme_meter) {
    ebur128_loudness_global(state.programme_meter.get(), &l.integrated);
    ebur128_loudness_range(state.programme_meter.get(), &l.range);
  }
  return l;
}

GstStructure *loudness_structure(const GstSegment &segment, GstClockTime start,
                                 GstClockTime duration, const Loudness &l, gdouble sample_peak,
                                 gdouble true_peak, bool summary) {
  GstStructure *s = reelforge::new_analysis_structure("loudnessmeter", segment, start, duration);
  gst_structure_set(s, "momentary", G_TYPE_DOUBLE, l.momentary, "short-term", G_TYPE_DOUBLE,
                    l.short_term, "integrated", G_TYPE_DOUBLE, l.integrated, "loudness-range",
                    G_TYPE_DOUBLE, l.range, "sample-peak", G_TYPE_DOUBLE, to_db(sample_peak),
                    "true-peak", G_TYPE_DOUBLE, to_db(true_peak), "summary", G_TYPE_BOOLEAN,
                    summary ? TRUE : FALSE, nullptr);
  return s;
}

/* Posts the interval [interval_start, position) and opens the next one. */
void finish_interval(State &state) {
  Timeline &tl = state.timeline;
  const GstClockTime start = frame_time(state, tl.interval_start);
  const GstClockTime end = frame_time(state, tl.position);
  state.pending.emplace_back(loudness_structure(state.segment, start, end - start,
                                                current_loudness(state), tl.interval_sample_peak,
                                                tl.interval_true_peak, false));
  state.programme.sample_peak = std::max(state.programme.sample_peak, tl.interval_sample_peak);
  state.programme.true_peak = std::max(state.programme.true_peak, tl.interval_true_peak);
  tl.interval_index++;
  tl.interval_start = tl.position;
  tl.interval_end = std::max(interval_boundary(state, tl.interval_index + 1), tl.position + 1);
  tl.interval_sample_peak = 0.0;
  tl.interval_true_peak = 0.0;
}

void start_timeline(State &state, GstClockTime base) {
  Timeline &tl = state.timeline;
  tl.started = true;
  tl.base = base;
  tl.position = 0;
  tl.interval_index = 0;
  tl.interval_start = 0;
  tl.interval_end = std::max<guint64>(interval_boundary(state, 1), 1);
  tl.interval_sample_peak = 0.0;
  tl.interval_true_peak = 0.0;
  tl.silence.reset(state.silence_min_frames);
  if (!GST_CLOCK_TIME_IS_VALID(state.programme.first_timestamp)) {
    state.programme.first_timestamp = base;
    state.programme.first_segment = state.segment;
  }
}

/* Ends the timeline: posts the partial interval and any silent run still
 * open, and adds what was measured to the programme duration. */
void close_timeline(State &state) {
  Timeline &tl = state.timeline;
  if (!tl.started) return;
  if (tl.position > tl.interval_start) finish_interval(state);
  tl.silence.finish(tl.position,
                    [&](const SilenceRunTracker::Run &run) { queue_silence(state, run); });
  state.programme.measured +=
      reelforge::samples_to_time(tl.position, GST_AUDIO_INFO_RATE(&state.info));
  tl.started = false;
}

void scan_silence(State &state, const guint8 *data, guint64 frames) {
  Timeline &tl = state.timeline;
  const guint channels = GST_AUDIO_INFO_CHANNELS(&state.info);
  auto on_run = [&](const SilenceRunTracker::Run &run) { queue_silence(state, run); };
  switch (state.kind) {
    case SampleKind::S16:
      tl.silence.scan(reinterpret_cast<const gint16 *>(data), frames, channels, state.threshold.s16,
                      tl.position, on_run);
      break;
    case SampleKind::S32:
      tl.silence.scan(reinterpret_cast<const gint32 *>(data), frames, channels, state.threshold.s32,
                      tl.position, on_run);
      break;
    case SampleKind::F32:
      tl.silence.scan(reinterpret_cast<const gfloat *>(data), frames, channels, state.threshold.f32,
                      tl.position, on_run);
      break;
    case SampleKind::F64:
      tl.silence.scan(reinterpret_cast<const gdouble *>(data), frames, channels,
                      state.threshold.f64, tl.position, on_run);
      break;
  }
}

/* Measures frames interleaved frames at data, or digital silence when data
 * is null, cutting them at interval boundaries. */
void measure(State &state, const guint8 *data, guint64 frames) {
  Timeline &tl = state.timeline;
  const guint channels = GST_AUDIO_INFO_CHANNELS(&state.info);
  const gsize bpf = GST_AUDIO_INFO_BPF(&state.info);
  while (frames > 0) {
    guint64 chunk = std::min(frames, tl.interval_end - tl.position);
    if (data == nullptr) chunk = std::min(chunk, ZERO_CHUNK_FRAMES);
    const guint8 *src = data != nullptr ? data : state.zeros.data();

    add_frames(state.window_meter.get(), state.kind, src, chunk);
    add_frames(state.programme_meter.get(), state.kind, src, chunk);
    for (guint c = 0; c < channels; ++c) {
      gdouble peak = 0.0;
      ebur128_prev_sample_peak(state.window_meter.get(), c, &peak);
      tl.interval_sample_peak = std::max(tl.interval_sample_peak, peak);
      ebur128_prev_true_peak(state.window_meter.get(), c, &peak);
      tl.interval_true_peak = std::max(tl.interval_true_peak, peak);
    }
    if (data != nullptr) {
      scan_silence(state, src, chunk);
      data += chunk * bpf;
    } else {
      tl.silence.add_silence(tl.position, chunk);
    }
    tl.position += chunk;
    frames -= chunk;
    if (tl.position == tl.interval_end) finish_interval(state);
  }
}

/* Lines the timeline up with a buffer (or gap) starting at pts: fills a hole
 * with silence, or returns how many leading frames overlap audio already
 * measured. */
guint64 resync(GstLoudnessMeter *self, State &state, GstClockTime pts, bool discont) {
  Timeline &tl = state.timeline;
  const gint64 drift = frame_at(state, pts) - static_cast<gint64>(tl.position);
  if (drift == 0) return 0;
  const guint64 drift_frames = static_cast<guint64>(std::llabs(drift));
  const GstClockTime drift_time =
      reelforge::samples_to_time(drift_frames, GST_AUDIO_INFO_RATE(&state.info));
  if (!discont && drift_time <= DISCONT_THRESHOLD) return 0;
  if (drift > 0) {
    GST_DEBUG_OBJECT(
        self, "hole of %" GST_TIME_FORMAT " before %" GST_TIME_FORMAT ", measured as silence",
        GST_TIME_ARGS(drift_time), GST_TIME_ARGS(pts));
    measure(state, nullptr, drift_frames);
    return 0;
  }
  GST_DEBUG_OBJECT(
      self, "%" GST_TIME_FORMAT " at %" GST_TIME_FORMAT " overlap audio already measured, skipped",
      GST_TIME_ARGS(drift_time), GST_TIME_ARGS(pts));
  return drift_frames;
}

void reset_window_meter(GstLoudnessMeter *self, State &state) {
  state.window_meter.reset();
  if (state.have_format) state.window_meter = make_meter(self, state.info, WINDOW_METER_MODE);
}

void reset_state(State &state, const Settings &settings) {
  state.settings = settings;
  state.have_format = false;
  gst_audio_info_init(&state.info);
  state.zeros.clear();
  state.window_meter.reset();
  state.programme_meter.reset();
  gst_segment_init(&state.segment, GST_FORMAT_TIME);
  state.timeline = Timeline{};
  state.programme = Programme{};
  gst_segment_init(&state.programme.first_segment, GST_FORMAT_TIME);
  state.pending.clear();
}

SampleKind sample_kind(const GstAudioInfo &info) {
  switch (GST_AUDIO_INFO_FORMAT(&info)) {
    case GST_AUDIO_FORMAT_S16:
      return SampleKind::S16;
    case GST_AUDIO_FORMAT_S32:
      return SampleKind::S32;
    case GST_AUDIO_FORMAT_F32:
      return SampleKind::F32;
    case GST_AUDIO_FORMAT_F64:
      return SampleKind::F64;
    default:
      throw reelforge::ElementError(
          GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
          std::string("unsupported sample format ") + GST_AUDIO_INFO_NAME(&info));
  }
}

SilenceThreshold silence_threshold(gdouble db) {
  const gdouble linear = std::pow(10.0, db / 20.0);
  SilenceThreshold t;
  /* C conversion truncates toward zero, as ffmpeg's assignment does. */
  t.s16 = static_cast<gint16>(std::max(1.0, std::trunc(linear * G_MAXINT16)));
  t.s32 = static_cast<gint32>(std::max(1.0, std::trunc(linear * G_MAXINT32)));
  t.f32 = static_cast<gfloat>(linear);
  t.f64 = linear;
  return t;
}

bool same_layout(const GstAudioInfo &a, const GstAudioInfo &b) {
  return GST_AUDIO_INFO_RATE(&a) == GST_AUDIO_INFO_RATE(&b) &&
         GST_AUDIO_INFO_CHANNELS(&a) == GST_AUDIO_INFO_CHANNELS(&b) &&
         GST_AUDIO_INFO_IS_UNPOSITIONED(&a) == GST_AUDIO_INFO_IS_UNPOSITIONED(&b) &&
         std::equal(a.position, a.position + GST_AUDIO_INFO_CHANNELS(&a), b.position);
}

void configure_format(GstLoudnessMeter *self, State &state, const GstAudioInfo &info) {
  const SampleKind kind = sample_kind(info);
  if (!state.have_format || !same_layout(state.info, info)) {
    close_timeline(state); /* with the old rate */
    state.window_meter = make_meter(self, info, WINDOW_METER_MODE);
    if (!state.programme_meter) {
      state.programme_meter = make_meter(self, info, PROGRAMME_METER_MODE);
    } else {
      const int result = ebur128_change_parameters(
          state.programme_meter.get(), GST_AUDIO_INFO_CHANNELS(&info), GST_AUDIO_INFO_RATE(&info));
      if (result != EBUR128_SUCCESS && result != EBUR128_ERROR_NO_CHANGE) {
        state.programme_meter.reset();
        throw std::bad_alloc();
      }
      apply_channel_map(self, state.programme_meter.get(), info);
    }
  }
  state.info = info;
  state.kind = kind;
  state.threshold = silence_threshold(state.settings.silence_threshold);
  state.silence_min_frames =
      reelforge::time_to_samples(state.settings.silence_min_duration, GST_AUDIO_INFO_RATE(&info));
  state.zeros.assign(ZERO_CHUNK_FRAMES * GST_AUDIO_INFO_BPF(&info), 0);
  state.have_format = true;
  GST_INFO_OBJECT(
      self,
      "measuring %s at %d Hz, %d channels; silent below %g dBFS for at least %" G_GUINT64_FORMAT
      " frames",
      GST_AUDIO_INFO_NAME(&info), GST_AUDIO_INFO_RATE(&info), GST_AUDIO_INFO_CHANNELS(&info),
      state.settings.silence_threshold, state.silence_min_frames);
}

/* A buffer mapped for reading while the object lives. */
class ReadMapping {
 public:
  explicit ReadMapping(GstBuffer *buffer) : buffer_(buffer) {
    if (!gst_buffer_map(buffer, &info_, GST_MAP_READ)) {
      throw reelforge::ElementError(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
                                    "cannot map an audio buffer for reading");
    }
  }
  ~ReadMapping() { gst_buffer_unmap(buffer_, &info_); }
  ReadMapping(const ReadMapping &) = delete;
  ReadMapping &operator=(const ReadMapping &) = delete;
  const guint8 *data() const { return info_.data; }

 private:
  GstBuffer *buffer_;
  GstMapInfo info_{};
};

void analyse_buffer(GstLoudnessMeter *self, State &state, GstBuffer *buffer) {
  if (state.segment.rate < 0.0) return;
  const gsize bpf = GST_AUDIO_INFO_BPF(&state.info);
  const gsize size = gst_buffer_get_size(buffer);
  const guint64 frames = size / bpf;
  if (size % bpf != 0) {
    GST_WARNING_OBJECT(
        self, "buffer of %" G_GSIZE_FORMAT " bytes is not whole frames of %" G_GSIZE_FORMAT, size,
        bpf);
  }
  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  guint64 skip = 0;
  if (!state.timeline.started) {
    start_timeline(state, GST_CLOCK_TIME_IS_VALID(pts) ? pts : state.segment.start);
  } else if (GST_CLOCK_TIME_IS_VALID(pts)) {
    const bool discont = GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DISCONT);
    skip = std::min(frames, resync(self, state, pts, discont));
  }
  if (skip == frames) return;
  if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_GAP)) {
    measure(state, nullptr, frames - skip);
    return;
  }
  const ReadMapping mapping(buffer);
  measure(state, mapping.data() + skip * bpf, frames - skip);
}

void analyse_gap(GstLoudnessMeter *self, State &state, GstEvent *event) {
  if (!state.have_format || state.segment.rate < 0.0) return;
  GstClockTime timestamp = GST_CLOCK_TIME_NONE;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  gst_event_parse_gap(event, &timestamp, &duration);
  if (!GST_CLOCK_TIME_IS_VALID(timestamp)) return;
  if (!state.timeline.started) {
    start_timeline(state, timestamp);
  } else {
    resync(self, state, timestamp, true);
  }
  if (!GST_CLOCK_TIME_IS_VALID(duration)) return;
  const gint64 end = frame_at(state, timestamp + duration);
  const auto position = static_cast<gint64>(state.timeline.position);
  if (end > position) measure(state, nullptr, static_cast<guint64>(end - position));
}

GstStructure *summary_structure(const State &state) {
  const Programme &p = state.programme;
  const GstSegment &segment =
      GST_CLOCK_TIME_IS_VALID(p.first_timestamp) ? p.first_segment : state.segment;
  return loudness_structure(segment, p.first_timestamp, p.measured, current_loudness(state),
                            p.sample_peak, p.true_peak, true);
}

/* Runs body(state) under the state lock, then posts the messages it queued
 * (never under a lock). */
template <typename Body>
void with_state(GstLoudnessMeter *self, Body &&body) {
  std::vector<StructurePtr> to_post;
  {
    const std::lock_guard<std::mutex> lock(self->priv->state_lock);
    State &state = self->priv->state;
    body(state);
    to_post.swap(state.pending);
  }
  for (auto &s : to_post) reelforge::post_element_message(GST_ELEMENT_CAST(self), s.release());
}

}  // namespace

static void gst_loudness_meter_set_property(GObject *object, guint prop_id, const GValue *value,
                                            GParamSpec *pspec) {
  auto *self = GST_LOUDNESS_METER(object);
  GST_OBJECT_LOCK(self);
  Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_INTERVAL:
      settings.interval = g_value_get_uint64(value);
      break;
    case PROP_SILENCE_THRESHOLD:
      settings.silence_threshold = g_value_get_double(value);
      break;
    case PROP_SILENCE_MIN_DURATION:
      settings.silence_min_duration = g_value_get_uint64(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_loudness_meter_get_property(GObject *object, guint prop_id, GValue *value,
                                            GParamSpec *pspec) {
  auto *self = GST_LOUDNESS_METER(object);
  GST_OBJECT_LOCK(self);
  const Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_INTERVAL:
      g_value_set_uint64(value, settings.interval);
      break;
    case PROP_SILENCE_THRESHOLD:
      g_value_set_double(value, settings.silence_threshold);
      break;
    case PROP_SILENCE_MIN_DURATION:
      g_value_set_uint64(value, settings.silence_min_duration);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static gboolean gst_loudness_meter_start(GstBaseTransform *trans) {
  auto *self = GST_LOUDNESS_METER(trans);
  return REELFORGE_GUARD(self, FALSE, [&] {
    GST_OBJECT_LOCK(self);
    const Settings settings = self->priv->settings;
    GST_OBJECT_UNLOCK(self);
    with_state(self, [&](State &state) { reset_state(state, settings); });
    return TRUE;
  });
}

static gboolean gst_loudness_meter_stop(GstBaseTransform *trans) {
  auto *self = GST_LOUDNESS_METER(trans);
  return REELFORGE_GUARD(self, FALSE, [&] {
    with_state(self, [&](State &state) { reset_state(state, state.settings); });
    return TRUE;
  });
}

static gboolean gst_loudness_meter_setup(GstAudioFilter *filter, const GstAudioInfo *info) {
  auto *self = GST_LOUDNESS_METER(filter);
  return REELFORGE_GUARD(self, FALSE, [&] {
    with_state(self, [&](State &state) { configure_format(self, state, *info); });
    return TRUE;
  });
}

static GstFlowReturn gst_loudness_meter_transform_ip(GstBaseTransform *trans, GstBuffer *buffer) {
  auto *self = GST_LOUDNESS_METER(trans);
  return REELFORGE_GUARD(self, GST_FLOW_ERROR, [&] {
    GstFlowReturn ret = GST_FLOW_OK;
    with_state(self, [&](State &state) {
      if (!state.have_format) {
        ret = GST_FLOW_NOT_NEGOTIATED;
        return;
      }
      analyse_buffer(self, state, buffer);
    });
    return ret;
  });
}

/* What the meter does with a serialized event before it goes on. */
static void gst_loudness_meter_handle_event(GstLoudnessMeter *self, GstEvent *event) {
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_FLUSH_STOP:
      with_state(self, [&](State &state) {
        close_timeline(state);
        reset_window_meter(self, state);
        gst_segment_init(&state.segment, GST_FORMAT_TIME);
      });
      break;
    case GST_EVENT_SEGMENT: {
      GstSegment segment;
      gst_event_copy_segment(event, &segment);
      if (segment.format != GST_FORMAT_TIME) {
        GST_WARNING_OBJECT(self, "%s segment, measuring as an open TIME segment",
                           gst_format_get_name(segment.format));
        gst_segment_init(&segment, GST_FORMAT_TIME);
      }
      with_state(self, [&](State &state) {
        if (gst_segment_is_equal(&segment, &state.segment)) return;
        close_timeline(state);
        state.segment = segment;
      });
      break;
    }
    case GST_EVENT_GAP:
      with_state(self, [&](State &state) { analyse_gap(self, state, event); });
      break;
    case GST_EVENT_EOS:
      /* Posted before the EOS goes downstream. */
      with_state(self, [&](State &state) {
        close_timeline(state);
        state.pending.emplace_back(summary_structure(state));
      });
      break;
    default:
      break;
  }
}

static gboolean gst_loudness_meter_sink_event(GstBaseTransform *trans, GstEvent *event) {
  auto *self = GST_LOUDNESS_METER(trans);
  REELFORGE_GUARD_VOID(self, [&] { gst_loudness_meter_handle_event(self, event); });
  return GST_BASE_TRANSFORM_CLASS(gst_loudness_meter_parent_class)->sink_event(trans, event);
}

static void gst_loudness_meter_finalize(GObject *object) {
  delete GST_LOUDNESS_METER(object)->priv;
  G_OBJECT_CLASS(gst_loudness_meter_parent_class)->finalize(object);
}

static void gst_loudness_meter_class_init(GstLoudnessMeterClass *klass) {
  auto *gobject_class = G_OBJECT_CLASS(klass);
  auto *element_class = GST_ELEMENT_CLASS(klass);
  auto *trans_class = GST_BASE_TRANSFORM_CLASS(klass);
  auto *filter_class = GST_AUDIO_FILTER_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_loudness_meter_debug, "loudnessmeter", 0,
                          "EBU R128 loudness and silence meter");

  gobject_class->set_property = gst_loudness_meter_set_property;
  gobject_class->get_property = gst_loudness_meter_get_property;
  gobject_class->finalize = gst_loudness_meter_finalize;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);
  /**
   * GstLoudnessMeter:interval:
   *
   * Length of audio, in nanoseconds, covered by each `loudnessmeter`
   * message; at least 10 ms.
   */
  g_object_class_install_property(
      gobject_class, PROP_INTERVAL,
      g_param_spec_uint64("interval", "Interval",
                          "Length of audio covered by each loudnessmeter message, in nanoseconds "
                          "(at least 10 ms)",
                          MIN_INTERVAL, G_MAXUINT64, DEFAULT_INTERVAL, flags));
  /**
   * GstLoudnessMeter:silence-threshold:
   *
   * A sample frame is silent when every channel's absolute amplitude is below
   * this level, in dBFS (ffmpeg silencedetect's noise; -60 dB = 0.001).
   */
  g_object_class_install_property(
      gobject_class, PROP_SILENCE_THRESHOLD,
      g_param_spec_double("silence-threshold", "Silence threshold",
                          "A sample frame is silent when every channel's absolute amplitude is "
                          "below this level, in dBFS (-60 dB = 0.001 of full scale)",
                          MIN_SILENCE_THRESHOLD, MAX_SILENCE_THRESHOLD, DEFAULT_SILENCE_THRESHOLD,
                          flags));
  /**
   * GstLoudnessMeter:silence-min-duration:
   *
   * Shortest run of silent samples reported as `loudnessmeter-silence`, in
   * nanoseconds (rounded to whole samples).
   */
  g_object_class_install_property(
      gobject_class, PROP_SILENCE_MIN_DURATION,
      g_param_spec_uint64("silence-min-duration", "Minimum silence duration",
                          "Shortest run of silent samples reported as loudnessmeter-silence, in "
                          "nanoseconds",
                          0, G_MAXUINT64, DEFAULT_SILENCE_MIN_DURATION, flags));

  gst_element_class_set_static_metadata(
      element_class, "Loudness meter", "Filter/Analyzer/Audio",
      "Measures EBU R128 loudness (momentary, short-term, integrated, range), sample and true "
      "peak, and silent intervals of raw audio; posts them as element messages",
      "Reelforge <https://reelforge.invalid/>");

  reelforge::CapsPtr caps(
      gst_caps_from_string("audio/x-raw, format = (string) { " GST_AUDIO_NE(S16) ", " GST_AUDIO_NE(
          S32) ", " GST_AUDIO_NE(F32) ", " GST_AUDIO_NE(F64) " }, rate = (int) [ 8000, 192000 ], "
                                                             "channels = (int) [ 1, 8 "
                                                             "], layout = (string) interleaved"));
  gst_audio_filter_class_add_pad_templates(filter_class, caps.get());

  trans_class->passthrough_on_same_caps = TRUE;
  trans_class->transform_ip_on_passthrough = TRUE;
  trans_class->start = GST_DEBUG_FUNCPTR(gst_loudness_meter_start);
  trans_class->stop = GST_DEBUG_FUNCPTR(gst_loudness_meter_stop);
  trans_class->transform_ip = GST_DEBUG_FUNCPTR(gst_loudness_meter_transform_ip);
  trans_class->sink_event = GST_DEBUG_FUNCPTR(gst_loudness_meter_sink_event);
  filter_class->setup = GST_DEBUG_FUNCPTR(gst_loudness_meter_setup);
}

static void gst_loudness_meter_init(GstLoudnessMeter *self) {
  self->priv = new LoudnessMeterPrivate();
  reset_state(self->priv->state, self->priv->settings);
  gst_base_transform_set_gap_aware(GST_BASE_TRANSFORM(self), TRUE);
}
