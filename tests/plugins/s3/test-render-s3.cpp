/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `reelforge render` of a job whose output.uri_prefix is s3://: the MP4 is
 * uploaded by s3sink inside the render pipeline, then its QC report and
 * thumbnails; a failing QC leaves none of them in the bucket.
 */
#include "json-file.h"
#include "s3-test-helpers.h"

#include <fstream>

using namespace reelforge::test;

namespace {

void write_file(const std::string &path, const std::string &text) {
  std::ofstream(path) << text;
}

class RenderToS3 : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server.started());
    std::filesystem::create_directories(dir.file("profiles"));
    /* A small canvas and limits a 2 s test ad meets (as test-render-command). */
    write_file(dir.file("profiles/small.json"), R"({
      "name": "small", "title": "Small test canvas",
      "canvas": {"width": 320, "height": 568, "fps": 30},
      "safe_zone": {"top": 40, "bottom": 120, "left": 0, "right": 40},
      "levels": {"house": {"severity": "fail", "limits": {"duration_s": {"max": 60},
                 "aspect": {"equals": "9:16", "tolerance": 0.01}, "allow_black": false}}}})");
    g_setenv("REELFORGE_PLATFORMS_PATH", dir.file("profiles").c_str(), TRUE);
  }
  void TearDown() override { g_unsetenv("REELFORGE_PLATFORMS_PATH"); }

  /* Two 1 s cards; the first colour decides whether QC passes. */
  std::string job(const std::string &name, const std::string &first_colour) {
    const std::string path = dir.file(name + ".json");
    write_file(path, R"({"name": ")" + name + R"(", "platforms": ["small"],
      "scenes": [{"source": {"card": {"text": ".", "background": ")" +
                         first_colour + R"("}}, "duration": 1},
                 {"source": {"card": {"text": "Light", "background": "#FDE047"}}, "duration": 1}],
      "output": {"uri_prefix": "s3://reelforge-test/campaign/", "thumbnails": 2,
                 "video": {"preset": "ultrafast"}}})");
    return path;
  }

  S3Server server;
  S3Environment environment{server};
  TempDir dir;
};

}  // namespace

TEST_F(RenderToS3, PutsTheMp4ThumbnailsAndReportInTheBucket) {
  const ProgramResult result =
      reelforge::test::reelforge({"render", job("bright", "#1E3A8A"), "--progress=none"});
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("bright.small: s3://reelforge-test/campaign/bright.small.mp4 (QC "
                               "pass, report s3://reelforge-test/campaign/bright.small.qc.json)"),
            std::string::npos)
      << result.output;

  reelforge::s3::S3Response video = s3_head(server, "campaign/bright.small.mp4");
  EXPECT_EQ(video.status, 200u);
  EXPECT_EQ(video.content_type, "video/mp4");
  EXPECT_EQ(s3_head(server, "campaign/bright.small.qc.json").status, 200u);
  EXPECT_EQ(s3_head(server, "campaign/bright.small.thumb-1.jpg").status, 200u);
  EXPECT_EQ(s3_head(server, "campaign/bright.small.thumb-2.jpg").status, 200u);
  /* Nothing left behind locally. */
  EXPECT_FALSE(std::filesystem::exists(dir.file("out/bright.small.qc.json")));

  /* The uploaded MP4 plays from S3: 2 s at 30 fps. */
  guint frames = 0;
  GError *error = nullptr;
  auto pipeline = reelforge::adopt_floating(
      gst_parse_launch("uridecodebin3 uri=s3://reelforge-test/campaign/bright.small.mp4 name=d "
                       "d. ! video/x-raw ! fakesink name=sink d. ! audio/x-raw ! fakesink",
                       &error));
  ASSERT_EQ(error, nullptr) << error->message;
  reelforge::GstObjectPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "sink"));
  reelforge::GstObjectPtr<GstPad> pad(gst_element_get_static_pad(sink.get(), "sink"));
  gst_pad_add_probe(
      pad.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad *pad, GstPadProbeInfo *, gpointer data) {
        reelforge::CapsPtr caps(gst_pad_get_current_caps(pad));
        if (caps && g_str_has_prefix(gst_structure_get_name(gst_caps_get_structure(caps.get(), 0)),
                                     "video/"))
          ++*static_cast<guint *>(data);
        return GST_PAD_PROBE_OK;
      },
      &frames, nullptr);
  PipelineRun run = run_pipeline(pipeline.get());
  EXPECT_TRUE(run.reached_eos) << run.error;
  EXPECT_EQ(frames, 60u);
}

TEST_F(RenderToS3, AFailingQcLeavesNothingInTheBucket) {
  /* a black card for a whole second breaks the profile's allow_black */
  const ProgramResult result =
      reelforge::test::reelforge({"render", job("dark", "#000000"), "--progress=none"});
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("dark.small: QC fail, nothing uploaded"), std::string::npos)
      << result.output;
  EXPECT_EQ(s3_head(server, "campaign/dark.small.mp4").status, 404u);
  EXPECT_EQ(s3_head(server, "campaign/dark.small.qc.json").status, 404u);
  EXPECT_EQ(s3_head(server, "campaign/dark.small.thumb-1.jpg").status, 404u);
  /* The reason stays on disk. */
  EXPECT_TRUE(std::filesystem::exists(dir.file("out/dark.small.qc.json")));
}
