/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Loading platform profiles: the built-in ones by name, folders on
 * $REELFORGE_PLATFORMS_PATH, file paths, and the errors a user sees when a
 * profile is missing or wrong. Also checks the profiles the project ships.
 */
#include "json-file.h"
#include "platform-profile.h"
#include "test-environment.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace reelforge::qc {
namespace {

using test::TempDir;

constexpr const char *kPathVariable = "REELFORGE_PLATFORMS_PATH";

/* Sets or unsets an environment variable for one scope, restoring it after. */
class ScopedEnv {
 public:
  ScopedEnv(const char *name, const std::optional<std::string> &value) : name_(name) {
    if (const char *old = g_getenv(name)) old_ = old;
    if (value)
      g_setenv(name, value->c_str(), TRUE);
    else
      g_unsetenv(name);
  }
  ~ScopedEnv() {
    if (old_)
      g_setenv(name_.c_str(), old_->c_str(), TRUE);
    else
      g_unsetenv(name_.c_str());
  }
  ScopedEnv(const ScopedEnv &) = delete;
  ScopedEnv &operator=(const ScopedEnv &) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

void write_file(const std::string &path, const std::string &text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  ASSERT_TRUE(out.good()) << "cannot write " << path;
}

/* A minimal valid profile whose house level allows at most max_s seconds. */
std::string small_profile(const std::string &name, const std::string &title, int max_s) {
  return R"({"name": ")" + name + R"(", "title": ")" + title +
         R"(", "canvas": {"width": 720, "height": 1280, "fps": 25},
             "levels": {"house": {"severity": "fail",
                                  "limits": {"duration_s": {"max": )" +
         std::to_string(max_s) + "}}}}}";
}

PlatformProfile parse_inline(const std::string &json) {
  JsonNodePtr root = parse_json(json, "inline");
  return parse_platform_profile(root.get(), "inline");
}

/* The message of the ProfileError that load throws; fails the test when it
 * throws nothing. */
template <typename Load>
std::string profile_error(Load &&load) {
  try {
    load();
  } catch (const ProfileError &e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ProfileError";
  return "";
}

::testing::AssertionResult contains(const std::string &text, const std::string &part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << text << "\" does not contain \"" << part << "\"";
}

const Level &level_named(const PlatformProfile &profile, const std::string &name) {
  for (const auto &level : profile.levels)
    if (level.name == name) return level;
  throw std::runtime_error(profile.name + " has no level " + name);
}

std::vector<std::string> level_names(const PlatformProfile &profile) {
  std::vector<std::string> names;
  for (const auto &level : profile.levels) names.push_back(level.name);
  return names;
}

/* Every test starts without $REELFORGE_PLATFORMS_PATH, so only the built-in
 * profiles resolve by name unless the test says otherwise. */
class PlatformProfileTest : public ::testing::Test {
 protected:
  ScopedEnv no_path_{kPathVariable, std::nullopt};
};

TEST_F(PlatformProfileTest, AvailableNamesAreTheFourBuiltInsSorted) {
  EXPECT_EQ(available_profile_names(),
            (std::vector<std::string>{"instagram-reels", "tiktok", "youtube", "youtube-shorts"}));
}

TEST_F(PlatformProfileTest, TikTokBuiltIn) {
  const PlatformProfile p = load_platform_profile("tiktok");
  EXPECT_EQ(p.name, "tiktok");
  EXPECT_EQ(p.title, "TikTok");
  EXPECT_EQ(p.canvas_width, 1080);
  EXPECT_EQ(p.canvas_height, 1920);
  EXPECT_EQ(p.canvas_fps, 30);
  EXPECT_EQ(p.target_lufs, -14);
  EXPECT_EQ(p.target_true_peak_dbtp, -1);
  EXPECT_EQ(p.safe_zone.top, 150);
  EXPECT_EQ(p.safe_zone.bottom, 440);
  EXPECT_EQ(p.safe_zone.left, 0);
  EXPECT_EQ(p.safe_zone.right, 150);
  EXPECT_EQ(level_names(p), (std::vector<std::string>{"platform", "house", "recommended"}));

  const Level &platform = level_named(p, "platform");
  EXPECT_EQ(platform.severity, Severity::kFail);
  EXPECT_FALSE(platform.source.empty());
  ASSERT_TRUE(platform.limits.duration_s);
  EXPECT_FALSE(platform.limits.duration_s->min);
  EXPECT_EQ(platform.limits.duration_s->max, 600);
  ASSERT_TRUE(platform.limits.side_px);
  EXPECT_EQ(platform.limits.side_px->min, 360);
  EXPECT_EQ(platform.limits.side_px->max, 4096);
  ASSERT_TRUE(platform.limits.fps);
  EXPECT_EQ(platform.limits.fps->min, 23);
  EXPECT_EQ(platform.limits.fps->max, 60);
  ASSERT_TRUE(platform.limits.size_bytes);
  EXPECT_EQ(platform.limits.size_bytes->max, 4e9);
  ASSERT_TRUE(platform.limits.bitrate_kbps);
  EXPECT_EQ(platform.limits.bitrate_kbps->min, 516);
  EXPECT_EQ(platform.limits.video_codecs, (std::vector<std::string>{"h264", "h265", "vp8", "vp9"}));

  const Level &house = level_named(p, "house");
  EXPECT_EQ(house.severity, Severity::kFail);
  ASSERT_TRUE(house.limits.duration_s);
  EXPECT_EQ(house.limits.duration_s->min, 3);
  EXPECT_EQ(house.limits.duration_s->max, 60);
  ASSERT_TRUE(house.limits.aspect && house.limits.aspect->equals);
  EXPECT_EQ(house.limits.aspect->equals->text, "9:16");
  EXPECT_EQ(house.limits.aspect->equals->value(), 9.0 / 16.0);
  EXPECT_EQ(house.limits.aspect->tolerance, 0.01);
  ASSERT_TRUE(house.limits.size_bytes);
  EXPECT_EQ(house.limits.size_bytes->max, 287e6);
  EXPECT_EQ(house.limits.audio_required, true);
  EXPECT_EQ(house.limits.allow_black, false);

  const Level &recommended = level_named(p, "recommended");
  EXPECT_EQ(recommended.severity, Severity::kWarn);
  EXPECT_EQ(recommended.limits.video_codecs, std::vector<std::string>{"h264"});
  EXPECT_EQ(recommended.limits.faststart, true);
  ASSERT_TRUE(recommended.limits.integrated_lufs);
  EXPECT_EQ(recommended.limits.integrated_lufs->min, -16);
  EXPECT_EQ(recommended.limits.integrated_lufs->max, -12);
}

TEST_F(PlatformProfileTest, YouTubeShortsBuiltIn) {
  const PlatformProfile p = load_platform_profile("youtube-shorts");
  EXPECT_EQ(p.name, "youtube-shorts");
  EXPECT_EQ(p.title, "YouTube Shorts");
  EXPECT_EQ(p.canvas_width, 1080);
  EXPECT_EQ(p.canvas_height, 1920);

  const Level &platform = level_named(p, "platform");
  ASSERT_TRUE(platform.limits.duration_s);
  EXPECT_EQ(platform.limits.duration_s->max, 180);
  ASSERT_TRUE(platform.limits.aspect && platform.limits.aspect->max);
  EXPECT_EQ(platform.limits.aspect->max->text, "1:1");
  EXPECT_FALSE(platform.limits.aspect->equals);
  ASSERT_TRUE(platform.limits.size_bytes);
  EXPECT_EQ(platform.limits.size_bytes->max, 256e9);

  const Level &house = level_named(p, "house");
  ASSERT_TRUE(house.limits.duration_s);
  EXPECT_EQ(house.limits.duration_s->min, 1);
  EXPECT_EQ(house.limits.duration_s->max, 60);
  ASSERT_TRUE(house.limits.size_bytes);
  EXPECT_EQ(house.limits.size_bytes->max, 256e6);

  const Level &recommended = level_named(p, "recommended");
  ASSERT_TRUE(recommended.limits.fps);
  EXPECT_EQ(recommended.limits.fps->min, 24);
  EXPECT_EQ(recommended.limits.fps->max, 60);
  EXPECT_EQ(recommended.limits.video_profiles, std::vector<std::string>{"high"});
  EXPECT_EQ(recommended.limits.sample_rates_hz, std::vector<int>{48000});
}

TEST_F(PlatformProfileTest, InstagramReelsBuiltIn) {
  const PlatformProfile p = load_platform_profile("instagram-reels");
  EXPECT_EQ(p.name, "instagram-reels");
  EXPECT_EQ(p.title, "Instagram Reels");
  EXPECT_EQ(p.safe_zone.top, 270);
  EXPECT_EQ(p.safe_zone.bottom, 670);
  EXPECT_EQ(p.safe_zone.left, 65);
  EXPECT_EQ(p.safe_zone.right, 65);

  const Level &platform = level_named(p, "platform");
  ASSERT_TRUE(platform.limits.duration_s);
  EXPECT_EQ(platform.limits.duration_s->min, 3);
  EXPECT_EQ(platform.limits.duration_s->max, 900);
  ASSERT_TRUE(platform.limits.width_px);
  EXPECT_EQ(platform.limits.width_px->max, 1920);
  ASSERT_TRUE(platform.limits.bitrate_kbps);
  EXPECT_EQ(platform.limits.bitrate_kbps->max, 25000);
  EXPECT_EQ(platform.limits.audio_codecs, std::vector<std::string>{"aac"});
  EXPECT_EQ(platform.limits.sample_rates_hz,
            (std::vector<int>{8000, 16000, 22050, 24000, 32000, 44100, 48000}));

  const Level &house = level_named(p, "house");
  ASSERT_TRUE(house.limits.duration_s);
  EXPECT_EQ(house.limits.duration_s->min, 3);
  EXPECT_EQ(house.limits.duration_s->max, 90);
  ASSERT_TRUE(house.limits.size_bytes);
  EXPECT_EQ(house.limits.size_bytes->max, 100e6);
}

TEST_F(PlatformProfileTest, YouTubeBuiltIn) {
  const PlatformProfile p = load_platform_profile("youtube");
  EXPECT_EQ(p.name, "youtube");
  EXPECT_EQ(p.title, "YouTube (16:9)");
  EXPECT_EQ(p.canvas_width, 1920);
  EXPECT_EQ(p.canvas_height, 1080);
  EXPECT_EQ(p.canvas_fps, 30);

  const Level &platform = level_named(p, "platform");
  ASSERT_TRUE(platform.limits.duration_s);
  EXPECT_EQ(platform.limits.duration_s->max, 12 * 3600);

  const Level &house = level_named(p, "house");
  ASSERT_TRUE(house.limits.aspect && house.limits.aspect->equals);
  EXPECT_EQ(house.limits.aspect->equals->text, "16:9");

  const Level &recommended = level_named(p, "recommended");
  EXPECT_EQ(recommended.limits.fps_values, (std::vector<double>{24, 25, 30, 48, 50, 60}));
  ASSERT_TRUE(recommended.limits.width_px && recommended.limits.height_px);
  EXPECT_EQ(recommended.limits.width_px->min, 1920);
  EXPECT_EQ(recommended.limits.height_px->max, 1080);
}

TEST_F(PlatformProfileTest, ReadsEveryField) {
  /* Levels deliberately not in alphabetical order: they keep file order. */
  const PlatformProfile p = parse_inline(R"({
    "name": "everything", "title": "Every field",
    "canvas": {"width": 720, "height": 1280, "fps": 24},
    "loudness": {"target_lufs": -16, "true_peak_dbtp": -2},
    "safe_zone": {"top": 10, "bottom": 20, "left": 30, "right": 40},
    "detection": {"black_min_s": 0.25, "freeze_min_s": 1.5, "silence_min_s": 4},
    "levels": {
      "zeta": {"severity": "warn", "source": "a guide", "limits": {
        "duration_s": {"min": 1, "max": 2},
        "width_px": {"min": 3},
        "height_px": {"max": 4},
        "side_px": {"min": 5, "max": 6},
        "aspect": {"equals": "4:5", "tolerance": 0.05, "min": "1:2", "max": "2.5:1"},
        "fps": {"min": 7, "max": 8},
        "fps_values": [23.976, 30],
        "size_bytes": {"max": 9},
        "bitrate_kbps": {"min": 10},
        "video_codecs": ["h264", "av1"],
        "video_profiles": ["main"],
        "audio_required": false,
        "audio_codecs": ["opus"],
        "sample_rates_hz": [44100, 48000],
        "channels": {"min": 1, "max": 2},
        "faststart": false,
        "integrated_lufs": {"min": -20, "max": -10},
        "true_peak_dbtp": {"max": -1.5},
        "allow_black": true,
        "allow_freeze": false,
        "allow_silence": true}},
      "alpha": {"severity": "fail", "limits": {}}
    }})");

  EXPECT_EQ(p.name, "everything");
  EXPECT_EQ(p.title, "Every field");
  EXPECT_EQ(p.canvas_width, 720);
  EXPECT_EQ(p.canvas_height, 1280);
  EXPECT_EQ(p.canvas_fps, 24);
  EXPECT_EQ(p.target_lufs, -16);
  EXPECT_EQ(p.target_true_peak_dbtp, -2);
  EXPECT_EQ(p.safe_zone.top, 10);
  EXPECT_EQ(p.safe_zone.bottom, 20);
  EXPECT_EQ(p.safe_zone.left, 30);
  EXPECT_EQ(p.safe_zone.right, 40);
  EXPECT_EQ(p.black_min_s, 0.25);
  EXPECT_EQ(p.freeze_min_s, 1.5);
  EXPECT_EQ(p.silence_min_s, 4);
  ASSERT_EQ(level_names(p), (std::vector<std::string>{"zeta", "alpha"}));

  const Level &zeta = p.levels[0];
  EXPECT_EQ(zeta.severity, Severity::kWarn);
  EXPECT_EQ(zeta.source, "a guide");
  const Limits &l = zeta.limits;
  ASSERT_TRUE(l.duration_s && l.width_px && l.height_px && l.side_px && l.aspect && l.fps &&
              l.size_bytes && l.bitrate_kbps && l.channels && l.integrated_lufs &&
              l.true_peak_dbtp);
  EXPECT_EQ(l.duration_s->min, 1);
  EXPECT_EQ(l.duration_s->max, 2);
  EXPECT_EQ(l.width_px->min, 3);
  EXPECT_FALSE(l.width_px->max);
  EXPECT_FALSE(l.height_px->min);
  EXPECT_EQ(l.height_px->max, 4);
  EXPECT_EQ(l.side_px->min, 5);
  EXPECT_EQ(l.side_px->max, 6);
  ASSERT_TRUE(l.aspect->equals && l.aspect->min && l.aspect->max);
  EXPECT_EQ(l.aspect->equals->width, 4);
  EXPECT_EQ(l.aspect->equals->height, 5);
  EXPECT_EQ(l.aspect->tolerance, 0.05);
  EXPECT_EQ(l.aspect->min->value(), 0.5);
  EXPECT_EQ(l.aspect->max->width, 2.5);
  EXPECT_EQ(l.aspect->max->height, 1);
  EXPECT_EQ(l.aspect->max->text, "2.5:1");
  EXPECT_EQ(l.fps->min, 7);
  EXPECT_EQ(l.fps->max, 8);
  EXPECT_EQ(l.fps_values, (std::vector<double>{23.976, 30}));
  EXPECT_EQ(l.size_bytes->max, 9);
  EXPECT_EQ(l.bitrate_kbps->min, 10);
  EXPECT_EQ(l.video_codecs, (std::vector<std::string>{"h264", "av1"}));
  EXPECT_EQ(l.video_profiles, std::vector<std::string>{"main"});
  EXPECT_EQ(l.audio_required, false);
  EXPECT_EQ(l.audio_codecs, std::vector<std::string>{"opus"});
  EXPECT_EQ(l.sample_rates_hz, (std::vector<int>{44100, 48000}));
  EXPECT_EQ(l.channels->min, 1);
  EXPECT_EQ(l.channels->max, 2);
  EXPECT_EQ(l.faststart, false);
  EXPECT_EQ(l.integrated_lufs->min, -20);
  EXPECT_EQ(l.integrated_lufs->max, -10);
  EXPECT_EQ(l.true_peak_dbtp->max, -1.5);
  EXPECT_EQ(l.allow_black, true);
  EXPECT_EQ(l.allow_freeze, false);
  EXPECT_EQ(l.allow_silence, true);

  /* A level that names no limit checks nothing. */
  const Level &alpha = p.levels[1];
  EXPECT_EQ(alpha.severity, Severity::kFail);
  EXPECT_EQ(alpha.source, "");
  EXPECT_FALSE(alpha.limits.duration_s);
  EXPECT_FALSE(alpha.limits.aspect);
  EXPECT_TRUE(alpha.limits.video_codecs.empty());
  EXPECT_FALSE(alpha.limits.audio_required);
  EXPECT_FALSE(alpha.limits.faststart);
  EXPECT_FALSE(alpha.limits.allow_black);
}

TEST_F(PlatformProfileTest, DefaultsForOptionalSections) {
  const PlatformProfile p =
      parse_inline(R"({"name": "bare", "levels": {"only": {"severity": "fail", "limits": {}}}})");
  EXPECT_EQ(p.title, "bare");
  EXPECT_EQ(p.canvas_width, 1080);
  EXPECT_EQ(p.canvas_height, 1920);
  EXPECT_EQ(p.canvas_fps, 30);
  EXPECT_EQ(p.target_lufs, -14);
  EXPECT_EQ(p.target_true_peak_dbtp, -1);
  EXPECT_EQ(p.safe_zone.top, 0);
  EXPECT_EQ(p.black_min_s, 0.5);
  EXPECT_EQ(p.freeze_min_s, 3);
  EXPECT_EQ(p.silence_min_s, 2);
}

TEST_F(PlatformProfileTest, LoadsAFileByPath) {
  TempDir dir;
  const std::string path = dir.file("staging.json");
  write_file(path, small_profile("staging", "Staging", 45));

  const PlatformProfile p = load_platform_profile(path);
  EXPECT_EQ(p.name, "staging");
  EXPECT_EQ(p.title, "Staging");
  EXPECT_EQ(p.canvas_width, 720);
  EXPECT_EQ(p.canvas_height, 1280);
  EXPECT_EQ(p.canvas_fps, 25);
  ASSERT_EQ(p.levels.size(), 1u);
  ASSERT_TRUE(p.levels[0].limits.duration_s);
  EXPECT_EQ(p.levels[0].limits.duration_s->max, 45);
}

TEST_F(PlatformProfileTest, APathIsNeverTakenForAName) {
  /* A file named like a built-in, given as a path, is the file. */
  TempDir dir;
  const std::string path = dir.file("tiktok.json");
  write_file(path, small_profile("tiktok", "Not TikTok", 5));
  EXPECT_EQ(load_platform_profile(path).title, "Not TikTok");
  EXPECT_EQ(load_platform_profile("tiktok").title, "TikTok");
}

TEST_F(PlatformProfileTest, SearchPathTakesPrecedenceOverBuiltIn) {
  TempDir dir;
  write_file(dir.file("tiktok.json"), small_profile("tiktok", "TikTok (staging)", 30));
  write_file(dir.file("vimeo.json"), small_profile("vimeo", "Vimeo", 120));
  write_file(dir.file("notes.txt"), "not a profile");
  {
    /* A folder that does not exist is skipped, not an error. */
    ScopedEnv path(kPathVariable,
                   dir.file("absent") + G_SEARCHPATH_SEPARATOR_S + dir.path().string());
    const PlatformProfile tiktok = load_platform_profile("tiktok");
    EXPECT_EQ(tiktok.title, "TikTok (staging)");
    ASSERT_EQ(tiktok.levels.size(), 1u);
    EXPECT_EQ(tiktok.levels[0].limits.duration_s->max, 30);

    EXPECT_EQ(load_platform_profile("vimeo").title, "Vimeo");
    /* Names the folder does not have still come from the built-ins. */
    EXPECT_EQ(load_platform_profile("youtube").title, "YouTube (16:9)");
    EXPECT_EQ(available_profile_names(),
              (std::vector<std::string>{"instagram-reels", "tiktok", "vimeo", "youtube",
                                        "youtube-shorts"}));
  }
  EXPECT_EQ(load_platform_profile("tiktok").title, "TikTok");
  EXPECT_EQ(available_profile_names().size(), 4u);
}

TEST_F(PlatformProfileTest, EarlierSearchFolderWins) {
  TempDir first, second;
  write_file(first.file("brand.json"), small_profile("brand", "First", 10));
  write_file(second.file("brand.json"), small_profile("brand", "Second", 20));
  ScopedEnv path(kPathVariable,
                 first.path().string() + G_SEARCHPATH_SEPARATOR_S + second.path().string());
  EXPECT_EQ(load_platform_profile("brand").title, "First");
}

TEST_F(PlatformProfileTest, UnknownNameListsTheAvailableOnes) {
  EXPECT_EQ(profile_error([] { load_platform_profile("vimeo"); }),
            "unknown platform profile \"vimeo\"; use one of instagram-reels, tiktok, youtube, "
            "youtube-shorts or a path to a profile file");
}

TEST_F(PlatformProfileTest, EmptyNameListsTheAvailableOnes) {
  EXPECT_EQ(profile_error([] { load_platform_profile(""); }),
            "no platform profile given; use one of instagram-reels, tiktok, youtube, "
            "youtube-shorts or a path to a profile file");
}

TEST_F(PlatformProfileTest, MissingFileIsNamed) {
  TempDir dir;
  const std::string path = dir.file("absent.json");
  const std::string message = profile_error([&] { load_platform_profile(path); });
  EXPECT_TRUE(message.starts_with("platform profile " + path + ": ")) << message;
}

TEST_F(PlatformProfileTest, InvalidJsonNamesTheFile) {
  TempDir dir;
  const std::string path = dir.file("broken.json");
  write_file(path, R"({"name": "broken", "levels": )");
  const std::string message = profile_error([&] { load_platform_profile(path); });
  EXPECT_TRUE(message.starts_with("platform profile " + path + ": not valid JSON")) << message;
}

TEST_F(PlatformProfileTest, InvalidJsonInASearchFolderNamesTheFile) {
  TempDir dir;
  write_file(dir.file("broken.json"), "{ nope }");
  ScopedEnv path(kPathVariable, dir.path().string());
  const std::string message = profile_error([] { load_platform_profile("broken"); });
  EXPECT_TRUE(contains(message, dir.file("broken.json") + ": not valid JSON"));
}

TEST_F(PlatformProfileTest, WrongTypeInAFileNamesTheFileAndPointer) {
  TempDir dir;
  const std::string path = dir.file("typo.json");
  write_file(path, R"({"name": "typo", "levels": {"house": {"severity": "fail",
                       "limits": {"duration_s": {"max": "sixty"}}}}})");
  EXPECT_EQ(profile_error([&] { load_platform_profile(path); }),
            path + ": /levels/house/limits/duration_s/max: expected a number, got a string");
}

struct InvalidProfile {
  const char *what;
  const char *json;
  const char *message; /* "inline: <pointer>: ..." as the typed reads word it */
};

/* The schema check and the typed reads word the same mistake differently;
 * what both must do is name the origin and the JSON pointer. */
std::string origin_and_pointer(const std::string &message) {
  const auto pointer_end = message.find(": ", std::string("inline: ").size());
  return pointer_end == std::string::npos ? message : message.substr(0, pointer_end + 2);
}

class InvalidProfileTest : public ::testing::TestWithParam<InvalidProfile> {};

TEST_P(InvalidProfileTest, MessageNamesThePointer) {
  const InvalidProfile &c = GetParam();
  const std::string message = profile_error([&] { parse_inline(c.json); });
  /* one line of the message names it */
  EXPECT_NE(("\n" + message).find("\n" + origin_and_pointer(c.message)), std::string::npos)
      << message;
}

/* Wraps limits into a profile with one level named house. */
#define HOUSE(limits) \
  R"({"name": "t", "levels": {"house": {"severity": "fail", "limits": {)" limits "}}}}"

INSTANTIATE_TEST_SUITE_P(
    Errors, InvalidProfileTest,
    ::testing::Values(
        InvalidProfile{"string_for_number", HOUSE(R"("duration_s": {"max": "sixty"})"),
                       "inline: /levels/house/limits/duration_s/max: expected a number"},
        InvalidProfile{"bool_for_number", HOUSE(R"("fps": {"min": true})"),
                       "inline: /levels/house/limits/fps/min: expected a number"},
        InvalidProfile{"min_above_max", HOUSE(R"("fps": {"min": 60, "max": 23})"),
                       "inline: /levels/house/limits/fps: min is greater than max"},
        InvalidProfile{"range_not_object", HOUSE(R"("size_bytes": 100)"),
                       "inline: /levels/house/limits/size_bytes: expected an object"},
        InvalidProfile{"ratio_with_x", HOUSE(R"("aspect": {"equals": "9x16"})"),
                       "inline: /levels/house/limits/aspect/equals: expected a ratio like "
                       "\"9:16\", got \"9x16\""},
        InvalidProfile{"ratio_trailing", HOUSE(R"("aspect": {"min": "9:16px"})"),
                       "inline: /levels/house/limits/aspect/min: expected a ratio like "
                       "\"9:16\", got \"9:16px\""},
        InvalidProfile{"ratio_zero", HOUSE(R"("aspect": {"max": "0:1"})"),
                       "inline: /levels/house/limits/aspect/max: expected a ratio like "
                       "\"9:16\", got \"0:1\""},
        InvalidProfile{"ratio_number", HOUSE(R"("aspect": {"equals": 0.5625})"),
                       "inline: /levels/house/limits/aspect/equals: expected a string"},
        InvalidProfile{"tolerance_string", HOUSE(R"("aspect": {"tolerance": "1%"})"),
                       "inline: /levels/house/limits/aspect/tolerance: expected a number"},
        InvalidProfile{"codecs_not_array", HOUSE(R"("video_codecs": "h264")"),
                       "inline: /levels/house/limits/video_codecs: expected an array"},
        InvalidProfile{"codec_not_string", HOUSE(R"("audio_codecs": ["aac", 264])"),
                       "inline: /levels/house/limits/audio_codecs/1: expected a string"},
        InvalidProfile{"rate_not_number", HOUSE(R"("sample_rates_hz": ["48k"])"),
                       "inline: /levels/house/limits/sample_rates_hz/0: expected a number"},
        InvalidProfile{"fps_value_object", HOUSE(R"("fps_values": [30, {}])"),
                       "inline: /levels/house/limits/fps_values/1: expected a plain value"},
        InvalidProfile{"flag_not_bool", HOUSE(R"("audio_required": "yes")"),
                       "inline: /levels/house/limits/audio_required: expected true or false"},
        InvalidProfile{"severity_maybe",
                       R"({"name": "t", "levels": {"house": {"severity": "maybe", "limits": {}}}})",
                       "inline: /levels/house/severity: \"maybe\" is not one of fail, warn"},
        InvalidProfile{"severity_missing", R"({"name": "t", "levels": {"house": {"limits": {}}}})",
                       "inline: /levels/house: missing required property \"severity\""},
        InvalidProfile{"limits_missing",
                       R"({"name": "t", "levels": {"house": {"severity": "warn"}}})",
                       "inline: /levels/house: missing required property \"limits\""},
        InvalidProfile{"level_not_object", R"({"name": "t", "levels": {"house": []}})",
                       "inline: /levels/house: expected an object"},
        InvalidProfile{"no_levels", R"({"name": "t", "levels": {}})",
                       "inline: /levels: missing: a profile needs at least one level of limits"},
        InvalidProfile{"no_name", R"({"title": "T", "levels": {}})",
                       "inline: missing required property \"name\""},
        InvalidProfile{"name_not_string", R"({"name": 7, "levels": {}})",
                       "inline: /name: expected a string"},
        InvalidProfile{"canvas_width_string",
                       R"({"name": "t", "canvas": {"width": "wide"}, "levels": {}})",
                       "inline: /canvas/width: expected a number"},
        InvalidProfile{"safe_zone_string",
                       R"({"name": "t", "safe_zone": {"top": "10%"}, "levels": {}})",
                       "inline: /safe_zone/top: expected a number"},
        InvalidProfile{"detection_zero",
                       R"({"name": "t", "detection": {"black_min_s": 0}, "levels": {}})",
                       "inline: /detection/black_min_s: must be above 0 s"}),
    [](const ::testing::TestParamInfo<InvalidProfile> &info) { return info.param.what; });

#undef HOUSE

TEST_F(PlatformProfileTest, RootMustBeAnObject) {
  EXPECT_TRUE(contains(profile_error([] { parse_inline("[1, 2]"); }), "expected an object"));
  EXPECT_TRUE(
      contains(profile_error([] { parse_platform_profile(nullptr, "nothing"); }), "nothing: "));
}

/* The data the project ships: each file in schemas/platforms/ is a valid
 * profile named after its file, uses only members the schema declares, and
 * is compiled into the built-ins. */
class ShippedProfilesTest : public PlatformProfileTest {
 protected:
  static std::filesystem::path platforms_dir() {
    return test::source_dir() / "schemas" / "platforms";
  }

