/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * IntervalTracker alone: the "condition held for at least min-duration"
 * bookkeeping shared by the black, freeze and silence detectors.
 */
#include "interval-tracker.h"

#include "test-environment.h"

#include <gtest/gtest.h>

namespace reelforge {
namespace {

constexpr GstClockTime kFrame = 40 * GST_MSECOND;

/* Feeds frames [first, first + count) with the given activity. */
std::optional<TimeInterval> feed(IntervalTracker &tracker, bool active, guint64 first,
                                 guint64 count) {
  std::optional<TimeInterval> closed;
  for (guint64 n = first; n < first + count; ++n) {
    auto result = tracker.update(active, n * kFrame, (n + 1) * kFrame);
    if (result) {
      EXPECT_FALSE(closed) << "two intervals closed in one stretch";
      closed = result;
    }
  }
  return closed;
}

TEST(IntervalTracker, ClosesAtStartOfFirstInactiveChunk) {
  IntervalTracker tracker(GST_SECOND);
  EXPECT_FALSE(feed(tracker, false, 0, 10));
  EXPECT_FALSE(feed(tracker, true, 10, 50));
  EXPECT_TRUE(tracker.is_open());
  EXPECT_EQ(tracker.open_start(), 10 * kFrame);
  auto closed = feed(tracker, false, 60, 5);
  ASSERT_TRUE(closed);
  EXPECT_EQ(*closed, (TimeInterval{10 * kFrame, 60 * kFrame}));
  EXPECT_EQ(closed->duration(), 2 * GST_SECOND);
  EXPECT_FALSE(tracker.is_open());
}

TEST(IntervalTracker, MinDurationIsInclusive) {
  IntervalTracker tracker(GST_SECOND);
  feed(tracker, true, 0, 25); /* exactly 1 s */
  EXPECT_TRUE(tracker.update(false, 25 * kFrame, 26 * kFrame));
  feed(tracker, true, 26, 24); /* 0.96 s */
  EXPECT_FALSE(tracker.update(false, 50 * kFrame, 51 * kFrame));
}

TEST(IntervalTracker, FinishClosesAtEndOfLastChunk) {
  IntervalTracker tracker(GST_SECOND);
  feed(tracker, true, 0, 30);
  auto closed = tracker.finish();
  ASSERT_TRUE(closed);
  EXPECT_EQ(*closed, (TimeInterval{0, 30 * kFrame}));
  EXPECT_FALSE(tracker.is_open());
  EXPECT_FALSE(tracker.finish());
}

TEST(IntervalTracker, FinishReportsNothingShort) {
  IntervalTracker tracker(GST_SECOND);
  feed(tracker, true, 0, 10);
  EXPECT_FALSE(tracker.finish());
}

TEST(IntervalTracker, ResetForgetsOpenInterval) {
  IntervalTracker tracker(GST_SECOND);
  feed(tracker, true, 0, 100);
  tracker.reset();
  EXPECT_FALSE(tracker.is_open());
  /* After a seek to frame 200 nothing spans the gap. */
  EXPECT_FALSE(feed(tracker, false, 200, 5));
  EXPECT_FALSE(tracker.finish());
}

TEST(IntervalTracker, ActiveChunkMayStartEarlier) {
  /* A still run is known only when the picture after the reference matches
   * it: the caller opens the interval at the reference's start. */
  IntervalTracker tracker(0);
  tracker.update(false, 0, kFrame); /* the reference */
  tracker.update(true, 0, 2 * kFrame);
  tracker.update(true, 0, 3 * kFrame);
  auto closed = tracker.update(false, 3 * kFrame, 4 * kFrame);
  ASSERT_TRUE(closed);
  EXPECT_EQ(*closed, (TimeInterval{0, 3 * kFrame}));
}

TEST(IntervalTracker, BackwardsTimestampsGiveNoInterval) {
  IntervalTracker tracker(0);
  tracker.update(true, 10 * kFrame, 11 * kFrame);
  EXPECT_FALSE(tracker.update(false, 5 * kFrame, 6 * kFrame));
}

}  // namespace
}  // namespace reelforge
