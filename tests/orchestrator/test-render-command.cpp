/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `reelforge plan` and `reelforge render` as a user runs them, on small
 * jobs (a 320x568 test profile) made of cards, generated stills and clips
 * the tests encode.
 */
#include "json-file.h"
#include "json-schema.h"
#include "plan/render-plan.h"
#include "test-environment.h"

#include <sys/wait.h>

#include <csignal>
#include <fstream>
#include <sstream>

namespace reelforge::test {
namespace {

void write_file(const std::string &path, const std::string &text) {
  std::ofstream(path) << text;
}

/* Duration (s) and stream kinds of a file, as reelforge qc measures them. */
struct Probe {
  double duration_s = 0;
  bool video = false, audio = false;
  int width = 0, height = 0;
};

Probe probe(const std::string &path, const std::string &profile_dir) {
  const std::string json = path + ".probe.json";
  const std::string command = "REELFORGE_PLATFORMS_PATH=" + shell_quote(profile_dir) + " " +
                              shell_quote(g_getenv("REELFORGE_BIN")) + " qc " + shell_quote(path) +
                              " --profile small --json " + shell_quote(json);
  std::string output;
  run_command(command, &output, true);
  Probe p;
  JsonNodePtr report = load_json_file(json);
  JsonObject *m = json_object_get_object_member(json_node_get_object(report.get()), "measurements");
  p.duration_s = json_object_get_double_member(m, "duration_s");
  if (json_object_has_member(m, "video")) {
    JsonObject *video = json_object_get_object_member(m, "video");
    p.video = true;
    p.width = static_cast<int>(json_object_get_int_member(video, "width"));
    p.height = static_cast<int>(json_object_get_int_member(video, "height"));
  }
  p.audio = json_object_has_member(m, "audio");
  return p;
}

/* The "outputs" of the first --progress=json line in output. */
std::vector<std::string> progress_outputs(const std::string &output) {
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    if (!line.starts_with("{")) continue;
    JsonNodePtr progress = parse_json(line, "progress line");
    JsonArray *outputs =
        json_object_get_array_member(json_node_get_object(progress.get()), "outputs");
    std::vector<std::string> names;
    for (guint i = 0; outputs && i < json_array_get_length(outputs); ++i)
      names.push_back(json_array_get_string_element(outputs, i));
    return names;
  }
  return {};
}

class RenderCommand : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    /* A small canvas keeps the suite fast; limits that a 3 s test ad meets. */
    std::filesystem::create_directories(dir_->file("profiles"));
    write_file(dir_->file("profiles/small.json"), R"({
      "name": "small", "title": "Small test canvas",
      "canvas": {"width": 320, "height": 568, "fps": 30},
      "safe_zone": {"top": 40, "bottom": 120, "left": 0, "right": 40},
      "levels": {"house": {"severity": "fail", "limits": {"duration_s": {"max": 60},
                 "aspect": {"equals": "9:16", "tolerance": 0.01}, "allow_black": false}}}})");
    write_file(dir_->file("profiles/wide.json"), R"({
      "name": "wide", "title": "Small 16:9 test canvas",
      "canvas": {"width": 568, "height": 320, "fps": 30},
      "safe_zone": {"top": 20, "bottom": 40, "left": 20, "right": 20},
      "levels": {"house": {"severity": "fail", "limits": {"duration_s": {"max": 60},
                 "aspect": {"equals": "16:9", "tolerance": 0.01}, "allow_black": false}}}})");
    g_setenv("REELFORGE_PLATFORMS_PATH", dir_->file("profiles").c_str(), TRUE);

    /* A clip with picture and sound, and a music bed and a voice. */
    const PipelineRun clip = run_pipeline(
        "videotestsrc num-buffers=60 pattern=smpte horizontal-speed=4 ! "
        "video/x-raw,width=640,height=360,framerate=30/1 ! x264enc speed-preset=ultrafast ! "
        "queue ! mux. audiotestsrc num-buffers=94 samplesperbuffer=1024 freq=330 volume=0.3 ! "
        "audioconvert ! avenc_aac ! queue ! mux. mp4mux name=mux ! filesink location=" +
        dir_->file("clip.mp4"));
    ASSERT_TRUE(clip.reached_eos) << clip.error;
    const PipelineRun music = run_pipeline(
        "audiotestsrc num-buffers=300 samplesperbuffer=1600 freq=220 volume=0.3 ! "
        "audio/x-raw,rate=48000,channels=2 ! wavenc ! filesink location=" +
        dir_->file("music.wav"));
    ASSERT_TRUE(music.reached_eos) << music.error;
  }
  static void TearDownTestSuite() {
    g_unsetenv("REELFORGE_PLATFORMS_PATH");
    delete dir_;
    dir_ = nullptr;
  }

  /* A 3 s job: a card, the clip, a card, with a caption. */
  static std::string job(const std::string &name, const std::string &extra = "") {
    const std::string path = dir_->file(name + ".json");
    write_file(path, R"({"name": ")" + name + R"(", "platforms": ["small"],
      "scenes": [
        {"source": {"card": {"text": "Hello", "background": {"gradient": ["#1E3A8A", "#9333EA"]}}},
         "duration": 1},
        {"source": {"uri": "clip.mp4"}, "trim": {"in": 0.5, "out": 1.75}},
        {"source": {"card": {"text": "Bye", "background": "#0F766E"}}, "duration": 1,
         "transition": {"type": "wipe-left", "duration": 0.25}}],
      "transition": {"type": "crossfade", "duration": 0.25},
      "overlays": [{"text": "Caption", "start": 0.5, "end": 2}],
      "audio": {"keep_clip_audio": {"volume": 1},
                "music": {"uri": "music.wav", "volume": 0.5, "fade_out": 0.5})" +
                         extra + R"(},
      "output": {"directory": "out", "thumbnails": 2, "video": {"preset": "ultrafast"}}})");
    return path;
  }
  static std::string out(const std::string &name) { return dir_->file("out/" + name); }

  static TempDir *dir_;
};

