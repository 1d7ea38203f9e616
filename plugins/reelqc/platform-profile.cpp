/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "platform-profile.h"

#include "gst-ptr.h"
#include "json-file.h"
#include "json-schema.h"

#include <gio/gio.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace reelforge::qc {

namespace {

constexpr const char *kResourceDir = "/dev/reelforge/platforms";

/* Typed reads from a profile object. A member of the wrong type is an error
 * naming its JSON pointer; an absent one is std::nullopt. */
class ProfileReader {
 public:
  explicit ProfileReader(std::string origin) : origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string &pointer, const std::string &what) const {
    throw ProfileError(origin_ + ": " + pointer + ": " + what);
  }

  JsonNode *member(JsonObject *object, const char *name, JsonNodeType type,
                   const std::string &pointer) const {
    JsonNode *node = json_object_get_member(object, name);
    if (node == nullptr) return nullptr;
    if (JSON_NODE_TYPE(node) != type)
      fail(pointer + "/" + name, std::string("expected ") + type_name(type));
    return node;
  }

  JsonObject *object(JsonObject *parent, const char *name, const std::string &pointer) const {
    JsonNode *node = member(parent, name, JSON_NODE_OBJECT, pointer);
    return node ? json_node_get_object(node) : nullptr;
  }

  std::optional<double> number(JsonObject *object, const char *name,
                               const std::string &pointer) const {
    JsonNode *node = member(object, name, JSON_NODE_VALUE, pointer);
    if (node == nullptr) return std::nullopt;
    const GType type = json_node_get_value_type(node);
    if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
      fail(pointer + "/" + name, "expected a number");
    return json_node_get_double(node);
  }

  std::optional<std::string> string(JsonObject *object, const char *name,
                                    const std::string &pointer) const {
    JsonNode *node = member(object, name, JSON_NODE_VALUE, pointer);
    if (node == nullptr) return std::nullopt;
    if (json_node_get_value_type(node) != G_TYPE_STRING)
      fail(pointer + "/" + name, "expected a string");
    return std::string(json_node_get_string(node));
  }

  std::optional<bool> boolean(JsonObject *object, const char *name,
                              const std::string &pointer) const {
    JsonNode *node = member(object, name, JSON_NODE_VALUE, pointer);
    if (node == nullptr) return std::nullopt;
    if (json_node_get_value_type(node) != G_TYPE_BOOLEAN)
      fail(pointer + "/" + name, "expected true or false");
    return json_node_get_boolean(node) != FALSE;
  }

  std::optional<Range> range(JsonObject *object, const char *name,
                             const std::string &pointer) const {
    JsonObject *range_object = this->object(object, name, pointer);
    if (range_object == nullptr) return std::nullopt;
    const std::string here = pointer + "/" + name;
    Range range{number(range_object, "min", here), number(range_object, "max", here)};
    if (range.min && range.max && *range.min > *range.max) fail(here, "min is greater than max");
    return range;
  }

  std::optional<Ratio> ratio(JsonObject *object, const char *name,
                             const std::string &pointer) const {
    const auto text = string(object, name, pointer);
    if (!text) return std::nullopt;
    Ratio ratio;
    ratio.text = *text;
    char *end = nullptr;
    ratio.width = g_ascii_strtod(text->c_str(), &end);
    if (end == nullptr || *end != ':')
      fail(pointer + "/" + name, "expected a ratio like \"9:16\", got \"" + *text + "\"");
    ratio.height = g_ascii_strtod(end + 1, &end);
    if (*end != '\0' || ratio.width <= 0 || ratio.height <= 0)
      fail(pointer + "/" + name, "expected a ratio like \"9:16\", got \"" + *text + "\"");
    return ratio;
  }

  template <typename Element, typename Read>
  std::vector<Element> array(JsonObject *object, const char *name, const std::string &pointer,
                             Read read_element) const {
    JsonNode *node = member(object, name, JSON_NODE_ARRAY, pointer);
    std::vector<Element> elements;
    if (node == nullptr) return elements;
    JsonArray *array = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(array); ++i) {
      JsonNode *element = json_array_get_element(array, i);
      const std::string here = pointer + "/" + name + "/" + std::to_string(i);
      if (JSON_NODE_TYPE(element) != JSON_NODE_VALUE) fail(here, "expected a plain value");
      elements.push_back(read_element(element, here));
    }
    return elements;
  }

  std::vector<std::string> strings(JsonObject *object, const char *name,
                                   const std::string &pointer) const {
    return array<std::string>(object, name, pointer, [this](JsonNode *n, const std::string &at) {
      if (json_node_get_value_type(n) != G_TYPE_STRING) fail(at, "expected a string");
      return std::string(json_node_get_string(n));
    });
  }

  std::vector<double> numbers(JsonObject *object, const char *name,
                              const std::string &pointer) const {
    return array<double>(object, name, pointer, [this](JsonNode *n, const std::string &at) {
      const GType type = json_node_get_value_type(n);
      if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE) fail(at, "expected a number");
      return json_node_get_double(n);
    });
  }

 private:
  static const char *type_name(JsonNodeType type) {
    switch (type) {
      case JSON_NODE_OBJECT:
        return "an object";
      case JSON_NODE_ARRAY:
        return "an array";
      default:
        return "a plain value";
    }
  }

  std::string origin_;
};

