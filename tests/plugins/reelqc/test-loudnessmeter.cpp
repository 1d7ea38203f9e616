/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * loudnessmeter: loudness of known signals, interval and summary messages,
 * silent runs at exact sample times, every property, formats and layouts,
 * gaps, discontinuities, segments and a flushing seek.
 */
#include "test-environment.h"
#include "time-convert.h"

#include <gst/audio/audio.h>
#include <gst/check/gstharness.h>
#include <gst/gst.h>

#include <algorithm>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <functional>
#include <limits>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace reelforge::test {
namespace {

constexpr double kMinusInf = -std::numeric_limits<double>::infinity();

/* A signal as a function of the frame index and channel, full scale = 1.0. */
using Signal = std::function<double(guint64 frame, guint channel)>;

Signal sine(double amplitude, double frequency, gint rate) {
  return [=](guint64 frame, guint) {
    return amplitude * std::sin(2.0 * G_PI * frequency * static_cast<double>(frame) / rate);
  };
}

/* Never near zero, so every frame of it is loud: exact run boundaries. */
Signal square(double amplitude, guint64 half_period_frames = 24) {
  return [=](guint64 frame, guint) {
    return (frame / half_period_frames) % 2 == 0 ? amplitude : -amplitude;
  };
}

Signal silence() {
  return [](guint64, guint) { return 0.0; };
}

/* piecewise({{end_frame, signal}, ...}): each signal up to its end frame. */
Signal piecewise(std::vector<std::pair<guint64, Signal>> pieces) {
  return [pieces = std::move(pieces)](guint64 frame, guint channel) {
    for (const auto &[end, signal] : pieces)
      if (frame < end) return signal(frame, channel);
    return 0.0;
  };
}

void write_sample(GstAudioFormat format, guint8 *p, double v) {
  switch (format) {
    case GST_AUDIO_FORMAT_S16: {
      const auto s = static_cast<gint16>(std::clamp(std::lround(v * 32767.0), -32768L, 32767L));
      std::memcpy(p, &s, sizeof s);
      break;
    }
    case GST_AUDIO_FORMAT_S32: {
      const auto s = static_cast<gint32>(
          std::clamp(std::llround(v * 2147483647.0), -2147483648LL, 2147483647LL));
      std::memcpy(p, &s, sizeof s);
      break;
    }
    case GST_AUDIO_FORMAT_F32: {
      const auto s = static_cast<gfloat>(v);
      std::memcpy(p, &s, sizeof s);
      break;
    }
    case GST_AUDIO_FORMAT_F64:
      std::memcpy(p, &v, sizeof v);
      break;
    default:
      ADD_FAILURE() << "no writer for " << gst_audio_format_to_string(format);
  }
}

/* loudnessmeter alone in a GstHarness, its messages on a private bus. Frames
 * pushed with push() are numbered from 0 and timestamped from base. */
class MeterHarness {
 public:
  MeterHarness(const std::string &format, gint rate, guint channels,
               const std::vector<std::pair<std::string, std::string>> &properties = {},
               guint64 channel_mask = 0)
      : format_(gst_audio_format_from_string(format.c_str())), rate_(rate), channels_(channels) {
    element_ = adopt_floating(gst_element_factory_make("loudnessmeter", nullptr));
    for (const auto &[name, value] : properties)
      gst_util_set_object_arg(G_OBJECT(element_.get()), name.c_str(), value.c_str());
    bus_.reset(gst_bus_new());
    gst_element_set_bus(element_.get(), bus_.get());
    harness_ = gst_harness_new_with_element(element_.get(), "sink", "src");
    gst_harness_set_drop_buffers(harness_, TRUE);
    GCharPtr caps(g_strdup_printf("audio/x-raw,format=%s,rate=%d,channels=%u,layout=interleaved",
                                  format.c_str(), rate, channels));
    std::string caps_text = caps.get();
    if (channel_mask != 0) {
      GCharPtr mask(
          g_strdup_printf(",channel-mask=(bitmask)0x%" G_GINT64_MODIFIER "x", channel_mask));
      caps_text += mask.get();
    }
    gst_harness_set_src_caps_str(harness_, caps_text.c_str());
  }
  ~MeterHarness() { gst_harness_teardown(harness_); }
  MeterHarness(const MeterHarness &) = delete;
  MeterHarness &operator=(const MeterHarness &) = delete;

  gint rate() const { return rate_; }
  GstClockTime frame_time(guint64 frame) const { return base_ + samples_to_time(frame, rate_); }

  /* Pushes frames [next, next + frames) of signal in buffers of
   * buffer_frames, timestamped contiguously. */
  void push(guint64 frames, const Signal &signal, guint64 buffer_frames = 1024) {
    while (frames > 0) {
      const guint64 n = std::min(frames, buffer_frames);
      push_buffer(frame_time(next_), n, next_, signal, GstBufferFlags(0));
      next_ += n;
      frames -= n;
    }
  }

  /* One buffer of frames taken from signal at first_frame, with an explicit
   * PTS and flags. */
  void push_buffer(GstClockTime pts, guint64 frames, guint64 first_frame, const Signal &signal,
                   GstBufferFlags flags) {
    const gsize width = GST_AUDIO_FORMAT_INFO_WIDTH(gst_audio_format_get_info(format_)) / 8;
    GstBuffer *buffer = gst_buffer_new_allocate(nullptr, frames * channels_ * width, nullptr);
    GstMapInfo map;
    ASSERT_TRUE(gst_buffer_map(buffer, &map, GST_MAP_WRITE));
    guint8 *p = map.data;
    for (guint64 f = 0; f < frames; ++f)
      for (guint c = 0; c < channels_; ++c, p += width)
        write_sample(format_, p, signal(first_frame + f, c));
    gst_buffer_unmap(buffer, &map);
    GST_BUFFER_PTS(buffer) = pts;
    GST_BUFFER_DURATION(buffer) = samples_to_time(frames, rate_);
    GST_BUFFER_FLAG_SET(buffer, flags);
    ASSERT_EQ(gst_harness_push(harness_, buffer), GST_FLOW_OK);
  }

  void skip(guint64 frames) { next_ += frames; }