TempDir *RenderCommand::dir_ = nullptr;

TEST_F(RenderCommand, RendersTheVideoItsReportAndThumbnails) {
  const ProgramResult result = reelforge({"render", job("basic"), "--progress=json"});
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(progress_outputs(result.output), std::vector<std::string>{"basic.small"})
      << result.output;
  EXPECT_NE(result.output.find("basic.small: " + out("basic.small.mp4") + " (QC pass"),
            std::string::npos)
      << result.output;

  /* 1 + 1.25 + 1 s minus two 0.25 s transitions */
  const Probe p = probe(out("basic.small.mp4"), dir_->file("profiles"));
  EXPECT_NEAR(p.duration_s, 2.75, 0.05);
  EXPECT_EQ(p.width, 320);
  EXPECT_EQ(p.height, 568);
  EXPECT_TRUE(p.audio);

  JsonNodePtr report = load_json_file(out("basic.small.qc.json"));
  const auto errors =
      JsonSchema::from_file((source_dir() / "schemas" / "qc-report.schema.json").string())
          .validate(report.get());
  EXPECT_TRUE(errors.empty()) << format_schema_errors(errors, "basic.small.qc.json");
  EXPECT_TRUE(std::filesystem::exists(out("basic.small.thumb-1.jpg")));
  EXPECT_TRUE(std::filesystem::exists(out("basic.small.thumb-2.jpg")));
}

/* The plan's command runs unchanged under gst-launch-1.0 and makes the
 * same video. */
TEST_F(RenderCommand, ThePlanRunsUnderGstLaunch) {
  const std::string spec = job("planned");
  const ProgramResult plan = reelforge({"plan", spec, "-o", dir_->file("launched")});
  ASSERT_EQ(plan.status, 0) << plan.output;
  const auto start = plan.output.find("gst-launch-1.0 -e ");
  ASSERT_NE(start, std::string::npos) << plan.output;
  const std::string command = plan.output.substr(start, plan.output.find('\n', start) - start);
  std::filesystem::create_directories(dir_->file("launched"));
  std::string launch_output;
  EXPECT_EQ(run_command(command, &launch_output, true), 0) << launch_output;

  const ProgramResult render = reelforge({"render", spec, "--progress=none"});
  ASSERT_EQ(render.status, 0) << render.output;
  const Probe launched = probe(dir_->file("launched/planned.small.mp4"), dir_->file("profiles"));
  const Probe rendered = probe(out("planned.small.mp4"), dir_->file("profiles"));
  EXPECT_NEAR(launched.duration_s, rendered.duration_s, 0.001);
  EXPECT_EQ(launched.video, rendered.video);
  EXPECT_EQ(launched.audio, rendered.audio);
  EXPECT_TRUE(std::filesystem::exists(dir_->file("launched/planned.small.qc.json")));
}

