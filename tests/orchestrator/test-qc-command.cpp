/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `reelforge qc` as a user runs it: the real program on files the tests
 * encode, its exit codes, its summary, and its JSON report checked against
 * schemas/qc-report.schema.json.
 */
#include "json-file.h"
#include "json-schema.h"
#include "test-environment.h"

#include <chrono>
#include <fstream>
#include <sstream>

namespace reelforge::test {
namespace {

struct EncodeSpec {
  int width = 1080;
  int height = 1920;
  double seconds = 4;
  bool audio = true;
  bool faststart = true;
};

/* Encodes a test video (H.264 High + AAC in MP4) to path. */
void encode(const std::string &path, const EncodeSpec &spec) {
  std::ostringstream d;
  d << "videotestsrc num-buffers=" << static_cast<int>(spec.seconds * 30)
    << " pattern=smpte horizontal-speed=4 ! video/x-raw,width=" << spec.width
    << ",height=" << spec.height
    << ",framerate=30/1 ! x264enc speed-preset=veryfast bitrate=2000 ! video/x-h264,profile=high "
       "! h264parse ! queue ! mux. ";
  if (spec.audio) {
    d << "audiotestsrc num-buffers=" << static_cast<int>(spec.seconds * 48000 / 1024)
      << " samplesperbuffer=1024 freq=440 volume=0.2 ! audio/x-raw,rate=48000,channels=2 ! "
         "audioconvert ! avenc_aac ! aacparse ! queue ! mux. ";
  }
  d << "mp4mux name=mux faststart=" << (spec.faststart ? "true" : "false")
    << " ! filesink location=" << path;
  const PipelineRun run = run_pipeline(d.str());
  ASSERT_TRUE(run.reached_eos) << run.error;
}

class QcCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    encode(dir_->file("good.mp4"), EncodeSpec{});
    encode(dir_->file("landscape.mp4"), EncodeSpec{.width = 640, .height = 360});
    encode(dir_->file("silent-film.mp4"), EncodeSpec{.audio = false});
    encode(dir_->file("moov-last.mp4"), EncodeSpec{.faststart = false});
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string file(const std::string &name) { return dir_->file(name); }

  static void expect_valid_report(const std::string &path) {
    JsonNodePtr report = load_json_file(path);
    const JsonSchema schema =
        JsonSchema::from_file((source_dir() / "schemas" / "qc-report.schema.json").string());
    const auto errors = schema.validate(report.get());
    EXPECT_TRUE(errors.empty()) << format_schema_errors(errors, path);
  }

  static TempDir *dir_;
};

TempDir *QcCommand::dir_ = nullptr;

TEST_F(QcCommand, AGoodFilePassesWithAValidReport) {
  const std::string json = file("good.qc.json");
  const ProgramResult result =
      reelforge({"qc", file("good.mp4"), "--profile", "tiktok", "--json", json});
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("QC pass for TikTok (tiktok)"), std::string::npos) << result.output;
  expect_valid_report(json);

  JsonNodePtr report = load_json_file(json);
  JsonObject *top = json_node_get_object(report.get());
  EXPECT_STREQ(json_object_get_string_member(top, "verdict"), "pass");
  EXPECT_EQ(json_object_get_string_member(top, "input"), file("good.mp4"));
  JsonObject *m = json_object_get_object_member(top, "measurements");
  JsonObject *container = json_object_get_object_member(m, "container");
  EXPECT_STREQ(json_object_get_string_member(container, "format"), "mp4");
  EXPECT_TRUE(json_object_get_boolean_member(container, "faststart"));
  EXPECT_GT(json_object_get_int_member(container, "size_bytes"), 10000);
  EXPECT_GT(json_object_get_double_member(container, "bitrate_kbps"), 500);
  JsonObject *video = json_object_get_object_member(m, "video");
  EXPECT_STREQ(json_object_get_string_member(video, "codec"), "h264");
  EXPECT_STREQ(json_object_get_string_member(video, "profile"), "high");
  JsonObject *audio = json_object_get_object_member(m, "audio");
  EXPECT_STREQ(json_object_get_string_member(audio, "codec"), "aac");
  EXPECT_NEAR(json_object_get_double_member(m, "duration_s"), 4.0, 0.1);
}

TEST_F(QcCommand, TheWrongAspectFailsWithExitOne) {
  const std::string json = file("landscape.qc.json");
  const ProgramResult result = reelforge({"qc", file("landscape.mp4"), "--json", json});
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("QC fail"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("FAIL  aspect"), std::string::npos) << result.output;
  expect_valid_report(json);
}

TEST_F(QcCommand, AFileWithoutAudioIsAFindingNotACrash) {
  const ProgramResult result = reelforge({"qc", file("silent-film.mp4")});
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("FAIL  audio-present"), std::string::npos) << result.output;
}