  /* New caps; frames are numbered from 0 again at the current time. */
  void set_caps(const std::string &format, gint rate, guint channels) {
    base_ = frame_time(next_);
    next_ = 0;
    format_ = gst_audio_format_from_string(format.c_str());
    rate_ = rate;
    channels_ = channels;
    GCharPtr caps(g_strdup_printf("audio/x-raw,format=%s,rate=%d,channels=%u,layout=interleaved",
                                  format.c_str(), rate, channels));
    gst_harness_set_src_caps_str(harness_, caps.get());
  }
  void set_base(GstClockTime base) { base_ = base; }
  guint64 next_frame() const { return next_; }

  void push_event(GstEvent *event) { ASSERT_TRUE(gst_harness_push_event(harness_, event)); }
  void eos() { push_event(gst_event_new_eos()); }

  /* Everything posted so far, in order. */
  const std::vector<StructurePtr> &messages() {
    while (MessagePtr m{gst_bus_pop_filtered(bus_.get(), GST_MESSAGE_ELEMENT)})
      messages_.emplace_back(gst_structure_copy(gst_message_get_structure(m.get())));
    return messages_;
  }
  std::vector<const GstStructure *> named(const char *name, int summary = -1) {
    std::vector<const GstStructure *> found;
    for (const auto &s : messages()) {
      if (!gst_structure_has_name(s.get(), name)) continue;
      gboolean is_summary = FALSE;
      gst_structure_get_boolean(s.get(), "summary", &is_summary);
      if (summary < 0 || (summary != 0) == (is_summary != 0)) found.push_back(s.get());
    }
    return found;
  }
  std::vector<const GstStructure *> intervals() { return named("loudnessmeter", 0); }
  std::vector<const GstStructure *> summaries() { return named("loudnessmeter", 1); }
  std::vector<const GstStructure *> silences() { return named("loudnessmeter-silence"); }