/* plan --json prints the plans as the daemon stores them: what the
 * description reads (each file with its size and SHA-256), where the
 * outputs go, the timeout, and the hash the text output shows. */
TEST_F(RenderCommand, PlanJsonIsTheStoredPlanWithItsInputsAndHash) {
  const std::string spec = job("stored");
  const ProgramResult text = reelforge({"plan", spec});
  ASSERT_EQ(text.status, 0) << text.output;
  const ProgramResult json = reelforge({"plan", spec, "--json"});
  ASSERT_EQ(json.status, 0) << json.output;
  JsonNodePtr document = parse_json(json.output, "plan --json");
  ASSERT_TRUE(JSON_NODE_HOLDS_ARRAY(document.get())) << json.output;
  JsonArray *plans = json_node_get_array(document.get());
  ASSERT_EQ(json_array_get_length(plans), 1u);
  const plan::RenderPlan plan = plan::from_json(json_array_get_element(plans, 0));
  EXPECT_NE(text.output.find("# plan hash " + plan.hash + "\n"), std::string::npos) << text.output;
  EXPECT_EQ(plan.folder, dir_->path() / "out");
  ASSERT_EQ(plan.outputs.size(), 1u);
  EXPECT_EQ(plan.outputs[0].video, dir_->path() / "out" / "stored.small.mp4");
  EXPECT_DOUBLE_EQ(plan.timeout_s, 60 + plan.duration_s * 30);
  ASSERT_EQ(plan.inputs.size(), 2u) << json.output;
  EXPECT_EQ(plan.inputs[0].path, dir_->path() / "clip.mp4");
  EXPECT_EQ(plan.inputs[1].path, dir_->path() / "music.wav");
  for (const plan::PlannedInput &input : plan.inputs) {
    gchar *bytes = nullptr;
    gsize size = 0;
    ASSERT_TRUE(g_file_get_contents(input.path.c_str(), &bytes, &size, nullptr));
    const GCharPtr owned(bytes);
    const GCharPtr sha256(g_compute_checksum_for_data(
        G_CHECKSUM_SHA256, reinterpret_cast<const guchar *>(bytes), size));
    EXPECT_EQ(input.size, static_cast<std::int64_t>(size)) << input.path;
    EXPECT_EQ(input.sha256, sha256.get()) << input.path;
  }
}

/* A 9:16 and a 16:9 rendition come from one pass: one stitchbin decodes
 * the sources once and fits every frame to both sizes. */
TEST_F(RenderCommand, PlatformsRenderTogetherFromOneDecode) {
  const std::string spec = job("both");
  JsonNodePtr document = load_json_file(spec);
  JsonArray *platforms = json_array_new();
  json_array_add_string_element(platforms, "small");
  json_array_add_string_element(platforms, "wide");
  json_object_set_array_member(json_node_get_object(document.get()), "platforms", platforms);
  write_file(spec, to_json_string(document.get(), true));

  const ProgramResult plan = reelforge({"plan", spec});
  ASSERT_EQ(plan.status, 0) << plan.output;
  EXPECT_NE(plan.output.find("# 2 outputs in 1 pass"), std::string::npos) << plan.output;
  const auto launch = plan.output.find("gst-launch-1.0");
  EXPECT_EQ(plan.output.find("stitchbin", plan.output.find("stitchbin", launch) + 1),
            std::string::npos)
      << "one stitchbin: " << plan.output;
  EXPECT_NE(plan.output.find("renditions=\"568x320\""), std::string::npos) << plan.output;

  const ProgramResult render = reelforge({"render", spec, "--progress=json"});
  ASSERT_EQ(render.status, 0) << render.output;
  EXPECT_EQ(progress_outputs(render.output), (std::vector<std::string>{"both.small", "both.wide"}))
      << render.output;
  const Probe tall = probe(out("both.small.mp4"), dir_->file("profiles"));
  const Probe wide = probe(out("both.wide.mp4"), dir_->file("profiles"));
  EXPECT_EQ(tall.width, 320);
  EXPECT_EQ(tall.height, 568);
  EXPECT_EQ(wide.width, 568);
  EXPECT_EQ(wide.height, 320);
  EXPECT_NEAR(tall.duration_s, 2.75, 0.05);
  EXPECT_NEAR(wide.duration_s, tall.duration_s, 0.001);
  EXPECT_TRUE(wide.audio);
  for (const char *name : {"both.small.qc.json", "both.wide.qc.json", "both.small.thumb-1.jpg",
                           "both.wide.thumb-1.jpg"})
    EXPECT_TRUE(std::filesystem::exists(out(name))) << name;
  EXPECT_NE(render.output.find("both.wide: " + out("both.wide.mp4") + " (QC pass"),
            std::string::npos)
      << render.output;
}

