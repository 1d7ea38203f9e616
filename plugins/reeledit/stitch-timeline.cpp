/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "stitch-timeline.h"

#include "json-file.h"
#include "time-convert.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace reelforge::stitch {
namespace {

[[noreturn]] void fail(std::size_t index, const std::string &what) {
  throw std::runtime_error("clips[" + std::to_string(index) + "]: " + what);
}

/* A member's string, "" when absent; anything else fails the clip. */
std::string checked_string(JsonObject *object, const char *name, std::size_t index) {
  if (!json_object_has_member(object, name)) return {};
  const std::optional<std::string> text = string_member(object, name);
  if (!text) fail(index, std::string("\"") + name + "\" must be a string");
  return *text;
}

std::optional<double> number_member(JsonObject *object, const char *name, std::size_t index) {
  JsonNode *node = json_object_get_member(object, name);
  if (node == nullptr) return std::nullopt;
  const GType type = JSON_NODE_HOLDS_VALUE(node) ? json_node_get_value_type(node) : G_TYPE_NONE;
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    fail(index, std::string("\"") + name + "\" must be a number of seconds");
  const double value = json_node_get_double(node);
  if (!std::isfinite(value) || value < 0)
    fail(index, std::string("\"") + name + "\" must be a non-negative number of seconds");
  return value;
}

guint32 parse_colour(const std::string &text, std::size_t index, const char *field) {
  if (text.size() == 7 && text[0] == '#' &&
      std::all_of(text.begin() + 1, text.end(), [](char c) { return g_ascii_isxdigit(c); }))
    return static_cast<guint32>(std::stoul(text.substr(1), nullptr, 16));
  fail(index, std::string("\"") + field + "\" must be a colour \"#RRGGBB\", not \"" + text + "\"");
}

template <typename Enum, std::size_t N>
Enum pick(const std::string &name, const edit::NameTable<Enum, N> &choices, std::size_t index,
          const char *field) {
  if (const std::optional<Enum> value = edit::find_value(choices, name)) return *value;
  std::string known;
  for (const auto &[text, value] : choices)
    known += (known.empty() ? "" : ", ") + std::string(text);
  fail(index, std::string("\"") + field + "\" \"" + name + "\" is not one of " + known);
}

Card parse_card(JsonNode *node, std::size_t index) {
  if (!JSON_NODE_HOLDS_OBJECT(node)) fail(index, "\"card\" must be an object");
  JsonObject *object = json_node_get_object(node);
  Card card;
  card.text = checked_string(object, "text", index);
  card.font = checked_string(object, "font", index);
  if (json_object_has_member(object, "color"))
    card.color = parse_colour(checked_string(object, "color", index), index, "card.color");
  JsonNode *background = json_object_get_member(object, "background");
  if (background == nullptr) return card;
  if (JSON_NODE_HOLDS_VALUE(background)) {
    card.background_top = card.background_bottom =
        parse_colour(checked_string(object, "background", index), index, "card.background");
    return card;
  }
  JsonArray *gradient = nullptr;
  if (JSON_NODE_HOLDS_OBJECT(background)) {
    JsonNode *g = json_object_get_member(json_node_get_object(background), "gradient");
    if (g != nullptr && JSON_NODE_HOLDS_ARRAY(g)) gradient = json_node_get_array(g);
  }
  if (gradient == nullptr || json_array_get_length(gradient) != 2)
    fail(index,
         "\"card.background\" must be \"#RRGGBB\" or {\"gradient\": [\"#RRGGBB\", \"#RRGGBB\"]}");
  for (guint i = 0; i < 2; ++i) {
    JsonNode *stop = json_array_get_element(gradient, i);
    if (!JSON_NODE_HOLDS_VALUE(stop) || json_node_get_value_type(stop) != G_TYPE_STRING)
      fail(index, "\"card.background.gradient\" holds two \"#RRGGBB\" strings");
    const guint32 colour = parse_colour(json_node_get_string(stop), index, "card.background");
    (i == 0 ? card.background_top : card.background_bottom) = colour;
  }
  return card;
}

ClipSpec parse_clip(JsonNode *node, std::size_t index) {
  if (!JSON_NODE_HOLDS_OBJECT(node)) fail(index, "a clip must be an object");
  JsonObject *object = json_node_get_object(node);
  ClipSpec clip;
  clip.index = index;
  const int sources = json_object_has_member(object, "uri") +
                      json_object_has_member(object, "image") +
                      json_object_has_member(object, "card");
  if (sources != 1) fail(index, "a clip has exactly one of \"uri\", \"image\" or \"card\"");
  if (json_object_has_member(object, "uri")) {
    clip.kind = SourceKind::kUri;
    clip.uri = checked_string(object, "uri", index);
    if (!gst_uri_is_valid(clip.uri.c_str()))
      fail(index, "\"uri\" \"" + clip.uri + "\" is not a URI (file:///..., https://...)");
  } else if (json_object_has_member(object, "image")) {
    clip.kind = SourceKind::kImage;
    clip.image_path = checked_string(object, "image", index);
    if (clip.image_path.empty()) fail(index, "\"image\" must name a file");
  } else {
    clip.kind = SourceKind::kCard;
    clip.card = parse_card(json_object_get_member(object, "card"), index);
  }

  const std::string motion = checked_string(object, "motion", index);
  if (!motion.empty()) {
    if (clip.kind != SourceKind::kImage) fail(index, "\"motion\" applies to \"image\" clips only");
    clip.motion = pick(motion, edit::kMotions, index, "motion");
  }
  const std::string fit = checked_string(object, "fit", index);
  if (!fit.empty()) clip.fit = pick(fit, edit::kFits, index, "fit");

  clip.in_s = number_member(object, "in", index).value_or(0);
  clip.out_s = number_member(object, "out", index);
  clip.duration_s = number_member(object, "duration", index);
  if (clip.kind != SourceKind::kUri && !clip.duration_s)
    fail(index, std::string("\"duration\" is required for ") +
                    (clip.kind == SourceKind::kImage ? "an image" : "a card"));
  if (clip.out_s && *clip.out_s <= clip.in_s)
    fail(index, "\"out\" must be later than \"in\" (a zero-length clip)");

  if (JsonNode *transition = json_object_get_member(object, "transition")) {
    if (!JSON_NODE_HOLDS_OBJECT(transition))
      fail(index, "\"transition\" must be {\"type\": ..., \"duration\": seconds}");
    JsonObject *t = json_node_get_object(transition);
    const std::string type = checked_string(t, "type", index);
    clip.transition =
        pick(type.empty() ? "cut" : type, edit::kTransitionTypes, index, "transition.type");
    clip.transition_s = number_member(t, "duration", index).value_or(0);
    if (clip.transition != TransitionType::kCut && clip.transition_s <= 0)
      fail(index, "a \"" + type + "\" transition needs a \"duration\" in seconds");
    if (clip.transition == TransitionType::kCut) clip.transition_s = 0;
  }
  return clip;
}

}  // namespace