 private:
  GstAudioFormat format_;
  gint rate_;
  guint channels_;
  GstClockTime base_ = 0;
  guint64 next_ = 0;
  GstObjectPtr<GstElement> element_;
  GstObjectPtr<GstBus> bus_;
  GstHarness *harness_ = nullptr;
  std::vector<StructurePtr> messages_;
};

std::vector<const GstStructure *> intervals_of(const PipelineRun &run) {
  std::vector<const GstStructure *> found;
  for (const GstStructure *s : run.messages("loudnessmeter")) {
    gboolean summary = TRUE;
    EXPECT_TRUE(gst_structure_get_boolean(s, "summary", &summary));
    if (!summary) found.push_back(s);
  }
  return found;
}

const GstStructure *summary_of(const PipelineRun &run) {
  const GstStructure *found = nullptr;
  int count = 0;
  for (const GstStructure *s : run.messages("loudnessmeter")) {
    gboolean summary = FALSE;
    gst_structure_get_boolean(s, "summary", &summary);
    if (summary) {
      found = s;
      ++count;
    }
  }
  EXPECT_EQ(count, 1) << "expected exactly one summary";
  return found;
}

bool is_minus_inf(double v) {
  return std::isinf(v) && v < 0;
}

void expect_silence(const GstStructure *s, GstClockTime start, GstClockTime end) {
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(get_uint64(s, "silence-start"), start);
  EXPECT_EQ(get_uint64(s, "silence-end"), end);
  EXPECT_EQ(get_uint64(s, "silence-duration"), end - start);
  EXPECT_EQ(get_uint64(s, "timestamp"), start);
  EXPECT_EQ(get_uint64(s, "duration"), end - start);
}

/* ---- Loudness of known signals ---------------------------------------- */

/* A 1 kHz sine at -20 dBFS (peak 0.1) in both channels: BS.1770's K filter
 * gains about +0.69 dB at 1 kHz, which the -0.691 constant cancels, so
 * momentary, short-term and integrated loudness are -20 LUFS. */
TEST(LoudnessMeter, SineAtMinus20DbfsStereoIsMinus20Lufs) {
  const PipelineRun run = run_pipeline(
      "audiotestsrc freq=1000 volume=0.1 samplesperbuffer=4800 num-buffers=50 ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=2 ! loudnessmeter ! fakesink");
  ASSERT_TRUE(run.reached_eos) << run.error;
  const auto intervals = intervals_of(run);
  ASSERT_EQ(intervals.size(), 5u);
  for (size_t i = 0; i < intervals.size(); ++i) {
    SCOPED_TRACE("interval " + std::to_string(i));
    EXPECT_NEAR(get_double(intervals[i], "momentary"), -20.0, 0.02);
    /* 1 kHz at 48 kHz hits the crest exactly: the sample peak is 0.1. */
    EXPECT_NEAR(get_double(intervals[i], "sample-peak"), -20.0, 1e-4);
    EXPECT_NEAR(get_double(intervals[i], "true-peak"), -20.0, 0.1);
    EXPECT_GE(get_double(intervals[i], "true-peak"), get_double(intervals[i], "sample-peak"));
    /* Histogram mode: 0.1 LU bins. */
    EXPECT_NEAR(get_double(intervals[i], "integrated"), -20.0, 0.06);
    EXPECT_NEAR(get_double(intervals[i], "loudness-range"), 0.0, 0.1);
  }
  /* The 3 s short-term window counts what it has not seen yet as silence:
   * after 1 s it holds a third of the energy, -4.77 dB. */
  EXPECT_NEAR(get_double(intervals[0], "short-term"), -20.0 - 10 * std::log10(3.0), 0.02);
  EXPECT_NEAR(get_double(intervals[3], "short-term"), -20.0, 0.02);

  const GstStructure *summary = summary_of(run);
  ASSERT_NE(summary, nullptr);
  EXPECT_NEAR(get_double(summary, "integrated"), -20.0, 0.06);
  EXPECT_NEAR(get_double(summary, "sample-peak"), -20.0, 1e-4);
  EXPECT_NEAR(get_double(summary, "true-peak"), -20.0, 0.1);
}

struct FormatRate {
  const char *format;
  gint rate;
};

std::string format_rate_name(const ::testing::TestParamInfo<FormatRate> &info) {
  return std::string(info.param.format) + "_" + std::to_string(info.param.rate);
}

class LoudnessAcrossFormats : public ::testing::TestWithParam<FormatRate> {};

/* The same -20 dBFS 1 kHz sine reads the same at every format and rate, and
 * intervals fall on whole seconds. */
TEST_P(LoudnessAcrossFormats, SineAtMinus20Dbfs) {
  const auto [format, rate] = GetParam();
  const PipelineRun run = run_pipeline(
      "audiotestsrc freq=1000 volume=0.1 samplesperbuffer=" + std::to_string(rate / 100) +
      " num-buffers=300 ! audio/x-raw,format=" + format + ",rate=" + std::to_string(rate) +
      ",channels=2 ! loudnessmeter ! fakesink");
  ASSERT_TRUE(run.reached_eos) << run.error;
  const auto intervals = intervals_of(run);
  ASSERT_EQ(intervals.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(get_uint64(intervals[i], "timestamp"), i * GST_SECOND);
    EXPECT_EQ(get_uint64(intervals[i], "duration"), GST_SECOND);
    EXPECT_NEAR(get_double(intervals[i], "momentary"), -20.0, 0.02);
    EXPECT_NEAR(get_double(intervals[i], "sample-peak"), -20.0, 0.01);
  }
  const GstStructure *summary = summary_of(run);
  ASSERT_NE(summary, nullptr);
  EXPECT_NEAR(get_double(summary, "integrated"), -20.0, 0.06);
  EXPECT_NEAR(get_double(summary, "true-peak"), -20.0, 0.1);
  EXPECT_EQ(get_uint64(summary, "duration"), 3 * GST_SECOND);
}

INSTANTIATE_TEST_SUITE_P(Formats, LoudnessAcrossFormats,
                         ::testing::Values(FormatRate{"S16LE", 44100}, FormatRate{"S16LE", 48000},
                                           FormatRate{"F32LE", 44100}, FormatRate{"F32LE", 48000}),
                         format_rate_name);

/* Mono plays on two loudspeakers: measured as dual mono, so the same sine
 * in one channel reads the same -20 LUFS as in two. */
TEST(LoudnessMeter, MonoIsMeasuredAsDualMono) {
  const PipelineRun run = run_pipeline(
      "audiotestsrc freq=1000 volume=0.1 samplesperbuffer=4800 num-buffers=30 ! "
      "audio/x-raw,format=S16LE,rate=48000,channels=1 ! loudnessmeter ! fakesink");
  ASSERT_TRUE(run.reached_eos) << run.error;
  const GstStructure *summary = summary_of(run);
  ASSERT_NE(summary, nullptr);
  EXPECT_NEAR(get_double(summary, "momentary"), -20.0, 0.02);
  EXPECT_NEAR(get_double(summary, "integrated"), -20.0, 0.06);
  /* 0.1 of full scale in 16 bits, within a sample value. */
  EXPECT_NEAR(get_double(summary, "sample-peak"), -20.0, 20 * std::log10(3277.0 / 3276.0));
}

/* libebur128's reference: a full-scale 997 Hz sine in one channel of stereo
 * is -3.01 LUFS. */
TEST(LoudnessMeter, FullScale997HzInOneChannelIsMinus3Lufs) {
  MeterHarness h("F64LE", 48000, 2);
  const Signal left_only = [s = sine(1.0, 997, 48000)](guint64 f, guint c) {
    return c == 0 ? s(f, c) : 0.0;
  };
  h.push(G_GUINT64_CONSTANT(48000) * 3, left_only, 4800);
  h.eos();
  const auto summaries = h.summaries();
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_NEAR(get_double(summaries[0], "momentary"), -3.01, 0.01);
  EXPECT_NEAR(get_double(summaries[0], "short-term"), -3.01, 0.01);
  EXPECT_NEAR(get_double(summaries[0], "integrated"), -3.01, 0.06);
  EXPECT_NEAR(get_double(summaries[0], "sample-peak"), 0.0, 0.01);
}

/* 5.1 (FL FR FC LFE RL RR): LFE ignored, rear pair weighted 1.41
 * (+1.49 dB), front channels 1.0; peaks still see every channel. */
TEST(LoudnessMeter, FiveOneIgnoresLfeAndWeightsSurrounds) {
  const double single = -20.0 - 10 * std::log10(2.0); /* -20 dBFS sine in one channel */
  struct Case {
    guint channel;
    double loudness;
  };
  for (const Case &c : {Case{0, single}, Case{2, single}, Case{3, kMinusInf},
                        Case{4, single + 10 * std::log10(1.41)}}) {
    SCOPED_TRACE("tone in channel " + std::to_string(c.channel));
    MeterHarness h("F32LE", 48000, 6, {}, 0x3f);
    const Signal one_channel = [s = sine(0.1, 1000, 48000), ch = c.channel](guint64 f, guint k) {
      return k == ch ? s(f, k) : 0.0;
    };
    h.push(G_GUINT64_CONSTANT(48000) * 2, one_channel, 4800);
    h.eos();
    const auto summaries = h.summaries();
    ASSERT_EQ(summaries.size(), 1u);
    if (is_minus_inf(c.loudness)) {
      EXPECT_TRUE(is_minus_inf(get_double(summaries[0], "momentary")));
      EXPECT_TRUE(is_minus_inf(get_double(summaries[0], "integrated")));
    } else {
      EXPECT_NEAR(get_double(summaries[0], "momentary"), c.loudness, 0.02);
      EXPECT_NEAR(get_double(summaries[0], "integrated"), c.loudness, 0.06);
    }
    EXPECT_NEAR(get_double(summaries[0], "sample-peak"), -20.0, 1e-4);
  }
}

/* The same sine in all six channels through a real pipeline:
 * 3 x 1.0 + 2 x 1.41 times one channel's energy. */
TEST(LoudnessMeter, FiveOneFromAudiotestsrc) {
  const PipelineRun run = run_pipeline(
      "audiotestsrc freq=1000 volume=0.1 samplesperbuffer=4800 num-buffers=20 ! "
      "audio/x-raw,format=S16LE,rate=48000,channels=6,channel-mask=(bitmask)0x3f ! "
      "loudnessmeter ! fakesink");
  ASSERT_TRUE(run.reached_eos) << run.error;
  const GstStructure *summary = summary_of(run);
  ASSERT_NE(summary, nullptr);
  const double expected = -20.0 - 10 * std::log10(2.0) + 10 * std::log10(3.0 + 2 * 1.41);
  EXPECT_NEAR(get_double(summary, "momentary"), expected, 0.02);
}

/* Digital silence has no loudness: -inf doubles, not sentinels. */
TEST(LoudnessMeter, SilenceIsMinusInfinity) {
  const PipelineRun run = run_pipeline(
      "audiotestsrc wave=silence samplesperbuffer=4410 num-buffers=30 ! "
      "audio/x-raw,format=S16LE,rate=44100,channels=2 ! loudnessmeter ! fakesink");
  ASSERT_TRUE(run.reached_eos) << run.error;
  auto all = intervals_of(run);
  all.push_back(summary_of(run));
  ASSERT_EQ(all.size(), 4u);
  for (const GstStructure *s : all) {
    ASSERT_NE(s, nullptr);
    for (const char *field : {"momentary", "short-term", "integrated", "sample-peak", "true-peak"})
      EXPECT_TRUE(is_minus_inf(get_double(s, field))) << field;
    EXPECT_EQ(get_double(s, "loudness-range"), 0.0);
  }
}

/* ---- Intervals and the summary ---------------------------------------- */

TEST(LoudnessMeter, IntervalTimestampsAndSummary) {
  /* 2.5 s in 10 ms buffers: full intervals at 0 and 1 s, the rest (0.5 s)
   * at EOS, then the summary over everything. */
  const PipelineRun run = run_pipeline(
      "audiotestsrc freq=1000 volume=0.1 samplesperbuffer=480 num-buffers=250 ! "
      "audio/x-raw,format=S16LE,rate=48000,channels=2 ! loudnessmeter ! fakesink");
  ASSERT_TRUE(run.reached_eos) << run.error;
  const auto intervals = intervals_of(run);
  ASSERT_EQ(intervals.size(), 3u);
  const GstClockTime starts[] = {0, GST_SECOND, 2 * GST_SECOND};
  const GstClockTime durations[] = {GST_SECOND, GST_SECOND, GST_SECOND / 2};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(get_uint64(intervals[i], "timestamp"), starts[i]);
    EXPECT_EQ(get_uint64(intervals[i], "stream-time"), starts[i]);
    EXPECT_EQ(get_uint64(intervals[i], "running-time"), starts[i]);
    EXPECT_EQ(get_uint64(intervals[i], "duration"), durations[i]);
  }
  const GstStructure *summary = summary_of(run);
  ASSERT_NE(summary, nullptr);
  EXPECT_EQ(get_uint64(summary, "timestamp"), 0u);
  EXPECT_EQ(get_uint64(summary, "duration"), 2500 * GST_MSECOND);
  /* The summary is the last message. */
  EXPECT_EQ(run.element_messages.back().get(), summary);
}