Limits read_limits(const ProfileReader &reader, JsonObject *object, const std::string &at) {
  Limits limits;
  limits.duration_s = reader.range(object, "duration_s", at);
  limits.width_px = reader.range(object, "width_px", at);
  limits.height_px = reader.range(object, "height_px", at);
  limits.side_px = reader.range(object, "side_px", at);
  if (JsonObject *aspect = reader.object(object, "aspect", at)) {
    const std::string here = at + "/aspect";
    AspectLimit limit;
    limit.equals = reader.ratio(aspect, "equals", here);
    limit.tolerance = reader.number(aspect, "tolerance", here).value_or(limit.tolerance);
    limit.min = reader.ratio(aspect, "min", here);
    limit.max = reader.ratio(aspect, "max", here);
    limits.aspect = limit;
  }
  limits.fps = reader.range(object, "fps", at);
  limits.fps_values = reader.numbers(object, "fps_values", at);
  limits.size_bytes = reader.range(object, "size_bytes", at);
  limits.bitrate_kbps = reader.range(object, "bitrate_kbps", at);
  limits.video_codecs = reader.strings(object, "video_codecs", at);
  limits.video_profiles = reader.strings(object, "video_profiles", at);
  limits.audio_required = reader.boolean(object, "audio_required", at);
  limits.audio_codecs = reader.strings(object, "audio_codecs", at);
  for (double rate : reader.numbers(object, "sample_rates_hz", at))
    limits.sample_rates_hz.push_back(static_cast<int>(rate));
  limits.channels = reader.range(object, "channels", at);
  limits.faststart = reader.boolean(object, "faststart", at);
  limits.integrated_lufs = reader.range(object, "integrated_lufs", at);
  limits.true_peak_dbtp = reader.range(object, "true_peak_dbtp", at);
  limits.allow_black = reader.boolean(object, "allow_black", at);
  limits.allow_freeze = reader.boolean(object, "allow_freeze", at);
  limits.allow_silence = reader.boolean(object, "allow_silence", at);
  return limits;
}

bool looks_like_path(const std::string &name_or_path) {
  return name_or_path.find('/') != std::string::npos ||
         (name_or_path.size() > 5 && name_or_path.ends_with(".json"));
}

std::vector<std::filesystem::path> search_dirs() {
  std::vector<std::filesystem::path> dirs;
  if (const char *path = g_getenv("REELFORGE_PLATFORMS_PATH")) {
    gchar **parts = g_strsplit(path, G_SEARCHPATH_SEPARATOR_S, -1);
    for (gchar **part = parts; *part; ++part)
      if (**part) dirs.emplace_back(*part);
    g_strfreev(parts);
  }
  return dirs;
}

std::optional<PlatformProfile> load_resource(const std::string &name) {
  const std::string path = std::string(kResourceDir) + "/" + name + ".json";
  GBytesPtr bytes(g_resources_lookup_data(path.c_str(), G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr));
  if (!bytes) return std::nullopt;
  gsize size = 0;
  const auto *data = static_cast<const char *>(g_bytes_get_data(bytes.get(), &size));
  JsonNodePtr root = parse_json(std::string_view(data, size), "built-in profile " + name);
  return parse_platform_profile(root.get(), "built-in profile " + name);
}

JsonNodePtr load_file(const std::string &path) {
  try {
    return load_json_file(path);
  } catch (const std::runtime_error &e) {
    throw ProfileError(std::string("platform profile ") + e.what());
  }
}

