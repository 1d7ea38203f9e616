/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * qcprobe on raw test streams: the verdict for each shipped profile on a
 * stream that passes, one too long, one with the wrong aspect ratio, one
 * with no audio and one too loud; on-fail=error; the report file.
 */
#include "json-file.h"
#include "test-environment.h"

#include <gst/video/video.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>

namespace reelforge::test {
namespace {

struct StreamSpec {
  int width = 1080;
  int height = 1920;
  int fps = 30;
  double seconds = 4;
  bool audio = true;
  double volume = 0.2; /* a 440 Hz stereo sine at 0.2 is about -14 LUFS */
  std::string wave = "sine";
};

std::string qc_pipeline(const std::string &profile, const StreamSpec &spec,
                        const std::string &extra = "") {
  std::ostringstream d;
  d << "qcprobe name=qc profile=" << profile << " " << extra
    << " videotestsrc num-buffers=" << static_cast<int>(spec.seconds * spec.fps)
    << " pattern=smpte horizontal-speed=4 ! video/x-raw,format=I420,width=" << spec.width
    << ",height=" << spec.height << ",framerate=" << spec.fps
    << "/1 ! qc.video_sink qc.video_src ! fakesink name=vsink";
  if (spec.audio) {
    /* 0.1 s buffers */
    d << " audiotestsrc num-buffers=" << static_cast<int>(spec.seconds * 10)
      << " samplesperbuffer=4800 freq=440 wave=" << spec.wave << " volume=" << spec.volume
      << " ! audio/x-raw,format=F32LE,rate=48000,channels=2 ! qc.audio_sink qc.audio_src ! "
         "fakesink name=asink";
  }
  return d.str();
}

const GstStructure *the_report(const PipelineRun &run) {
  const auto reports = run.messages("qc-report");
  EXPECT_EQ(reports.size(), 1u) << "qcprobe posts exactly one qc-report";
  return reports.empty() ? nullptr : reports.front();
}

/* The findings of a report as "check/level/severity" strings. */
std::vector<std::string> findings(const GstStructure *report) {
  std::vector<std::string> out;
  const GValue *array = gst_structure_get_value(report, "findings");
  EXPECT_NE(array, nullptr);
  if (array == nullptr) return out;
  for (guint i = 0; i < gst_value_array_get_size(array); ++i) {
    const GstStructure *f = gst_value_get_structure(gst_value_array_get_value(array, i));
    out.push_back(get_string(f, "check") + "/" + get_string(f, "level") + "/" +
                  get_string(f, "severity"));
  }
  return out;
}

bool has_finding(const GstStructure *report, const std::string &check_level_severity) {
  const auto all = findings(report);
  return std::find(all.begin(), all.end(), check_level_severity) != all.end();
}

std::string joined(const std::vector<std::string> &items) {
  std::string text;
  for (const auto &item : items) text += item + " ";
  return text;
}

class QcProbeProfiles : public ::testing::TestWithParam<std::string> {
 protected:
  /* Each profile's own canvas: 9:16 for the vertical ones, 16:9 for youtube. */
  StreamSpec canvas() const {
    StreamSpec spec;
    if (GetParam() == "youtube") std::swap(spec.width, spec.height);
    return spec;
  }
  StreamSpec small() const {
    StreamSpec spec = canvas();
    spec.width /= 3;
    spec.height /= 3;
    return spec;
  }
};

TEST_P(QcProbeProfiles, AStreamOnTheCanvasPasses) {
  const PipelineRun run = run_pipeline(qc_pipeline(GetParam(), canvas()));
  ASSERT_TRUE(run.reached_eos) << run.error;
  const GstStructure *report = the_report(run);
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(get_string(report, "verdict"), "pass") << joined(findings(report));
  EXPECT_EQ(get_string(report, "profile"), GetParam());
  guint failures = 99, warnings = 99;
  EXPECT_TRUE(gst_structure_get_uint(report, "failures", &failures));
  EXPECT_TRUE(gst_structure_get_uint(report, "warnings", &warnings));
  EXPECT_EQ(failures, 0u);
  EXPECT_EQ(warnings, 0u);
  /* The report covers the whole stream: 4 s from 0. */
  EXPECT_EQ(get_uint64(report, "timestamp"), 0u);
  EXPECT_EQ(get_uint64(report, "stream-time"), 0u);
  EXPECT_EQ(get_uint64(report, "running-time"), 0u);
  EXPECT_EQ(get_uint64(report, "duration"), 4 * GST_SECOND);

  JsonNodePtr json = parse_json(get_string(report, "report"), "report");
  JsonObject *top = json_node_get_object(json.get());
  EXPECT_STREQ(json_object_get_string_member(top, "verdict"), "pass");
  JsonObject *m = json_object_get_object_member(top, "measurements");
  EXPECT_DOUBLE_EQ(json_object_get_double_member(m, "duration_s"), 4.0);
  JsonObject *video = json_object_get_object_member(m, "video");
  EXPECT_EQ(json_object_get_int_member(video, "width"), canvas().width);
  EXPECT_EQ(json_object_get_int_member(video, "height"), canvas().height);
  EXPECT_DOUBLE_EQ(json_object_get_double_member(video, "fps"), 30.0);
  EXPECT_EQ(json_object_get_int_member(video, "frames"), 120);
  JsonObject *audio = json_object_get_object_member(m, "audio");
  EXPECT_EQ(json_object_get_int_member(audio, "sample_rate_hz"), 48000);
  EXPECT_EQ(json_object_get_int_member(audio, "channels"), 2);
  JsonObject *loudness = json_object_get_object_member(m, "loudness");
  EXPECT_NEAR(json_object_get_double_member(loudness, "integrated_lufs"), -14.0, 1.5);
}

TEST_P(QcProbeProfiles, AStreamTooLongFailsOnDuration) {
  if (GetParam() == "youtube") GTEST_SKIP() << "YouTube takes up to 12 hours";
  StreamSpec spec = small();
  spec.seconds = GetParam() == "instagram-reels" ? 91 : 61;
  spec.fps = 24;
  const PipelineRun run = run_pipeline(qc_pipeline(GetParam(), spec));
  ASSERT_TRUE(run.reached_eos) << run.error;
  const GstStructure *report = the_report(run);
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(get_string(report, "verdict"), "fail");
  EXPECT_TRUE(has_finding(report, "duration/house/fail")) << joined(findings(report));
}

TEST_P(QcProbeProfiles, TheWrongAspectRatioFails) {
  StreamSpec spec = canvas();
  std::swap(spec.width, spec.height); /* 16:9 for the vertical ones, 9:16 for youtube */
  spec.width /= 3;
  spec.height /= 3;
  const PipelineRun run = run_pipeline(qc_pipeline(GetParam(), spec));
  ASSERT_TRUE(run.reached_eos) << run.error;
  const GstStructure *report = the_report(run);
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(get_string(report, "verdict"), "fail");
  EXPECT_TRUE(has_finding(report, "aspect/house/fail")) << joined(findings(report));
}

TEST_P(QcProbeProfiles, NoAudioFails) {
  StreamSpec spec = canvas();
  spec.audio = false;
  const PipelineRun run = run_pipeline(qc_pipeline(GetParam(), spec));
  ASSERT_TRUE(run.reached_eos) << run.error;
  const GstStructure *report = the_report(run);
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(get_string(report, "verdict"), "fail");
  EXPECT_EQ(findings(report), std::vector<std::string>{"audio-present/house/fail"});
}

TEST_P(QcProbeProfiles, TooLoudWarns) {
  StreamSpec spec = canvas();
  spec.wave = "square";
  spec.volume = 1.0;
  const PipelineRun run = run_pipeline(qc_pipeline(GetParam(), spec));
  ASSERT_TRUE(run.reached_eos) << run.error;
  const GstStructure *report = the_report(run);
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(get_string(report, "verdict"), "warn");
  EXPECT_EQ(findings(report),
            (std::vector<std::string>{"loudness/recommended/warn", "true-peak/recommended/warn"}));
}

INSTANTIATE_TEST_SUITE_P(Shipped, QcProbeProfiles,
                         ::testing::Values("tiktok", "youtube-shorts", "instagram-reels",
                                           "youtube"),
                         [](const auto &info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

/* Encodes qc_pipeline's streams to an MP4 through qcprobe. */
std::string muxed_pipeline(const StreamSpec &spec, const std::string &extra,
                           const std::string &path) {
  std::string description = qc_pipeline("tiktok", spec, extra);
  description.replace(description.find("fakesink name=vsink"), 19,
                      "queue ! x264enc speed-preset=ultrafast ! queue ! mux.");
  if (spec.audio)
    description.replace(description.find("fakesink name=asink"), 19,
                        "queue ! audioconvert ! avenc_aac ! queue ! mux.");
  return description + " mp4mux name=mux ! filesink location=" + path;
}

bool file_contains(const std::string &path, const std::string &needle) {
  std::ifstream file(path, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  return bytes.find(needle) != std::string::npos;
}

/* A failing verdict with on-fail=error is an error before the last EOS
 * reaches the muxer: the file is never finished (mp4mux writes its moov at
 * EOS). */
TEST(QcProbe, OnFailErrorLeavesTheMuxedFileUnfinished) {
  TempDir dir;
  StreamSpec spec;
  spec.seconds = 2;
  spec.width = 640; /* 16:9 fails TikTok's house level */
  spec.height = 360;
  const PipelineRun run = run_pipeline(muxed_pipeline(spec, "on-fail=error", dir.file("bad.mp4")));
  EXPECT_FALSE(run.reached_eos);
  EXPECT_NE(run.error.find("QC failed against TikTok"), std::string::npos) << run.error;
  EXPECT_FALSE(file_contains(dir.file("bad.mp4"), "moov"));
  const GstStructure *report = the_report(run);
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(get_string(report, "verdict"), "fail");
  EXPECT_TRUE(has_finding(report, "aspect/house/fail")) << joined(findings(report));
}

TEST(QcProbe, OnFailErrorLetsAPassingStreamFinishTheFile) {
  TempDir dir;
  StreamSpec spec;
  spec.seconds = 3; /* TikTok's house minimum */
  spec.width = 360;
  spec.height = 640;
  const PipelineRun run = run_pipeline(muxed_pipeline(spec, "on-fail=error", dir.file("good.mp4")));
  EXPECT_TRUE(run.reached_eos) << run.error;
  EXPECT_TRUE(file_contains(dir.file("good.mp4"), "moov"));
}

/* Video ends seconds before audio: the early EOS goes on at once, so the
 * muxer can take the rest of the audio instead of waiting forever. */
TEST(QcProbe, StreamsOfDifferentLengthsStillFinishAMuxedFile) {
  TempDir dir;
  StreamSpec spec;
  spec.seconds = 2;
  spec.width = 360;
  spec.height = 640;
  std::string description = muxed_pipeline(spec, "", dir.file("uneven.mp4"));
  description.replace(description.find("audiotestsrc num-buffers=20"), 27,
                      "audiotestsrc num-buffers=60");
  const PipelineRun run = run_pipeline(description);
  ASSERT_TRUE(run.reached_eos) << run.error;
  const GstStructure *report = the_report(run);
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(get_uint64(report, "duration"), 6 * GST_SECOND);
  EXPECT_TRUE(file_contains(dir.file("uneven.mp4"), "moov"));
}

TEST(QcProbe, WritesTheReportToLocation) {
  TempDir dir;
  const std::string path = dir.file("report.json");
  const PipelineRun run = run_pipeline(qc_pipeline("tiktok", StreamSpec{}, "location=" + path));
  ASSERT_TRUE(run.reached_eos) << run.error;
  const GstStructure *report = the_report(run);
  ASSERT_NE(report, nullptr);
  JsonNodePtr written = load_json_file(path);
  EXPECT_EQ(to_json_string(written.get(), true), get_string(report, "report"));
}

TEST(QcProbe, AnUnknownProfileIsAnErrorNamingIt) {
  const PipelineRun run = run_pipeline(qc_pipeline("myspace", StreamSpec{}));
  EXPECT_FALSE(run.reached_eos);
  EXPECT_NE(run.error.find("unknown platform profile \"myspace\""), std::string::npos) << run.error;
  EXPECT_NE(run.error.find("tiktok"), std::string::npos) << run.error;
}

TEST(QcProbe, BlackStretchIsAFindingWithItsTimeRange) {
  /* 3 s at the canvas size, black from 1 s to 2 s. */
  std::string description = qc_pipeline("tiktok", StreamSpec{.seconds = 3});
  description.replace(description.find("videotestsrc "), 13, "videotestsrc name=vsrc ");
  GError *error = nullptr;
  auto pipeline = adopt_floating(gst_parse_launch(description.c_str(), &error));
  ASSERT_EQ(error, nullptr);
  paint_frames(pipeline.get(), "vsrc", 30, 60, 16);

  const PipelineRun run = run_pipeline(pipeline.get());
  ASSERT_TRUE(run.reached_eos) << run.error;
  /* the analyser's own message still reaches the application */
  EXPECT_EQ(run.messages("blackframedetect").size(), 1u);
  const GstStructure *report = the_report(run);
  ASSERT_NE(report, nullptr);
  EXPECT_EQ(get_string(report, "verdict"), "fail");
  const GValue *array = gst_structure_get_value(report, "findings");
  ASSERT_EQ(gst_value_array_get_size(array), 1u) << joined(findings(report));
  const GstStructure *finding = gst_value_get_structure(gst_value_array_get_value(array, 0));
  EXPECT_EQ(get_string(finding, "check"), "black");
  EXPECT_EQ(get_string(finding, "level"), "house");
  EXPECT_EQ(get_uint64(finding, "start"), 1 * GST_SECOND);
  EXPECT_EQ(get_uint64(finding, "end"), 2 * GST_SECOND);
}

}  // namespace
}  // namespace reelforge::test