std::string ClipSpec::describe() const {
  std::string what = "clips[" + std::to_string(index) + "]";
  switch (kind) {
    case SourceKind::kUri:
      return what + " (" + uri + ")";
    case SourceKind::kImage:
      return what + " (image " + image_path + ")";
    case SourceKind::kCard:
      return what + " (card \"" + card.text + "\")";
  }
  return what;
}

std::vector<ClipSpec> parse_clips(std::string_view json) {
  JsonNodePtr root = parse_json(json, "clips");
  if (!JSON_NODE_HOLDS_ARRAY(root.get()))
    throw std::runtime_error("clips: must be a JSON array of clip objects");
  JsonArray *array = json_node_get_array(root.get());
  std::vector<ClipSpec> clips;
  for (guint i = 0; i < json_array_get_length(array); ++i)
    clips.push_back(parse_clip(json_array_get_element(array, i), i));
  return clips;
}

GstClockTime Timeline::frame_time(guint64 frame) const {
  return frame_to_time(frame, fps_n, fps_d);
}

bool durations_known(const std::vector<ClipSpec> &clips) {
  return std::all_of(clips.begin(), clips.end(),
                     [](const ClipSpec &c) { return c.duration_s || c.out_s; });
}

Timeline plan_timeline(std::vector<ClipSpec> clips, gint fps_n, gint fps_d,
                       const std::function<MediaInfo(const ClipSpec &)> &probe) {
  Timeline timeline;
  timeline.fps_n = fps_n;
  timeline.fps_d = fps_d;
  const auto to_frames = [&](double seconds) {
    return time_to_frame(from_seconds(seconds), fps_n, fps_d);
  };
  for (auto &spec : clips) {
    PlannedClip clip;
    if (spec.kind == SourceKind::kUri) {
      clip.media = probe(spec);
    } else {
      clip.media.has_video = true;
      clip.media.has_audio = false;
    }
    double seconds = 0;
    if (spec.duration_s) {
      seconds = *spec.duration_s;
    } else if (spec.out_s) {
      seconds = *spec.out_s - spec.in_s;
    } else if (GST_CLOCK_TIME_IS_VALID(clip.media.duration)) {
      seconds = to_seconds(clip.media.duration) - spec.in_s;
    } else {
      fail(spec.index, spec.describe() + ": its length is unknown; give \"duration\" or \"out\"");
    }
    clip.frames = seconds > 0 ? to_frames(seconds) : 0;
    if (clip.frames == 0)
      throw std::runtime_error(spec.describe() + ": zero-length clip (" + std::to_string(seconds) +
                               " s is less than one frame)");
    clip.spec = std::move(spec);
    timeline.clips.push_back(std::move(clip));
  }
  if (timeline.clips.empty()) throw std::runtime_error("clips: the list of clips is empty");

  guint64 start = 0;
  for (std::size_t i = 0; i < timeline.clips.size(); ++i) {
    PlannedClip &clip = timeline.clips[i];
    clip.start_frame = start;
    if (i + 1 < timeline.clips.size()) {
      PlannedClip &next = timeline.clips[i + 1];
      const guint64 overlap = to_frames(clip.spec.transition_s);
      if (overlap > clip.frames || overlap > next.frames)
        throw std::runtime_error(
            clip.spec.describe() + ": the " + std::string(edit::name_of(clip.spec.transition)) +
            " transition (" + std::to_string(clip.spec.transition_s) +
            " s) is longer than the clips it joins (" + next.spec.describe() + ")");
      clip.overlap_out = next.overlap_in = overlap;
      if (clip.overlap_in + clip.overlap_out > clip.frames)
        throw std::runtime_error(clip.spec.describe() +
                                 ": its transitions in and out overlap; the clip is too short");
      start += clip.frames - overlap;
    } else {
      start += clip.frames;
    }
  }
  timeline.total_frames = start;
  return timeline;
}

}  // namespace reelforge::stitch