/* The MD5 of every video packet of a file, in order: equal lists mean
 * the same encoded pictures. */
std::vector<std::string> video_packet_hashes(const std::string &path) {
  std::string output;
  EXPECT_EQ(
      run_command("ffmpeg -v error -i " + shell_quote(path) + " -map 0:v -c copy -f framemd5 -",
                  &output, false),
      0);
  std::vector<std::string> hashes;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != '#') hashes.push_back(line.substr(line.rfind(',') + 1));
  return hashes;
}

/* Whole clips with the same codec parameters, cut together with nothing
 * over them and their sound as it is: copied, not re-encoded. */
TEST_F(RenderCommand, APureConcatenationIsStreamCopied) {
  std::vector<std::string> clips;
  for (const char *pattern : {"smpte", "snow", "smpte75"}) {
    const std::string path = dir_->file(std::string("copy-") + pattern + ".mp4");
    const PipelineRun run = run_pipeline(
        std::string("videotestsrc num-buffers=45 pattern=") + pattern +
        " ! video/x-raw,width=320,height=568,framerate=30/1 ! x264enc speed-preset=ultrafast "
        "key-int-max=15 ! queue ! mux. audiotestsrc num-buffers=71 samplesperbuffer=960 "
        "freq=440 volume=0.3 ! audio/x-raw,rate=48000,channels=2 ! avenc_aac ! queue ! mux. "
        "mp4mux name=mux ! filesink location=" +
        path);
    ASSERT_TRUE(run.reached_eos) << run.error;
    clips.push_back(path);
  }
  const auto write_job = [&](const std::string &name, const std::string &transition) {
    const std::string spec = dir_->file(name + ".json");
    std::string scenes;
    for (const auto &clip : clips)
      scenes +=
          std::string(scenes.empty() ? "" : ", ") + R"({"source": {"uri": ")" + clip + R"("}})";
    write_file(spec, R"({"name": ")" + name + R"(", "platforms": ["small"], "scenes": [)" + scenes +
                         R"(], "transition": {"type": ")" + transition +
                         R"(", "duration": 0.5}, "audio": {"keep_clip_audio": {"volume": 1}},
      "output": {"directory": "out", "thumbnails": 1, "video": {"preset": "ultrafast"}}})");
    return spec;
  };

  const std::string spec = write_job("copied", "cut");
  const ProgramResult plan = reelforge({"plan", spec});
  ASSERT_EQ(plan.status, 0) << plan.output;
  EXPECT_NE(plan.output.find("(stream copy"), std::string::npos) << plan.output;
  EXPECT_EQ(plan.output.find("x264enc"), std::string::npos) << plan.output;
  const ProgramResult render = reelforge({"render", spec, "--progress=none"});
  ASSERT_EQ(render.status, 0) << render.output;

  /* every encoded picture of the three clips, in order, untouched */
  std::vector<std::string> expected;
  for (const auto &clip : clips) {
    const auto hashes = video_packet_hashes(clip);
    expected.insert(expected.end(), hashes.begin(), hashes.end());
  }
  ASSERT_EQ(expected.size(), 135u);
  EXPECT_EQ(video_packet_hashes(out("copied.small.mp4")), expected);
  const Probe p = probe(out("copied.small.mp4"), dir_->file("profiles"));
  EXPECT_NEAR(p.duration_s, 4.5, 0.1);
  EXPECT_TRUE(p.audio);
  /* QC and thumbnails come from decoding the copy */
  JsonNodePtr report = load_json_file(out("copied.small.qc.json"));
  EXPECT_STREQ(json_object_get_string_member(json_node_get_object(report.get()), "verdict"),
               "pass");
  EXPECT_TRUE(std::filesystem::exists(out("copied.small.thumb-1.jpg")));

  /* a crossfade needs the pictures: decoded and encoded again */
  const ProgramResult faded = reelforge({"plan", write_job("faded", "crossfade")});
  ASSERT_EQ(faded.status, 0) << faded.output;
  EXPECT_EQ(faded.output.find("(stream copy"), std::string::npos) << faded.output;
  EXPECT_NE(faded.output.find("x264enc"), std::string::npos) << faded.output;
}

