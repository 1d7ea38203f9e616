/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * blackframedetect on synthetic video with black pictures at known frames
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

/* Black pictures on [first, last] frames, a moving texture elsewhere. */
FramePainter black_between(const std::vector<std::pair<guint64, guint64>> &ranges,
                           guint8 black = 16) {
  return [ranges, black](guint64 n, GstVideoFrame *frame) {
    for (const auto &[first, last] : ranges) {
      if (n >= first && n <= last) {
        paint_uniform(frame, black);
        return;
      }
    }
    paint_moving(frame, n);
  };
}

std::vector<const GstStructure *> run_black(SyntheticVideo &video, const std::string &properties,
                                            PipelineRun &run) {
  auto pipeline = video.pipeline("blackframedetect " + properties + " ! fakesink");
  if (!pipeline) return {};
  run = run_pipeline(pipeline.get());
  EXPECT_TRUE(run.reached_eos) << run.error;
  return run.messages("blackframedetect");
}

void expect_black(const GstStructure *s, GstClockTime start, GstClockTime end) {
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(get_uint64(s, "black-start"), start);
  EXPECT_EQ(get_uint64(s, "black-end"), end);
  EXPECT_EQ(get_uint64(s, "black-duration"), end - start);
}

TEST(BlackFrameDetect, ReportsIntervalWithExactTimesAndTimeFields) {
  /* Frames 25..99 black: [1 s, 4 s). */
  SyntheticVideo video(raw_caps("I420"), 150, black_between({{25, 99}}));
  PipelineRun run;
  auto black = run_black(video, "", run);
  ASSERT_EQ(black.size(), 1u);
  expect_black(black[0], frame_time(25), frame_time(100));
  const AnalysisTimes times = analysis_times(black[0]);
  EXPECT_EQ(times.timestamp, 1 * GST_SECOND);
  EXPECT_EQ(times.stream_time, 1 * GST_SECOND);
  EXPECT_EQ(times.running_time, 1 * GST_SECOND);
  EXPECT_EQ(times.duration, 3 * GST_SECOND);
  EXPECT_EQ(run.element_messages.size(), 1u);
}

TEST(BlackFrameDetect, MinDurationExcludesShortIntervals) {
  /* 1 s of black at [1 s, 2 s), then 2.5 s at [3 s, 5.5 s). */
  const auto painter = black_between({{25, 49}, {75, 136}});
  {
    SyntheticVideo video(raw_caps("I420"), 175, painter);
    PipelineRun run;
    auto black = run_black(video, "", run); /* default: 2 s */
    ASSERT_EQ(black.size(), 1u);
    expect_black(black[0], frame_time(75), frame_time(137));
  }
  {
    /* An interval exactly as long as min-duration is reported. */
    SyntheticVideo video(raw_caps("I420"), 175, painter);
    PipelineRun run;
    auto black = run_black(video, "min-duration=1000000000", run);
    ASSERT_EQ(black.size(), 2u);
    expect_black(black[0], frame_time(25), frame_time(50));
    expect_black(black[1], frame_time(75), frame_time(137));
  }
  {
    SyntheticVideo video(raw_caps("I420"), 175, painter);
    PipelineRun run;
    auto black = run_black(video, "min-duration=1000000001", run);
    ASSERT_EQ(black.size(), 1u);
    expect_black(black[0], frame_time(75), frame_time(137));
  }
}

TEST(BlackFrameDetect, PixelThresholdDecidesWhetherDarkGreyIsBlack) {
  /* Limited range, default 0.10: black when luma <= 16 + 21.9, so 37 is
   * black and 38 is not; 0.15 moves the limit to 48.85. */
  struct Case {
    guint8 luma;
    const char *properties;
    size_t expected;
  };
  for (const Case &c :
       {Case{37, "", 1}, Case{38, "", 0}, Case{40, "", 0}, Case{40, "pixel-threshold=0.15", 1},
        Case{48, "pixel-threshold=0.15", 1}, Case{49, "pixel-threshold=0.15", 0}}) {
    SCOPED_TRACE(std::string("luma ") + std::to_string(c.luma) + " " + c.properties);
    SyntheticVideo video(raw_caps("I420"), 150, black_between({{25, 99}}, c.luma));
    PipelineRun run;
    auto black = run_black(video, c.properties, run);
    ASSERT_EQ(black.size(), c.expected);
    if (c.expected) expect_black(black[0], frame_time(25), frame_time(100));
  }
}

