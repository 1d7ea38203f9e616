/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

/**
 * SECTION:element-loudnorm
 * @title: loudnorm
 * @short_description: single-pass loudness normalisation with a true-peak ceiling
 *
 * loudnorm brings raw audio to an integrated loudness of
 * #GstLoudnorm:target LUFS (EBU R128 / ITU-R BS.1770-4) without letting its
 * true peak exceed #GstLoudnorm:true-peak dBTP, in one streaming pass.
 *
 * How: every incoming sample is measured (libebur128) as soon as it arrives
 * but goes out #GstLoudnorm:lookahead later. The gain applied to the sample
 * going out is steered toward target minus the gated integrated loudness of
 * everything measured so far, that is including the lookahead still to come,
 * through a smoothing filter whose time constant is a third of the lookahead
 * (at least 100 ms), so a change in the programme is mostly followed by the
 * time it reaches the output. The gain starts at its first estimate (no fade
 * in) when that estimate exists before the first sample goes out (a
 * lookahead of 400 ms, one BS.1770 block, or more), and glides from 0 dB
 * otherwise; it stays within -60..+30 dB, and holds while nothing louder than
 * -70 LUFS has been measured. The result is a slowly varying gain that keeps the
 * programme's own dynamics; for a stream shorter than the lookahead it is one
 * constant gain computed over the whole stream, as a two-pass normaliser
 * would. A programme whose loudness changes a lot after its first seconds
 * ends up close to the target rather than on it (the closer the longer the
 * lookahead).
 *
 * After the gain, a look-ahead true-peak limiter keeps the output under the
 * ceiling: the peak of each sample frame is estimated between samples too
 * (4x oversampling with a 12-tap-per-phase windowed-sinc interpolator, like
 * BS.1770's true-peak meter), the gain needed to keep it under the ceiling is
 * spread over the 5 ms before it and recovers over about 50 ms after it. It
 * aims 0.1 dB under the ceiling, to absorb the difference between its peak
 * estimate and a BS.1770 meter's.
 *
 * ## Latency
 *
 * The element holds back #GstLoudnorm:lookahead plus 5 ms plus 6 sample
 * frames (the limiter's lookahead and half its interpolator) and reports that
 * in the LATENCY query, added to upstream's. Live pipelines should use a
 * short lookahead.
 *
 * ## Timestamps, EOS and discontinuities
 *
 * Every input sample comes out exactly once, in order: output buffers are
 * timestamped by sample count from the first input buffer's timestamp, so a
 * contiguous input keeps its exact timestamps and total duration. At EOS, a
 * new segment, a GAP event, a caps change or a hole (or overlap) of more than
 * 40 ms in the input timestamps, the held-back audio is drained first (pushed
 * with the current gain, the limiter fed with silence to finish), so
 * timestamps after the event are right again. A flush drops it.
 *
 * ## The `loudnorm` message at EOS
 *
 * Before EOS goes downstream the element posts:
 *
 * * #gdouble `input-integrated`: integrated loudness of all the input, in
 *   LUFS (-inf for silence).
 * * #gdouble `output-integrated`: integrated loudness of all the output, in
 *   LUFS.
 * * #gdouble `output-true-peak`: highest true peak of the output, all
 *   channels, in dBTP.
 * * #gdouble `target`, #gdouble `true-peak`: the settings used.
 * * #guint64 `timestamp`: time of the first sample output, in nanoseconds,
 *   with `stream-time` and `running-time`; #guint64 `duration`: the total
 *   duration output.
 *
 * Loudness is measured as loudnessmeter measures it: mono as dual mono,
 * stereo as left and right, more channels in libebur128's default order
 * (front left, right, centre, LFE (ignored), surround left, right).
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 -m audiotestsrc freq=1000 volume=0.03 num-buffers=200 ! \
 *     audio/x-raw,format=F32LE,rate=48000,channels=2 ! loudnorm target=-16 ! \
 *     loudnessmeter ! fakesink
 * ]| Raises 4.3 s of a 1 kHz tone from about -30.5 to -16 LUFS; the
 * `loudnorm` message and loudnessmeter's summary report the result.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstloudnorm.h"

#include "analysis-message.h"
#include "element-guard.h"
#include "gst-ptr.h"
#include "time-convert.h"

#include <ebur128.h>
#include <gst/audio/audio.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

GST_DEBUG_CATEGORY_STATIC(gst_loudnorm_debug);
#define GST_CAT_DEFAULT gst_loudnorm_debug

namespace {

using reelforge::BufferPtr;
using reelforge::StructurePtr;

constexpr gdouble DEFAULT_TARGET = -14.0;
constexpr gdouble MIN_TARGET = -70.0;
constexpr gdouble MAX_TARGET = -5.0;
constexpr gdouble DEFAULT_TRUE_PEAK = -1.0;
constexpr gdouble MIN_TRUE_PEAK = -9.0;
constexpr gdouble MAX_TRUE_PEAK = 0.0;
constexpr GstClockTime DEFAULT_LOOKAHEAD = 3 * GST_SECOND;
constexpr GstClockTime MAX_LOOKAHEAD = 10 * GST_SECOND;

/* Limits of the loudness gain, in dB. */
constexpr gdouble MAX_BOOST_DB = 30.0;
constexpr gdouble MAX_CUT_DB = 60.0;
/* Below this the programme is silence (BS.1770's absolute gate). */
constexpr gdouble ABSOLUTE_GATE_LUFS = -70.0;
/* The gain smoothing time constant is lookahead / 3, at least this. */
constexpr gdouble MIN_GAIN_TIME_CONSTANT = 0.1; /* s */

