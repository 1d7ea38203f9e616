/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The render plan as a stored value: its JSON round trip, its hash
 * catching any change, the check of the files it reads, and a pass run
 * into another folder than the one it was planned into.
 */
#include "json-file.h"
#include "plan/render-plan.h"
#include "run/render-pass.h"
#include "spec/job-spec.h"
#include "test-environment.h"

#include <fstream>
#include <functional>

namespace reelforge::test {
namespace {

namespace fs = std::filesystem;

void write_file(const fs::path &path, const std::string &text) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

/* A plan with every member set, strings that need escaping, and numbers
 * that have no short decimal form. */
plan::RenderPlan sample_plan(const fs::path &input) {
  plan::RenderPlan plan;
  plan.name = "word-\"quoted\" \xC3\xA9t\xC3\xA9";
  plan.folder = "/srv/artifacts/job-7";
  plan.duration_s = 1.0 / 3;
  plan.timeout_s = 60 + plan.duration_s * 30;
  plan.description =
      "stitchbin name=stitch clips=\"[{\\\"uri\\\": \\\"file:///a b.mp4\\\"}]\"\n  ! fakesink";
  plan.stream_copy = false;
  plan.uri_prefix = "s3://bucket/ads/";
  plan.outputs.push_back({.name = "word-x.small",
                          .platform = "small",
                          .video = plan.folder / "word-x.small.mp4",
                          .report = plan.folder / "word-x.small.qc.json",
                          .thumbnails = (plan.folder / "word-x.small.thumb-%d.jpg").string(),
                          .thumbnail_count = 2});
  plan.inputs.push_back(plan::digest_file(input));
  plan::seal(plan);
  return plan;
}

class RenderPlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    input_ = dir_.path() / "clip.bin";
    write_file(input_, "the planned bytes");
  }
  /* The plan's JSON as text, edited by edit, then read back. */
  plan::RenderPlan edited(const plan::RenderPlan &plan,
                          const std::function<void(JsonObject *)> &edit) {
    JsonNodePtr node = parse_json(plan::to_json_text(plan), "plan");
    edit(json_node_get_object(node.get()));
    return plan::from_json(node.get());
  }

  TempDir dir_;
  fs::path input_;
};

TEST_F(RenderPlanTest, JsonRoundTripKeepsEveryMemberAndTheHash) {
  const plan::RenderPlan plan = sample_plan(input_);
  EXPECT_EQ(plan.hash.size(), 64u);
  EXPECT_EQ(plan.hash, plan::content_hash(plan));

  const std::string text = plan::to_json_text(plan);
  JsonNodePtr parsed = parse_json(text, "plan");
  const plan::RenderPlan back = plan::from_json(parsed.get());
  EXPECT_EQ(back, plan);
  EXPECT_EQ(plan::to_json_text(back), text) << "a second round trip changed the text";

  /* As PostgreSQL's jsonb may give it back: members in another order. */
  JsonObject *members = json_node_get_object(parsed.get());
  JsonObject *reordered = json_object_new();
  GList *names = json_object_get_members(members);
  for (GList *name = g_list_last(names); name; name = name->prev) {
    const char *member = static_cast<const char *>(name->data);
    json_object_set_member(reordered, member,
                           json_node_copy(json_object_get_member(members, member)));
  }
  g_list_free(names);
  JsonNodePtr shuffled(json_node_init_object(json_node_alloc(), reordered));
  json_object_unref(reordered);
  EXPECT_EQ(plan::from_json(shuffled.get()), plan);

  ASSERT_EQ(back.inputs.size(), 1u);
  EXPECT_EQ(back.inputs[0].path, input_);
  EXPECT_EQ(back.inputs[0].size, 17);
  EXPECT_EQ(
      back.inputs[0].sha256,
      GCharPtr(g_compute_checksum_for_string(G_CHECKSUM_SHA256, "the planned bytes", -1)).get());
}

TEST_F(RenderPlanTest, AChangedMemberNoLongerMatchesTheHash) {
  const plan::RenderPlan plan = sample_plan(input_);
  const std::vector<std::pair<std::string, std::function<void(JsonObject *)>>> tampers{
      {"description",
       [](JsonObject *o) {
         json_object_set_string_member(o, "description", "fakesrc ! fakesink");
       }},
      {"folder", [](JsonObject *o) { json_object_set_string_member(o, "folder", "/tmp"); }},
      {"timeout", [](JsonObject *o) { json_object_set_double_member(o, "timeout_s", 1e6); }},
      {"stream copy",
       [](JsonObject *o) { json_object_set_boolean_member(o, "stream_copy", true); }},
      {"an input's sha256",
       [](JsonObject *o) {
         JsonObject *input =
             json_array_get_object_element(json_object_get_array_member(o, "inputs"), 0);
         json_object_set_string_member(input, "sha256", std::string(64, '0').c_str());
       }},
      {"an output's video",
       [](JsonObject *o) {
         JsonObject *output =
             json_array_get_object_element(json_object_get_array_member(o, "outputs"), 0);
         json_object_set_string_member(output, "video", "/etc/passwd");
       }},
      {"the hash", [](JsonObject *o) { json_object_set_string_member(o, "hash", "0"); }},
  };
  for (const auto &[what, tamper] : tampers) {
    try {
      edited(plan, tamper);
      ADD_FAILURE() << "a plan with another " << what << " was accepted";
    } catch (const plan::PlanError &e) {
      EXPECT_NE(std::string(e.what()).find("changed after it was made"), std::string::npos)
          << what << ": " << e.what();
    }
  }

  /* Sealed again, the changed plan is valid, under another hash. */
  plan::RenderPlan other = plan;
  other.description = "fakesrc ! fakesink";
  plan::seal(other);
  EXPECT_NE(other.hash, plan.hash);
  JsonNodePtr node = plan::to_json(other);
  EXPECT_EQ(plan::from_json(node.get()), other);
}

