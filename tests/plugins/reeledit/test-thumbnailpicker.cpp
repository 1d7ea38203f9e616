/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * thumbnailpicker: one thumbnail per window, never a black or flat frame
 * when a detailed one is there, written as JPEG or PNG at EOS.
 */
#include "test-environment.h"

#include <gst/video/video.h>

#include <cstring>
#include <fstream>

namespace reelforge::test {
namespace {

std::string head_bytes(const std::string &path, size_t n) {
  std::ifstream file(path, std::ios::binary);
  std::string bytes(n, '\0');
  file.read(bytes.data(), static_cast<std::streamsize>(n));
  return bytes;
}

struct Picked {
  std::vector<std::string> locations;
  std::vector<guint64> timestamps;
};

Picked run_picker(const std::string &options, guint64 frames,
                  std::vector<std::tuple<guint64, guint64, guint8>> flat = {}) {
  const std::string description =
      "videotestsrc name=vsrc num-buffers=" + std::to_string(frames) +
      " pattern=smpte horizontal-speed=4 ! video/x-raw,format=I420,width=320,height=568,"
      "framerate=30/1 ! thumbnailpicker " +
      options + " ! fakesink";
  GError *error = nullptr;
  auto pipeline = adopt_floating(gst_parse_launch(description.c_str(), &error));
  EXPECT_EQ(error, nullptr);
  for (const auto &[first, last, luma] : flat)
    paint_frames(pipeline.get(), "vsrc", first, last, luma);
  const PipelineRun run = run_pipeline(pipeline.get());
  EXPECT_TRUE(run.reached_eos) << run.error;
  Picked picked;
  const auto messages = run.messages("thumbnailpicker");
  EXPECT_EQ(messages.size(), 1u);
  if (messages.empty()) return picked;
  const GValue *locations = gst_structure_get_value(messages[0], "locations");
  const GValue *timestamps = gst_structure_get_value(messages[0], "timestamps");
  for (guint i = 0; i < gst_value_array_get_size(locations); ++i) {
    picked.locations.push_back(g_value_get_string(gst_value_array_get_value(locations, i)));
    picked.timestamps.push_back(g_value_get_uint64(gst_value_array_get_value(timestamps, i)));
  }
  return picked;
}

TEST(ThumbnailPicker, OnePerWindowSkippingBlackAndFlatFrames) {
  TempDir dir;
  /* 3 s in three windows: the first starts black, the second is half flat
   * grey, the third is all detail. */
  const Picked picked =
      run_picker("count=3 location=" + dir.file("thumb-%d.jpg"), 90, {{0, 20, 16}, {30, 50, 128}});
  ASSERT_EQ(picked.locations.size(), 3u);
  EXPECT_EQ(picked.locations[0], dir.file("thumb-1.jpg"));
  EXPECT_EQ(picked.locations[2], dir.file("thumb-3.jpg"));
  /* window 1: after the black frames; window 2: after the flat ones */
  EXPECT_GE(picked.timestamps[0], 20 * GST_SECOND / 30);
  EXPECT_LT(picked.timestamps[0], GST_SECOND);
  EXPECT_GE(picked.timestamps[1], 50 * GST_SECOND / 30);
  EXPECT_LT(picked.timestamps[1], 2 * GST_SECOND);
  EXPECT_GE(picked.timestamps[2], 2 * GST_SECOND);
  for (const auto &path : picked.locations) EXPECT_EQ(head_bytes(path, 3), "\xff\xd8\xff") << path;
}

TEST(ThumbnailPicker, PngByExtensionAndScaledWidth) {
  TempDir dir;
  const Picked picked = run_picker("count=1 width=160 location=" + dir.file("cover-%02d.png"), 30);
  ASSERT_EQ(picked.locations.size(), 1u);
  EXPECT_EQ(picked.locations[0], dir.file("cover-01.png"));
  const std::string header = head_bytes(picked.locations[0], 24);
  EXPECT_EQ(header.substr(0, 8), "\x89PNG\r\n\x1a\n");
  /* IHDR: big-endian width and height at offsets 16 and 20 */
  auto be32 = [&](size_t at) {
    return (guint32(guint8(header[at])) << 24) | (guint32(guint8(header[at + 1])) << 16) |
           (guint32(guint8(header[at + 2])) << 8) | guint32(guint8(header[at + 3]));
  };
  EXPECT_EQ(be32(16), 160u);
  EXPECT_EQ(be32(20), 284u);
}

TEST(ThumbnailPicker, AllBlackGivesNoThumbnailAndNoError) {
  TempDir dir;
  const std::string description =
      "videotestsrc num-buffers=30 pattern=black ! "
      "video/x-raw,width=320,height=568,framerate=30/1 ! "
      "thumbnailpicker location=" +
      dir.file("t-%d.jpg") + " ! fakesink";
  const PipelineRun run = run_pipeline(description);
  EXPECT_TRUE(run.reached_eos) << run.error;
  EXPECT_TRUE(run.messages("thumbnailpicker").empty());
  EXPECT_FALSE(std::filesystem::exists(dir.file("t-1.jpg")));
}

TEST(ThumbnailPicker, AnUnwritableLocationIsAnError) {
  const PipelineRun run = run_pipeline(
      "videotestsrc num-buffers=10 pattern=smpte ! video/x-raw,width=320,height=568 ! "
      "thumbnailpicker location=/nonexistent/folder/t-%d.jpg ! fakesink");
  EXPECT_FALSE(run.reached_eos);
  EXPECT_NE(run.error.find("cannot write thumbnail /nonexistent/folder/t-1.jpg"), std::string::npos)
      << run.error;
}

}  // namespace
}  // namespace reelforge::test