/* interval cuts buffers: 250 ms at 44.1 kHz from 1000-frame buffers. */
TEST(LoudnessMeter, IntervalProperty) {
  const PipelineRun run = run_pipeline(
      "audiotestsrc freq=1000 volume=0.1 samplesperbuffer=1000 num-buffers=45 ! "
      "audio/x-raw,format=F32LE,rate=44100,channels=1 ! loudnessmeter interval=250000000 ! "
      "fakesink");
  ASSERT_TRUE(run.reached_eos) << run.error;
  /* 45000 frames = 4 x 11025 + 900. */
  const auto intervals = intervals_of(run);
  ASSERT_EQ(intervals.size(), 5u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(get_uint64(intervals[i], "timestamp"), i * 250 * GST_MSECOND);
    EXPECT_EQ(get_uint64(intervals[i], "duration"), 250 * GST_MSECOND);
  }
  EXPECT_EQ(get_uint64(intervals[4], "timestamp"), GST_SECOND);
  EXPECT_EQ(get_uint64(intervals[4], "duration"), samples_to_time(900, 44100));
}

/* Interval peaks are per interval; the summary's are over the stream. */
TEST(LoudnessMeter, PeaksPerIntervalAndOverTheStream) {
  MeterHarness h("S16LE", 48000, 2);
  h.push(48000, silence(), 1000);
  h.push(48000, square(0.5), 1000);
  h.push(48000, square(0.1), 1000);
  h.eos();
  const auto intervals = h.intervals();
  ASSERT_EQ(intervals.size(), 3u);
  const double loud = 20 * std::log10(16384.0 / 32768.0);
  const double quiet = 20 * std::log10(3277.0 / 32768.0);
  EXPECT_TRUE(is_minus_inf(get_double(intervals[0], "sample-peak")));
  EXPECT_TRUE(is_minus_inf(get_double(intervals[0], "true-peak")));
  EXPECT_NEAR(get_double(intervals[1], "sample-peak"), loud, 1e-9);
  EXPECT_NEAR(get_double(intervals[2], "sample-peak"), quiet, 1e-9);
  /* A square wave overshoots between samples. */
  EXPECT_GT(get_double(intervals[1], "true-peak"), loud);
  const auto summaries = h.summaries();
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_NEAR(get_double(summaries[0], "sample-peak"), loud, 1e-9);
  EXPECT_EQ(get_double(summaries[0], "true-peak"), get_double(intervals[1], "true-peak"));
  EXPECT_EQ(get_uint64(summaries[0], "duration"), 3 * GST_SECOND);
}

TEST(LoudnessMeter, SummaryWithoutAudio) {
  MeterHarness h("S16LE", 48000, 2);
  h.eos();
  const auto summaries = h.summaries();
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(get_uint64(summaries[0], "timestamp"), GST_CLOCK_TIME_NONE);
  EXPECT_EQ(get_uint64(summaries[0], "duration"), 0u);
  EXPECT_TRUE(is_minus_inf(get_double(summaries[0], "integrated")));
  EXPECT_TRUE(h.intervals().empty());
}

/* The summary is on the bus before EOS leaves the element, so a parent bin
 * can rely on it when it sees EOS. */
TEST(LoudnessMeter, SummaryPostedBeforeEosLeavesTheElement) {
  GError *raw_error = nullptr;
  auto pipeline = adopt_floating(gst_parse_launch(
      "audiotestsrc num-buffers=20 ! loudnessmeter name=meter ! fakesink", &raw_error));
  GErrorPtr error(raw_error);
  ASSERT_FALSE(error) << error->message;
  struct Order {
    std::mutex lock;
    bool summary_posted = false;
    bool summary_before_eos = false;
  } order;
  GstObjectPtr<GstBus> bus(gst_element_get_bus(pipeline.get()));
  gst_bus_set_sync_handler(
      bus.get(),
      [](GstBus *, GstMessage *message, gpointer data) {
        const GstStructure *s = gst_message_get_structure(message);
        gboolean summary = FALSE;
        if (GST_MESSAGE_TYPE(message) == GST_MESSAGE_ELEMENT &&
            gst_structure_has_name(s, "loudnessmeter") &&
            gst_structure_get_boolean(s, "summary", &summary) && summary) {
          auto *o = static_cast<Order *>(data);
          const std::lock_guard<std::mutex> lock(o->lock);
          o->summary_posted = true;
        }
        return GST_BUS_PASS;
      },
      &order, nullptr);
  GstObjectPtr<GstElement> meter(gst_bin_get_by_name(GST_BIN(pipeline.get()), "meter"));
  GstObjectPtr<GstPad> src(gst_element_get_static_pad(meter.get(), "src"));
  gst_pad_add_probe(
      src.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      [](GstPad *, GstPadProbeInfo *info, gpointer data) {
        if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS) {
          auto *o = static_cast<Order *>(data);
          const std::lock_guard<std::mutex> lock(o->lock);
          o->summary_before_eos = o->summary_posted;
        }
        return GST_PAD_PROBE_OK;
      },
      &order, nullptr);
  const PipelineRun run = run_pipeline(pipeline.get());
  ASSERT_TRUE(run.reached_eos) << run.error;
  const std::lock_guard<std::mutex> lock(order.lock);
  EXPECT_TRUE(order.summary_before_eos);
}