TEST(BlackFrameDetect, PictureThresholdDecidesWhetherPartlyBlackPictureIsBlack) {
  /* Frames 25..99: the top 540 of 568 rows black (95.07 %), the rest white. */
  const guint black_rows = 540;
  auto painter = [black_rows](guint64 n, GstVideoFrame *frame) {
    if (n >= 25 && n <= 99)
      paint(frame, [black_rows](guint, guint y) { return guint8(y < black_rows ? 16 : 235); });
    else
      paint_moving(frame, n);
  };
  {
    SyntheticVideo video(raw_caps("I420"), 150, painter);
    PipelineRun run;
    EXPECT_TRUE(run_black(video, "", run).empty()); /* 0.9507 < 0.98 */
  }
  {
    SyntheticVideo video(raw_caps("I420"), 150, painter);
    PipelineRun run;
    auto black = run_black(video, "picture-threshold=0.95", run); /* 0.9507 >= 0.95 */
    ASSERT_EQ(black.size(), 1u);
    expect_black(black[0], frame_time(25), frame_time(100));
  }
  {
    SyntheticVideo video(raw_caps("I420"), 150, painter);
    PipelineRun run;
    EXPECT_TRUE(run_black(video, "picture-threshold=0.96", run).empty());
  }
}

TEST(BlackFrameDetect, RangeComesFromColorimetry) {
  /* Luma 30: black in limited range (<= 37.9), not in full range
   * (<= 25.5); luma 25 is black in both. */
  struct Case {
    const char *colorimetry;
    guint8 luma;
    size_t expected;
  };
  for (const Case &c : {Case{"bt601", 30, 1}, Case{"bt709", 30, 1}, Case{"1:4:0:0", 30, 0},
                        Case{"1:4:0:0", 25, 1}, Case{"1:3:5:1", 26, 0}}) {
    SCOPED_TRACE(std::string(c.colorimetry) + " luma " + std::to_string(c.luma));
    SyntheticVideo video(raw_caps("I420", c.colorimetry), 150, black_between({{25, 99}}, c.luma));
    PipelineRun run;
    auto black = run_black(video, "", run);
    ASSERT_EQ(black.size(), c.expected);
    if (c.expected) expect_black(black[0], frame_time(25), frame_time(100));
  }
}

class BlackFrameDetectFormat : public ::testing::TestWithParam<const char *> {};

TEST_P(BlackFrameDetectFormat, FindsTheSameInterval) {
  /* Chroma is 128 everywhere, so a detector reading a chroma plane as luma
   * would find nothing black. */
  SyntheticVideo video(raw_caps(GetParam()), 150, black_between({{25, 99}}));
  PipelineRun run;
  auto black = run_black(video, "", run);
  ASSERT_EQ(black.size(), 1u);
  expect_black(black[0], frame_time(25), frame_time(100));
}

INSTANTIATE_TEST_SUITE_P(Formats, BlackFrameDetectFormat,
                         ::testing::Values("I420", "NV12", "GRAY8", "YV12", "NV21", "Y41B", "Y42B",
                                           "Y444"));

TEST(BlackFrameDetect, ReportsOpenIntervalAtEos) {
  /* Black from frame 100 (4 s) to the last frame, 149: the interval ends
   * where the last frame ends, 6 s. */
  SyntheticVideo video(raw_caps("I420"), 150, black_between({{100, 149}}));
  PipelineRun run;
  auto black = run_black(video, "min-duration=1000000000", run);
  ASSERT_EQ(black.size(), 1u);
  expect_black(black[0], 4 * GST_SECOND, 6 * GST_SECOND);
  EXPECT_EQ(analysis_times(black[0]).duration, 2 * GST_SECOND);
}