TEST_F(QcCommand, MoovAfterMdatWarnsAboutFaststart) {
  const ProgramResult result = reelforge({"qc", file("moov-last.mp4")});
  EXPECT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("QC warn"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("WARN  faststart"), std::string::npos) << result.output;
}

TEST_F(QcCommand, AnotherProfileJudgesTheSameFileDifferently) {
  const ProgramResult result = reelforge({"qc", file("landscape.mp4"), "--profile", "youtube"});
  EXPECT_EQ(result.output.find("FAIL  aspect"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("YouTube (16:9)"), std::string::npos) << result.output;
}

TEST_F(QcCommand, AProfileFromAPath) {
  const std::string path = file("lenient.json");
  std::ofstream(path) << R"({"name": "lenient", "title": "Lenient", "canvas":
      {"width": 640, "height": 360, "fps": 30},
      "levels": {"any": {"severity": "fail", "limits": {"duration_s": {"max": 3}}}}})";
  const ProgramResult result = reelforge({"qc", file("landscape.mp4"), "--profile", path});
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("duration"), std::string::npos) << result.output;
  EXPECT_NE(result.output.find("Lenient (lenient)"), std::string::npos) << result.output;
}

/* Bad input: one line naming the file and the problem, exit 2, in bounded
 * time, and no report file left behind. */
void expect_bad_input(const std::vector<std::string> &args, const std::string &names,
                      const std::string &problem) {
  const auto start = std::chrono::steady_clock::now();
  const ProgramResult result = reelforge(args);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(result.status, 2) << result.output;
  EXPECT_NE(result.output.find(names), std::string::npos) << result.output;
  EXPECT_NE(result.output.find(problem), std::string::npos) << result.output;
  EXPECT_EQ(std::count(result.output.begin(), result.output.end(), '\n'), 1) << result.output;
  EXPECT_LT(took, std::chrono::seconds(60));
}

TEST_F(QcCommand, AMissingFile) {
  expect_bad_input({"qc", file("nowhere.mp4"), "--json", file("nowhere.json")}, file("nowhere.mp4"),
                   "no such file");
  EXPECT_FALSE(std::filesystem::exists(file("nowhere.json")));
}

TEST_F(QcCommand, ATextFileNamedMp4) {
  const std::string path = file("notes.mp4");
  std::ofstream(path) << "These are my notes, not a video.\n";
  expect_bad_input({"qc", path}, path, "not a media file");
}

TEST_F(QcCommand, ATruncatedMp4) {
  const std::string path = file("truncated.mp4");
  std::filesystem::copy_file(file("good.mp4"), path,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  expect_bad_input({"qc", path}, path, "truncated");
}

TEST_F(QcCommand, ATruncatedMp4WithTheMoovLast) {
  const std::string path = file("truncated-moov-last.mp4");
  std::filesystem::copy_file(file("moov-last.mp4"), path,
                             std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(path, std::filesystem::file_size(path) / 2);
  expect_bad_input({"qc", path}, path, "not a media file");
}

TEST_F(QcCommand, AnEmptyFile) {
  const std::string path = file("empty.mp4");
  std::ofstream(path).flush();
  expect_bad_input({"qc", path}, path, "empty");
}

TEST_F(QcCommand, AnUnknownProfile) {
  expect_bad_input({"qc", file("good.mp4"), "--profile", "myspace"}, "\"myspace\"",
                   "unknown platform profile");
}

TEST_F(QcCommand, ABrokenProfileFile) {
  const std::string path = file("broken-profile.json");
  std::ofstream(path)
      << R"({"name": "broken", "levels": {"x": {"severity": "maybe", "limits": {}}}})";
  expect_bad_input({"qc", file("good.mp4"), "--profile", path}, path, "/levels/x/severity");
}

TEST_F(QcCommand, UsageErrors) {
  EXPECT_EQ(reelforge({"qc"}).status, 2);
  EXPECT_EQ(reelforge({"qc", file("good.mp4"), "--frobnicate"}).status, 2);
  EXPECT_EQ(reelforge({"qc", file("good.mp4"), "--timeout", "soon"}).status, 2);
  EXPECT_EQ(reelforge({"qc", file("good.mp4"), "--json"}).status, 2);
  EXPECT_EQ(reelforge({"frobnicate"}).status, 2);
  const ProgramResult help = reelforge({"qc", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_NE(help.output.find("Usage: reelforge qc FILE"), std::string::npos);
}

TEST_F(QcCommand, AReportThatCannotBeWrittenIsBadInput) {
  const ProgramResult result =
      reelforge({"qc", file("good.mp4"), "--json", file("no/such/folder/report.json")});
  EXPECT_EQ(result.status, 2) << result.output;
  EXPECT_NE(result.output.find("cannot write the report to "), std::string::npos) << result.output;
}

}  // namespace
}  // namespace reelforge::test