/* ---- Silent runs ------------------------------------------------------- */

class SilenceAtSampleTimes : public ::testing::TestWithParam<FormatRate> {};

/* Runs start at the first silent frame and end at the first loud one, sample
 * exact, wherever the buffer boundaries fall; shorter runs are not
 * reported; a run open at EOS ends at the end of the stream. */
TEST_P(SilenceAtSampleTimes, ExactStartAndEnd) {
  const auto [format, rate] = GetParam();
  MeterHarness h(format, rate, 2);
  const auto at = [rate = rate](double seconds) {
    return static_cast<guint64>(std::llround(seconds * rate));
  };
  const guint64 a = at(1.0417), b = at(3.6031), c = at(4.9), d = at(5.7), e = at(6.3);
  const guint64 end = at(8.5);
  const Signal signal = piecewise({{a, square(0.25)},
                                   {b, silence()}, /* 2.56 s: reported */
                                   {c, square(0.25)},
                                   {d, silence()}, /* 0.8 s: too short */
                                   {e, square(0.25)},
                                   {end, silence()}}); /* 2.2 s, open at EOS */
  h.push(end, signal, 1024);
  h.eos();
  const auto silences = h.silences();
  ASSERT_EQ(silences.size(), 2u);
  expect_silence(silences[0], h.frame_time(a), h.frame_time(b));
  expect_silence(silences[1], h.frame_time(e), h.frame_time(end));
  EXPECT_EQ(get_uint64(silences[0], "stream-time"), h.frame_time(a));
  EXPECT_EQ(get_uint64(silences[0], "running-time"), h.frame_time(a));
}

INSTANTIATE_TEST_SUITE_P(Formats, SilenceAtSampleTimes,
                         ::testing::Values(FormatRate{"S16LE", 44100}, FormatRate{"S16LE", 48000},
                                           FormatRate{"F32LE", 44100}, FormatRate{"F32LE", 48000},
                                           FormatRate{"S32LE", 48000}, FormatRate{"F64LE", 8000}),
                         format_rate_name);

/* Like ffmpeg silencedetect with mono=0: one loud channel keeps the frame
 * loud. */
TEST(LoudnessMeter, SilenceNeedsEveryChannelQuiet) {
  MeterHarness h("S16LE", 48000, 2);
  const Signal right_only = [s = square(0.25)](guint64 f, guint c) { return c == 1 ? s(f, c) : 0; };
  h.push(G_GUINT64_CONSTANT(48000) * 3, right_only);
  h.push(G_GUINT64_CONSTANT(48000) * 3, silence());
  h.eos();
  const auto silences = h.silences();
  ASSERT_EQ(silences.size(), 1u);
  expect_silence(silences[0], 3 * GST_SECOND, 6 * GST_SECOND);
}

/* The threshold is strict and, for S16, truncated to an integer as ffmpeg
 * does: -60 dB is 0.001 x 32767 = 32.767 -> 32, so |31| is silent, |32| is
 * not. Float formats compare against 0.001 itself. */
TEST(LoudnessMeter, SilenceThresholdIsStrictLikeFfmpeg) {
  const auto constant = [](double v) { return [v](guint64 f, guint) { return f % 2 ? v : -v; }; };
  {
    MeterHarness h("S16LE", 48000, 1);
    h.push(G_GUINT64_CONSTANT(48000) * 3, constant(31.0 / 32767.0));
    h.push(G_GUINT64_CONSTANT(48000) * 3, constant(32.0 / 32767.0));
    h.eos();
    const auto silences = h.silences();
    ASSERT_EQ(silences.size(), 1u);
    expect_silence(silences[0], 0, 3 * GST_SECOND);
  }
  {
    MeterHarness h("F32LE", 48000, 1);
    h.push(G_GUINT64_CONSTANT(48000) * 3, constant(0.00099));
    h.push(G_GUINT64_CONSTANT(48000) * 3, constant(0.001));
    h.eos();
    const auto silences = h.silences();
    ASSERT_EQ(silences.size(), 1u);
    expect_silence(silences[0], 0, 3 * GST_SECOND);
  }
}

/* A -46 dBFS hum is silence at a -40 dB threshold, not at -60 dB. */
TEST(LoudnessMeter, SilenceThresholdProperty) {
  for (const auto &[threshold, expected] :
       std::vector<std::pair<std::string, size_t>>{{"-40", 1}, {"-60", 0}}) {
    SCOPED_TRACE("silence-threshold=" + threshold);
    MeterHarness h("F32LE", 48000, 2, {{"silence-threshold", threshold}});
    h.push(48000, square(0.5));
    h.push(G_GUINT64_CONSTANT(48000) * 3, sine(0.005, 50, 48000));
    h.push(48000, square(0.5));
    h.eos();
    const auto silences = h.silences();
    ASSERT_EQ(silences.size(), expected);
    /* The 50 Hz sine starts at zero: the run starts with it. */
    if (expected == 1) expect_silence(silences[0], GST_SECOND, 4 * GST_SECOND);
  }
}

/* Runs of at least silence-min-duration (rounded to samples) are reported:
 * exactly the minimum counts, one sample less does not. */