/* Limiter: gain reductions are spread over this much audio before a peak
 * and recover with this time constant after it. */
constexpr GstClockTime LIMITER_LOOKAHEAD = 5 * GST_MSECOND;
constexpr gdouble LIMITER_RELEASE = 0.05; /* s */
/* True-peak interpolation: 4 phases of 2 * HALF_TAPS taps. */
constexpr int OVERSAMPLING = 4;
constexpr int HALF_TAPS = 6;
/* The limiter aims this far under the ceiling: a BS.1770 meter's own
 * interpolator (libebur128's) reads inter-sample peaks a few hundredths of a
 * dB differently, and 16-bit output adds rounding. */
constexpr gdouble CEILING_MARGIN_DB = 0.1;

constexpr GstClockTime DISCONT_THRESHOLD = 40 * GST_MSECOND;

enum {
  PROP_0,
  PROP_TARGET,
  PROP_TRUE_PEAK,
  PROP_LOOKAHEAD,
};

GstStaticPadTemplate sink_template = GST_STATIC_PAD_TEMPLATE(
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("audio/x-raw, format = (string) { F32LE, S16LE }, rate = (int) [ 8000, 192000 "
                    "], channels = (int) [ 1, 8 ], layout = (string) interleaved"));
GstStaticPadTemplate src_template = GST_STATIC_PAD_TEMPLATE(
    "src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS("audio/x-raw, format = (string) { F32LE, S16LE }, rate = (int) [ 8000, 192000 "
                    "], channels = (int) [ 1, 8 ], layout = (string) interleaved"));

struct Settings {
  gdouble target = DEFAULT_TARGET;       /* LUFS */
  gdouble true_peak = DEFAULT_TRUE_PEAK; /* dBTP */
  GstClockTime lookahead = DEFAULT_LOOKAHEAD;
};

struct Ebur128Deleter {
  void operator()(ebur128_state *state) const noexcept { ebur128_destroy(&state); }
};
using Ebur128Ptr = std::unique_ptr<ebur128_state, Ebur128Deleter>;

gdouble to_db(gdouble linear) {
  return linear > 0.0 ? 20.0 * std::log10(linear) : -std::numeric_limits<gdouble>::infinity();
}

/* A look-ahead brickwall limiter on the estimated true peak. Frames come
 * out delay() frames after they went in; flush() lets the last ones out.
 *
 * For frame p: r(p) = min(1, ceiling / peak(p)); m(p) = min r over
 * [p, p + A]; m2 = m with a release filter that may only lower it; the
 * applied gain s(p) is the mean of m2 over [p - A, p]. Every term of that
 * mean is at most r(p), so s(p) <= r(p): no frame exceeds the ceiling, and
 * the gain moves in ramps at least A frames long. */
class TruePeakLimiter {
 public:
  void configure(guint channels, gint rate, gdouble ceiling) {
    channels_ = channels;
    ceiling_ = ceiling;
    lookahead_ = std::max<guint64>(1, reelforge::time_to_samples(LIMITER_LOOKAHEAD, rate));
    release_coef_ = 1.0 - std::exp(-1.0 / (LIMITER_RELEASE * rate));
    for (int k = 1; k < OVERSAMPLING; ++k) {
      const gdouble frac = static_cast<gdouble>(k) / OVERSAMPLING;
      for (int t = 0; t < 2 * HALF_TAPS; ++t) {
        /* Tap t multiplies frame p - HALF_TAPS + 1 + t; the point is p + frac. */
        const gdouble x = (t - HALF_TAPS + 1) - frac;
        const gdouble sinc = x == 0.0 ? 1.0 : std::sin(G_PI * x) / (G_PI * x);
        const gdouble window = 0.5 * (1.0 + std::cos(G_PI * x / (HALF_TAPS + 0.5)));
        taps_[k - 1][t] = sinc * window;
      }
    }
    reset();
  }

