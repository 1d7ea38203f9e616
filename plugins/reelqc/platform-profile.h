/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Platform profiles (the JSON files in schemas/platforms/): what a platform accepts, in
 * levels whose severity says what breaking a limit means. Plain values; the
 * JSON is read once at load.
 */
#pragma once

#include <json-glib/json-glib.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace reelforge::qc {

enum class Severity { kWarn, kFail };

/* A profile that cannot be found or read; the message names it and says
 * what would fix it. */
class ProfileError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Range {
  std::optional<double> min;
  std::optional<double> max;
  bool contains(double value) const { return (!min || value >= *min) && (!max || value <= *max); }
};

/* A width:height aspect ratio as written in the profile ("9:16"). */
struct Ratio {
  double width = 1;
  double height = 1;
  std::string text;
  double value() const { return width / height; }
};

struct AspectLimit {
  std::optional<Ratio> equals;
  double tolerance = 0.01; /* relative to the expected ratio */
  std::optional<Ratio> min;
  std::optional<Ratio> max;
};

/* Every limit is optional: a level only checks what it names. */
struct Limits {
  std::optional<Range> duration_s;
  std::optional<Range> width_px;
  std::optional<Range> height_px;
  std::optional<Range> side_px;
  std::optional<AspectLimit> aspect;
  std::optional<Range> fps;
  std::vector<double> fps_values;
  std::optional<Range> size_bytes;
  std::optional<Range> bitrate_kbps;
  std::vector<std::string> video_codecs;
  std::vector<std::string> video_profiles;
  std::optional<bool> audio_required;
  std::vector<std::string> audio_codecs;
  std::vector<int> sample_rates_hz;
  std::optional<Range> channels;
  std::optional<bool> faststart;
  std::optional<Range> integrated_lufs;
  std::optional<Range> true_peak_dbtp;
  std::optional<bool> allow_black;
  std::optional<bool> allow_freeze;
  std::optional<bool> allow_silence;
};

struct Level {
  std::string name;
  Severity severity = Severity::kFail;
  std::string source;
  Limits limits;
};

struct SafeZone {
  int top = 0;
  int bottom = 0;
  int left = 0;
  int right = 0;
};

struct PlatformProfile {
  std::string name;
  std::string title;
  int canvas_width = 1080;
  int canvas_height = 1920;
  double canvas_fps = 30;
  double target_lufs = -14;
  double target_true_peak_dbtp = -1;
  SafeZone safe_zone;
  /* Shortest black, frozen or silent stretch worth reporting, in seconds. */
  double black_min_s = 0.5;
  double freeze_min_s = 3;
  double silence_min_s = 2;
  std::vector<Level> levels; /* in file order */
};

/* name_or_path is a built-in profile name ("tiktok"), a name found as
 * <name>.json in a folder of $REELFORGE_PLATFORMS_PATH (searched first), or
 * the path of a profile file. Throws ProfileError. */
PlatformProfile load_platform_profile(const std::string &name_or_path);

/* Reads a profile document; origin names it in errors. Throws ProfileError. */
PlatformProfile parse_platform_profile(JsonNode *root, const std::string &origin);

/* The names load_platform_profile() resolves without a path, sorted. */
std::vector<std::string> available_profile_names();

const char *severity_name(Severity severity);

}  // namespace reelforge::qc
