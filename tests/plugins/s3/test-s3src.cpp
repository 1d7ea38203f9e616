/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * s3src against a real S3 server (s3rver): an MP4 whose moov is at the end
 * plays from S3 through uridecodebin3 (qtdemux pulls the moov with ranged
 * GETs), seeks, and a missing object is a clear error.
 */
#include "s3-test-helpers.h"

#include <fstream>
#include <sstream>

using namespace reelforge;
using namespace reelforge::test;

namespace {

class S3SrcTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server.started()); }

  /* 2 s of 320x568 25 fps H.264 in an MP4 written by mp4mux to a file, so
   * the moov comes after the mdat; uploaded to key. */
  void upload_clip(const std::string &key) {
    TempDir dir;
    const std::string path = dir.file("clip.mp4");
    PipelineRun made = run_pipeline(
        "videotestsrc num-buffers=50 ! video/x-raw,width=320,height=568,framerate=25/1 ! "
        "x264enc speed-preset=ultrafast key-int-max=25 ! mp4mux ! filesink location=" +
        path);
    ASSERT_TRUE(made.reached_eos) << made.error;
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string bytes = ss.str();
    ASSERT_GT(bytes.find("moov"), bytes.find("mdat")) << "the moov must be at the end";
    PipelineRun upload = run_pipeline("filesrc location=" + path + " ! s3sink uri=\"s3://" +
                                      kBucket + "/" + key + "\"");
    ASSERT_TRUE(upload.reached_eos) << upload.error;
  }

  S3Server server;
  S3Environment environment{server};
};

struct FrameCounter {
  guint frames = 0;
  GstClockTime first_pts = GST_CLOCK_TIME_NONE;
};

GstPadProbeReturn count_frame(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *counter = static_cast<FrameCounter *>(data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (counter->frames++ == 0) counter->first_pts = GST_BUFFER_PTS(buffer);
  return GST_PAD_PROBE_OK;
}

}  // namespace

TEST_F(S3SrcTest, MoovAtEndMp4PlaysFromS3ThroughUridecodebin3) {
  upload_clip("clips/moov at end.mp4");
  if (HasFatalFailure()) return;
  GError *error = nullptr;
  auto pipeline = adopt_floating(gst_parse_launch(
      "uridecodebin3 uri=\"s3://reelforge-test/clips/moov%20at%20end.mp4\" ! videoconvert ! "
      "video/x-raw,format=I420 ! fakesink name=sink",
      &error));
  ASSERT_EQ(error, nullptr) << error->message;
  FrameCounter counter;
  GstObjectPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
  GstObjectPtr<GstPad> pad(gst_element_get_static_pad(sink.get(), "sink"));
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, count_frame, &counter, nullptr);
  PipelineRun run = run_pipeline(pipeline.get());
  ASSERT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(counter.frames, 50u);
}

TEST_F(S3SrcTest, SeeksInAnMp4OnS3) {
  upload_clip("seek.mp4");
  if (HasFatalFailure()) return;
  GError *error = nullptr;
  auto pipeline = adopt_floating(gst_parse_launch(
      "uridecodebin3 uri=s3://reelforge-test/seek.mp4 ! videoconvert ! fakesink name=sink",
      &error));
  ASSERT_EQ(error, nullptr) << error->message;
  preroll_and_seek(pipeline.get(), 1 * GST_SECOND);
  if (HasFatalFailure()) return;
  FrameCounter counter;
  GstObjectPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
  GstObjectPtr<GstPad> pad(gst_element_get_static_pad(sink.get(), "sink"));
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, count_frame, &counter, nullptr);
  PipelineRun run = run_pipeline(pipeline.get());
  ASSERT_TRUE(run.reached_eos) << run.error;
  /* From 1 s to 2 s: 25 frames, the first at 1 s. */
  EXPECT_EQ(counter.frames, 25u);
  EXPECT_EQ(counter.first_pts, 1 * GST_SECOND);
}

TEST_F(S3SrcTest, MissingObjectIsAClearError) {
  const gint64 started = g_get_monotonic_time();
  PipelineRun run = run_pipeline("s3src uri=s3://reelforge-test/not/there.mp4 ! fakesink");
  EXPECT_FALSE(run.reached_eos);
  EXPECT_NE(run.error.find("s3://reelforge-test/not/there.mp4"), std::string::npos) << run.error;
  EXPECT_NE(run.error.find("404"), std::string::npos) << run.error;
  EXPECT_LT(g_get_monotonic_time() - started, 15 * G_USEC_PER_SEC);

  run = run_pipeline("s3src uri=s3://no-such-bucket/x.mp4 ! fakesink");
  EXPECT_NE(run.error.find("s3://no-such-bucket/x.mp4"), std::string::npos) << run.error;
}