TEST_F(RenderCommand, VariationsGiveOneOutputEach) {
  const std::string spec = dir_->file("varied.json");
  write_file(spec, R"({"name": "varied", "platforms": ["small"],
    "scenes": [{"source": {"card": {"text": "${word}", "background": "${colour}"}}, "duration": 1}],
    "variations": {"dimensions": {"word": ["Hi", "Yo"], "colour": ["#1E3A8A", "#7C2D12"]},
                   "exclude": [{"word": "Yo", "colour": "#7C2D12"}]},
    "output": {"directory": "out", "video": {"preset": "ultrafast"}}})");
  const ProgramResult plan = reelforge({"plan", spec});
  ASSERT_EQ(plan.status, 0) << plan.output;
  EXPECT_NE(plan.output.find("# 3 outputs in 3 passes"), std::string::npos) << plan.output;
  const ProgramResult render = reelforge({"render", spec, "--progress=none"});
  /* a card and no audio: silence is only a warning on this profile */
  ASSERT_EQ(render.status, 0) << render.output;
  for (const char *name : {"word-hi_colour-1e3a8a.small.mp4", "word-hi_colour-7c2d12.small.mp4",
                           "word-yo_colour-1e3a8a.small.mp4"})
    EXPECT_TRUE(std::filesystem::exists(out(name))) << name << "\n" << render.output;
  EXPECT_FALSE(std::filesystem::exists(out("word-yo_colour-7c2d12.small.mp4")));
}

TEST_F(RenderCommand, AFailingQcKeepsTheFileAndExitsOne) {
  /* a black card for a whole second breaks the profile's allow_black */
  const std::string spec = dir_->file("dark.json");
  write_file(spec, R"({"name": "dark", "platforms": ["small"],
    "scenes": [{"source": {"card": {"text": ".", "background": "#000000"}}, "duration": 1},
               {"source": {"card": {"text": "Light", "background": "#FDE047"}}, "duration": 1}],
    "output": {"directory": "out", "video": {"preset": "ultrafast"}}})");
  const ProgramResult result = reelforge({"render", spec, "--progress=none"});
  EXPECT_EQ(result.status, 1) << result.output;
  EXPECT_NE(result.output.find("QC fail"), std::string::npos) << result.output;
  EXPECT_TRUE(std::filesystem::exists(out("dark.small.mp4")));
  EXPECT_TRUE(std::filesystem::exists(out("dark.small.qc.json")));
}

TEST_F(RenderCommand, AnInvalidSpecIsExitTwoWithNothingMade) {
  const std::string spec = dir_->file("invalid.json");
  write_file(spec, R"({"name": "invalid", "platforms": ["small"],
    "scenes": [{"source": {"card": {"text": "x"}}, "duration": 1,
                "transition": {"type": "swoosh"}}],
    "output": {"directory": "out"}})");
  const ProgramResult result = reelforge({"render", spec});
  EXPECT_EQ(result.status, 2) << result.output;
  EXPECT_NE(result.output.find("/scenes/0/transition/type"), std::string::npos) << result.output;
  EXPECT_FALSE(std::filesystem::exists(out("invalid.small.mp4")));
}

TEST_F(RenderCommand, AMissingMediaFileIsNamedBeforeAnyWork) {
  const std::string spec = dir_->file("missing.json");
  write_file(spec, R"({"name": "missing", "platforms": ["small"],
    "scenes": [{"source": {"uri": "nowhere.mp4"}, "duration": 1}],
    "output": {"directory": "out"}})");
  const ProgramResult result = reelforge({"render", spec});
  EXPECT_EQ(result.status, 2) << result.output;
  EXPECT_NE(result.output.find("nowhere.mp4"), std::string::npos) << result.output;
}