TEST_F(RenderPlanTest, AMalformedPlanNamesTheMember) {
  const plan::RenderPlan plan = sample_plan(input_);
  auto error_of = [&](const std::function<void(JsonObject *)> &edit) -> std::string {
    try {
      edited(plan, edit);
    } catch (const plan::PlanError &e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of([](JsonObject *o) {
              json_object_remove_member(o, "description");
            }).find("/description: missing"),
            std::string::npos);
  EXPECT_NE(error_of([](JsonObject *o) {
              json_object_set_int_member(o, "name", 3);
            }).find("/name: not a string"),
            std::string::npos);
  EXPECT_NE(error_of([](JsonObject *o) {
              JsonObject *output =
                  json_array_get_object_element(json_object_get_array_member(o, "outputs"), 0);
              json_object_set_string_member(output, "thumbnail_count", "two");
            }).find("/outputs/0/thumbnail_count: not an integer"),
            std::string::npos);
  EXPECT_NE(error_of([](JsonObject *o) {
              json_object_set_int_member(o, "version", 99);
            }).find("/version"),
            std::string::npos);
  JsonNodePtr array = parse_json("[]", "not a plan");
  EXPECT_THROW(plan::from_json(array.get()), plan::PlanError);
}

TEST_F(RenderPlanTest, ChangedInputsAreNamed) {
  const plan::RenderPlan plan = sample_plan(input_);
  EXPECT_NO_THROW(run::check_inputs(plan));

  write_file(input_, "other bytes, same file");
  try {
    run::check_inputs(plan);
    ADD_FAILURE() << "a changed input passed the check";
  } catch (const run::InputChanged &e) {
    EXPECT_NE(std::string(e.what()).find(input_.string() + " changed since the plan"),
              std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("plan again by resubmitting"), std::string::npos);
  }

  fs::remove(input_);
  EXPECT_THROW(run::check_inputs(plan), run::InputChanged);
}

/* The daemon writes each attempt into a folder of its own: the pass points
 * the outputs there, and writes nothing where the plan was planned. */
TEST_F(RenderPlanTest, APassWritesItsOutputsIntoTheRunsFolder) {
  for (const char *element : {"stitchbin", "qcprobe"})
    if (!GstObjectPtr<GstElementFactory>(gst_element_factory_find(element)))
      GTEST_SKIP() << "needs " << element;
  const fs::path profiles = dir_.path() / "profiles";
  fs::create_directories(profiles);
  write_file(profiles / "small.json", R"({"name": "small", "title": "Small test canvas",
    "canvas": {"width": 320, "height": 568, "fps": 30},
    "levels": {"house": {"severity": "fail", "limits": {"duration_s": {"max": 60}}}}})");
  /* qcprobe reads the profile when the pass runs. */
  g_setenv("REELFORGE_PLATFORMS_PATH", profiles.c_str(), TRUE);
  const std::unique_ptr<void, void (*)(void *)> unset(
      this, [](void *) { g_unsetenv("REELFORGE_PLATFORMS_PATH"); });
  const PipelineRun music = run_pipeline(
      "audiotestsrc num-buffers=50 samplesperbuffer=1600 volume=0.3 ! "
      "audio/x-raw,rate=48000,channels=2 ! wavenc ! filesink location=" +
      (dir_.path() / "music.wav").string());
  ASSERT_TRUE(music.reached_eos) << music.error;
  const fs::path spec = dir_.path() / "moved.json";
  write_file(spec, R"({"name": "moved", "platforms": ["small"],
    "scenes": [{"source": {"card": {"text": "Hi", "background": "#1E3A8A"}}, "duration": 1}],
    "audio": {"music": {"uri": "music.wav"}},
    "output": {"video": {"preset": "ultrafast"}}})");

  const fs::path planned = dir_.path() / "planned";
  const auto plans = plan::plan_job(spec::parse_job_spec(spec.string()), planned);
  ASSERT_EQ(plans.size(), 1u);
  const plan::RenderPlan &plan = plans[0];
  EXPECT_NE(plan.description.find((planned / "moved.small.mp4").string()), std::string::npos);
  ASSERT_EQ(plan.inputs.size(), 1u);
  EXPECT_EQ(plan.inputs[0].path, dir_.path() / "music.wav");

  const fs::path attempt = planned / "step-3-1";
  const run::PassResult pass = run::run_render_pass(plan, {.folder = attempt});
  ASSERT_EQ(pass.outputs.size(), 1u);
  EXPECT_EQ(pass.outputs[0].name, "moved.small");
  EXPECT_NE(pass.outputs[0].verdict, "fail");
  EXPECT_EQ(pass.outputs[0].video, attempt / "moved.small.mp4");
  std::vector<std::string> kinds;
  for (const run::MadeFile &file : pass.files) {
    kinds.push_back(file.kind);
    EXPECT_EQ(file.path.parent_path(), attempt) << file.path;
    EXPECT_TRUE(fs::exists(file.path)) << file.path;
  }
  EXPECT_EQ(kinds, (std::vector<std::string>{"video", "qc-report", "thumbnail"}));
  for (const auto &entry : fs::directory_iterator(planned))
    EXPECT_TRUE(entry.is_directory()) << entry.path() << " was written into the planned folder";
}

}  // namespace
}  // namespace reelforge::test