std::string join(const std::vector<std::string> &names) {
  std::string text;
  for (const auto &name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

}  // namespace

const char *severity_name(Severity severity) {
  return severity == Severity::kFail ? "fail" : "warn";
}

PlatformProfile parse_platform_profile(JsonNode *root, const std::string &origin) {
  /* The schema catches what typed reads cannot: misspelt limits, values
   * out of range. Parsed once, shared by every load. */
  if (root == nullptr || !JSON_NODE_HOLDS_OBJECT(root))
    throw ProfileError(origin + ": expected an object");
  static const JsonSchema schema = JsonSchema::from_resource("/dev/reelforge/platform.schema.json");
  if (const auto errors = schema.validate(root); !errors.empty())
    throw ProfileError(format_schema_errors(errors, origin));

  ProfileReader reader(origin);
  JsonObject *top = json_node_get_object(root);

  PlatformProfile profile;
  profile.name = reader.string(top, "name", "").value_or("");
  if (profile.name.empty()) reader.fail("/name", "missing: the profile needs a name");
  profile.title = reader.string(top, "title", "").value_or(profile.name);

  if (JsonObject *canvas = reader.object(top, "canvas", "")) {
    profile.canvas_width =
        static_cast<int>(reader.number(canvas, "width", "/canvas").value_or(profile.canvas_width));
    profile.canvas_height = static_cast<int>(
        reader.number(canvas, "height", "/canvas").value_or(profile.canvas_height));
    profile.canvas_fps = reader.number(canvas, "fps", "/canvas").value_or(profile.canvas_fps);
  }
  if (JsonObject *loudness = reader.object(top, "loudness", "")) {
    profile.target_lufs =
        reader.number(loudness, "target_lufs", "/loudness").value_or(profile.target_lufs);
    profile.target_true_peak_dbtp = reader.number(loudness, "true_peak_dbtp", "/loudness")
                                        .value_or(profile.target_true_peak_dbtp);
  }
  if (JsonObject *zone = reader.object(top, "safe_zone", "")) {
    auto margin = [&](const char *name) {
      return static_cast<int>(reader.number(zone, name, "/safe_zone").value_or(0));
    };
    profile.safe_zone = {margin("top"), margin("bottom"), margin("left"), margin("right")};
  }
  if (JsonObject *detection = reader.object(top, "detection", "")) {
    auto seconds = [&](const char *name, double fallback) {
      const double value = reader.number(detection, name, "/detection").value_or(fallback);
      if (value <= 0) reader.fail(std::string("/detection/") + name, "must be above 0 s");
      return value;
    };
    profile.black_min_s = seconds("black_min_s", profile.black_min_s);
    profile.freeze_min_s = seconds("freeze_min_s", profile.freeze_min_s);
    profile.silence_min_s = seconds("silence_min_s", profile.silence_min_s);
  }

  JsonObject *levels = reader.object(top, "levels", "");
  if (levels == nullptr || json_object_get_size(levels) == 0)
    reader.fail("/levels", "missing: a profile needs at least one level of limits");
  GList *names = json_object_get_members(levels);
  for (GList *l = names; l != nullptr; l = l->next) {
    const auto *name = static_cast<const char *>(l->data);
    const std::string at = std::string("/levels/") + name;
    JsonObject *level_object = reader.object(levels, name, "/levels");
    Level level;
    level.name = name;
    const auto severity = reader.string(level_object, "severity", at);
    if (!severity || (*severity != "fail" && *severity != "warn"))
      reader.fail(at + "/severity", "must be \"fail\" or \"warn\"");
    level.severity = *severity == "fail" ? Severity::kFail : Severity::kWarn;
    level.source = reader.string(level_object, "source", at).value_or("");
    JsonObject *limits = reader.object(level_object, "limits", at);
    if (limits == nullptr) reader.fail(at + "/limits", "missing");
    level.limits = read_limits(reader, limits, at + "/limits");
    profile.levels.push_back(std::move(level));
  }
  g_list_free(names);
  return profile;
}

std::vector<std::string> available_profile_names() {
  std::set<std::string> names;
  for (const auto &dir : search_dirs()) {
    std::error_code error;
    for (const auto &entry : std::filesystem::directory_iterator(dir, error))
      if (entry.path().extension() == ".json") names.insert(entry.path().stem().string());
  }
  gchar **children =
      g_resources_enumerate_children(kResourceDir, G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr);
  for (gchar **child = children; child && *child; ++child) {
    std::string file = *child;
    if (file.ends_with(".json")) names.insert(file.substr(0, file.size() - 5));
  }
  g_strfreev(children);
  return {names.begin(), names.end()};
}

PlatformProfile load_platform_profile(const std::string &name_or_path) {
  if (name_or_path.empty())
    throw ProfileError("no platform profile given; use one of " + join(available_profile_names()) +
                       " or a path to a profile file");
  if (looks_like_path(name_or_path)) {
    JsonNodePtr root = load_file(name_or_path);
    return parse_platform_profile(root.get(), name_or_path);
  }
  for (const auto &dir : search_dirs()) {
    const auto candidate = dir / (name_or_path + ".json");
    if (std::filesystem::exists(candidate)) {
      JsonNodePtr root = load_file(candidate.string());
      return parse_platform_profile(root.get(), candidate.string());
    }
  }
  if (auto profile = load_resource(name_or_path)) return std::move(*profile);
  throw ProfileError("unknown platform profile \"" + name_or_path + "\"; use one of " +
                     join(available_profile_names()) + " or a path to a profile file");
}

}  // namespace reelforge::qc
