/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "caption-cues.h"

#include "json-file.h"
#include "time-convert.h"

#include <json-glib/json-glib.h>
#include <pango/pango.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <optional>

namespace reelforge::captions {

namespace {

/* A JSON value as the user wrote it, for error messages. */
std::string show(JsonNode *node) {
  std::string text = to_json_string(node, false);
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return text;
}

[[noreturn]] void fail(const std::string &pointer, const std::string &what) {
  throw CueError(pointer + ": " + what);
}

bool is_number(JsonNode *node) {
  if (!JSON_NODE_HOLDS_VALUE(node)) return false;
  const GType type = json_node_get_value_type(node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

/* Reads the members of one JSON object, each error naming its pointer. */
class ObjectReader {
 public:
  ObjectReader(JsonNode *node, std::string pointer) : pointer_(std::move(pointer)) {
    if (!JSON_NODE_HOLDS_OBJECT(node)) fail(pointer_, show(node) + " is not an object");
    object_ = json_node_get_object(node);
  }

  const std::string &pointer() const { return pointer_; }
  std::string member_pointer(const char *key) const { return pointer_ + "/" + key; }
  bool has(const char *key) const { return json_object_has_member(object_, key); }
  JsonNode *node(const char *key) const { return json_object_get_member(object_, key); }

  /* Every member must be one of known: a typo is an error, not a silent default. */
  void only(std::initializer_list<const char *> known) const {
    GList *members = json_object_get_members(object_);
    std::string unknown;
    for (GList *l = members; l != nullptr; l = l->next) {
      const auto *name = static_cast<const char *>(l->data);
      if (std::none_of(known.begin(), known.end(),
                       [&](const char *k) { return g_strcmp0(k, name) == 0; })) {
        unknown = name;
        break;
      }
    }
    g_list_free(members);
    if (!unknown.empty()) {
      std::string list;
      for (const char *k : known) list += std::string(list.empty() ? "" : ", ") + k;
      fail(pointer_ + "/" + unknown, "unknown member (known: " + list + ")");
    }
  }

  std::optional<double> number(const char *key, double min, double max) const {
    if (!has(key)) return std::nullopt;
    JsonNode *n = node(key);
    if (!is_number(n)) fail(member_pointer(key), show(n) + " is not a number");
    const double value = json_node_get_double(n);
    if (!std::isfinite(value) || value < min || value > max) {
      fail(member_pointer(key),
           show(n) + " is out of range [" + format_number(min) + ", " + format_number(max) + "]");
    }
    return value;
  }

  double required_number(const char *key, double min, double max) const {
    if (!has(key)) fail(pointer_, std::string("missing required member \"") + key + "\"");
    return *number(key, min, max);
  }

  std::optional<std::string> string(const char *key) const {
    if (!has(key)) return std::nullopt;
    JsonNode *n = node(key);
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_STRING)
      fail(member_pointer(key), show(n) + " is not a string");
    return std::string(json_node_get_string(n));
  }

  std::optional<bool> boolean(const char *key) const {
    if (!has(key)) return std::nullopt;
    JsonNode *n = node(key);
    if (!JSON_NODE_HOLDS_VALUE(n) || json_node_get_value_type(n) != G_TYPE_BOOLEAN)
      fail(member_pointer(key), show(n) + " is not true or false");
    return json_node_get_boolean(n) != FALSE;
  }

 private:
  static std::string format_number(double v) {
    char buffer[G_ASCII_DTOSTR_BUF_SIZE];
    return g_ascii_formatd(buffer, sizeof buffer, "%g", v);
  }

  JsonObject *object_ = nullptr;
  std::string pointer_;
};

int hex_digit(char c) {
  return g_ascii_isxdigit(c) ? g_ascii_xdigit_value(c) : -1;
}

std::optional<Colour> read_colour(const ObjectReader &reader, const char *key) {
  const auto text = reader.string(key);
  if (!text) return std::nullopt;
  const std::string &s = *text;
  const bool shape_ok =
      (s.size() == 7 || s.size() == 9) && s[0] == '#' &&
      std::all_of(s.begin() + 1, s.end(), [](char c) { return hex_digit(c) >= 0; });
  if (!shape_ok) {
    fail(reader.member_pointer(key),
         "\"" + s + "\" is not a colour like #RRGGBB or #RRGGBBAA (hexadecimal)");
  }
  auto byte = [&](std::size_t i) { return (hex_digit(s[i]) * 16 + hex_digit(s[i + 1])) / 255.0; };
  return Colour{byte(1), byte(3), byte(5), s.size() == 9 ? byte(7) : 1.0};
}

Anchor read_anchor(const ObjectReader &reader, const char *key, Anchor anchor) {
  const auto text = reader.string(key);
  if (!text) return anchor;
  const std::string &s = *text;
  std::string vertical = s, horizontal = "center";
  if (const auto dash = s.find('-'); dash != std::string::npos) {
    vertical = s.substr(0, dash);
    horizontal = s.substr(dash + 1);
  } else if (s == "left" || s == "right") {
    vertical = "center";
    horizontal = s;
  }
  bool ok = true;
  if (vertical == "top") {
    anchor.vertical = VAnchor::kTop;
  } else if (vertical == "center") {
    anchor.vertical = VAnchor::kCenter;
  } else if (vertical == "bottom") {
    anchor.vertical = VAnchor::kBottom;
  } else {
    ok = false;
  }
  if (horizontal == "left") {
    anchor.horizontal = HAnchor::kLeft;
  } else if (horizontal == "center") {
    anchor.horizontal = HAnchor::kCenter;
  } else if (horizontal == "right") {
    anchor.horizontal = HAnchor::kRight;
  } else {
    ok = false;
  }
  if (!ok) {
    fail(reader.member_pointer(key),
         "\"" + s + "\" is not an anchor: top, center or bottom, then -left, -center or -right " +
             "(e.g. \"bottom-center\")");
  }
  return anchor;
}

Animation read_animation(const ObjectReader &reader, const char *key) {
  const auto text = reader.string(key);
  if (!text || *text == "none") return Animation::kNone;
  if (*text == "fade") return Animation::kFade;
  if (*text == "pop") return Animation::kPop;
  if (*text == "slide-up") return Animation::kSlideUp;
  if (*text == "slide-down") return Animation::kSlideDown;
  if (*text == "typewriter") return Animation::kTypewriter;
  fail(reader.member_pointer(key),
       "\"" + *text + "\" is not one of none, fade, pop, slide-up, slide-down, typewriter");
}

constexpr double kMaxPixels = 16384;

void read_style(JsonNode *node, const std::string &pointer, TextStyle &style) {
  const ObjectReader r(node, pointer);
  r.only({"font", "size", "min_size", "color", "highlight_color", "stroke", "shadow", "box",
          "anchor", "x", "y", "max_width", "align"});
  if (auto v = r.string("font")) style.font = *v;
  if (auto v = r.number("size", 1, 2048)) style.size = *v;
  if (auto v = r.number("min_size", 1, 2048)) style.min_size = *v;
  if (style.min_size > style.size) {
    fail(r.member_pointer("min_size"),
         "is larger than size (" + std::to_string(static_cast<int>(style.size)) + ")");
  }
  if (auto v = read_colour(r, "color")) style.colour = *v;
  if (auto v = read_colour(r, "highlight_color")) style.highlight_colour = *v;
  if (r.has("stroke")) {
    const ObjectReader s(r.node("stroke"), r.member_pointer("stroke"));
    s.only({"color", "width"});
    if (auto v = read_colour(s, "color")) style.stroke.colour = *v;
    style.stroke.width = s.number("width", 0, 256).value_or(2);
  }
  if (r.has("shadow")) {
    const ObjectReader s(r.node("shadow"), r.member_pointer("shadow"));
    s.only({"color", "dx", "dy", "blur"});
    style.shadow.enabled = true;
    if (auto v = read_colour(s, "color")) style.shadow.colour = *v;
    if (auto v = s.number("dx", -256, 256)) style.shadow.dx = *v;
    if (auto v = s.number("dy", -256, 256)) style.shadow.dy = *v;
    if (auto v = s.number("blur", 0, 64)) style.shadow.blur = *v;
  }
  if (r.has("box")) {
    const ObjectReader s(r.node("box"), r.member_pointer("box"));
    s.only({"color", "padding", "radius"});
    style.box.enabled = true;
    if (auto v = read_colour(s, "color")) style.box.colour = *v;
    if (auto v = s.number("padding", 0, 1024)) style.box.padding = *v;
    if (auto v = s.number("radius", 0, 1024)) style.box.radius = *v;
  }
  style.anchor = read_anchor(r, "anchor", style.anchor);
  if (auto v = r.number("x", -kMaxPixels, kMaxPixels)) style.x = *v;
  if (auto v = r.number("y", -kMaxPixels, kMaxPixels)) style.y = *v;
  if (auto v = r.number("max_width", 0.05, 1.0)) style.max_width = *v;
  if (auto v = r.string("align")) {
    if (*v == "left") {
      style.align = TextAlign::kLeft;
    } else if (*v == "center") {
      style.align = TextAlign::kCenter;
    } else if (*v == "right") {
      style.align = TextAlign::kRight;
    } else {
      fail(r.member_pointer("align"), "\"" + *v + "\" is not one of left, center, right");
    }
  }
}

constexpr double kMaxSeconds = 1e6;

void read_words(const ObjectReader &r, Cue &cue) {
  JsonNode *node = r.node("words");
  const std::string pointer = r.member_pointer("words");
  if (!JSON_NODE_HOLDS_ARRAY(node)) fail(pointer, show(node) + " is not an array");
  JsonArray *array = json_node_get_array(node);
  std::size_t search_from = 0;
  for (guint i = 0; i < json_array_get_length(array); ++i) {
    const ObjectReader w(json_array_get_element(array, i), pointer + "/" + std::to_string(i));
    w.only({"start", "end", "text"});
    Word word;
    const double start = w.required_number("start", 0, kMaxSeconds);
    const double end = w.required_number("end", 0, kMaxSeconds);
    if (end <= start) fail(w.member_pointer("end"), "must be later than start");
    word.start = from_seconds(start);
    word.end = from_seconds(end);
    const auto text = w.string("text");
    if (!text || text->empty()) fail(w.pointer(), "missing required member \"text\"");
    word.text = *text;
    /* Words come in reading order: each is found after the previous one. */
    const std::size_t at = cue.text.find(word.text, search_from);
    if (at == std::string::npos) {
      fail(w.member_pointer("text"),
           "\"" + word.text + "\" is not in the cue's text after the previous word");
    }
    word.byte_start = at;
    word.byte_end = at + word.text.size();
    search_from = word.byte_end;
    cue.words.push_back(std::move(word));
  }
}

Cue read_cue(JsonNode *node, const std::string &pointer) {
  const ObjectReader r(node, pointer);
  Cue cue;
  cue.pointer = pointer;
  const double start = r.required_number("start", 0, kMaxSeconds);
  const double end = r.required_number("end", 0, kMaxSeconds);
  if (end <= start) fail(r.member_pointer("end"), "must be later than start");
  cue.start = from_seconds(start);
  cue.end = from_seconds(end);
  cue.ignore_safe_zone = r.boolean("ignore_safe_zone").value_or(false);

  if (r.has("text") == r.has("image"))
    fail(pointer, "needs exactly one of \"text\" (a caption) or \"image\" (a PNG path)");

  if (r.has("image")) {
    r.only({"start", "end", "image", "anchor", "x", "y", "scale", "opacity", "ignore_safe_zone"});
    cue.is_image = true;
    cue.image_path = *r.string("image");
    if (cue.image_path.empty()) fail(r.member_pointer("image"), "is empty, expected a PNG path");
    cue.style.anchor = read_anchor(r, "anchor", Anchor{VAnchor::kTop, HAnchor::kRight});
    cue.style.x = r.number("x", -kMaxPixels, kMaxPixels).value_or(0);
    cue.style.y = r.number("y", -kMaxPixels, kMaxPixels).value_or(0);
    cue.scale = r.number("scale", 0.01, 100).value_or(1);
    cue.opacity = r.number("opacity", 0, 1).value_or(1);
    return cue;
  }

  r.only({"start", "end", "text", "markup", "style", "words", "animation", "ignore_safe_zone"});
  cue.text = *r.string("text");
  if (cue.text.empty()) fail(r.member_pointer("text"), "is empty");
  if (!g_utf8_validate(cue.text.data(), static_cast<gssize>(cue.text.size()), nullptr))
    fail(r.member_pointer("text"), "is not valid UTF-8");
  cue.markup = r.boolean("markup").value_or(false);
  if (cue.markup) {
    GError *raw_error = nullptr;
    if (!pango_parse_markup(cue.text.c_str(), -1, 0, nullptr, nullptr, nullptr, &raw_error)) {
      GErrorPtr error(raw_error);
      fail(r.member_pointer("text"), std::string("is not valid Pango markup (") +
                                         (error ? error->message : "unknown error") + ")");
    }
    /* Word offsets are into the text as written, which markup would shift. */
    if (r.has("words")) fail(r.member_pointer("words"), "cannot be used with \"markup\": true");
  }
  if (r.has("style")) read_style(r.node("style"), r.member_pointer("style"), cue.style);
  if (r.has("words")) read_words(r, cue);
  if (r.has("animation")) {
    const ObjectReader a(r.node("animation"), r.member_pointer("animation"));
    a.only({"in", "out", "duration"});
    cue.animation_in = read_animation(a, "in");
    cue.animation_out = read_animation(a, "out");
    if (auto v = a.number("duration", 0.001, 60)) cue.animation_duration = from_seconds(*v);
  }
  return cue;
}

double ease_out(double p) {
  p = std::clamp(p, 0.0, 1.0);
  return 1 - (1 - p) * (1 - p);
}

void apply(Animation animation, double p, AnimationState &state) {
  const double e = ease_out(p);
  switch (animation) {
    case Animation::kNone:
      break;
    case Animation::kFade:
      state.alpha *= std::clamp(p, 0.0, 1.0);
      break;
    case Animation::kPop:
      state.scale *= 0.5 + 0.5 * e;
      state.alpha *= std::clamp(p * 2, 0.0, 1.0);
      break;
    case Animation::kSlideUp:
      state.rise = std::max(state.rise, 1 - e);
      state.alpha *= std::clamp(p, 0.0, 1.0);
      break;
    case Animation::kSlideDown:
      state.rise = std::min(state.rise, e - 1);
      state.alpha *= std::clamp(p, 0.0, 1.0);
      break;
    case Animation::kTypewriter:
      state.reveal = std::min(state.reveal, std::clamp(p, 0.0, 1.0));
      break;
  }
}

}  // namespace

std::vector<Cue> parse_cues(std::string_view json) {
  std::vector<Cue> cues;
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return cues;
  JsonNodePtr root;
  try {
    root = parse_json(json, "cues");
  } catch (const std::runtime_error &e) {
    throw CueError(e.what());
  }
  if (!JSON_NODE_HOLDS_ARRAY(root.get()))
    fail("cues", show(root.get()) + " is not an array of cues");
  JsonArray *array = json_node_get_array(root.get());
  for (guint i = 0; i < json_array_get_length(array); ++i)
    cues.push_back(read_cue(json_array_get_element(array, i), "cues/" + std::to_string(i)));
  return cues;
}

TextStyle parse_text_style(std::string_view json, const std::string &origin) {
  TextStyle style;
  if (json.find_first_not_of(" \t\r\n") == std::string_view::npos) return style;
  JsonNodePtr root;
  try {
    root = parse_json(json, origin);
  } catch (const std::runtime_error &e) {
    throw CueError(e.what());
  }
  read_style(root.get(), origin, style);
  return style;
}

AnimationState animation_at(const Cue &cue, GstClockTime t) {
  AnimationState state;
  if (cue.animation_duration == 0) return state;
  const double d = static_cast<double>(cue.animation_duration);
  if (cue.animation_in != Animation::kNone && t < cue.start + cue.animation_duration)
    apply(cue.animation_in, static_cast<double>(t - cue.start) / d, state);
  if (cue.animation_out != Animation::kNone && t + cue.animation_duration > cue.end)
    apply(cue.animation_out, static_cast<double>(cue.end - t) / d, state);
  return state;
}

int word_at(const Cue &cue, GstClockTime t) {
  for (std::size_t i = 0; i < cue.words.size(); ++i)
    if (t >= cue.words[i].start && t < cue.words[i].end) return static_cast<int>(i);
  return -1;
}

}  // namespace reelforge::captions
