/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * loudnorm: quiet, loud and dynamic inputs come out at the target
 * integrated loudness (measured by the project's loudnessmeter) under the
 * true-peak ceiling, with every sample and its exact timestamp kept; the
 * latency it reports and its EOS message.
 */
#include "generated-audio.h"
#include "test-environment.h"
#include "time-convert.h"

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace reelforge::test {
namespace {

constexpr gint kRate = 48000;

/* Amplitude of a 1 kHz sine in every channel of stereo measuring `lufs`
 * (BS.1770's K-weighting and -0.691 cancel at 1 kHz: 0.1 is -20 LUFS). */
double sine_amplitude_for(double lufs) {
  return std::pow(10.0, lufs / 20.0);
}

/* Amplitude of noise() measuring about `lufs` in stereo: noise(1.0) is
 * -16.35 LUFS. */
double noise_amplitude_for(double lufs) {
  return std::pow(10.0, (lufs + 16.35) / 20.0);
}

/* Amplitude of dense_noise() measuring about `lufs` in stereo:
 * dense_noise(1.0) is -0.5 LUFS. */
double dense_amplitude_for(double lufs) {
  return std::pow(10.0, (lufs + 0.5) / 20.0);
}

struct NormRun {
  PipelineRun run;
  GeneratedAudio input;
  CapturedAudio output;
  const GstStructure *summary = nullptr; /* loudnessmeter's, on the output */
  const GstStructure *report = nullptr;  /* loudnorm's */
};

void run_loudnorm(NormRun &r, const Signal &signal, double seconds, const std::string &properties,
                  const std::string &format = "F32LE") {
  r.input.format = format;
  r.input.rate = kRate;
  r.input.channels = 2;
  r.input.frames = static_cast<guint64>(seconds * kRate);
  r.input.signal = signal;
  r.input.buffer_frames = 1024;
  auto pipeline = parse_pipeline("appsrc name=src ! loudnorm " + properties +
                                 " ! loudnessmeter ! fakesink name=out sync=false");
  ASSERT_TRUE(pipeline);
  attach_generator(pipeline.get(), "src", r.input);
  attach_capture(pipeline.get(), "out", r.output);
  r.run = run_pipeline(pipeline.get());
  ASSERT_TRUE(r.run.reached_eos) << r.run.error;
  for (const GstStructure *s : r.run.messages("loudnessmeter")) {
    gboolean summary = FALSE;
    if (gst_structure_get_boolean(s, "summary", &summary) && summary) r.summary = s;
  }
  ASSERT_NE(r.summary, nullptr);
  const auto reports = r.run.messages("loudnorm");
  ASSERT_EQ(reports.size(), 1u);
  r.report = reports[0];
}

/* Every input sample comes out once, with exact contiguous timestamps. */
void expect_same_timeline(const NormRun &r) {
  EXPECT_EQ(r.output.frames(), r.input.frames);
  GstClockTime expected = 0;
  for (const auto &[pts, duration] : r.output.times) {
    ASSERT_EQ(pts, expected);
    expected = pts + duration;
  }
  EXPECT_EQ(expected, samples_to_time(r.input.frames, kRate));
  EXPECT_EQ(get_uint64(r.summary, "duration"), samples_to_time(r.input.frames, kRate));
}

/* The loudnorm message agrees with loudnessmeter on the output. */
void expect_report_matches(const NormRun &r, double target, double input_lufs, double tolerance) {
  EXPECT_NEAR(get_double(r.report, "input-integrated"), input_lufs, tolerance);
  EXPECT_NEAR(get_double(r.report, "output-integrated"), get_double(r.summary, "integrated"), 0.05);
  EXPECT_NEAR(get_double(r.report, "output-true-peak"), get_double(r.summary, "true-peak"), 0.05);
  EXPECT_EQ(get_double(r.report, "target"), target);
  EXPECT_EQ(get_uint64(r.report, "timestamp"), 0u);
  EXPECT_EQ(get_uint64(r.report, "running-time"), 0u);
  EXPECT_EQ(get_uint64(r.report, "duration"), samples_to_time(r.input.frames, kRate));
}

TEST(Loudnorm, QuietInputIsRaisedToTarget) {
  NormRun r;
  run_loudnorm(r, sine(sine_amplitude_for(-30.0), 1000, kRate), 8.0, "");
  const double integrated = get_double(r.summary, "integrated");
  RecordProperty("output_integrated", std::to_string(integrated));
  std::printf("%s: input %.2f LUFS -> output %.2f LUFS, true peak %.2f dBTP\n",
              ::testing::UnitTest::GetInstance()->current_test_info()->name(),
              get_double(r.report, "input-integrated"), integrated,
              get_double(r.summary, "true-peak"));
  EXPECT_NEAR(integrated, -14.0, 1.0);
  EXPECT_NEAR(integrated, -14.0, 0.2); /* what it really achieves on a steady tone */
  EXPECT_LE(get_double(r.summary, "true-peak"), -1.0 + 0.1);
  expect_same_timeline(r);
  expect_report_matches(r, -14.0, -30.0, 0.1);
}

TEST(Loudnorm, LoudInputIsLoweredToTarget) {
  NormRun r;
  run_loudnorm(r, dense_noise(dense_amplitude_for(-6.0)), 8.0, "");
  const double integrated = get_double(r.summary, "integrated");
  RecordProperty("output_integrated", std::to_string(integrated));
  std::printf("%s: input %.2f LUFS -> output %.2f LUFS, true peak %.2f dBTP\n",
              ::testing::UnitTest::GetInstance()->current_test_info()->name(),
              get_double(r.report, "input-integrated"), integrated,
              get_double(r.summary, "true-peak"));
  EXPECT_NEAR(integrated, -14.0, 1.0);
  EXPECT_LE(get_double(r.summary, "true-peak"), -1.0 + 0.1);
  expect_same_timeline(r);
  expect_report_matches(r, -14.0, -6.0, 0.5);
}

/* Alternating 2 s sections: a tone at -30 LUFS and noise at -10 LUFS. */
TEST(Loudnorm, DynamicInputEndsAtTarget) {
  const guint64 section = 2 * kRate;
  const Signal quiet = sine(sine_amplitude_for(-30.0), 1000, kRate);
  const Signal loud = dense_noise(dense_amplitude_for(-10.0));
  NormRun r;
  run_loudnorm(r,
               piecewise({{section, quiet},
                          {2 * section, loud},
                          {3 * section, quiet},
                          {4 * section, loud},
                          {5 * section, quiet},
                          {6 * section, loud}}),
               12.0, "");
  const double integrated = get_double(r.summary, "integrated");
  RecordProperty("output_integrated", std::to_string(integrated));
  std::printf("%s: input %.2f LUFS -> output %.2f LUFS, true peak %.2f dBTP\n",
              ::testing::UnitTest::GetInstance()->current_test_info()->name(),
              get_double(r.report, "input-integrated"), integrated,
              get_double(r.summary, "true-peak"));
  EXPECT_NEAR(integrated, -14.0, 1.0);
  EXPECT_LE(get_double(r.summary, "true-peak"), -1.0 + 0.1);
  expect_same_timeline(r);
  /* The quiet sections stay quieter than the loud ones: dynamics kept. */
  EXPECT_LT(r.output.rms_db(section * 17 / 4, section * 19 / 4),
            r.output.rms_db(section * 21 / 4, section * 23 / 4) - 10.0);
}

/* The hard case for one pass: 5 s of a -30 LUFS tone, then 7 s of
 * -10 LUFS noise. The first seconds are raised before the loud part is in
 * sight; once it is, the gain comes down over about a lookahead, and the
 * limiter holds the peaks meanwhile. */
TEST(Loudnorm, LongQuietIntroThenLoud) {
  NormRun r;
  run_loudnorm(r,
               piecewise({{5 * kRate, sine(sine_amplitude_for(-30.0), 1000, kRate)},
                          {12 * kRate, dense_noise(dense_amplitude_for(-10.0))}}),
               12.0, "");
  const double integrated = get_double(r.summary, "integrated");
  std::printf("%s: input %.2f LUFS -> output %.2f LUFS, true peak %.2f dBTP\n",
              ::testing::UnitTest::GetInstance()->current_test_info()->name(),
              get_double(r.report, "input-integrated"), integrated,
              get_double(r.summary, "true-peak"));
  EXPECT_NEAR(integrated, -14.0, 1.0);
  EXPECT_LE(get_double(r.summary, "true-peak"), -1.0 + 0.1);
  expect_same_timeline(r);
}

/* With a lookahead shorter than one 400 ms block the first samples go out
 * before any estimate: the gain glides up from 0 dB instead of jumping, and
 * the programme still ends near the target. */
TEST(Loudnorm, ShortLookaheadGlidesToTarget) {
  NormRun r;
  run_loudnorm(r, sine(sine_amplitude_for(-30.0), 1000, kRate), 8.0, "lookahead=200000000");
  const double integrated = get_double(r.summary, "integrated");
  std::printf("%s: input %.2f LUFS -> output %.2f LUFS, true peak %.2f dBTP\n",
              ::testing::UnitTest::GetInstance()->current_test_info()->name(),
              get_double(r.report, "input-integrated"), integrated,
              get_double(r.summary, "true-peak"));
  EXPECT_NEAR(integrated, -14.0, 1.0);
  expect_same_timeline(r);
  /* The first 100 ms are not boosted (no estimate yet)... */
  EXPECT_NEAR(r.output.rms_db(0, kRate / 10), -33.0, 0.5);
  /* ...and the gain rises without a step (a jump to the estimate would be
   * +16 dB at once; the 100 ms glide starts at 1.6 dB per 10 ms). */
  for (guint64 f = kRate / 100; f + kRate / 100 <= 2 * kRate; f += kRate / 100) {
    ASSERT_LT(r.output.rms_db(f, f + kRate / 100) - r.output.rms_db(f - kRate / 100, f), 2.0)
        << "at frame " << f;
  }
  /* After a second it is there. */
  EXPECT_NEAR(r.output.rms_db(2 * kRate, 8 * kRate), -14.0 - 3.01, 0.3);
}

/* A flushing seek drops what was held back and restarts the timeline at
 * the new position: the output from the seek on is every sample from 2 s to
 * the end, with exact contiguous timestamps, and still at the target. */
TEST(Loudnorm, FlushingSeekRestartsTimeline) {
  auto pipeline = parse_pipeline(
      "audiotestsrc freq=1000 volume=0.05 samplesperbuffer=960 num-buffers=400 ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=2 ! loudnorm lookahead=1000000000 ! "
      "loudnessmeter ! fakesink name=out sync=false");
  ASSERT_TRUE(pipeline);
  CapturedAudio output;
  attach_capture(pipeline.get(), "out", output);
  ASSERT_NO_FATAL_FAILURE(preroll_and_seek(pipeline.get(), 2 * GST_SECOND));
  const PipelineRun run = run_pipeline(pipeline.get());
  ASSERT_TRUE(run.reached_eos) << run.error;

  size_t index = 0;
  guint64 first = 0;
  while (index < output.times.size() && output.times[index].first != 2 * GST_SECOND) {
    first += time_to_samples(output.times[index].second, kRate);
    ++index;
  }
  ASSERT_LT(index, output.times.size()) << "no buffer at the seek position";
  GstClockTime expected = 2 * GST_SECOND;
  for (size_t i = index; i < output.times.size(); ++i) {
    ASSERT_EQ(output.times[i].first, expected) << "buffer " << i;
    expected += output.times[i].second;
  }
  /* audiotestsrc counts num-buffers from the seek on (minus what it made
   * before): it ends well after 7 s; every sample in between came out once. */
  EXPECT_GT(expected, 7 * GST_SECOND);
  EXPECT_EQ(output.frames() - first, time_to_samples(expected - 2 * GST_SECOND, kRate));
  /* -26 LUFS raised by 12 dB: a sine of RMS -14 - 3.01 dBFS. */
  EXPECT_NEAR(output.rms_db(first, output.frames()), -14.0 - 3.01, 0.2);
}

class LoudnormTargets : public ::testing::TestWithParam<double> {};

TEST_P(LoudnormTargets, ToneReachesTarget) {
  const double target = GetParam();
  NormRun r;
  run_loudnorm(r, sine(sine_amplitude_for(-24.0), 1000, kRate), 6.0,
               "target=" + std::to_string(target));
  EXPECT_NEAR(get_double(r.summary, "integrated"), target, 0.2);
  EXPECT_LE(get_double(r.summary, "true-peak"), -1.0 + 0.1);
  expect_same_timeline(r);
}

INSTANTIATE_TEST_SUITE_P(Targets, LoudnormTargets, ::testing::Values(-23.0, -16.0, -9.0));

/* Noise pushed to -9 LUFS has peaks far above a -3 dBTP ceiling: the
 * limiter holds them (the loudness then falls short of the target, which is
 * the ceiling's priority). */
TEST(Loudnorm, TruePeakCeilingHolds) {
  NormRun r;
  run_loudnorm(r, noise(noise_amplitude_for(-20.0)), 6.0, "target=-9 true-peak=-3");
  std::printf("TruePeakCeilingHolds: output %.2f LUFS, true peak %.2f dBTP\n",
              get_double(r.summary, "integrated"), get_double(r.summary, "true-peak"));
  EXPECT_LE(get_double(r.summary, "true-peak"), -3.0 + 0.1);
  EXPECT_GT(get_double(r.summary, "true-peak"), -3.0 - 0.5); /* it did have to limit */
  EXPECT_LT(get_double(r.summary, "integrated"), -9.0 + 0.5);
  EXPECT_GT(get_double(r.summary, "integrated"), -14.0);
  expect_same_timeline(r);
}

TEST(Loudnorm, SixteenBitInput) {
  NormRun r;
  run_loudnorm(r, noise(noise_amplitude_for(-28.0)), 6.0, "target=-16", "S16LE");
  EXPECT_NEAR(get_double(r.summary, "integrated"), -16.0, 1.0);
  EXPECT_LE(get_double(r.summary, "true-peak"), -1.0 + 0.1);
  expect_same_timeline(r);
}

/* Latency = lookahead + 5 ms + 6 samples, added to upstream's; a stream
 * shorter than the lookahead is drained whole at EOS and normalised with one
 * gain over all of it. */
TEST(Loudnorm, ReportsLatencyAndDrainsAtEos) {
  GstHarness *h = gst_harness_new("loudnorm");
  gst_harness_set_src_caps_str(h,
                               "audio/x-raw,format=F32LE,rate=48000,channels=2,"
                               "layout=interleaved");
  gst_harness_set_upstream_latency(h, 10 * GST_MSECOND);
  EXPECT_EQ(gst_harness_query_latency(h),
            10 * GST_MSECOND + samples_to_time(3 * kRate + 240 + 6, kRate));

  const Signal tone = sine(sine_amplitude_for(-25.0), 1000, kRate);
  guint64 pushed = 0;
  for (int i = 0; i < 100; ++i) { /* 100 x 960 frames = 2 s < 3 s lookahead */
    GstBuffer *buffer = gst_buffer_new_allocate(nullptr, 960 * 2 * sizeof(gfloat), nullptr);
    GstMapInfo map;
    ASSERT_TRUE(gst_buffer_map(buffer, &map, GST_MAP_WRITE));
    auto *s = reinterpret_cast<gfloat *>(map.data);
    for (guint64 f = 0; f < 960; ++f)
      s[2 * f] = s[2 * f + 1] = static_cast<gfloat>(tone(pushed + f, 0));
    gst_buffer_unmap(buffer, &map);
    GST_BUFFER_PTS(buffer) = samples_to_time(pushed, kRate);
    GST_BUFFER_DURATION(buffer) = samples_to_time(pushed + 960, kRate) - GST_BUFFER_PTS(buffer);
    pushed += 960;
    ASSERT_EQ(gst_harness_push(h, buffer), GST_FLOW_OK);
  }
  /* All of it is still held back. */
  EXPECT_EQ(gst_harness_buffers_in_queue(h), 0u);
  ASSERT_TRUE(gst_harness_push_event(h, gst_event_new_eos()));
  guint64 out = 0;
  double peak = 0.0;
  while (GstBuffer *buffer = gst_harness_try_pull(h)) {
    EXPECT_EQ(GST_BUFFER_PTS(buffer), samples_to_time(out, kRate));
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_READ);
    const auto *s = reinterpret_cast<const gfloat *>(map.data);
    for (gsize i = 0; i < map.size / sizeof(gfloat); ++i)
      peak = std::max(peak, static_cast<double>(std::fabs(s[i])));
    out += map.size / (2 * sizeof(gfloat));
    gst_buffer_unmap(buffer, &map);
    gst_buffer_unref(buffer);
  }
  EXPECT_EQ(out, pushed);
  /* One gain, -14 - -25 = +11 dB, on the whole tone. */
  EXPECT_NEAR(20.0 * std::log10(peak / sine_amplitude_for(-25.0)), 11.0, 0.1);
  gst_harness_teardown(h);
}

}  // namespace
}  // namespace reelforge::test