  void reset() {
    y_.clear();
    y_first_ = 0;
    next_ = 0;
    minima_.clear();
    last_m2_ = 1.0;
    window_.assign(lookahead_, 1.0);
    window_sum_ = static_cast<gdouble>(lookahead_);
  }

  guint64 delay() const { return lookahead_ + HALF_TAPS; }

  /* Takes n frames; appends the frames that come out to out. */
  void process(const gfloat *in, guint64 n, std::vector<gfloat> &out) {
    for (guint64 i = 0; i < n; ++i) push_frame(in + i * channels_, out);
  }

  /* Lets out every frame still held: exactly as many as went in. */
  void flush(std::vector<gfloat> &out) {
    const std::vector<gfloat> zero(channels_, 0.0f);
    for (guint64 i = 0; i < delay(); ++i) push_frame(zero.data(), out);
    reset();
  }

 private:
  gfloat y(gint64 frame, guint c) const {
    if (frame < static_cast<gint64>(y_first_)) return 0.0f;
    return y_[(static_cast<guint64>(frame) - y_first_) * channels_ + c];
  }

  gdouble peak(gint64 p) const {
    gdouble peak = 0.0;
    for (guint c = 0; c < channels_; ++c) {
      peak = std::max(peak, static_cast<gdouble>(std::fabs(y(p, c))));
      for (const auto &taps : taps_) {
        gdouble v = 0.0;
        for (int t = 0; t < 2 * HALF_TAPS; ++t) v += taps[t] * y(p - HALF_TAPS + 1 + t, c);
        peak = std::max(peak, std::fabs(v));
      }
    }
    return peak;
  }

  void push_frame(const gfloat *frame, std::vector<gfloat> &out) {
    y_.insert(y_.end(), frame, frame + channels_);
    const auto j = static_cast<gint64>(next_++);
    const gint64 p = j - HALF_TAPS;
    if (p < 0) return;
    const gdouble pk = peak(p);
    const gdouble r = pk > ceiling_ ? ceiling_ / pk : 1.0;
    while (!minima_.empty() && minima_.back().second >= r) minima_.pop_back();
    minima_.emplace_back(p, r);
    /* q runs from -A: the frames before the start have no peaks of their
     * own but must already ramp down for peaks in the first A frames. */
    const gint64 q = p - static_cast<gint64>(lookahead_);
    while (minima_.front().first < q) minima_.pop_front();
    const gdouble m = std::min(1.0, minima_.front().second);
    const gdouble m2 = std::min(m, last_m2_ + (1.0 - last_m2_) * release_coef_);
    last_m2_ = m2;
    window_sum_ += m2 - window_.front();
    window_.pop_front();
    window_.push_back(m2);
    if (q < 0) return;
    const gdouble s = std::min(1.0, window_sum_ / static_cast<gdouble>(window_.size()));
    for (guint c = 0; c < channels_; ++c) out.push_back(static_cast<gfloat>(y(q, c) * s));
    /* Keep what the interpolator and the output still need. */
    const guint64 keep_from = static_cast<guint64>(q + 1);
    if (keep_from > y_first_ + 4096) {
      y_.erase(y_.begin(), y_.begin() + (keep_from - y_first_) * channels_);
      y_first_ = keep_from;
    }
  }

  guint channels_ = 1;
  gdouble ceiling_ = 1.0;
  guint64 lookahead_ = 1;
  gdouble release_coef_ = 1.0;
  std::array<std::array<gdouble, 2 * HALF_TAPS>, OVERSAMPLING - 1> taps_{};
  std::vector<gfloat> y_; /* frames from y_first_ on, interleaved */
  guint64 y_first_ = 0;
  guint64 next_ = 0;
  std::deque<std::pair<gint64, gdouble>> minima_; /* (frame, r), r increasing */
  gdouble last_m2_ = 1.0;
  std::deque<gdouble> window_; /* the last A + 1 values of m2 */
  gdouble window_sum_ = 0.0;
};

/* Runtime state, reset in start() and stop(); under state_lock. */
struct State {
  Settings settings; /* snapshot taken at READY -> PAUSED */
  bool have_info = false;
  GstAudioInfo info{};
  guint64 lookahead_frames = 0;
  gdouble gain_coef = 1.0; /* per-sample smoothing coefficient */
  Ebur128Ptr input_meter;
  Ebur128Ptr output_meter;
  TruePeakLimiter limiter;
  /* Input frames measured but not yet gained, interleaved. */
  std::vector<gfloat> held;
  guint64 held_first = 0; /* index in held of the first frame still held, in samples */
  bool gain_valid = false;
  gdouble gain_db = 0.0;
  /* Whether frames went out before the first loudness estimate (a lookahead
   * under 400 ms, or a silent start): the gain then glides to it. */
  bool released_any = false;
  /* Output timeline: frames counted from base, the PTS of the first input
   * buffer after start, a drain or a flush. */
  bool timeline_started = false;
  GstClockTime base = 0;
  guint64 frames_in = 0;
  guint64 frames_out = 0;
  GstSegment segment{};
  GstClockTime first_output = GST_CLOCK_TIME_NONE;
  GstSegment first_segment{};
  GstClockTime output_duration = 0;
  std::vector<gfloat> scratch; /* gained frames going into the limiter */
  std::vector<gfloat> limited; /* frames out of the limiter */
  std::vector<BufferPtr> to_push;
  std::vector<StructurePtr> pending;
};