TEST(BlackFrameDetect, FlushingSeekForgetsOpenIntervalAndKeepsTimesRight) {
  /* Black at [1 s, 4 s) and [6 s, 9 s). The stream is held at frame 90,
   * inside the first interval, open for 2.6 s already (more than
   * min-duration), and seeks to 5 s. An open interval carried across the seek
   * would come out as a bogus [1 s, 5 s); one closed by the new segment
   * instead of forgotten at the flush, as a bogus [1 s, 3.6 s). */
  SyntheticVideo video(raw_caps("I420"), 250, black_between({{25, 99}, {150, 224}}));
  video.hold_at(90);
  auto pipeline = video.pipeline("blackframedetect ! fakesink");
  ASSERT_TRUE(pipeline);
  PipelineRun run = run_with_seek(pipeline.get(), 5 * GST_SECOND);
  EXPECT_TRUE(run.reached_eos) << run.error;
  auto black = run.messages("blackframedetect");
  ASSERT_EQ(black.size(), 1u);
  expect_black(black[0], 6 * GST_SECOND, 9 * GST_SECOND);
  const AnalysisTimes times = analysis_times(black[0]);
  EXPECT_EQ(times.timestamp, 6 * GST_SECOND);
  EXPECT_EQ(times.stream_time, 6 * GST_SECOND);
  /* The seek's segment starts at 5 s, so running time restarts there. */
  EXPECT_EQ(times.running_time, 1 * GST_SECOND);
  EXPECT_EQ(times.duration, 3 * GST_SECOND);
}

TEST(BlackFrameDetect, NewSegmentClosesIntervalAndPostsInItsOwnSegment) {
  /* concat plays two 3 s black clips one after the other; each restarts its
   * timestamps at 0 in a segment whose base is the time played so far. */
  const std::string caps = raw_caps("I420");
  PipelineRun run = run_pipeline(
      "concat name=c ! blackframedetect min-duration=1000000000 ! fakesink "
      "videotestsrc pattern=black num-buffers=75 ! " +
      caps +
      " ! c. "
      "videotestsrc pattern=black num-buffers=75 ! " +
      caps + " ! c.");
  ASSERT_TRUE(run.reached_eos) << run.error;
  auto black = run.messages("blackframedetect");
  ASSERT_EQ(black.size(), 2u);
  for (const GstStructure *s : black) {
    expect_black(s, 0, 3 * GST_SECOND);
    EXPECT_EQ(analysis_times(s).stream_time, 0u);
  }
  EXPECT_EQ(analysis_times(black[0]).running_time, 0u);
  EXPECT_EQ(analysis_times(black[1]).running_time, 3 * GST_SECOND);
}

TEST(BlackFrameDetect, DocumentedLaunchLineWorks) {
  PipelineRun run = run_pipeline(
      "videotestsrc pattern=black num-buffers=75 ! "
      "video/x-raw,width=320,height=568,framerate=25/1 ! "
      "blackframedetect min-duration=1000000000 ! fakesink");
  ASSERT_TRUE(run.reached_eos) << run.error;
  auto black = run.messages("blackframedetect");
  ASSERT_EQ(black.size(), 1u);
  expect_black(black[0], 0, 3 * GST_SECOND);
}

TEST(BlackFrameDetect, PropertiesHaveTheDocumentedDefaults) {
  GstObjectPtr<GstElement> element =
      adopt_floating(gst_element_factory_make("blackframedetect", nullptr));
  ASSERT_TRUE(element);
  gdouble pixel = 0, picture = 0;
  guint64 min_duration = 0;
  g_object_get(element.get(), "pixel-threshold", &pixel, "picture-threshold", &picture,
               "min-duration", &min_duration, nullptr);
  EXPECT_DOUBLE_EQ(pixel, 0.10);
  EXPECT_DOUBLE_EQ(picture, 0.98);
  EXPECT_EQ(min_duration, 2 * GST_SECOND);
}

}  // namespace
}  // namespace reelforge::test