TEST(LoudnessMeter, SilenceMinDurationProperty) {
  for (const guint64 run_frames : {24000u, 23999u}) {
    SCOPED_TRACE("run of " + std::to_string(run_frames) + " frames");
    MeterHarness h("S16LE", 48000, 1, {{"silence-min-duration", "500000000"}});
    h.push(10000, square(0.25));
    h.push(run_frames, silence());
    h.push(10000, square(0.25));
    h.eos();
    const auto silences = h.silences();
    ASSERT_EQ(silences.size(), run_frames == 24000 ? 1u : 0u);
    if (!silences.empty())
      expect_silence(silences[0], h.frame_time(10000), h.frame_time(10000 + run_frames));
  }
  /* The default is 2 s. */
  MeterHarness h("S16LE", 48000, 1);
  h.push(48000, square(0.25));
  h.push(95999, silence());
  h.push(48000, square(0.25));
  h.push(96000, silence());
  h.push(48000, square(0.25));
  h.eos();
  ASSERT_EQ(h.silences().size(), 1u);
  expect_silence(h.silences()[0], h.frame_time(48000 + 95999 + 48000),
                 h.frame_time(48000 + 95999 + 48000 + 96000));
}

TEST(LoudnessMeter, PropertyDefaultsAndRanges) {
  auto meter = adopt_floating(gst_element_factory_make("loudnessmeter", nullptr));
  ASSERT_TRUE(meter);
  GObjectClass *klass = G_OBJECT_GET_CLASS(meter.get());
  auto *interval = G_PARAM_SPEC_UINT64(g_object_class_find_property(klass, "interval"));
  ASSERT_NE(interval, nullptr);
  EXPECT_EQ(interval->default_value, GST_SECOND);
  EXPECT_EQ(interval->minimum, 10 * GST_MSECOND);
  auto *threshold = G_PARAM_SPEC_DOUBLE(g_object_class_find_property(klass, "silence-threshold"));
  ASSERT_NE(threshold, nullptr);
  EXPECT_EQ(threshold->default_value, -60.0);
  EXPECT_EQ(threshold->maximum, 0.0);
  auto *min_duration =
      G_PARAM_SPEC_UINT64(g_object_class_find_property(klass, "silence-min-duration"));
  ASSERT_NE(min_duration, nullptr);
  EXPECT_EQ(min_duration->default_value, 2 * GST_SECOND);
  for (GParamSpec *p :
       {G_PARAM_SPEC(interval), G_PARAM_SPEC(threshold), G_PARAM_SPEC(min_duration)}) {
    EXPECT_TRUE(p->flags & GST_PARAM_MUTABLE_READY) << p->name;
  }
  /* Values set before start are the ones measured with (checked by the
   * property tests above); they read back unchanged. */
  g_object_set(meter.get(), "interval", G_GUINT64_CONSTANT(250000000), "silence-threshold", -42.5,
               nullptr);
  guint64 value = 0;
  gdouble db = 0;
  g_object_get(meter.get(), "interval", &value, "silence-threshold", &db, nullptr);
  EXPECT_EQ(value, 250 * GST_MSECOND);
  EXPECT_EQ(db, -42.5);
}

/* ---- Timestamps: PTS, gaps, holes, overlaps, segments ------------------ */

/* Message times come from the buffer PTS plus the sample offset. */
TEST(LoudnessMeter, TimesFollowBufferTimestamps) {
  MeterHarness h("S16LE", 48000, 2);
  h.set_base(10 * GST_SECOND + 12345);
  h.push(48000, square(0.25));
  h.push(G_GUINT64_CONSTANT(48000) * 3, silence());
  h.push(24000, square(0.25));
  h.eos();
  const auto intervals = h.intervals();
  ASSERT_EQ(intervals.size(), 5u);
  EXPECT_EQ(get_uint64(intervals[0], "timestamp"), 10 * GST_SECOND + 12345);
  EXPECT_EQ(get_uint64(intervals[4], "timestamp"), 14 * GST_SECOND + 12345);
  EXPECT_EQ(get_uint64(intervals[4], "duration"), GST_SECOND / 2);
  ASSERT_EQ(h.silences().size(), 1u);
  expect_silence(h.silences()[0], 11 * GST_SECOND + 12345, 14 * GST_SECOND + 12345);
  const auto summaries = h.summaries();
  ASSERT_EQ(summaries.size(), 1u);
  EXPECT_EQ(get_uint64(summaries[0], "timestamp"), 10 * GST_SECOND + 12345);
  EXPECT_EQ(get_uint64(summaries[0], "duration"), 4500 * GST_MSECOND);
}

/* A GAP event is silence, as an audio sink plays it: it joins the silent
 * samples around it into one run and the intervals go on through it. */
TEST(LoudnessMeter, GapEventIsSilence) {
  MeterHarness h("S16LE", 48000, 2);
  h.push(48000, square(0.25));
  h.push(24000, silence());
  h.push_event(gst_event_new_gap(h.frame_time(72000), GST_SECOND));
  h.skip(48000);
  h.push(24000, silence());
  h.push(48000, square(0.25));
  h.eos();
  ASSERT_EQ(h.silences().size(), 1u);
  expect_silence(h.silences()[0], GST_SECOND, 3 * GST_SECOND);
  const auto intervals = h.intervals();
  ASSERT_EQ(intervals.size(), 4u);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(get_uint64(intervals[i], "timestamp"), i * GST_SECOND);
  EXPECT_TRUE(is_minus_inf(get_double(intervals[2], "sample-peak")));
  EXPECT_EQ(get_uint64(h.summaries()[0], "duration"), 4 * GST_SECOND);
}

/* A hole in the timestamps (more than 40 ms) is silence too; buffers
 * flagged GAP as well. */
TEST(LoudnessMeter, TimestampHoleAndGapBuffersAreSilence) {
  MeterHarness h("S16LE", 48000, 1);
  h.push(48000, square(0.25));
  h.skip(G_GUINT64_CONSTANT(48000) * 2); /* 2 s hole */
  h.push(48000, square(0.25));
  h.push_buffer(h.frame_time(h.next_frame()), G_GUINT64_CONSTANT(48000) * 2, h.next_frame(),
                square(0.25), GST_BUFFER_FLAG_GAP); /* content ignored: silence */
  h.skip(G_GUINT64_CONSTANT(48000) * 2);
  h.push(4800, square(0.25));
  h.eos();
  const auto silences = h.silences();
  ASSERT_EQ(silences.size(), 2u);
  expect_silence(silences[0], GST_SECOND, 3 * GST_SECOND);
  expect_silence(silences[1], 4 * GST_SECOND, 6 * GST_SECOND);
  EXPECT_EQ(get_uint64(h.summaries()[0], "duration"), 6100 * GST_MSECOND);
}

/* Timestamp jitter below 40 ms is ignored: samples are counted. A DISCONT
 * buffer is placed at its PTS to the sample: later, the hole is silence;
 * earlier, only what follows the audio already measured is measured. */