struct LoudnormPrivate {
  Settings settings; /* properties, under the object lock */
  std::mutex state_lock;
  State state;
};

}  // namespace

struct _GstLoudnorm {
  GstElement parent;
  GstPad *sinkpad;
  GstPad *srcpad;
  LoudnormPrivate *priv;
};

G_DEFINE_TYPE(GstLoudnorm, gst_loudnorm, GST_TYPE_ELEMENT);
GST_ELEMENT_REGISTER_DEFINE(loudnorm, "loudnorm", GST_RANK_NONE, GST_TYPE_LOUDNORM);

namespace {

Ebur128Ptr make_meter(const GstAudioInfo &info, int mode) {
  const guint channels = GST_AUDIO_INFO_CHANNELS(&info);
  Ebur128Ptr meter(ebur128_init(channels, GST_AUDIO_INFO_RATE(&info), mode));
  if (!meter) throw std::bad_alloc();
  /* As loudnessmeter: mono plays on two loudspeakers. */
  if (channels == 1) ebur128_set_channel(meter.get(), 0, EBUR128_DUAL_MONO);
  return meter;
}

void reset_timeline(State &state) {
  state.held.clear();
  state.held_first = 0;
  state.limiter.reset();
  state.timeline_started = false;
  state.frames_in = 0;
  state.frames_out = 0;
}

void reset_state(State &state, const Settings &settings) {
  state.settings = settings;
  state.have_info = false;
  state.input_meter.reset();
  state.output_meter.reset();
  state.gain_valid = false;
  state.gain_db = 0.0;
  state.released_any = false;
  reset_timeline(state);
  gst_segment_init(&state.segment, GST_FORMAT_TIME);
  state.first_output = GST_CLOCK_TIME_NONE;
  gst_segment_init(&state.first_segment, GST_FORMAT_TIME);
  state.output_duration = 0;
  state.to_push.clear();
  state.pending.clear();
}

GstClockTime latency_of(const State &state) {
  if (!state.have_info) return state.settings.lookahead + LIMITER_LOOKAHEAD;
  return reelforge::samples_to_time(state.lookahead_frames + state.limiter.delay(),
                                    GST_AUDIO_INFO_RATE(&state.info));
}

guint64 held_frames(const State &state) {
  return (state.held.size() - state.held_first) / GST_AUDIO_INFO_CHANNELS(&state.info);
}

/* Converts limited frames to the output format, measures and queues them
 * as one buffer. */
void emit(GstLoudnorm *self, State &state) {
  const guint channels = GST_AUDIO_INFO_CHANNELS(&state.info);
  const guint64 frames = state.limited.size() / channels;
  if (frames == 0) return;
  const gint rate = GST_AUDIO_INFO_RATE(&state.info);
  BufferPtr buffer(
      gst_buffer_new_allocate(nullptr, frames * GST_AUDIO_INFO_BPF(&state.info), nullptr));
  GstMapInfo map;
  if (!gst_buffer_map(buffer.get(), &map, GST_MAP_WRITE)) {
    throw reelforge::ElementError(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
                                  "cannot map an output buffer");
  }
  if (GST_AUDIO_INFO_FORMAT(&state.info) == GST_AUDIO_FORMAT_F32LE) {
    std::copy(state.limited.begin(), state.limited.end(), reinterpret_cast<gfloat *>(map.data));
    ebur128_add_frames_float(state.output_meter.get(), state.limited.data(), frames);
  } else {
    auto *out = reinterpret_cast<gint16 *>(map.data);
    for (size_t i = 0; i < state.limited.size(); ++i) {
      out[i] = static_cast<gint16>(
          std::clamp(std::lround(state.limited[i] * 32768.0f), -32768L, 32767L));
    }
    ebur128_add_frames_short(state.output_meter.get(), out, frames);
  }
  gst_buffer_unmap(buffer.get(), &map);
  const GstClockTime pts = state.base + reelforge::samples_to_time(state.frames_out, rate);
  const GstClockTime end = state.base + reelforge::samples_to_time(state.frames_out + frames, rate);
  GST_BUFFER_PTS(buffer.get()) = pts;
  GST_BUFFER_DURATION(buffer.get()) = end - pts;
  GST_BUFFER_OFFSET(buffer.get()) = GST_BUFFER_OFFSET_NONE;
  if (state.frames_out == 0) GST_BUFFER_FLAG_SET(buffer.get(), GST_BUFFER_FLAG_DISCONT);
  if (!GST_CLOCK_TIME_IS_VALID(state.first_output)) {
    state.first_output = pts;
    state.first_segment = state.segment;
  }
  state.output_duration += end - pts;
  state.frames_out += frames;
  state.limited.clear();
  state.to_push.push_back(std::move(buffer));
  GST_LOG_OBJECT(self, "%" G_GUINT64_FORMAT " frames out at %" GST_TIME_FORMAT, frames,
                 GST_TIME_ARGS(pts));
}

/* Gains the first n held frames and passes them through the limiter. */
void release_frames(GstLoudnorm *self, State &state, guint64 n) {
  if (n == 0) return;
  const guint channels = GST_AUDIO_INFO_CHANNELS(&state.info);
  gdouble integrated = -HUGE_VAL;
  ebur128_loudness_global(state.input_meter.get(), &integrated);
  gdouble desired = state.gain_db;
  if (std::isfinite(integrated) && integrated > ABSOLUTE_GATE_LUFS) {
    desired = std::clamp(state.settings.target - integrated, -MAX_CUT_DB, MAX_BOOST_DB);
    if (!state.gain_valid) {
      state.gain_valid = true;
      if (!state.released_any) state.gain_db = desired;
      GST_DEBUG_OBJECT(self, "first estimate %.2f LUFS: gain %.2f dB", integrated, desired);
    }
  }
  state.released_any = true;
  state.scratch.resize(n * channels);
  const gfloat *in = state.held.data() + state.held_first;
  for (guint64 i = 0; i < n; ++i) {
    state.gain_db += (desired - state.gain_db) * state.gain_coef;
    const auto g = static_cast<gfloat>(std::pow(10.0, state.gain_db / 20.0));
    for (guint c = 0; c < channels; ++c) state.scratch[i * channels + c] = in[i * channels + c] * g;
  }
  state.held_first += n * channels;
  if (state.held_first > state.held.size() / 2) {
    state.held.erase(state.held.begin(), state.held.begin() + state.held_first);
    state.held_first = 0;
  }
  state.limiter.process(state.scratch.data(), n, state.limited);
  emit(self, state);
}

/* Everything held goes out; the next buffer starts a new timeline. */
void drain(GstLoudnorm *self, State &state) {
  if (!state.have_info || !state.timeline_started) return;
  release_frames(self, state, held_frames(state));
  state.limiter.flush(state.limited);
  emit(self, state);
  GST_DEBUG_OBJECT(self, "drained: %" G_GUINT64_FORMAT " frames in, %" G_GUINT64_FORMAT " out",
                   state.frames_in, state.frames_out);
  reset_timeline(state);
}

void configure(GstLoudnorm *self, State &state, const GstAudioInfo &info) {
  if (state.have_info && gst_audio_info_is_equal(&info, &state.info)) return;
  drain(self, state);
  const bool same_layout = state.have_info &&
                           GST_AUDIO_INFO_RATE(&info) == GST_AUDIO_INFO_RATE(&state.info) &&
                           GST_AUDIO_INFO_CHANNELS(&info) == GST_AUDIO_INFO_CHANNELS(&state.info);
  const gint rate = GST_AUDIO_INFO_RATE(&info);
  if (!same_layout) {
    /* Loudness is not comparable across layouts: start measuring again. */
    state.input_meter = make_meter(info, EBUR128_MODE_I | EBUR128_MODE_HISTOGRAM);
    state.output_meter =
        make_meter(info, EBUR128_MODE_I | EBUR128_MODE_TRUE_PEAK | EBUR128_MODE_HISTOGRAM);
    state.gain_valid = false;
    state.gain_db = 0.0;
    state.released_any = false;
  }
  state.info = info;
  state.have_info = true;
  state.lookahead_frames = reelforge::time_to_samples(state.settings.lookahead, rate);
  const gdouble tau =
      std::max(MIN_GAIN_TIME_CONSTANT, reelforge::to_seconds(state.settings.lookahead) / 3.0);
  state.gain_coef = 1.0 - std::exp(-1.0 / (tau * rate));
  state.limiter.configure(GST_AUDIO_INFO_CHANNELS(&info), rate,
                          std::pow(10.0, (state.settings.true_peak - CEILING_MARGIN_DB) / 20.0));
  GST_INFO_OBJECT(
      self, "%s %d Hz %d channels: target %.1f LUFS, ceiling %.1f dBTP, latency %" GST_TIME_FORMAT,
      GST_AUDIO_INFO_NAME(&info), rate, GST_AUDIO_INFO_CHANNELS(&info), state.settings.target,
      state.settings.true_peak, GST_TIME_ARGS(latency_of(state)));
}

void process_buffer(GstLoudnorm *self, State &state, GstBuffer *buffer) {
  const guint channels = GST_AUDIO_INFO_CHANNELS(&state.info);
  const gint rate = GST_AUDIO_INFO_RATE(&state.info);
  const gsize size = gst_buffer_get_size(buffer);
  const guint64 frames = size / GST_AUDIO_INFO_BPF(&state.info);
  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  if (state.timeline_started && GST_CLOCK_TIME_IS_VALID(pts)) {
    const GstClockTime expected = state.base + reelforge::samples_to_time(state.frames_in, rate);
    if (pts > expected + DISCONT_THRESHOLD || pts + DISCONT_THRESHOLD < expected) {
      GST_INFO_OBJECT(self, "timestamps jump from %" GST_TIME_FORMAT " to %" GST_TIME_FORMAT,
                      GST_TIME_ARGS(expected), GST_TIME_ARGS(pts));
      drain(self, state);
    }
  }
  if (!state.timeline_started) {
    state.timeline_started = true;
    state.base = GST_CLOCK_TIME_IS_VALID(pts)
                     ? pts
                     : (state.segment.position != GST_CLOCK_TIME_NONE && state.segment.position > 0
                            ? state.segment.position
                            : state.segment.start);
  }
  if (frames == 0) return;
  const size_t old_size = state.held.size();
  state.held.resize(old_size + frames * channels);
  gfloat *dst = state.held.data() + old_size;
  if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_GAP)) {
    std::fill(dst, dst + frames * channels, 0.0f);
  } else {
    GstMapInfo map;
    if (!gst_buffer_map(buffer, &map, GST_MAP_READ)) {
      throw reelforge::ElementError(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
                                    "cannot map an input buffer");
    }
    if (GST_AUDIO_INFO_FORMAT(&state.info) == GST_AUDIO_FORMAT_F32LE) {
      const auto *src = reinterpret_cast<const gfloat *>(map.data);
      std::copy(src, src + frames * channels, dst);
    } else {
      const auto *src = reinterpret_cast<const gint16 *>(map.data);
      for (guint64 i = 0; i < frames * channels; ++i) dst[i] = src[i] / 32768.0f;
    }
    gst_buffer_unmap(buffer, &map);
  }
  ebur128_add_frames_float(state.input_meter.get(), dst, frames);
  state.frames_in += frames;
  const guint64 held = held_frames(state);
  if (held > state.lookahead_frames) release_frames(self, state, held - state.lookahead_frames);
}