TEST_F(RenderCommand, AnOverlayThatCannotFitFailsAndLeavesNothing) {
  std::string long_text;
  for (int i = 0; i < 60; ++i) long_text += "far too many words ";
  const std::string spec = dir_->file("crowded.json");
  write_file(spec, R"({"name": "crowded", "platforms": ["small"],
    "scenes": [{"source": {"card": {"text": "x", "background": "#1E3A8A"}}, "duration": 1}],
    "overlays": [{"text": ")" +
                       long_text + R"(", "start": 0, "end": 1, "style": {"size": 120}}],
    "output": {"directory": "out", "video": {"preset": "ultrafast"}}})");
  const ProgramResult result = reelforge({"render", spec, "--progress=none"});
  EXPECT_EQ(result.status, 2) << result.output;
  EXPECT_NE(result.output.find("cues/0"), std::string::npos) << result.output;
  EXPECT_FALSE(std::filesystem::exists(out("crowded.small.mp4")));
  EXPECT_FALSE(std::filesystem::exists(out("crowded.small.qc.json")));
}

/* Ctrl-C: the render stops and no file is left under the final name. The
 * signal is sent when the first progress line arrives, not after a sleep. */
TEST_F(RenderCommand, InterruptLeavesNoFileBehind) {
  const std::string spec = dir_->file("long.json");
  write_file(spec, R"({"name": "long", "platforms": ["small"],
    "scenes": [{"source": {"card": {"text": "A", "background": "#1E3A8A"}}, "duration": 30},
               {"source": {"card": {"text": "B", "background": "#7C2D12"}}, "duration": 30}],
    "output": {"directory": "out", "video": {"preset": "ultrafast"}}})");
  const std::string command =
      shell_quote(g_getenv("REELFORGE_BIN")) + " render " + shell_quote(spec) + " --progress=json";
  std::string exec_command = "exec " + command;
  gchar *argv[] = {const_cast<gchar *>("/bin/sh"), const_cast<gchar *>("-c"), exec_command.data(),
                   nullptr};
  GPid pid = 0;
  gint stdout_fd = -1;
  GError *error = nullptr;
  ASSERT_TRUE(g_spawn_async_with_pipes(nullptr, argv, nullptr, G_SPAWN_DO_NOT_REAP_CHILD, nullptr,
                                       nullptr, &pid, nullptr, &stdout_fd, nullptr, &error))
      << (error ? error->message : "");
  FILE *progress = fdopen(stdout_fd, "r");
  char line[512];
  ASSERT_NE(fgets(line, sizeof line, progress), nullptr);
  EXPECT_EQ(progress_outputs(line), std::vector<std::string>{"long.small"}) << line;
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  fclose(progress);
  g_spawn_close_pid(pid);
  EXPECT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  EXPECT_FALSE(std::filesystem::exists(out("long.small.mp4")));
  EXPECT_FALSE(std::filesystem::exists(out("long.small.qc.json")));
}

/* Every example the repository ships renders and passes QC (the quickstart
 * is the README's main job). */
TEST_F(RenderCommand, EveryExampleRendersAndPasses) {
  const auto examples = source_dir() / "examples";
  std::string output;
  ASSERT_EQ(run_command(shell_quote((examples / "make-media.sh").string()), &output, true), 0)
      << output;
  std::vector<std::filesystem::path> specs{examples / "quickstart.json"};
  for (const auto &entry : std::filesystem::directory_iterator(examples / "validate"))
    if (entry.path().extension() == ".json") specs.push_back(entry.path());
  for (const auto &spec : specs) {
    const std::string folder = dir_->file("examples-" + spec.stem().string());
    const ProgramResult result =
        reelforge({"render", spec.string(), "-o", folder, "--progress=none"});
    EXPECT_EQ(result.status, 0) << spec << "\n" << result.output;
    EXPECT_EQ(result.output.find("QC fail"), std::string::npos) << spec << "\n" << result.output;
  }
}

}  // namespace
}  // namespace reelforge::test