TEST(LoudnessMeter, JitterDiscontAndOverlap) {
  MeterHarness h("S16LE", 48000, 1);
  h.push(48000, square(0.25));
  /* 10 ms late without DISCONT: counted as contiguous, [1 s, 2 s). */
  h.push_buffer(GST_SECOND + 10 * GST_MSECOND, 48000, 48000, silence(), GstBufferFlags(0));
  /* Back to 1.5 s with DISCONT: its first 500 ms are skipped, [2 s, 3.5 s). */
  h.push_buffer(1500 * GST_MSECOND, G_GUINT64_CONSTANT(48000) * 2, 72000, silence(),
                GST_BUFFER_FLAG_DISCONT);
  /* 20 ms late with DISCONT: a 20 ms hole of silence, then [3.52 s, 4.52 s). */
  h.push_buffer(3520 * GST_MSECOND, 48000, 168000, square(0.25), GST_BUFFER_FLAG_DISCONT);
  h.eos();
  const auto silences = h.silences();
  ASSERT_EQ(silences.size(), 1u);
  expect_silence(silences[0], GST_SECOND, 3520 * GST_MSECOND);
  EXPECT_EQ(get_uint64(h.summaries()[0], "duration"), 4520 * GST_MSECOND);
}

/* A new segment ends the interval and the silent run (a run shorter than the
 * minimum on each side is no run), and later messages carry the new
 * segment's stream and running time. */
TEST(LoudnessMeter, NewSegmentRestartsTheTimeline) {
  MeterHarness h("S16LE", 48000, 1);
  h.push(48000, square(0.25));
  h.push(72000, silence()); /* 1.5 s, cut by the segment */
  GstSegment segment;
  gst_segment_init(&segment, GST_FORMAT_TIME);
  segment.start = 20 * GST_SECOND;
  segment.time = 100 * GST_SECOND;
  segment.base = 5 * GST_SECOND;
  h.push_event(gst_event_new_segment(&segment));
  /* Frames are numbered from the new segment's first buffer. */
  h.push_buffer(20 * GST_SECOND, 72000, 0, silence(), GST_BUFFER_FLAG_DISCONT);
  h.push_buffer(20 * GST_SECOND + 1500 * GST_MSECOND, G_GUINT64_CONSTANT(48000) * 3, 72000,
                square(0.25), GstBufferFlags(0));
  h.eos();
  EXPECT_TRUE(h.silences().empty());
  const auto intervals = h.intervals();
  /* Before: 0-1 s, 1-2 s, 2-2.5 s (cut). After: 20, 21, 22, 23 s, 24-24.5 s. */
  ASSERT_EQ(intervals.size(), 8u);
  EXPECT_EQ(get_uint64(intervals[2], "timestamp"), 2 * GST_SECOND);
  EXPECT_EQ(get_uint64(intervals[2], "duration"), GST_SECOND / 2);
  EXPECT_EQ(get_uint64(intervals[3], "timestamp"), 20 * GST_SECOND);
  EXPECT_EQ(get_uint64(intervals[3], "stream-time"), 100 * GST_SECOND);
  EXPECT_EQ(get_uint64(intervals[3], "running-time"), 5 * GST_SECOND);
  EXPECT_EQ(get_uint64(intervals[7], "timestamp"), 24 * GST_SECOND);
  EXPECT_EQ(get_uint64(h.summaries()[0], "duration"), 7 * GST_SECOND);
}

/* A new rate ends the timeline and restarts the momentary and short-term
 * windows; integrated loudness carries on. A new sample format alone changes
 * nothing. */
TEST(LoudnessMeter, CapsChanges) {
  MeterHarness h("F32LE", 48000, 2);
  h.push(G_GUINT64_CONSTANT(48000) * 2, sine(0.1, 1000, 48000), 4800);
  h.set_caps("F32LE", 44100, 2);
  h.push(G_GUINT64_CONSTANT(44100) * 2, sine(0.1, 1000, 44100), 4410);
  h.eos();
  const auto intervals = h.intervals();
  ASSERT_EQ(intervals.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(get_uint64(intervals[i], "timestamp"), i * GST_SECOND);
    EXPECT_EQ(get_uint64(intervals[i], "duration"), GST_SECOND);
    EXPECT_NEAR(get_double(intervals[i], "integrated"), -20.0, 0.06);
  }
  /* One second into the new timeline the 3 s window is a third full. */
  EXPECT_NEAR(get_double(intervals[2], "short-term"), -20.0 - 10 * std::log10(3.0), 0.05);
  EXPECT_NEAR(get_double(intervals[1], "short-term"), -20.0 - 10 * std::log10(1.5), 0.05);
  EXPECT_EQ(get_uint64(h.summaries()[0], "duration"), 4 * GST_SECOND);

  MeterHarness g("F32LE", 48000, 1);
  g.push(72000, sine(0.1, 1000, 48000), 4800);
  g.set_caps("S16LE", 48000, 1);
  g.push(
      72000, [s = sine(0.1, 1000, 48000)](guint64 f, guint c) { return s(f + 72000, c); }, 4800);
  g.eos();
  const auto unbroken = g.intervals();
  ASSERT_EQ(unbroken.size(), 3u);
  EXPECT_EQ(get_uint64(unbroken[1], "timestamp"), GST_SECOND);
  EXPECT_EQ(get_uint64(unbroken[1], "duration"), GST_SECOND);
  EXPECT_NEAR(get_double(unbroken[2], "short-term"), -20.0, 0.02);
}

/* ---- A flushing seek in a real pipeline -------------------------------- */

/* Writes a 16-bit PCM WAV file. */
void write_wav(const std::string &path, gint rate, guint channels, guint64 frames,
               const Signal &signal) {
  std::vector<gint16> samples(frames * channels);
  for (guint64 f = 0; f < frames; ++f)
    for (guint c = 0; c < channels; ++c)
      samples[f * channels + c] =
          static_cast<gint16>(std::clamp(std::lround(signal(f, c) * 32767.0), -32768L, 32767L));
  const guint32 data_bytes = static_cast<guint32>(samples.size() * 2);
  std::ofstream out(path, std::ios::binary);
  const auto u32 = [&](guint32 v) {
    v = GUINT32_TO_LE(v);
    out.write(reinterpret_cast<const char *>(&v), 4);
  };
  const auto u16 = [&](guint16 v) {
    v = GUINT16_TO_LE(v);
    out.write(reinterpret_cast<const char *>(&v), 2);
  };
  out.write("RIFF", 4);
  u32(36 + data_bytes);
  out.write("WAVEfmt ", 8);
  u32(16);
  u16(1);
  u16(static_cast<guint16>(channels));
  u32(static_cast<guint32>(rate));
  u32(static_cast<guint32>(rate) * channels * 2);
  u16(static_cast<guint16>(channels * 2));
  u16(16);
  out.write("data", 4);
  u32(data_bytes);
  out.write(reinterpret_cast<const char *>(samples.data()), data_bytes);
}