GstStructure *summary_structure(const State &state) {
  gdouble input = -HUGE_VAL;
  gdouble output = -HUGE_VAL;
  gdouble peak = 0.0;
  if (state.input_meter) ebur128_loudness_global(state.input_meter.get(), &input);
  if (state.output_meter) {
    ebur128_loudness_global(state.output_meter.get(), &output);
    for (gint c = 0; c < GST_AUDIO_INFO_CHANNELS(&state.info); ++c) {
      gdouble p = 0.0;
      if (ebur128_true_peak(state.output_meter.get(), c, &p) == EBUR128_SUCCESS)
        peak = std::max(peak, p);
    }
  }
  GstStructure *s = reelforge::new_analysis_structure(
      "loudnorm", GST_CLOCK_TIME_IS_VALID(state.first_output) ? state.first_segment : state.segment,
      state.first_output, state.output_duration);
  gst_structure_set(s, "input-integrated", G_TYPE_DOUBLE, input, "output-integrated", G_TYPE_DOUBLE,
                    output, "output-true-peak", G_TYPE_DOUBLE, to_db(peak), "target", G_TYPE_DOUBLE,
                    state.settings.target, "true-peak", G_TYPE_DOUBLE, state.settings.true_peak,
                    nullptr);
  return s;
}

/* Runs body(state) under the state lock, then pushes the buffers and posts
 * the messages it queued, outside the lock. Returns the first failed flow. */
