/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * audioducker: the music drops by the configured amount while the sidechain
 * is above the threshold, along attack and release ramps of the configured
 * lengths; an ended or unlinked sidechain leaves the music alone; times
 * follow the music; messages mark where ducking starts and stops. As a
 * music bed: volume scales the music, fade-in and fade-out ramp it linearly
 * in amplitude, duration cuts it or pads it with silence to the exact
 * sample, with or without a sidechain.
 */
#include "generated-audio.h"
#include "test-environment.h"
#include "time-convert.h"

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace reelforge::test {
namespace {

constexpr gint kRate = 48000;
constexpr double kMusicAmplitude = 0.5;

/* Music (a steady 440 Hz sine in stereo) through audioducker, with the
 * sidechain fed from sidechain (or left unlinked when null). */
struct DuckerRun {
  PipelineRun run;
  CapturedAudio output;
  GeneratedAudio music;
};

/* Runs the pipeline to EOS, whatever the output's length. */
void run_ducker_to_eos(DuckerRun &r, const std::string &properties, double music_seconds,
                       GeneratedAudio *sidechain, const std::string &music_format = "F32LE",
                       guint64 music_buffer_frames = 960) {
  r.music.format = music_format;
  r.music.rate = kRate;
  r.music.channels = 2;
  r.music.frames = static_cast<guint64>(music_seconds * kRate);
  r.music.signal = sine(kMusicAmplitude, 440, kRate);
  r.music.buffer_frames = music_buffer_frames;
  std::string description =
      "appsrc name=music ! audioducker name=d " + properties + " ! fakesink name=out sync=false";
  if (sidechain != nullptr) description += " appsrc name=sc ! d.sidechain";
  auto pipeline = parse_pipeline(description);
  ASSERT_TRUE(pipeline);
  attach_generator(pipeline.get(), "music", r.music);
  if (sidechain != nullptr) attach_generator(pipeline.get(), "sc", *sidechain);
  attach_capture(pipeline.get(), "out", r.output);
  r.run = run_pipeline(pipeline.get());
  ASSERT_TRUE(r.run.reached_eos) << r.run.error;
}

/* Runs the pipeline; the output has as many frames as the music. */
void run_ducker(DuckerRun &r, const std::string &properties, double music_seconds,
                GeneratedAudio *sidechain, const std::string &music_format = "F32LE") {
  ASSERT_NO_FATAL_FAILURE(run_ducker_to_eos(r, properties, music_seconds, sidechain, music_format));
  ASSERT_EQ(r.output.frames(), r.music.frames);
}

/* Silence, then a 1 kHz tone burst from start to end (seconds), then
 * silence until total; mono. */
GeneratedAudio burst_sidechain(double start, double end, double total, double amplitude = 0.5,
                               gint rate = kRate, const std::string &format = "F32LE") {
  GeneratedAudio sc;
  sc.format = format;
  sc.rate = rate;
  sc.channels = 1;
  sc.frames = static_cast<guint64>(total * rate);
  sc.signal = piecewise({{static_cast<guint64>(start * rate), silence()},
                         {static_cast<guint64>(end * rate), sine(amplitude, 1000, rate)},
                         {sc.frames, silence()}});
  sc.buffer_frames = 441;
  return sc;
}

guint64 frame_at(double seconds) {
  return static_cast<guint64>(std::llround(seconds * kRate));
}

/* The gain applied to frame f, in dB, from output / input of the music on
 * channel 0 (where the music is not near a zero crossing). */
double gain_db_at(const DuckerRun &r, guint64 f) {
  for (guint64 g = f; g < f + 200; ++g) {
    const double in = r.music.signal(g, 0);
    if (std::fabs(in) > 0.2) return 20.0 * std::log10(r.output.samples[g * 2] / in);
  }
  ADD_FAILURE() << "no usable sample near frame " << f;
  return 0.0;
}

/* The music's own level: a 0.5 sine is -9.03 dBFS RMS. */
const double kMusicRms = 20.0 * std::log10(kMusicAmplitude / std::sqrt(2.0));

TEST(AudioDucker, LowersMusicByAmountWhileSidechainIsActive) {
  GeneratedAudio sc = burst_sidechain(1.0, 3.0, 5.0);
  DuckerRun r;
  run_ducker(r, "", 5.0, &sc);
  /* Before: untouched. */
  EXPECT_NEAR(r.output.rms_db(0, frame_at(0.99)), kMusicRms, 0.01);
  /* During (after the 20 ms attack): 12 dB down. */
  EXPECT_NEAR(r.output.rms_db(frame_at(1.05), frame_at(2.99)), kMusicRms - 12.0, 1.0);
  EXPECT_NEAR(r.output.rms_db(frame_at(1.05), frame_at(2.99)), kMusicRms - 12.0, 0.05);
  /* After the 300 ms release: recovered. */
  EXPECT_NEAR(r.output.rms_db(frame_at(3.31), frame_at(5.0)), kMusicRms, 0.01);

  /* Times follow the music: contiguous, from 0 to 5 s. */
  ASSERT_FALSE(r.output.times.empty());
  GstClockTime expected = 0;
  for (const auto &[pts, duration] : r.output.times) {
    ASSERT_EQ(pts, expected);
    expected = pts + duration;
  }
  EXPECT_EQ(expected, 5 * GST_SECOND);

  const auto messages = r.run.messages("audioducker");
  ASSERT_EQ(messages.size(), 2u);
  gboolean ducking = FALSE;
  ASSERT_TRUE(gst_structure_get_boolean(messages[0], "ducking", &ducking));
  EXPECT_TRUE(ducking);
  EXPECT_EQ(get_uint64(messages[0], "timestamp"), GST_SECOND);
  EXPECT_EQ(get_uint64(messages[0], "running-time"), GST_SECOND);
  EXPECT_EQ(get_uint64(messages[0], "stream-time"), GST_SECOND);
  EXPECT_EQ(get_uint64(messages[0], "duration"), 0u);
  ASSERT_TRUE(gst_structure_get_boolean(messages[1], "ducking", &ducking));
  EXPECT_FALSE(ducking);
  EXPECT_EQ(get_uint64(messages[1], "timestamp"), GST_SECOND);
  EXPECT_EQ(get_uint64(messages[1], "duration"), 2 * GST_SECOND);
}

/* The gain follows straight ramps in dB: -amount reached after attack,
 * 0 dB again after release. */
TEST(AudioDucker, AttackAndReleaseRampsHaveTheirLengths) {
  GeneratedAudio sc = burst_sidechain(1.0, 3.0, 5.0);
  DuckerRun r;
  run_ducker(r, "amount=20 attack=200000000 release=500000000", 5.0, &sc);
  struct Point {
    double t;
    double gain;
  };
  for (const Point &p : {Point{0.9, 0.0}, Point{1.05, -5.0}, Point{1.1, -10.0}, Point{1.15, -15.0},
                         Point{1.25, -20.0}, Point{2.9, -20.0}, Point{3.125, -15.0},
                         Point{3.25, -10.0}, Point{3.375, -5.0}, Point{3.6, 0.0}}) {
    SCOPED_TRACE("t = " + std::to_string(p.t));
    /* gain_db_at looks up to 4 ms later: 0.4 dB of a 20 dB / 200 ms ramp. */
    EXPECT_NEAR(gain_db_at(r, frame_at(p.t)), p.gain, 0.5);
  }
}

/* Zero-length ramps are steps, exactly at the sidechain's edges. */
TEST(AudioDucker, ZeroRampsAreSteps) {
  GeneratedAudio sc = burst_sidechain(1.0, 2.0, 3.0);
  DuckerRun r;
  run_ducker(r, "amount=6 attack=0 release=0", 3.0, &sc);
  EXPECT_NEAR(gain_db_at(r, frame_at(0.98)), 0.0, 1e-4);
  EXPECT_NEAR(gain_db_at(r, frame_at(1.0)), -6.0, 1e-4);
  EXPECT_NEAR(gain_db_at(r, frame_at(1.98)), -6.0, 1e-4);
  EXPECT_NEAR(gain_db_at(r, frame_at(2.0)), 0.0, 1e-4);
}

/* A 0.01 sine is -43 dBFS RMS: under the default -40 dB threshold nothing
 * happens, under a -50 dB threshold the music ducks. */
TEST(AudioDucker, ThresholdDecidesWhatCountsAsVoice) {
  {
    GeneratedAudio sc = burst_sidechain(0.5, 1.5, 2.0, 0.01);
    DuckerRun r;
    run_ducker(r, "", 2.0, &sc);
    EXPECT_NEAR(r.output.rms_db(0, frame_at(2.0)), kMusicRms, 0.01);
    EXPECT_TRUE(r.run.messages("audioducker").empty());
  }
  {
    GeneratedAudio sc = burst_sidechain(0.5, 1.5, 2.0, 0.01);
    DuckerRun r;
    run_ducker(r, "threshold=-50", 2.0, &sc);
    EXPECT_NEAR(r.output.rms_db(frame_at(0.6), frame_at(1.5)), kMusicRms - 12.0, 0.05);
    EXPECT_EQ(r.run.messages("audioducker").size(), 2u);
  }
}

/* The sidechain ends (EOS at 2 s) while its tone plays: the music recovers
 * with the release ramp and goes on to its own end un-ducked. */
TEST(AudioDucker, SidechainEndingEarlyLeavesMusicUnducked) {
  GeneratedAudio sc = burst_sidechain(1.0, 2.0, 2.0);
  DuckerRun r;
  run_ducker(r, "", 4.0, &sc);
  EXPECT_NEAR(r.output.rms_db(frame_at(1.05), frame_at(1.99)), kMusicRms - 12.0, 0.05);
  EXPECT_NEAR(r.output.rms_db(frame_at(2.31), frame_at(4.0)), kMusicRms, 0.01);
  EXPECT_EQ(r.output.times.back().first + r.output.times.back().second, 4 * GST_SECOND);
  const auto messages = r.run.messages("audioducker");
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(get_uint64(messages[1], "duration"), GST_SECOND);
}

/* Without a sidechain link the music passes through bit for bit. */
TEST(AudioDucker, UnlinkedSidechainPassesMusicThrough) {
  DuckerRun r;
  run_ducker(r, "", 2.0, nullptr);
  for (guint64 f = 0; f < r.output.frames(); f += 97)
    ASSERT_EQ(r.output.samples[f * 2], static_cast<gfloat>(r.music.signal(f, 0))) << f;
  EXPECT_EQ(r.output.times.back().first + r.output.times.back().second, 2 * GST_SECOND);
  EXPECT_TRUE(r.run.messages("audioducker").empty());
}

/* 16-bit music, and a sidechain at another rate, channel count and format:
 * compared by time, the burst still ducks from 1 s to 2 s. */
TEST(AudioDucker, S16MusicWithSidechainAtAnotherRate) {
  GeneratedAudio sc = burst_sidechain(1.0, 2.0, 3.0, 0.5, 44100, "S16LE");
  sc.channels = 2;
  DuckerRun r;
  run_ducker(r, "amount=9", 3.0, &sc, "S16LE");
  EXPECT_NEAR(r.output.rms_db(0, frame_at(0.99)), kMusicRms, 0.01);
  EXPECT_NEAR(r.output.rms_db(frame_at(1.05), frame_at(1.99)), kMusicRms - 9.0, 0.05);
  EXPECT_NEAR(r.output.rms_db(frame_at(2.31), frame_at(3.0)), kMusicRms, 0.01);
  const auto messages = r.run.messages("audioducker");
  ASSERT_EQ(messages.size(), 2u);
  /* The sidechain's 10 ms windows at 44.1 kHz start on its own samples. */
  EXPECT_NEAR(static_cast<double>(get_uint64(messages[0], "timestamp")), 1e9, 1e7);
}

/* A flushing seek starts the analysis afresh. The sidechain ticks (20 ms
 * of tone around every second): prerolling ducks the music under the tick
 * at 0 (attack and release 0); after a seek to 2.5 s the music is untouched
 * from its first sample until the tick at 3 s ducks it again, on time. */
TEST(AudioDucker, FlushingSeekStartsAfresh) {
  auto pipeline = parse_pipeline(
      "audiotestsrc freq=440 volume=0.5 samplesperbuffer=960 num-buffers=200 ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=2 ! audioducker name=d attack=0 release=0 ! "
      "fakesink name=out sync=false "
      "audiotestsrc wave=ticks freq=1000 sine-periods-per-tick=20 volume=0.5 "
      "samplesperbuffer=480 num-buffers=1000 ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=1 ! d.sidechain");
  ASSERT_TRUE(pipeline);
  CapturedAudio output;
  attach_capture(pipeline.get(), "out", output);
  const GstClockTime seek_to = 2500 * GST_MSECOND;
  ASSERT_NO_FATAL_FAILURE(preroll_and_seek(pipeline.get(), seek_to));
  const PipelineRun run = run_pipeline(pipeline.get());
  ASSERT_TRUE(run.reached_eos) << run.error;

  /* Skip what was output before the seek (the ducked preroll). */
  guint64 first = 0;
  size_t index = 0;
  while (index < output.times.size() && output.times[index].first != seek_to) {
    first += time_to_samples(output.times[index].second, kRate);
    ++index;
  }
  ASSERT_LT(index, output.times.size()) << "no buffer at the seek position";
  ASSERT_GT(index, 0u);
  EXPECT_LT(output.rms_db(0, kRate / 100), kMusicRms - 11.0) << "the preroll was not ducked";
  ASSERT_GT(output.frames(), first + kRate);
  /* (audiotestsrc's phase after a seek varies: 10 ms of 440 Hz read within
   * 0.2 dB of the sine's RMS; ducked would be 12 dB down.) */
  EXPECT_NEAR(output.rms_db(first, first + kRate / 100), kMusicRms, 0.3);
  EXPECT_NEAR(output.rms_db(first, first + kRate * 49 / 100), kMusicRms, 0.05);
  /* audiotestsrc's ticks run from 10 ms before each second to 10 ms after
   * it; after the seek the sidechain is measured on the new running time,
   * so the tick at 3 s starts ducking at exactly 2.99 s. */
  const auto messages = run.messages("audioducker");
  const GstStructure *after_seek = nullptr;
  for (const GstStructure *m : messages) {
    if (get_uint64(m, "timestamp") >= seek_to) {
      after_seek = m;
      break;
    }
  }
  ASSERT_NE(after_seek, nullptr);
  EXPECT_EQ(get_uint64(after_seek, "timestamp"), 2990 * GST_MSECOND);
  EXPECT_EQ(get_uint64(after_seek, "running-time"), 490 * GST_MSECOND);
  /* The next tick (20 ms) ducks by the full amount again. */
  int ducked = 0;
  double lowest = 0.0;
  for (guint64 f = first + kRate * 45 / 100; f < first + kRate * 60 / 100; f += kRate / 100) {
    const double level = output.rms_db(f, f + kRate / 100);
    lowest = std::min(lowest, level);
    if (level < kMusicRms - 6.0) ++ducked;
  }
  EXPECT_NEAR(lowest, kMusicRms - 12.0, 0.1);
  EXPECT_GE(ducked, 2);
  EXPECT_LE(ducked, 3);
}

/* Seeking works without a sidechain too: the music passes through from the
 * new position. */
TEST(AudioDucker, FlushingSeekWithUnlinkedSidechain) {
  auto pipeline = parse_pipeline(
      "audiotestsrc freq=440 volume=0.5 samplesperbuffer=960 num-buffers=100 ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=2 ! audioducker ! "
      "fakesink name=out sync=false");
  ASSERT_TRUE(pipeline);
  CapturedAudio output;
  attach_capture(pipeline.get(), "out", output);
  ASSERT_NO_FATAL_FAILURE(preroll_and_seek(pipeline.get(), GST_SECOND));
  const PipelineRun run = run_pipeline(pipeline.get(), 20 * GST_SECOND);
  ASSERT_TRUE(run.reached_eos) << run.error;
  bool seen = false;
  for (const auto &[pts, duration] : output.times) seen = seen || pts == GST_SECOND;
  EXPECT_TRUE(seen) << "no buffer at the seek position";
}

/* The linear gain applied near frame f: output / input on channel 0 at the
 * first frame from f on where the music is not near a zero crossing, which
 * is stored in used. */
double gain_near(const DuckerRun &r, guint64 f, guint64 &used) {
  for (used = f; used < f + 200; ++used) {
    const double in = r.music.signal(used, 0);
    if (std::fabs(in) > 0.2) return r.output.samples[used * 2] / in;
  }
  ADD_FAILURE() << "no usable sample near frame " << f;
  return 0.0;
}

/* Output times start at 0, follow each other without a hole and end at
 * end. */
void expect_contiguous_times(const CapturedAudio &output, GstClockTime end) {
  ASSERT_FALSE(output.times.empty());
  GstClockTime expected = 0;
  for (const auto &[pts, duration] : output.times) {
    ASSERT_EQ(pts, expected);
    expected = pts + duration;
  }
  EXPECT_EQ(expected, end);
}

/* The music-bed properties, run without a sidechain (false) and with one
 * (true): a 6 s voice too quiet to duck (-43 dBFS), longer than every
 * music and duration here, so it is still flowing when the bed ends. The
 * music comes in buffers of 1024 frames, which do not end on whole seconds. */
class AudioDuckerBed : public ::testing::TestWithParam<bool> {
 protected:
  void run_bed(DuckerRun &r, const std::string &properties, double music_seconds) {
    voice_ = burst_sidechain(0.0, 6.0, 6.0, 0.01);
    ASSERT_NO_FATAL_FAILURE(run_ducker_to_eos(r, properties, music_seconds,
                                              GetParam() ? &voice_ : nullptr, "F32LE", 1024));
    EXPECT_TRUE(r.run.messages("audioducker").empty());
  }

 private:
  GeneratedAudio voice_;
};

INSTANTIATE_TEST_SUITE_P(Sidechain, AudioDuckerBed, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool> &info) {
                           return std::string(info.param ? "Linked" : "Unlinked");
                         });

/* volume=0.5 is -6.02 dB on every sample. */
TEST_P(AudioDuckerBed, VolumeScalesTheMusic) {
  DuckerRun r;
  ASSERT_NO_FATAL_FAILURE(run_bed(r, "volume=0.5", 2.0));
  ASSERT_EQ(r.output.frames(), r.music.frames);
  EXPECT_NEAR(r.output.rms_db(0, r.output.frames()), kMusicRms - 6.0206, 1e-3);
  for (double t : {0.0, 0.5, 1.0, 1.99}) {
    SCOPED_TRACE("t = " + std::to_string(t));
    EXPECT_NEAR(gain_db_at(r, frame_at(t)), -6.0206, 1e-4);
  }
  expect_contiguous_times(r.output, 2 * GST_SECOND);
}

/* The fade-in rises linearly in amplitude: frame f of a 1 s fade has gain
 * f / 48000, from 0 at the music's first sample; full gain after it. */
TEST_P(AudioDuckerBed, FadeInIsLinearFromTheFirstSample) {
  DuckerRun r;
  ASSERT_NO_FATAL_FAILURE(run_bed(r, "fade-in=1000000000", 3.0));
  ASSERT_EQ(r.output.frames(), r.music.frames);
  EXPECT_EQ(r.output.samples[0], 0.0);
  for (double t : {0.0, 0.1, 0.25, 0.5, 0.75, 0.99}) {
    SCOPED_TRACE("t = " + std::to_string(t));
    guint64 used = 0;
    const double gain = gain_near(r, frame_at(t), used);
    EXPECT_NEAR(gain, static_cast<double>(used) / kRate, 1e-5);
  }
  for (double t : {1.0, 2.0, 2.99}) {
    SCOPED_TRACE("t = " + std::to_string(t));
    EXPECT_NEAR(gain_db_at(r, frame_at(t)), 0.0, 1e-5);
  }
  EXPECT_NEAR(r.output.rms_db(frame_at(1.0), frame_at(3.0)), kMusicRms, 1e-3);
}

/* duration cuts longer music at round(duration x rate) frames: the last
 * buffer is cut inside, the times are contiguous up to the cut, the samples
 * are the music's, and EOS follows; upstream stops (gets EOS) instead of
 * producing the rest. */
TEST_P(AudioDuckerBed, DurationCutsTheMusicToTheSample) {
  for (const GstClockTime duration : {GstClockTime{3 * GST_SECOND}, GstClockTime{1234567891}}) {
    SCOPED_TRACE("duration = " + std::to_string(duration));
    DuckerRun r;
    ASSERT_NO_FATAL_FAILURE(run_bed(r, "duration=" + std::to_string(duration), 5.0));
    const guint64 expected_frames = time_to_samples(duration, kRate);
    ASSERT_EQ(r.output.frames(), expected_frames);
    EXPECT_NE(expected_frames % r.music.buffer_frames, 0u) << "no buffer was cut";
    expect_contiguous_times(r.output, samples_to_time(expected_frames, kRate));
    for (guint64 f = 0; f < expected_frames; f += 101)
      ASSERT_EQ(r.output.samples[f * 2], static_cast<gfloat>(r.music.signal(f, 0))) << f;
    EXPECT_EQ(r.output.samples[(expected_frames - 1) * 2],
              static_cast<gfloat>(r.music.signal(expected_frames - 1, 0)));
    EXPECT_LT(r.music.next, frame_at(4.5)) << "upstream went on to the end of the music";
  }
  /* Exactly 3 s. */
  EXPECT_EQ(time_to_samples(3 * GST_SECOND, kRate), 144000u);
}

/* Music shorter than duration is padded with silence up to it. */
TEST_P(AudioDuckerBed, ShortMusicIsPaddedWithSilence) {
  DuckerRun r;
  ASSERT_NO_FATAL_FAILURE(run_bed(r, "duration=3000000000", 2.0));
  ASSERT_EQ(r.output.frames(), frame_at(3.0));
  expect_contiguous_times(r.output, 3 * GST_SECOND);
  for (guint64 f = 0; f < frame_at(2.0); f += 101)
    ASSERT_EQ(r.output.samples[f * 2], static_cast<gfloat>(r.music.signal(f, 0))) << f;
  for (guint64 i = frame_at(2.0) * 2; i < r.output.samples.size(); ++i)
    ASSERT_EQ(r.output.samples[i], 0.0) << "frame " << i / 2;
}

/* The fade-out ends at silence at duration and leaves the music at full
 * gain before it; without duration it does nothing. */
TEST_P(AudioDuckerBed, FadeOutEndsInSilenceAtDuration) {
  {
    DuckerRun r;
    ASSERT_NO_FATAL_FAILURE(run_bed(r, "duration=3000000000 fade-out=1000000000", 5.0));
    ASSERT_EQ(r.output.frames(), frame_at(3.0));
    for (guint64 f = 0; f < frame_at(2.0); f += 101)
      ASSERT_EQ(r.output.samples[f * 2], static_cast<gfloat>(r.music.signal(f, 0))) << f;
    /* Gain (end - f) / 48000 at frame f of the last second. */
    for (double t : {2.0, 2.25, 2.5, 2.75, 2.99}) {
      SCOPED_TRACE("t = " + std::to_string(t));
      guint64 used = 0;
      const double gain = gain_near(r, frame_at(t), used);
      EXPECT_NEAR(gain, static_cast<double>(frame_at(3.0) - used) / kRate, 1e-5);
    }
    /* The last sample is at 1/48000 of full gain, the last millisecond
     * under 1/1000 (more than 60 dB down): silence at duration. */
    const guint64 end = frame_at(3.0);
    EXPECT_LE(std::fabs(r.output.samples[(end - 1) * 2]), kMusicAmplitude / kRate);
    EXPECT_LT(r.output.rms_db(end - kRate / 1000, end), kMusicRms - 60.0);
    expect_contiguous_times(r.output, 3 * GST_SECOND);
  }
  {
    DuckerRun r;
    ASSERT_NO_FATAL_FAILURE(run_bed(r, "fade-out=1000000000", 2.0));
    ASSERT_EQ(r.output.frames(), r.music.frames);
    for (guint64 f = 0; f < r.output.frames(); f += 101)
      ASSERT_EQ(r.output.samples[f * 2], static_cast<gfloat>(r.music.signal(f, 0))) << f;
  }
}

/* The fade-out also reaches the padding: music ending at 2 s under a fade
 * from 1.5 s to 3 s, then silence to 3 s. */
TEST_P(AudioDuckerBed, FadeOutOverShortMusic) {
  DuckerRun r;
  ASSERT_NO_FATAL_FAILURE(run_bed(r, "duration=3000000000 fade-out=1500000000", 2.0));
  ASSERT_EQ(r.output.frames(), frame_at(3.0));
  guint64 used = 0;
  const double gain = gain_near(r, frame_at(1.75), used);
  EXPECT_NEAR(gain, static_cast<double>(frame_at(3.0) - used) / (1.5 * kRate), 1e-5);
  EXPECT_EQ(r.output.samples.back(), 0.0);
}

/* volume multiplies the ducked gain: 0.5 and a 12 dB duck is -18.02 dB. */
TEST(AudioDucker, VolumeAppliesOnTopOfDucking) {
  GeneratedAudio sc = burst_sidechain(1.0, 2.0, 3.0);
  DuckerRun r;
  run_ducker(r, "volume=0.5", 3.0, &sc);
  EXPECT_NEAR(gain_db_at(r, frame_at(0.5)), -6.0206, 1e-4);
  EXPECT_NEAR(gain_db_at(r, frame_at(1.5)), -18.0206, 1e-4);
  EXPECT_NEAR(gain_db_at(r, frame_at(2.5)), -6.0206, 1e-4);
  EXPECT_EQ(r.run.messages("audioducker").size(), 2u);
}

/* A flushing seek restarts the bed at the new position: after a seek to
 * 1 s, duration=2 s ends the output at 3 s, fading in again from 1 s. */
TEST(AudioDucker, FlushingSeekRestartsTheBed) {
  auto pipeline = parse_pipeline(
      "audiotestsrc freq=440 volume=0.5 samplesperbuffer=960 num-buffers=300 ! "
      "audio/x-raw,format=F32LE,rate=48000,channels=2 ! "
      "audioducker duration=2000000000 fade-in=500000000 ! fakesink name=out sync=false");
  ASSERT_TRUE(pipeline);
  CapturedAudio output;
  attach_capture(pipeline.get(), "out", output);
  ASSERT_NO_FATAL_FAILURE(preroll_and_seek(pipeline.get(), GST_SECOND));
  const PipelineRun run = run_pipeline(pipeline.get(), 20 * GST_SECOND);
  ASSERT_TRUE(run.reached_eos) << run.error;
  guint64 first = 0;
  size_t index = 0;
  while (index < output.times.size() && output.times[index].first != GST_SECOND) {
    first += time_to_samples(output.times[index].second, kRate);
    ++index;
  }
  ASSERT_LT(index, output.times.size()) << "no buffer at the seek position";
  EXPECT_EQ(output.frames() - first, frame_at(2.0));
  EXPECT_EQ(output.times.back().first + output.times.back().second, 3 * GST_SECOND);
  /* 10 ms at the start of the fade are far below the music. */
  EXPECT_LT(output.rms_db(first, first + kRate / 100), kMusicRms - 30.0);
  EXPECT_NEAR(output.rms_db(first + frame_at(1.0), first + frame_at(2.0)), kMusicRms, 0.01);
}

/* Music cut at duration while ducked: the ducking ends at duration, in the
 * FALSE message. */
TEST(AudioDucker, CutWhileDuckedStopsDuckingAtDuration) {
  GeneratedAudio sc = burst_sidechain(0.5, 5.0, 5.0);
  DuckerRun r;
  ASSERT_NO_FATAL_FAILURE(run_ducker_to_eos(r, "duration=2000000000", 5.0, &sc));
  ASSERT_EQ(r.output.frames(), frame_at(2.0));
  EXPECT_NEAR(gain_db_at(r, frame_at(1.5)), -12.0, 1e-4);
  const auto messages = r.run.messages("audioducker");
  ASSERT_EQ(messages.size(), 2u);
  gboolean ducking = TRUE;
  ASSERT_TRUE(gst_structure_get_boolean(messages[1], "ducking", &ducking));
  EXPECT_FALSE(ducking);
  EXPECT_EQ(get_uint64(messages[1], "timestamp"), 500 * GST_MSECOND);
  EXPECT_EQ(get_uint64(messages[1], "duration"), 1500 * GST_MSECOND);
}

/* 16-bit music under volume=10 saturates instead of wrapping around. */
TEST(AudioDucker, S16VolumeSaturates) {
  DuckerRun r;
  run_ducker(r, "volume=10", 1.0, nullptr, "S16LE");
  double peak = 0.0;
  for (guint64 f = 0; f < r.output.frames(); ++f) {
    const double v = r.output.samples[f * 2];
    const double in = r.music.signal(f, 0);
    if (in > 0.1) {
      ASSERT_GT(v, 0.9) << f;
    } else if (in < -0.1) {
      ASSERT_LT(v, -0.9) << f;
    }
    peak = std::max(peak, std::fabs(v));
  }
  EXPECT_EQ(peak, 1.0);
}

}  // namespace
}  // namespace reelforge::test