/* Plays a file with tone 0-3 s, silence 3-6 s, tone 6-7.5 s and silence
 * 7.5-10 s; stops the stream at 4.5 s (inside the first silence), seeks to
 * 5 s (still inside it) and plays to the end. Neither side of the seek holds 2 s
 * of silence, so only 7.5-10 s is reported; merging across the seek would
 * report 3-6 s. */
TEST(LoudnessMeter, FlushingSeekMidStream) {
  TempDir dir;
  const std::string wav = dir.file("seek.wav");
  const guint64 rate = 48000;
  const auto cosine = [](guint64 f, guint) {
    return 0.3 * std::cos(2.0 * G_PI * 1000.0 * static_cast<double>(f) / 48000.0);
  };
  write_wav(wav, static_cast<gint>(rate), 2, 10 * rate,
            piecewise({{3 * rate, cosine},
                       {6 * rate, silence()},
                       {7 * rate + rate / 2, cosine},
                       {10 * rate, silence()}}));

  GError *raw_error = nullptr;
  auto pipeline = adopt_floating(
      gst_parse_launch(("filesrc location=\"" + wav +
                        "\" ! wavparse ! loudnessmeter name=meter ! fakesink sync=false")
                           .c_str(),
                       &raw_error));
  GErrorPtr error(raw_error);
  ASSERT_FALSE(error) << error->message;

  /* Blocks the first buffer at or after 4.5 s before the meter sees it. */
  struct Blocker {
    std::mutex lock;
    std::condition_variable blocked;
    bool fired = false;
    GstClockTime pts = GST_CLOCK_TIME_NONE;
  } blocker;
  GstObjectPtr<GstElement> meter(gst_bin_get_by_name(GST_BIN(pipeline.get()), "meter"));
  GstObjectPtr<GstPad> sink(gst_element_get_static_pad(meter.get(), "sink"));
  gst_pad_add_probe(
      sink.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BLOCK),
      [](GstPad *, GstPadProbeInfo *info, gpointer data) {
        auto *b = static_cast<Blocker *>(data);
        const std::lock_guard<std::mutex> lock(b->lock);
        if (b->fired) return GST_PAD_PROBE_REMOVE;
        const GstClockTime pts = GST_BUFFER_PTS(GST_PAD_PROBE_INFO_BUFFER(info));
        if (pts < 4500 * GST_MSECOND) return GST_PAD_PROBE_PASS;
        b->fired = true;
        b->pts = pts;
        b->blocked.notify_all();
        return GST_PAD_PROBE_OK; /* stays blocked until the seek flushes */
      },
      &blocker, nullptr);

  ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  GstClockTime blocked_at = GST_CLOCK_TIME_NONE;
  {
    std::unique_lock<std::mutex> lock(blocker.lock);
    ASSERT_TRUE(
        blocker.blocked.wait_for(lock, std::chrono::seconds(30), [&] { return blocker.fired; }));
    blocked_at = blocker.pts;
  }
  /* Less than 2 s after the silence began at 3 s. */
  ASSERT_LT(blocked_at, 5 * GST_SECOND);
  ASSERT_TRUE(gst_element_seek_simple(
      pipeline.get(), GST_FORMAT_TIME,
      static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE), 5 * GST_SECOND));
  const PipelineRun run = run_pipeline(pipeline.get());
  ASSERT_TRUE(run.reached_eos) << run.error;

  const auto silences = run.messages("loudnessmeter-silence");
  ASSERT_EQ(silences.size(), 1u);
  expect_silence(silences[0], 7500 * GST_MSECOND, 10 * GST_SECOND);
  /* After the flushing seek running time starts again from 0. */
  EXPECT_EQ(get_uint64(silences[0], "stream-time"), 7500 * GST_MSECOND);
  EXPECT_EQ(get_uint64(silences[0], "running-time"), 2500 * GST_MSECOND);

  const auto intervals = intervals_of(run);
  std::vector<GstClockTime> starts(intervals.size());
  std::transform(intervals.begin(), intervals.end(), starts.begin(),
                 [](const GstStructure *s) { return get_uint64(s, "timestamp"); });
  /* 4 s to the flush is an interval of its own, cut short. */
  std::vector<GstClockTime> expected = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  for (GstClockTime &t : expected) t *= GST_SECOND;
  ASSERT_EQ(starts, expected);
  const GstStructure *cut = intervals[4];
  EXPECT_EQ(get_uint64(cut, "duration"), blocked_at - 4 * GST_SECOND);
  EXPECT_EQ(get_uint64(cut, "stream-time"), 4 * GST_SECOND);
  EXPECT_EQ(get_uint64(cut, "running-time"), 4 * GST_SECOND);
  /* Measured before the windows restart: the 3 s window still holds the
   * tone that ended at 3 s. */
  EXPECT_GT(get_double(cut, "short-term"), -30.0);
  const GstStructure *first_after = intervals[5];
  EXPECT_EQ(get_uint64(first_after, "stream-time"), 5 * GST_SECOND);
  EXPECT_EQ(get_uint64(first_after, "running-time"), 0u);
  EXPECT_EQ(get_uint64(first_after, "duration"), GST_SECOND);
  /* The windows restarted at the flush: 5-6 s is silence, and nothing from
   * before the seek (the tone until 3 s) leaks into the short-term value. */
  EXPECT_TRUE(is_minus_inf(get_double(first_after, "short-term")));
  EXPECT_TRUE(is_minus_inf(get_double(first_after, "momentary")));

  const GstStructure *summary = summary_of(run);
  ASSERT_NE(summary, nullptr);
  EXPECT_EQ(get_uint64(summary, "timestamp"), 0u);
  EXPECT_EQ(get_uint64(summary, "duration"), blocked_at + 5 * GST_SECOND);
  EXPECT_NEAR(get_double(summary, "sample-peak"), 20 * std::log10(9830.0 / 32768.0), 1e-6);
}

}  // namespace
}  // namespace reelforge::test