  static std::vector<std::filesystem::path> files() {
    std::vector<std::filesystem::path> found;
    for (const auto &entry : std::filesystem::directory_iterator(platforms_dir()))
      found.push_back(entry.path());
    std::sort(found.begin(), found.end());
    return found;
  }

  /* The member names the platform schema allows at pointer (an object with
   * "properties"), read from schemas/platform.schema.json. */
  static std::set<std::string> schema_members(const std::vector<const char *> &path) {
    JsonNodePtr schema =
        load_json_file((test::source_dir() / "schemas" / "platform.schema.json").string());
    JsonObject *object = json_node_get_object(schema.get());
    for (const char *step : path) object = json_object_get_object_member(object, step);
    std::set<std::string> names;
    GList *members = json_object_get_members(json_object_get_object_member(object, "properties"));
    for (GList *l = members; l; l = l->next) names.insert(static_cast<const char *>(l->data));
    g_list_free(members);
    return names;
  }

  static std::set<std::string> members(JsonObject *object) {
    std::set<std::string> names;
    GList *list = json_object_get_members(object);
    for (GList *l = list; l; l = l->next) names.insert(static_cast<const char *>(l->data));
    g_list_free(list);
    return names;
  }

  static void expect_subset(const std::set<std::string> &used, const std::set<std::string> &allowed,
                            const std::string &where) {
    for (const auto &name : used)
      EXPECT_TRUE(allowed.contains(name)) << where << ": \"" << name << "\" is not in the schema";
  }
};

TEST_F(ShippedProfilesTest, EveryFileLoadsAndIsNamedAfterItsFile) {
  const auto paths = files();
  ASSERT_FALSE(paths.empty()) << "no profiles in " << platforms_dir();
  for (const auto &path : paths) {
    SCOPED_TRACE(path.string());
    EXPECT_EQ(path.extension(), ".json");
    JsonNodePtr root = load_json_file(path.string());
    const PlatformProfile profile = parse_platform_profile(root.get(), path.string());
    EXPECT_EQ(profile.name, path.stem().string());
    EXPECT_FALSE(profile.title.empty());
    EXPECT_FALSE(profile.levels.empty());
    for (const auto &level : profile.levels)
      EXPECT_FALSE(level.source.empty())
          << level.name << " does not say where its figures come from";
    /* The same document is the one built in under that name. */
    const PlatformProfile built_in = load_platform_profile(profile.name);
    EXPECT_EQ(built_in.title, profile.title);
    EXPECT_EQ(level_names(built_in), level_names(profile));
  }
}

TEST_F(ShippedProfilesTest, EveryFileIsBuiltIn) {
  std::vector<std::string> stems;
  for (const auto &path : files()) stems.push_back(path.stem().string());
  std::sort(stems.begin(), stems.end());
  EXPECT_EQ(available_profile_names(), stems);
}

TEST_F(ShippedProfilesTest, MembersAreDeclaredInTheSchema) {
  /* The loader ignores members it does not know, so a typo ("duraton_s")
   * would silently drop a limit; the schema is the list of known names. */
  const auto top_allowed = schema_members({});
  const auto level_allowed = schema_members({"definitions", "level"});
  const auto limits_allowed = schema_members({"definitions", "level", "properties", "limits"});
  for (const auto &path : files()) {
    SCOPED_TRACE(path.string());
    JsonNodePtr root = load_json_file(path.string());
    JsonObject *top = json_node_get_object(root.get());
    expect_subset(members(top), top_allowed, "/");
    JsonObject *levels = json_object_get_object_member(top, "levels");
    GList *names = json_object_get_members(levels);
    for (GList *l = names; l; l = l->next) {
      const auto *name = static_cast<const char *>(l->data);
      JsonObject *level = json_object_get_object_member(levels, name);
      expect_subset(members(level), level_allowed, std::string("/levels/") + name);
      expect_subset(members(json_object_get_object_member(level, "limits")), limits_allowed,
                    std::string("/levels/") + name + "/limits");
    }
    g_list_free(names);
  }
}

}  // namespace
}  // namespace reelforge::qc