template <typename Body>
GstFlowReturn with_state(GstLoudnorm *self, Body &&body) {
  std::vector<BufferPtr> buffers;
  std::vector<StructurePtr> messages;
  {
    const std::lock_guard<std::mutex> lock(self->priv->state_lock);
    State &state = self->priv->state;
    body(state);
    buffers.swap(state.to_push);
    messages.swap(state.pending);
  }
  GstFlowReturn ret = GST_FLOW_OK;
  for (auto &b : buffers) {
    const GstFlowReturn r = gst_pad_push(self->srcpad, b.release());
    if (r != GST_FLOW_OK && ret == GST_FLOW_OK) ret = r;
  }
  for (auto &s : messages) reelforge::post_element_message(GST_ELEMENT_CAST(self), s.release());
  return ret;
}

}  // namespace

static void gst_loudnorm_set_property(GObject *object, guint prop_id, const GValue *value,
                                      GParamSpec *pspec) {
  auto *self = GST_LOUDNORM(object);
  GST_OBJECT_LOCK(self);
  Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_TARGET:
      settings.target = g_value_get_double(value);
      break;
    case PROP_TRUE_PEAK:
      settings.true_peak = g_value_get_double(value);
      break;
    case PROP_LOOKAHEAD:
      settings.lookahead = g_value_get_uint64(value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static void gst_loudnorm_get_property(GObject *object, guint prop_id, GValue *value,
                                      GParamSpec *pspec) {
  auto *self = GST_LOUDNORM(object);
  GST_OBJECT_LOCK(self);
  const Settings &settings = self->priv->settings;
  switch (prop_id) {
    case PROP_TARGET:
      g_value_set_double(value, settings.target);
      break;
    case PROP_TRUE_PEAK:
      g_value_set_double(value, settings.true_peak);
      break;
    case PROP_LOOKAHEAD:
      g_value_set_uint64(value, settings.lookahead);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK(self);
}

static GstFlowReturn gst_loudnorm_chain(GstPad *, GstObject *parent, GstBuffer *buffer) {
  auto *self = GST_LOUDNORM(parent);
  BufferPtr owned(buffer);
  return REELFORGE_GUARD(self, GST_FLOW_ERROR, [&] {
    bool negotiated = true;
    const GstFlowReturn ret = with_state(self, [&](State &state) {
      if (!state.have_info) {
        negotiated = false;
        return;
      }
      process_buffer(self, state, owned.get());
    });
    return negotiated ? ret : GST_FLOW_NOT_NEGOTIATED;
  });
}

static gboolean gst_loudnorm_sink_event(GstPad *pad, GstObject *parent, GstEvent *event) {
  auto *self = GST_LOUDNORM(parent);
  reelforge::EventPtr owned(event);
  const bool ok = REELFORGE_GUARD(self, false, [&] {
    switch (GST_EVENT_TYPE(event)) {
      case GST_EVENT_CAPS: {
        GstCaps *caps = nullptr;
        gst_event_parse_caps(event, &caps);
        GstAudioInfo info;
        if (!gst_audio_info_from_caps(&info, caps)) return false;
        with_state(self, [&](State &state) { configure(self, state, info); });
        break;
      }
      case GST_EVENT_SEGMENT: {
        GstSegment segment;
        gst_event_copy_segment(event, &segment);
        if (segment.format != GST_FORMAT_TIME) {
          GST_ELEMENT_ERROR(self, STREAM, FORMAT, (nullptr), ("only TIME segments are supported"));
          return false;
        }
        with_state(self, [&](State &state) {
          drain(self, state);
          state.segment = segment;
        });
        break;
      }
      case GST_EVENT_GAP:
        with_state(self, [&](State &state) { drain(self, state); });
        break;
      case GST_EVENT_EOS:
        with_state(self, [&](State &state) {
          drain(self, state);
          state.pending.emplace_back(summary_structure(state));
        });
        break;
      case GST_EVENT_FLUSH_STOP:
        with_state(self, [&](State &state) {
          reset_timeline(state);
          gst_segment_init(&state.segment, GST_FORMAT_TIME);
        });
        break;
      default:
        break;
    }
    return true;
  });
  if (!ok) return FALSE;
  return gst_pad_event_default(pad, parent, owned.release());
}

static gboolean gst_loudnorm_src_query(GstPad *pad, GstObject *parent, GstQuery *query) {
  auto *self = GST_LOUDNORM(parent);
  if (GST_QUERY_TYPE(query) == GST_QUERY_LATENCY) {
    if (!gst_pad_peer_query(self->sinkpad, query)) return FALSE;
    gboolean live = FALSE;
    GstClockTime min = 0;
    GstClockTime max = GST_CLOCK_TIME_NONE;
    gst_query_parse_latency(query, &live, &min, &max);
    GstClockTime ours = 0;
    {
      const std::lock_guard<std::mutex> lock(self->priv->state_lock);
      ours = latency_of(self->priv->state);
    }
    GST_DEBUG_OBJECT(self, "adding %" GST_TIME_FORMAT " of latency", GST_TIME_ARGS(ours));
    gst_query_set_latency(query, live, min + ours,
                          GST_CLOCK_TIME_IS_VALID(max) ? max + ours : GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return gst_pad_query_default(pad, parent, query);
}

static GstStateChangeReturn gst_loudnorm_change_state(GstElement *element,
                                                      GstStateChange transition) {
  auto *self = GST_LOUDNORM(element);
  if (transition == GST_STATE_CHANGE_READY_TO_PAUSED) {
    GST_OBJECT_LOCK(self);
    const Settings settings = self->priv->settings;
    GST_OBJECT_UNLOCK(self);
    const std::lock_guard<std::mutex> lock(self->priv->state_lock);
    reset_state(self->priv->state, settings);
  }
  const GstStateChangeReturn ret =
      GST_ELEMENT_CLASS(gst_loudnorm_parent_class)->change_state(element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    const std::lock_guard<std::mutex> lock(self->priv->state_lock);
    reset_state(self->priv->state, self->priv->state.settings);
  }
  return ret;
}

static void gst_loudnorm_finalize(GObject *object) {
  delete GST_LOUDNORM(object)->priv;
  G_OBJECT_CLASS(gst_loudnorm_parent_class)->finalize(object);
}

static void gst_loudnorm_class_init(GstLoudnormClass *klass) {
  auto *gobject_class = G_OBJECT_CLASS(klass);
  auto *element_class = GST_ELEMENT_CLASS(klass);

  GST_DEBUG_CATEGORY_INIT(gst_loudnorm_debug, "loudnorm", 0,
                          "Single-pass loudness normalisation with a true-peak limiter");

  gobject_class->set_property = gst_loudnorm_set_property;
  gobject_class->get_property = gst_loudnorm_get_property;
  gobject_class->finalize = gst_loudnorm_finalize;

  const auto flags = static_cast<GParamFlags>(G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
                                              GST_PARAM_MUTABLE_READY);
  /**
   * GstLoudnorm:target:
   *
   * Integrated loudness to bring the stream to, in LUFS.
   */
  g_object_class_install_property(
      gobject_class, PROP_TARGET,
      g_param_spec_double("target", "Target", "Integrated loudness to reach, in LUFS", MIN_TARGET,
                          MAX_TARGET, DEFAULT_TARGET, flags));
  /**
   * GstLoudnorm:true-peak:
   *
   * Ceiling for the output's true peak (4x oversampled), in dBTP.
   */
  g_object_class_install_property(
      gobject_class, PROP_TRUE_PEAK,
      g_param_spec_double("true-peak", "True peak",
                          "Ceiling for the output's true peak (4x oversampled), in dBTP",
                          MIN_TRUE_PEAK, MAX_TRUE_PEAK, DEFAULT_TRUE_PEAK, flags));
  /**
   * GstLoudnorm:lookahead:
   *
   * How far ahead of the output the loudness is measured, in nanoseconds;
   * the element's latency is this plus 5 ms and 6 samples.
   */
  g_object_class_install_property(
      gobject_class, PROP_LOOKAHEAD,
      g_param_spec_uint64("lookahead", "Lookahead",
                          "How far ahead of the output the loudness is measured, in nanoseconds "
                          "(the latency is this plus 5 ms and 6 samples)",
                          0, MAX_LOOKAHEAD, DEFAULT_LOOKAHEAD, flags));

  gst_element_class_set_static_metadata(
      element_class, "Loudness normaliser", "Filter/Effect/Audio",
      "Brings raw audio to a target integrated loudness (EBU R128) under a true-peak ceiling, "
      "in one pass with a lookahead",
      "Reelforge <https://reelforge.invalid/>");
  gst_element_class_add_static_pad_template(element_class, &sink_template);
  gst_element_class_add_static_pad_template(element_class, &src_template);
  element_class->change_state = GST_DEBUG_FUNCPTR(gst_loudnorm_change_state);
}

static void gst_loudnorm_init(GstLoudnorm *self) {
  self->priv = new LoudnormPrivate();
  reset_state(self->priv->state, self->priv->settings);

  self->sinkpad = gst_pad_new_from_static_template(&sink_template, "sink");
  gst_pad_set_chain_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_loudnorm_chain));
  gst_pad_set_event_function(self->sinkpad, GST_DEBUG_FUNCPTR(gst_loudnorm_sink_event));
  GST_PAD_SET_PROXY_CAPS(self->sinkpad);
  gst_element_add_pad(GST_ELEMENT(self), self->sinkpad);

  self->srcpad = gst_pad_new_from_static_template(&src_template, "src");
  gst_pad_set_query_function(self->srcpad, GST_DEBUG_FUNCPTR(gst_loudnorm_src_query));
  GST_PAD_SET_PROXY_CAPS(self->srcpad);
  gst_element_add_pad(GST_ELEMENT(self), self->srcpad);
}
