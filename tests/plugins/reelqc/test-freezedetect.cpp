/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * freezedetect on synthetic video with still stretches at known frames
 * (25 fps, so frame n starts at n x 40 ms).
 */
#include "synthetic-video.h"
#include "test-environment.h"

#include <gst/gst.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace reelforge::test {
namespace {

/* A moving texture, except on [first, last] frames, which all show frame
 * first's picture. */
FramePainter still_between(const std::vector<std::pair<guint64, guint64>> &ranges) {
  return [ranges](guint64 n, GstVideoFrame *frame) {
    for (const auto &[first, last] : ranges) {
      if (n >= first && n <= last) {
        paint_moving(frame, first);
        return;
      }
    }
    paint_moving(frame, n);
  };
}

std::vector<const GstStructure *> run_freeze(SyntheticVideo &video, const std::string &properties,
                                             PipelineRun &run) {
  auto pipeline = video.pipeline("freezedetect " + properties + " ! fakesink");
  if (!pipeline) return {};
  run = run_pipeline(pipeline.get());
  EXPECT_TRUE(run.reached_eos) << run.error;
  return run.messages("freezedetect");
}

void expect_freeze(const GstStructure *s, GstClockTime start, GstClockTime end) {
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(get_uint64(s, "freeze-start"), start);
  EXPECT_EQ(get_uint64(s, "freeze-end"), end);
  EXPECT_EQ(get_uint64(s, "freeze-duration"), end - start);
}

TEST(FreezeDetect, ReportsIntervalWithExactTimesAndTimeFields) {
  /* Frames 25..99 show the same picture: [1 s, 4 s). */
  SyntheticVideo video(raw_caps("I420"), 150, still_between({{25, 99}}));
  PipelineRun run;
  auto frozen = run_freeze(video, "", run);
  ASSERT_EQ(frozen.size(), 1u);
  expect_freeze(frozen[0], frame_time(25), frame_time(100));
  const AnalysisTimes times = analysis_times(frozen[0]);
  EXPECT_EQ(times.timestamp, 1 * GST_SECOND);
  EXPECT_EQ(times.stream_time, 1 * GST_SECOND);
  EXPECT_EQ(times.running_time, 1 * GST_SECOND);
  EXPECT_EQ(times.duration, 3 * GST_SECOND);
  EXPECT_EQ(run.element_messages.size(), 1u);
}

TEST(FreezeDetect, MinDurationExcludesShortIntervals) {
  /* 1 s still at [1 s, 2 s), then 2.48 s at [3 s, 5.48 s). */
  const auto painter = still_between({{25, 49}, {75, 136}});
  {
    SyntheticVideo video(raw_caps("I420"), 175, painter);
    PipelineRun run;
    auto frozen = run_freeze(video, "", run); /* default: 2 s */
    ASSERT_EQ(frozen.size(), 1u);
    expect_freeze(frozen[0], frame_time(75), frame_time(137));
  }
  {
    /* An interval exactly as long as min-duration is reported. */
    SyntheticVideo video(raw_caps("I420"), 175, painter);
    PipelineRun run;
    auto frozen = run_freeze(video, "min-duration=1000000000", run);
    ASSERT_EQ(frozen.size(), 2u);
    expect_freeze(frozen[0], frame_time(25), frame_time(50));
    expect_freeze(frozen[1], frame_time(75), frame_time(137));
  }
  {
    SyntheticVideo video(raw_caps("I420"), 175, painter);
    PipelineRun run;
    auto frozen = run_freeze(video, "min-duration=1000000001", run);
    ASSERT_EQ(frozen.size(), 1u);
  }
}

TEST(FreezeDetect, NoiseDecidesWhetherASlightlyNoisyStillIsFrozen) {
  /* Frames 25..99: one still picture plus a random 0/1 on every luma
   * sample. Half the luma samples differ by 1 from the reference and luma
   * is 2/3 of I420's samples: mean absolute difference 1/3 / 256 = 0.0013. */
  auto painter = [](guint64 n, GstVideoFrame *frame) {
    if (n < 25 || n > 99) return paint_moving(frame, n);
    paint(frame, [n](guint x, guint y) {
      return guint8(100 + (x + 2 * y) % 128 + (pixel_hash(x, y, n) & 1));
    });
  };
  {
    SyntheticVideo video(raw_caps("I420"), 150, painter);
    PipelineRun run;
    EXPECT_TRUE(run_freeze(video, "", run).empty()); /* 0.0013 > 0.001 */
  }
  {
    SyntheticVideo video(raw_caps("I420"), 150, painter);
    PipelineRun run;
    auto frozen = run_freeze(video, "noise=0.002", run);
    ASSERT_EQ(frozen.size(), 1u);
    expect_freeze(frozen[0], frame_time(25), frame_time(100));
  }
}

TEST(FreezeDetect, SlowFadeIsNotAFreeze) {
  /* Grey rising by one step per frame: 1/256 = 0.0039 from one picture to
   * the next, under noise=0.005, but two steps from the reference exceed
   * it. Comparing with the previous picture would call all 6 s frozen. */
  auto painter = [](guint64 n, GstVideoFrame *frame) { paint_uniform(frame, guint8(40 + n)); };
  {
    SyntheticVideo video(raw_caps("GRAY8"), 150, painter);
    PipelineRun run;
    /* With no minimum, every reference and the one picture after it make
     * a 2-frame still: 75 of them, where the previous picture would make
     * one 6 s freeze. */
    auto frozen = run_freeze(video, "noise=0.005 min-duration=0", run);
    ASSERT_EQ(frozen.size(), 75u);
    for (guint64 i = 0; i < frozen.size(); ++i)
      expect_freeze(frozen[i], frame_time(2 * i), frame_time(2 * i + 2));
  }
  {
    SyntheticVideo video(raw_caps("GRAY8"), 150, painter);
    PipelineRun run;
    EXPECT_TRUE(run_freeze(video, "noise=0.005", run).empty());
  }
}

TEST(FreezeDetect, ChromaChangesCount) {
  /* Luma never changes; chroma alternates between 64 and 192 from frame
   * to frame. A detector reading only luma would call it all frozen. */
  for (const char *format : {"I420", "NV12", "YV12", "NV21", "Y41B", "Y42B", "Y444"}) {
    SCOPED_TRACE(format);
    SyntheticVideo video(raw_caps(format), 150, [](guint64 n, GstVideoFrame *frame) {
      paint_uniform(frame, 128, n % 2 ? 64 : 192);
    });
    PipelineRun run;
    EXPECT_TRUE(run_freeze(video, "", run).empty());
  }
  {
    /* The control: the same picture with still chroma is one long freeze. */
    SyntheticVideo video(raw_caps("I420"), 150,
                         [](guint64, GstVideoFrame *frame) { paint_uniform(frame, 128, 64); });
    PipelineRun run;
    auto frozen = run_freeze(video, "", run);
    ASSERT_EQ(frozen.size(), 1u);
    expect_freeze(frozen[0], 0, 6 * GST_SECOND);
  }
}

class FreezeDetectFormat : public ::testing::TestWithParam<const char *> {};

TEST_P(FreezeDetectFormat, FindsTheSameInterval) {
  SyntheticVideo video(raw_caps(GetParam()), 150, still_between({{25, 99}}));
  PipelineRun run;
  auto frozen = run_freeze(video, "", run);
  ASSERT_EQ(frozen.size(), 1u);
  expect_freeze(frozen[0], frame_time(25), frame_time(100));
}

INSTANTIATE_TEST_SUITE_P(Formats, FreezeDetectFormat,
                         ::testing::Values("I420", "NV12", "GRAY8", "YV12", "NV21", "Y41B", "Y42B",
                                           "Y444"));

TEST(FreezeDetect, ReportsOpenIntervalAtEos) {
  /* Still from frame 100 (4 s) to the last frame, 149: the interval ends
   * where the last frame ends, 6 s. */
  SyntheticVideo video(raw_caps("I420"), 150, still_between({{100, 149}}));
  PipelineRun run;
  auto frozen = run_freeze(video, "min-duration=1000000000", run);
  ASSERT_EQ(frozen.size(), 1u);
  expect_freeze(frozen[0], 4 * GST_SECOND, 6 * GST_SECOND);
  EXPECT_EQ(analysis_times(frozen[0]).duration, 2 * GST_SECOND);
}

TEST(FreezeDetect, FlushingSeekForgetsOpenIntervalAndKeepsTimesRight) {
  /* Still at [1 s, 4 s) and [6 s, 9 s). The stream is held at frame 90,
   * inside the first still, open for 2.6 s already (more than
   * min-duration), and seeks to 5 s. An open still carried across the seek
   * would come out as a bogus [1 s, 5 s); one closed by the new segment
   * instead of forgotten at the flush, as a bogus [1 s, 3.6 s). */
  SyntheticVideo video(raw_caps("I420"), 250, still_between({{25, 99}, {150, 224}}));
  video.hold_at(90);
  auto pipeline = video.pipeline("freezedetect ! fakesink");
  ASSERT_TRUE(pipeline);
  PipelineRun run = run_with_seek(pipeline.get(), 5 * GST_SECOND);
  EXPECT_TRUE(run.reached_eos) << run.error;
  auto frozen = run.messages("freezedetect");
  ASSERT_EQ(frozen.size(), 1u);
  expect_freeze(frozen[0], 6 * GST_SECOND, 9 * GST_SECOND);
  const AnalysisTimes times = analysis_times(frozen[0]);
  EXPECT_EQ(times.timestamp, 6 * GST_SECOND);
  EXPECT_EQ(times.stream_time, 6 * GST_SECOND);
  /* The seek's segment starts at 5 s, so running time restarts there. */
  EXPECT_EQ(times.running_time, 1 * GST_SECOND);
  EXPECT_EQ(times.duration, 3 * GST_SECOND);
}

TEST(FreezeDetect, NewSegmentClosesIntervalAndPostsInItsOwnSegment) {
  /* concat plays two 3 s still clips one after the other; each restarts its
   * timestamps at 0 in a segment whose base is the time played so far. */
  const std::string caps = raw_caps("I420");
  PipelineRun run = run_pipeline(
      "concat name=c ! freezedetect min-duration=1000000000 ! fakesink "
      "videotestsrc pattern=smpte100 num-buffers=75 ! " +
      caps +
      " ! c. "
      "videotestsrc pattern=smpte100 num-buffers=75 ! " +
      caps + " ! c.");
  ASSERT_TRUE(run.reached_eos) << run.error;
  auto frozen = run.messages("freezedetect");
  ASSERT_EQ(frozen.size(), 2u);
  for (const GstStructure *s : frozen) {
    expect_freeze(s, 0, 3 * GST_SECOND);
    EXPECT_EQ(analysis_times(s).stream_time, 0u);
  }
  EXPECT_EQ(analysis_times(frozen[0]).running_time, 0u);
  EXPECT_EQ(analysis_times(frozen[1]).running_time, 3 * GST_SECOND);
}

TEST(FreezeDetect, DocumentedLaunchLineWorks) {
  PipelineRun run = run_pipeline(
      "videotestsrc pattern=smpte100 num-buffers=75 ! "
      "video/x-raw,width=320,height=568,framerate=25/1 ! "
      "freezedetect min-duration=1000000000 ! fakesink");
  ASSERT_TRUE(run.reached_eos) << run.error;
  auto frozen = run.messages("freezedetect");
  ASSERT_EQ(frozen.size(), 1u);
  expect_freeze(frozen[0], 0, 3 * GST_SECOND);
}

TEST(FreezeDetect, PropertiesHaveTheDocumentedDefaults) {
  auto element = adopt_floating(gst_element_factory_make("freezedetect", nullptr));
  ASSERT_TRUE(element);
  gdouble noise = 0;
  guint64 min_duration = 0;
  g_object_get(element.get(), "noise", &noise, "min-duration", &min_duration, nullptr);
  EXPECT_DOUBLE_EQ(noise, 0.001);
  EXPECT_EQ(min_duration, 2 * GST_SECOND);
}

}  // namespace
}  // namespace reelforge::test
