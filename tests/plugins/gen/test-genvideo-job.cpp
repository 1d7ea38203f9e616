/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Generated scenes in a job spec: {"generate": ...} sources are planned as
 * genvideo:// clips into stitchbin, `reelforge plan` prints their estimated
 * cost, and the shipped offline example renders with the local provider.
 */
#include "test-environment.h"

#include <gst/pbutils/pbutils.h>

#include <fstream>

namespace reelforge::test {
namespace {

class GenvideoJob : public ::testing::Test {
 protected:
  void SetUp() override {
    /* genvideosrc's default cache lives under the user cache dir. */
    g_setenv("XDG_CACHE_HOME", dir_.file("cache").c_str(), TRUE);
  }
  void TearDown() override { g_unsetenv("XDG_CACHE_HOME"); }

  std::string write_spec(const std::string &name, const std::string &scenes) {
    const std::string path = dir_.file(name);
    std::ofstream(path) << R"({"name": "gen", "platforms": ["tiktok"], "scenes": )" << scenes
                        << R"(, "output": {"directory": "out"}})";
    return path;
  }

  TempDir dir_;
};

TEST_F(GenvideoJob, PlanPrintsGenvideoClipsAndTheEstimatedCost) {
  const std::string spec = write_spec("priced.json", R"([
    {"source": {"generate": {"providers": [{"provider": "replicate", "model": "google/veo-3-fast"},
                                           {"provider": "local"}],
                             "prompt": "A lighthouse at dawn"}}, "duration": 8},
    {"source": {"generate": {"providers": [{"provider": "replicate", "model": "minimax/hailuo-02"}],
                             "prompt": "Waves"}}, "duration": 6}])");
  const ProgramResult result = reelforge({"plan", spec, "-o", dir_.file("out")});
  ASSERT_EQ(result.status, 0) << result.output;
  /* 8 s x 0.10 USD/s + 0.37 per generation, from schemas/pricing.json. */
  EXPECT_NE(result.output.find("# estimated generation cost: 1.17 USD for 2 clips"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("replicate/google/veo-3-fast: 0.80 USD"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("genvideo://replicate/google/veo-3-fast?prompt=A%20lighthouse"),
            std::string::npos)
      << result.output;
  /* The rest of the chain rides along as the fallback parameter. */
  EXPECT_NE(result.output.find("fallback="), std::string::npos) << result.output;
}

TEST_F(GenvideoJob, PromptsTakeVariationTemplates) {
  const std::string path = dir_.file("variations.json");
  std::ofstream(path) << R"({"name": "gen", "platforms": ["tiktok"],
    "scenes": [{"source": {"generate": {"providers": [{"provider": "local"}],
                                        "prompt": "A ${animal} on a beach"}}, "duration": 2}],
    "variations": {"dimensions": {"animal": ["dog", "cat"]}},
    "output": {"directory": "out"}})";
  const ProgramResult result = reelforge({"plan", path, "-o", dir_.file("out")});
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("prompt=A%20dog%20on%20a%20beach"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("prompt=A%20cat%20on%20a%20beach"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("0.00 USD for 2 clips"), std::string::npos) << result.output;
}

TEST_F(GenvideoJob, BadGenerateSourcesNameTheField) {
  const std::string spec = write_spec("bad.json", R"([
    {"source": {"generate": {"category": "platinum", "prompt": "x"}}, "duration": 2},
    {"source": {"generate": {"providers": [{"provider": "local"}], "prompt": "y"}}}])");
  const ProgramResult result = reelforge({"validate", spec});
  EXPECT_NE(result.status, 0);
  EXPECT_NE(result.output.find("/scenes/0/source/generate: category: \"platinum\" is not in the "
                               "routing data"),
            std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("/scenes/1/source/generate/duration: missing"), std::string::npos)
      << result.output;
}

TEST_F(GenvideoJob, OfflineExampleRendersWithTheLocalProvider) {
  const auto examples = source_dir() / "examples";
  std::string output;
  ASSERT_EQ(run_command(shell_quote((examples / "make-media.sh").string()), &output, true), 0)
      << output;
  const std::string out = dir_.file("out");
  const ProgramResult result = reelforge(
      {"render", (examples / "generate-local.json").string(), "-o", out, "--progress=none"});
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_EQ(result.output.find("QC fail"), std::string::npos) << result.output;
  const std::string video = out + "/generated-scenes-offline.tiktok.mp4";
  /* Three 2 s scenes, one 0.5 s crossfade. */
  GError *raw_error = nullptr;
  GObjectPtr<GstDiscoverer> discoverer(gst_discoverer_new(30 * GST_SECOND, &raw_error));
  ASSERT_TRUE(discoverer) << raw_error->message;
  GCharPtr uri(g_filename_to_uri(video.c_str(), nullptr, nullptr));
  GObjectPtr<GstDiscovererInfo> info(
      gst_discoverer_discover_uri(discoverer.get(), uri.get(), &raw_error));
  GErrorPtr error(raw_error);
  ASSERT_TRUE(info && !error) << (error ? error->message : "no info");
  EXPECT_NEAR(static_cast<double>(gst_discoverer_info_get_duration(info.get())) / GST_SECOND, 5.5,
              0.1);
  /* The clips were generated into the (private) cache, three of them. */
  int clips = 0;
  for (const auto &entry :
       std::filesystem::recursive_directory_iterator(dir_.path() / "cache" / "reelforge"))
    if (entry.path().extension() == ".mp4") ++clips;
  EXPECT_EQ(clips, 3);
}

}  // namespace
}  // namespace reelforge::test
