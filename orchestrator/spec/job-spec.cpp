/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Checking runs per variant: each variant's document (templates
 * substituted) goes through the schema, then through SpecReader, which
 * builds the values and reports what the schema cannot see. The reader is
 * lenient, taking a value of the wrong type as absent, so the semantic
 * checks still run where the schema already complained; complaints at a
 * place the schema already named are dropped. Errors from all variants are
 * merged, sorted in document order, and those not shared by every variant
 * say which variants have them.
 */
#include "spec/job-spec.h"
#include "spec/generate-source.h"

#include "json-file.h"
#include "platform-profile.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <map>
#include <string_view>
#include <utility>

namespace reelforge::spec {

namespace {

using Errors = std::vector<SchemaError>;

constexpr const char *kSchemaResource = "/dev/reelforge/job.schema.json";

/* ---- Reading json-glib leniently: a member of the wrong type is absent ---- */

JsonNode *member_node(JsonObject *object, const char *name) {
  return object != nullptr ? json_object_get_member(object, name) : nullptr;
}

bool is_string(JsonNode *node) {
  return node != nullptr && JSON_NODE_HOLDS_VALUE(node) &&
         json_node_get_value_type(node) == G_TYPE_STRING;
}

bool is_number(JsonNode *node) {
  if (node == nullptr || !JSON_NODE_HOLDS_VALUE(node)) return false;
  const GType type = json_node_get_value_type(node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

double number_of(JsonNode *node) {
  if (json_node_get_value_type(node) == G_TYPE_INT64)
    return static_cast<double>(json_node_get_int(node));
  return json_node_get_double(node);
}

JsonObject *object_member(JsonObject *object, const char *name) {
  JsonNode *node = member_node(object, name);
  return node != nullptr && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : nullptr;
}

JsonArray *array_member(JsonObject *object, const char *name) {
  JsonNode *node = member_node(object, name);
  return node != nullptr && JSON_NODE_HOLDS_ARRAY(node) ? json_node_get_array(node) : nullptr;
}

std::optional<double> number_member(JsonObject *object, const char *name) {
  JsonNode *node = member_node(object, name);
  if (!is_number(node)) return std::nullopt;
  return number_of(node);
}

std::optional<bool> bool_member(JsonObject *object, const char *name) {
  JsonNode *node = member_node(object, name);
  if (node == nullptr || !JSON_NODE_HOLDS_VALUE(node) ||
      json_node_get_value_type(node) != G_TYPE_BOOLEAN)
    return std::nullopt;
  return json_node_get_boolean(node) != FALSE;
}

std::vector<JsonNode *> elements(JsonArray *array) {
  std::vector<JsonNode *> nodes;
  if (array == nullptr) return nodes;
  for (guint i = 0; i < json_array_get_length(array); ++i)
    nodes.push_back(json_array_get_element(array, i));
  return nodes;
}

std::vector<std::pair<std::string, JsonNode *>> members(JsonObject *object) {
  std::vector<std::pair<std::string, JsonNode *>> result;
  if (object == nullptr) return result;
  /* json_object_get_members() keeps document order; the iterator does not. */
  GList *names = json_object_get_members(object);
  for (GList *l = names; l != nullptr; l = l->next) {
    const char *name = static_cast<const char *>(l->data);
    result.emplace_back(name, json_object_get_member(object, name));
  }
  g_list_free(names);
  return result;
}

/* ---- Pointers and sentences ---- */

std::string child(const std::string &pointer, const std::string &token) {
  return pointer + "/" + escape_pointer_token(token);
}

std::string child(const std::string &pointer, size_t index) {
  return pointer + "/" + std::to_string(index);
}

bool is_within(const std::string &pointer, const std::string &base) {
  return pointer == base || (pointer.starts_with(base) && pointer[base.size()] == '/');
}

std::string json_quoted(const std::string &text) {
  JsonNodePtr node(json_node_init_string(json_node_alloc(), text.c_str()));
  return to_json_string(node.get(), false);
}

std::string seconds(double value) {
  char buffer[32];
  g_ascii_formatd(buffer, sizeof buffer, "%.3g", value);
  return std::string(buffer) + " s";
}

std::string join(const std::vector<std::string> &items, const std::string &separator) {
  std::string joined;
  for (size_t i = 0; i < items.size(); ++i) joined += (i > 0 ? separator : "") + items[i];
  return joined;
}

/* ---- Enumerations: the schema's words and the C++ values ---- */

template <typename Enum, size_t N>
using Names = edit::NameTable<Enum, N>;

constexpr Names<Anchor, 9> kAnchors{{{"top-left", Anchor::kTopLeft},
                                     {"top", Anchor::kTop},
                                     {"top-right", Anchor::kTopRight},
                                     {"left", Anchor::kLeft},
                                     {"center", Anchor::kCenter},
                                     {"right", Anchor::kRight},
                                     {"bottom-left", Anchor::kBottomLeft},
                                     {"bottom", Anchor::kBottom},
                                     {"bottom-right", Anchor::kBottomRight}}};
constexpr Names<TextAnimation, 6> kAnimations{{{"none", TextAnimation::kNone},
                                               {"fade", TextAnimation::kFade},
                                               {"pop", TextAnimation::kPop},
                                               {"slide-up", TextAnimation::kSlideUp},
                                               {"slide-down", TextAnimation::kSlideDown},
                                               {"typewriter", TextAnimation::kTypewriter}}};

constexpr Names<CaptionStyle, 3> kCaptionStyles{{{"word-highlight", CaptionStyle::kWordHighlight},
                                                 {"phrase", CaptionStyle::kPhrase},
                                                 {"karaoke", CaptionStyle::kKaraoke}}};

/* The member's value when it is one of names, else fallback (the schema
 * reports a bad word). */
template <typename Enum, size_t N>
Enum enum_member(JsonObject *object, const char *name, const Names<Enum, N> &names, Enum fallback) {
  const std::optional<std::string> text = string_member(object, name);
  if (!text) return fallback;
  return edit::find_value(names, *text).value_or(fallback);
}

/* ---- Building the values of one variant, checking as it goes ---- */

class SpecReader {
 public:
  SpecReader(std::filesystem::path base_dir, Errors *errors)
      : base_dir_(std::move(base_dir)), errors_(errors) {}

  JobSpec read(JsonObject *root) {
    JobSpec spec;
    spec.name = string_member(root, "name").value_or("");
    for (JsonNode *platform : elements(array_member(root, "platforms")))
      if (is_string(platform)) spec.platforms.emplace_back(json_node_get_string(platform));
    spec.transition = read_transition(object_member(root, "transition"), Transition{});
    read_scenes(array_member(root, "scenes"), spec.transition, &spec.scenes);
    spec.audio = read_audio(object_member(root, "audio"), "/audio");
    const std::vector<JsonNode *> overlays = elements(array_member(root, "overlays"));
    for (size_t i = 0; i < overlays.size(); ++i)
      if (JSON_NODE_HOLDS_OBJECT(overlays[i]))
        spec.overlays.push_back(
            read_overlay(json_node_get_object(overlays[i]), child("/overlays", i)));
    read_voiceover_uses(root, &spec);
    spec.output = read_output(object_member(root, "output"), "/output");
    return spec;
  }

 private:
  void error(std::string pointer, std::string message) {
    errors_->push_back({std::move(pointer), std::move(message)});
  }

  /* What a oneOf would say, in words: object has exactly one of names. */
  void check_exactly_one(JsonObject *object, const std::vector<std::string> &names,
                         const std::string &pointer, const std::string &why) {
    std::vector<std::string> present;
    std::vector<std::string> quoted_names;
    for (const std::string &name : names) {
      quoted_names.push_back(json_quoted(name));
      if (member_node(object, name.c_str()) != nullptr) present.push_back(json_quoted(name));
    }
    if (present.size() == 1) return;
    const std::string choices =
        join(std::vector<std::string>(quoted_names.begin(), quoted_names.end() - 1), ", ") +
        " or " + quoted_names.back();
    if (present.empty())
      error(pointer, "needs one of " + choices + ": " + why);
    else
      error(pointer, "has " + join(present, " and ") + "; keep only one: " + why);
  }

  Colour colour_member(JsonObject *object, const char *name, Colour fallback) {
    const std::optional<std::string> text = string_member(object, name);
    if (!text) return fallback;
    return Colour::parse(*text).value_or(fallback);
  }

  /* Resolves a media reference; local files must exist. */
  std::optional<MediaRef> media(JsonObject *object, const char *name, const std::string &pointer) {
    const std::optional<std::string> text = string_member(object, name);
    if (!text || text->empty()) return std::nullopt;
    const std::string at = child(pointer, name);
    const bool is_file_uri = text->starts_with("file://");
    if (!is_file_uri && text->find("://") != std::string::npos) return MediaRef{*text, {}};
    if (!is_file_uri && text->find(':') != std::string::npos) return std::nullopt; /* schema's */

    std::filesystem::path path;
    if (is_file_uri) {
      GError *raw_error = nullptr;
      gchar *raw_host = nullptr;
      GCharPtr filename(g_filename_from_uri(text->c_str(), &raw_host, &raw_error));
      GCharPtr host(raw_host);
      GErrorPtr uri_error(raw_error);
      if (filename && host && std::string_view(host.get()) != "localhost") {
        /* file://media/a.mp4 is /a.mp4 on the machine "media": surely not meant. */
        error(at, json_quoted(*text) + " names the host \"" + host.get() +
                      "\", not a local file; write file:///absolute/path (three slashes), or "
                      "a path relative to the spec's folder");
        return std::nullopt;
      }
      if (!filename) {
        error(at, json_quoted(*text) +
                      " is not a usable file URI; write file:///absolute/path, or a path "
                      "relative to the spec's folder");
        return std::nullopt;
      }
      path = filename.get();
    } else {
      path = std::filesystem::path(*text);
      if (path.is_relative()) path = base_dir_ / path;
    }
    path = path.lexically_normal();

    std::error_code status_error;
    const auto status = std::filesystem::status(path, status_error);
    if (!std::filesystem::exists(status)) {
      error(at, "no file at " + json_quoted(*text) +
                    (is_file_uri || std::filesystem::path(*text).is_absolute()
                         ? std::string()
                         : " (looked for " + path.string() + ")") +
                    "; fix the path (relative paths start at the spec's folder) or add the file");
      return std::nullopt;
    }
    if (!std::filesystem::is_regular_file(status)) {
      error(at, json_quoted(*text) + " is a folder, not a file; name the media file in it");
      return std::nullopt;
    }
    if (!std::ifstream(path, std::ios::binary).is_open()) {
      error(at, "cannot read " + json_quoted(*text) + " (" + path.string() +
                    "); check the file's permissions");
      return std::nullopt;
    }
    GCharPtr uri(g_filename_to_uri(path.c_str(), nullptr, nullptr));
    return MediaRef{uri ? uri.get() : "file://" + path.string(), path};
  }

  Transition read_transition(JsonObject *object, const Transition &fallback) {
    Transition transition = fallback;
    if (object == nullptr) return transition;
    transition.type = enum_member(object, "type", edit::kTransitionTypes, fallback.type);
    /* What a scene's transition leaves out comes from the job's. */
    transition.duration_s = number_member(object, "duration").value_or(fallback.duration_s);
    return transition;
  }

  void read_scenes(JsonArray *array, const Transition &job_transition, std::vector<Scene> *scenes) {
    const std::vector<JsonNode *> nodes = elements(array);
    std::vector<std::string> pointers;
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!JSON_NODE_HOLDS_OBJECT(nodes[i])) continue;
      const std::string pointer = child("/scenes", i);
      JsonObject *object = json_node_get_object(nodes[i]);
      Scene scene = read_scene(object, pointer);
      JsonObject *transition = object_member(object, "transition");
      if (transition != nullptr && scenes->empty()) {
        error(child(pointer, "transition"),
              "the first scene has no scene before it to transition from; remove this "
              "transition (a scene's transition leads into it)");
      }
      scene.transition_overridden = transition != nullptr && !scenes->empty();
      scene.transition = scenes->empty() ? Transition{TransitionType::kCut, 0}
                                         : read_transition(transition, job_transition);
      scenes->push_back(std::move(scene));
      pointers.push_back(pointer);
    }
    check_transitions_fit(*scenes, pointers);
  }

  Scene read_scene(JsonObject *object, const std::string &pointer) {
    Scene scene;
    scene.duration_s = number_member(object, "duration");
    scene.fit = enum_member(object, "fit", edit::kFits, Fit::kCover);

    const std::string source_pointer = child(pointer, "source");
    JsonObject *source = object_member(object, "source");
    if (source != nullptr)
      check_exactly_one(source, {"uri", "image", "card", "generate"}, source_pointer,
                        "a scene shows a video clip (uri), an image, a card or a generated clip");
    std::string still_kind;
    if (member_node(source, "card") != nullptr) {
      JsonObject *card_object = object_member(source, "card");
      CardSource card;
      card.text = string_member(card_object, "text").value_or("");
      card.color = colour_member(card_object, "color", card.color);
      card.font = string_member(card_object, "font").value_or(card.font);
      if (JsonObject *gradient = object_member(card_object, "background")) {
        const std::vector<JsonNode *> stops = elements(array_member(gradient, "gradient"));
        Gradient parsed;
        if (stops.size() == 2 && is_string(stops[0]) && is_string(stops[1])) {
          parsed.top = Colour::parse(json_node_get_string(stops[0])).value_or(Colour{});
          parsed.bottom = Colour::parse(json_node_get_string(stops[1])).value_or(Colour{});
        }
        card.background = parsed;
      } else {
        card.background = colour_member(card_object, "background", Colour{0, 0, 0, 255});
      }
      scene.source = std::move(card);
      still_kind = "a card";
    } else if (member_node(source, "image") != nullptr) {
      ImageSource image;
      image.media = media(source, "image", source_pointer).value_or(MediaRef{});
      image.motion = enum_member(source, "motion", edit::kMotions, Motion::kNone);
      scene.source = std::move(image);
      still_kind = "an image";
    } else if (JsonObject *generate = object_member(source, "generate")) {
      scene.source = read_generate(generate, child(source_pointer, "generate"), &scene);
    } else {
      ClipSource clip;
      clip.media = media(source, "uri", source_pointer).value_or(MediaRef{});
      scene.source = std::move(clip);
    }

    if (!still_kind.empty() && member_node(object, "duration") == nullptr)
      error(child(pointer, "duration"),
            "missing: a scene showing " + still_kind +
                " has no length of its own; give it a \"duration\" in seconds");

    if (JsonObject *trim_object = object_member(object, "trim")) {
      Trim trim;
      trim.in_s = number_member(trim_object, "in").value_or(0);
      trim.out_s = number_member(trim_object, "out");
      const std::string trim_pointer = child(pointer, "trim");
      if (!still_kind.empty()) {
        error(trim_pointer, "only clips can be trimmed, not " + still_kind +
                                "; remove \"trim\" and set \"duration\"");
      } else if (trim.out_s && *trim.out_s <= trim.in_s) {
        error(child(trim_pointer, "out"),
              seconds(*trim.out_s) + " is not after \"in\" (" + seconds(trim.in_s) +
                  "), which leaves " +
                  (*trim.out_s == trim.in_s ? "a zero-length scene" : "nothing to play") +
                  "; make \"out\" greater than \"in\"");
      } else if (trim.out_s && scene.duration_s && *scene.duration_s > *trim.out_s - trim.in_s) {
        error(child(pointer, "duration"), seconds(*scene.duration_s) +
                                              " is longer than the trimmed clip (" +
                                              seconds(*trim.out_s - trim.in_s) +
                                              "); shorten it or move the trim's \"out\" later");
      }
      scene.trim = trim;
    }
    return scene;
  }

  /* A generated clip (generate-source.h) plays as a genvideo:// clip; its
   * length is the scene's duration or the generate duration, whichever is
   * given (the scene gets both). */
  ClipSource read_generate(JsonObject *object, const std::string &pointer, Scene *scene) {
    GenerateSpec generate;
    generate.category = string_member(object, "category").value_or("");
    generate.prompt = string_member(object, "prompt").value_or("");
    generate.negative_prompt = string_member(object, "negative_prompt").value_or("");
    generate.aspect_ratio = string_member(object, "aspect_ratio").value_or("9:16");
    generate.resolution = string_member(object, "resolution").value_or("");
    generate.seed = static_cast<std::int64_t>(number_member(object, "seed").value_or(-1));
    for (const char *name : {"image", "last_image"}) {
      if (member_node(object, name) == nullptr) continue;
      const auto ref = media(object, name, pointer);
      const std::string value =
          ref ? (ref->local_path ? ref->local_path->string() : ref->uri) : std::string();
      (std::string_view(name) == "image" ? generate.image : generate.last_image) = value;
    }
    const std::vector<JsonNode *> providers = elements(array_member(object, "providers"));
    for (JsonNode *node : providers) {
      if (!JSON_NODE_HOLDS_OBJECT(node)) continue;
      JsonObject *p = json_node_get_object(node);
      GenerateProvider provider{string_member(p, "provider").value_or(""),
                                string_member(p, "model").value_or(""),
                                string_member(p, "endpoint").value_or(""), ""};
      if (JsonObject *extra = object_member(p, "extra")) {
        JsonNodePtr extra_node(json_node_new(JSON_NODE_OBJECT));
        json_node_set_object(extra_node.get(), extra);
        provider.extra = to_json_string(extra_node.get(), false);
      }
      generate.providers.push_back(provider);
    }
    const auto duration = number_member(object, "duration");
    if (duration && scene->duration_s && std::abs(*duration - *scene->duration_s) > 1e-9)
      error(child(pointer, "duration"),
            "differs from the scene's duration; give one of them, or the same value");
    generate.duration_s = duration.value_or(scene->duration_s.value_or(0));
    if (generate.duration_s <= 0)
      error(child(pointer, "duration"),
            "missing: a generated clip needs a length; give the scene a \"duration\" in seconds");
    scene->duration_s = generate.duration_s;
    ClipSource clip;
    try {
      clip.media.uri = generate_uri(generate);
    } catch (const std::invalid_argument &e) {
      error(pointer, e.what());
    }
    return clip;
  }

  /* A transition overlaps the two scenes it joins, so it must fit in each,
   * and the transitions into and out of a scene must fit in it together. */
  void check_transitions_fit(const std::vector<Scene> &scenes,
                             const std::vector<std::string> &pointers) {
    for (size_t i = 1; i < scenes.size(); ++i) {
      const Transition &transition = scenes[i].transition;
      const double overlap = transition.overlap_s();
      if (overlap <= 0) continue;
      const std::string where = scenes[i].transition_overridden
                                    ? child(child(pointers[i], "transition"), "duration")
                                    : "/transition/duration";
      for (const size_t joined : {i - 1, i}) {
        const std::optional<double> length = scenes[joined].known_length_s();
        if (length && overlap > *length)
          error(where, "the " + seconds(overlap) + " transition into scene " + std::to_string(i) +
                           " is longer than scene " + std::to_string(joined) + " (" +
                           seconds(*length) + "); shorten the transition or lengthen the scene");
      }
    }
    for (size_t i = 1; i + 1 < scenes.size(); ++i) {
      const std::optional<double> length = scenes[i].known_length_s();
      const double in = scenes[i].transition.overlap_s();
      const double out = scenes[i + 1].transition.overlap_s();
      if (length && in <= *length && out <= *length && in + out > *length)
        error(pointers[i], "the transitions into it (" + seconds(in) + ") and out of it (" +
                               seconds(out) + ") overlap inside its " + seconds(*length) +
                               ", leaving a zero-length scene; shorten them or lengthen the "
                               "scene");
    }
  }

  Audio read_audio(JsonObject *object, const std::string &pointer) {
    Audio audio;
    if (object == nullptr) return audio;
    if (JsonObject *voiceover = object_member(object, "voiceover")) {
      const std::string at = child(pointer, "voiceover");
      check_exactly_one(voiceover, {"uri", "text"}, at,
                        "a recording (uri) or a script to speak (text)");
      if (member_node(voiceover, "text") != nullptr) {
        audio.spoken_voiceover = read_spoken_voiceover(voiceover, at);
      } else {
        audio.voiceover = media(voiceover, "uri", at);
      }
    }
    if (JsonObject *music_object = object_member(object, "music")) {
      Music music;
      music.media = media(music_object, "uri", child(pointer, "music")).value_or(MediaRef{});
      music.volume = number_member(music_object, "volume").value_or(music.volume);
      music.fade_in_s = number_member(music_object, "fade_in").value_or(music.fade_in_s);
      music.fade_out_s = number_member(music_object, "fade_out").value_or(music.fade_out_s);
      JsonObject *ducking = object_member(music_object, "ducking");
      music.ducking.enabled = bool_member(ducking, "enabled").value_or(true);
      music.ducking.amount_db = number_member(ducking, "amount_db").value_or(12);
      music.ducking.attack_s = number_member(ducking, "attack").value_or(0.05);
      music.ducking.release_s = number_member(ducking, "release").value_or(0.3);
      audio.music = std::move(music);
    }
    if (JsonObject *clip_audio = object_member(object, "keep_clip_audio")) {
      audio.clip_audio.enabled = bool_member(clip_audio, "enabled").value_or(true);
      audio.clip_audio.volume = number_member(clip_audio, "volume").value_or(1);
    }
    JsonObject *loudness = object_member(object, "loudness");
    audio.loudness.requested = loudness != nullptr;
    audio.loudness.target_lufs = number_member(loudness, "target_lufs").value_or(-14);
    audio.loudness.true_peak_db = number_member(loudness, "true_peak_db").value_or(-1);
    return audio;
  }

  SpokenVoiceover read_spoken_voiceover(JsonObject *object, const std::string &pointer) {
    SpokenVoiceover spoken;
    spoken.text = string_member(object, "text").value_or("");
    bool has_word = false;
    for (const char *c = spoken.text.c_str(); *c; c = g_utf8_next_char(c))
      if (g_unichar_isalnum(g_utf8_get_char(c))) has_word = true;
    if (!has_word) error(child(pointer, "text"), "has no words to speak; write the script here");
    JsonObject *tts = object_member(object, "tts");
    spoken.backend = string_member(tts, "backend").value_or(spoken.backend);
    spoken.voice = string_member(tts, "voice").value_or(spoken.voice);
    spoken.language = string_member(tts, "language").value_or(spoken.language);
    spoken.speed = number_member(tts, "speed").value_or(spoken.speed);
    spoken.model = string_member(tts, "model").value_or(spoken.model);
    return spoken;
  }

  /* captions and duration "voiceover", which need a spoken voiceover. */
  void read_voiceover_uses(JsonObject *root, JobSpec *spec) {
    const bool spoken = spec->audio.spoken_voiceover.has_value();
    const std::string need =
        "needs a spoken voiceover: give audio.voiceover a \"text\" (a recording has no word "
        "timings)";
    if (string_member(root, "duration") == std::string("voiceover")) {
      spec->duration_from_voiceover = true;
      if (!spoken) error("/duration", need);
    }
    JsonObject *object = object_member(root, "captions");
    if (object == nullptr) return;
    if (!spoken) error("/captions/from", need);
    Captions captions;
    captions.style = enum_member(object, "style", kCaptionStyles, CaptionStyle::kWordHighlight);
    captions.max_words =
        static_cast<int>(number_member(object, "max_words").value_or(captions.max_words));
    captions.highlight_color = colour_member(object, "highlight_color", captions.highlight_color);
    TextStyle style;
    style.stroke = Stroke{};
    JsonObject *style_object = object_member(object, "text_style");
    if (style_object != nullptr) {
      style = read_style(style_object);
    }
    captions.text_style = style;
    spec->captions = captions;
  }

  TextStyle read_style(JsonObject *object) {
    TextStyle style;
    if (object == nullptr) return style;
    style.font = string_member(object, "font").value_or(style.font);
    style.size = number_member(object, "size").value_or(style.size);
    style.color = colour_member(object, "color", style.color);
    if (JsonObject *stroke_object = object_member(object, "stroke")) {
      Stroke stroke;
      stroke.color = colour_member(stroke_object, "color", stroke.color);
      stroke.width = number_member(stroke_object, "width").value_or(stroke.width);
      style.stroke = stroke;
    }
    if (JsonObject *shadow_object = object_member(object, "shadow")) {
      Shadow shadow;
      shadow.color = colour_member(shadow_object, "color", shadow.color);
      shadow.offset_x = number_member(shadow_object, "offset_x").value_or(shadow.offset_x);
      shadow.offset_y = number_member(shadow_object, "offset_y").value_or(shadow.offset_y);
      style.shadow = shadow;
    }
    if (JsonObject *box_object = object_member(object, "box")) {
      TextBox box;
      box.color = colour_member(box_object, "color", box.color);
      box.padding = number_member(box_object, "padding").value_or(box.padding);
      style.box = box;
    }
    style.anchor = enum_member(object, "anchor", kAnchors, style.anchor);
    JsonObject *animation = object_member(object, "animation");
    style.animation_in = enum_member(animation, "in", kAnimations, TextAnimation::kNone);
    style.animation_out = enum_member(animation, "out", kAnimations, TextAnimation::kNone);
    style.animation_s = number_member(animation, "duration").value_or(style.animation_s);
    return style;
  }

  Overlay read_overlay(JsonObject *object, const std::string &pointer) {
    Overlay overlay;
    check_exactly_one(object, {"text", "image"}, pointer, "an overlay shows text or an image");
    overlay.start_s = number_member(object, "start").value_or(0);
    overlay.end_s = number_member(object, "end");
    if (overlay.end_s && *overlay.end_s <= overlay.start_s)
      error(child(pointer, "end"), seconds(*overlay.end_s) + " is not after \"start\" (" +
                                       seconds(overlay.start_s) +
                                       "), so it would never show; make \"end\" greater");
    if (member_node(object, "image") != nullptr) {
      ImageOverlay image;
      image.media = media(object, "image", pointer).value_or(MediaRef{});
      image.anchor = enum_member(object, "anchor", kAnchors, image.anchor);
      image.scale = number_member(object, "scale").value_or(image.scale);
      image.opacity = number_member(object, "opacity").value_or(image.opacity);
      overlay.content = std::move(image);
    } else {
      TextOverlay text;
      text.text = string_member(object, "text").value_or("");
      text.style = read_style(object_member(object, "style"));
      text.ignore_safe_zone = bool_member(object, "ignore_safe_zone").value_or(false);
      overlay.content = std::move(text);
    }
    return overlay;
  }

  Output read_output(JsonObject *object, const std::string &pointer) {
    Output output;
    const std::optional<std::string> directory = string_member(object, "directory");
    output.uri_prefix = string_member(object, "uri_prefix");
    if (directory && output.uri_prefix)
      error(pointer,
            "has both \"directory\" and \"uri_prefix\"; keep one: where should the videos go?");
    if (!output.uri_prefix) {
      std::filesystem::path path(directory.value_or("out"));
      if (path.is_relative()) path = base_dir_ / path;
      output.directory = path.lexically_normal();
    }
    output.container = string_member(object, "container").value_or(output.container);
    if (const std::optional<double> count = number_member(object, "thumbnails"))
      output.thumbnails = static_cast<int>(*count);
    JsonObject *video = object_member(object, "video");
    output.video_preset = string_member(video, "preset").value_or(output.video_preset);
    if (const std::optional<double> crf = number_member(video, "crf"))
      output.video_crf = static_cast<int>(*crf);
    if (const std::optional<double> bitrate =
            number_member(object_member(object, "audio"), "bitrate"))
      output.audio_bitrate_kbps = static_cast<int>(*bitrate);
    return output;
  }

  std::filesystem::path base_dir_;
  Errors *errors_;
};

/* ---- Checks on the document as written, shared by every variant ---- */

DimensionValue dimension_value(JsonNode *node) {
  if (is_string(node)) return {json_node_get_string(node), false};
  return {to_json_string(node, false), true};
}

Variations read_variations(JsonObject *object, Errors *errors) {
  Variations variations;
  for (const auto &[name, values] : members(object_member(object, "dimensions"))) {
    if (!JSON_NODE_HOLDS_ARRAY(values)) continue;
    Dimension dimension{name, {}};
    std::map<std::string, size_t> by_file_name;
    const std::vector<JsonNode *> nodes = elements(json_node_get_array(values));
    for (size_t i = 0; i < nodes.size(); ++i) {
      if (!is_string(nodes[i]) && !is_number(nodes[i])) continue;
      dimension.values.push_back(dimension_value(nodes[i]));
      const std::string file_name = sanitise_name(dimension.values.back().text);
      const auto [previous, inserted] = by_file_name.emplace(file_name, i);
      if (!inserted &&
          dimension.values.back().text != dimension_value(nodes[previous->second]).text)
        errors->push_back({child(child("/variations/dimensions", name), i),
                           json_quoted(dimension.values.back().text) + " and " +
                               json_quoted(dimension_value(nodes[previous->second]).text) +
                               " would name the same variant (\"" + sanitise_name(name) + "-" +
                               file_name + "\"); make them differ in their letters or digits"});
    }
    variations.dimensions.push_back(std::move(dimension));
  }

  const std::vector<JsonNode *> rules = elements(array_member(object, "exclude"));
  for (size_t i = 0; i < rules.size(); ++i) {
    if (!JSON_NODE_HOLDS_OBJECT(rules[i])) continue;
    const std::string rule_pointer = child("/variations/exclude", i);
    ExclusionRule rule;
    for (const auto &[name, value] : members(json_node_get_object(rules[i]))) {
      if (!is_string(value) && !is_number(value)) continue;
      const std::string text = dimension_value(value).text;
      const std::string at = child(rule_pointer, name);
      const Dimension *dimension = variations.find(name);
      if (dimension == nullptr) {
        std::vector<std::string> names;
        for (const Dimension &d : variations.dimensions) names.push_back(d.name);
        errors->push_back({at, "there is no dimension " + json_quoted(name) +
                                   (names.empty() ? std::string("; declare it under "
                                                                "/variations/dimensions")
                                                  : "; the dimensions are " + join(names, ", "))});
      } else if (std::none_of(dimension->values.begin(), dimension->values.end(),
                              [&](const DimensionValue &v) { return v.text == text; })) {
        std::vector<std::string> values;
        for (const DimensionValue &v : dimension->values) values.push_back(v.text);
        errors->push_back({at, json_quoted(text) + " is not a value of " + json_quoted(name) +
                                   ", so this rule never matches; use one of " +
                                   join(values, ", ")});
      }
      rule.pairs.emplace_back(name, text);
    }
    variations.exclude.push_back(std::move(rule));
  }
  return variations;
}

/* Every ${name} outside /variations must name a dimension; platforms take
 * none at all, since every variant goes to every platform. */
void check_templates(JsonNode *node, const std::string &pointer, const Variations &variations,
                     Errors *errors) {
  if (JSON_NODE_HOLDS_OBJECT(node)) {
    for (const auto &[name, value] : members(json_node_get_object(node)))
      if (!(pointer.empty() && name == "variations"))
        check_templates(value, child(pointer, name), variations, errors);
  } else if (JSON_NODE_HOLDS_ARRAY(node)) {
    const std::vector<JsonNode *> items = elements(json_node_get_array(node));
    for (size_t i = 0; i < items.size(); ++i)
      check_templates(items[i], child(pointer, i), variations, errors);
  } else if (is_string(node)) {
    const std::vector<TemplateReference> templates = find_templates(json_node_get_string(node));
    if (templates.empty()) return;
    if (is_within(pointer, "/platforms")) {
      errors->push_back({pointer,
                         "platforms cannot use ${...} templates: every variant is made "
                         "for every platform listed; list the platforms by name"});
      return;
    }
    for (const TemplateReference &reference : templates) {
      if (variations.find(reference.name) != nullptr) continue;
      std::vector<std::string> names;
      for (const Dimension &d : variations.dimensions) names.push_back(d.name);
      errors->push_back(
          {pointer, "${" + reference.name + "} names no dimension; " +
                        (names.empty() ? std::string("declare it under /variations/dimensions")
                                       : "the dimensions are " + join(names, ", ") +
                                             " (declare it or fix the name)")});
    }
  }
}

void check_platforms(JsonObject *root, Errors *errors) {
  const std::vector<std::string> known = qc::available_profile_names();
  const std::vector<JsonNode *> platforms = elements(array_member(root, "platforms"));
  for (size_t i = 0; i < platforms.size(); ++i) {
    if (!is_string(platforms[i])) continue;
    const std::string name = json_node_get_string(platforms[i]);
    if (name.empty() || !find_templates(name).empty()) continue;
    if (std::find(known.begin(), known.end(), name) == known.end())
      errors->push_back({child("/platforms", i), "unknown platform " + json_quoted(name) +
                                                     "; known platforms are " + join(known, ", ")});
  }
}

/* Each pointer's place in the document, depth first: where its value
 * starts and where its last descendant is, to sort errors by. */
using DocumentOrder = std::map<std::string, std::pair<size_t, size_t>>;

void number_pointers(JsonNode *node, const std::string &pointer, DocumentOrder *order) {
  const size_t start = order->size();
  (*order)[pointer] = {start, start};
  if (JSON_NODE_HOLDS_OBJECT(node)) {
    for (const auto &[name, value] : members(json_node_get_object(node)))
      number_pointers(value, child(pointer, name), order);
  } else if (JSON_NODE_HOLDS_ARRAY(node)) {
    const std::vector<JsonNode *> items = elements(json_node_get_array(node));
    for (size_t i = 0; i < items.size(); ++i) number_pointers(items[i], child(pointer, i), order);
  }
  (*order)[pointer].second = order->size() - 1;
}

/* Where an error sorts: at its value, or for a member that is missing,
 * after everything in the nearest object that exists. */
std::pair<size_t, size_t> sort_key(const std::string &pointer, const DocumentOrder &order) {
  std::string at = pointer;
  for (size_t missing_levels = 0;; ++missing_levels) {
    const auto found = order.find(at);
    if (found != order.end())
      return missing_levels == 0 ? std::pair{found->second.first, size_t{0}}
                                 : std::pair{found->second.second, missing_levels};
    const size_t slash = at.rfind('/');
    if (slash == std::string::npos) return {0, missing_levels};
    at.resize(slash);
  }
}

/* The schema's patterns for colours and media say what is allowed to a
 * regular-expression reader; say it in words instead. */
std::string friendlier_pattern_message(const std::string &message) {
  struct Pattern {
    std::string_view pattern;
    std::string_view advice;
  };
  static constexpr Pattern kPatterns[] = {
      {"^#([0-9A-Fa-f]{6}|[0-9A-Fa-f]{8})$",
       "is not a colour; write \"#RRGGBB\" or \"#RRGGBBAA\" in hexadecimal, e.g. \"#1E3A8A\""},
      {"^((file|https|s3|genvideo)://.+|[^:]+)$",
       "is not a media location; use a path relative to the spec's folder, or a file://, "
       "https://, s3:// or genvideo:// URI"},
      {"^(s3|file)://.+",
       "is not an upload destination; use an s3://bucket/prefix/ or file:// URI, or set "
       "\"directory\" instead"},
  };
  constexpr std::string_view kMarker = " does not match the pattern ";
  const size_t at = message.find(kMarker);
  if (at == std::string::npos) return message;
  const std::string_view pattern = std::string_view(message).substr(at + kMarker.size());
  for (const Pattern &known : kPatterns)
    if (pattern == known.pattern) return message.substr(0, at) + " " + std::string(known.advice);
  return message;
}

std::string variant_list(const std::vector<std::string> &names) {
  constexpr size_t kShown = 3;
  std::vector<std::string> shown(
      names.begin(), names.begin() + static_cast<std::ptrdiff_t>(std::min(names.size(), kShown)));
  std::string text = (names.size() == 1 ? "variant " : "variants ") + join(shown, ", ");
  if (names.size() > kShown) text += " and " + std::to_string(names.size() - kShown) + " more";
  return text;
}

}  // namespace

SpecError::SpecError(std::string document, std::vector<SchemaError> errors)
    : std::runtime_error(format_schema_errors(errors, document)),
      document_(std::move(document)),
      errors_(std::move(errors)) {}

std::optional<Colour> Colour::parse(const std::string &text) {
  if ((text.size() != 7 && text.size() != 9) || text[0] != '#') return std::nullopt;
  for (size_t i = 1; i < text.size(); ++i)
    if (!g_ascii_isxdigit(text[i])) return std::nullopt;
  auto byte = [&](size_t at) {
    return static_cast<std::uint8_t>(g_ascii_xdigit_value(text[at]) * 16 +
                                     g_ascii_xdigit_value(text[at + 1]));
  };
  return Colour{byte(1), byte(3), byte(5), text.size() == 9 ? byte(7) : std::uint8_t{255}};
}

std::optional<double> Scene::known_length_s() const {
  if (duration_s) return duration_s;
  if (trim && trim->out_s) return *trim->out_s - trim->in_s;
  return std::nullopt;
}

std::vector<OutputTarget> Job::outputs() const {
  std::vector<OutputTarget> targets;
  for (const JobVariant &variant : variants)
    for (const std::string &platform : platforms)
      targets.push_back({variant.variant.name + "." + platform, &variant, platform});
  return targets;
}

const JsonSchema &job_schema() {
  static const JsonSchema schema = JsonSchema::from_resource(kSchemaResource);
  return schema;
}

Job parse_job_document(JsonNode *document, const std::string &document_name,
                       const std::filesystem::path &base_dir) {
  Job job;
  job.path = document_name;
  job.base_dir = std::filesystem::absolute(base_dir).lexically_normal();

  if (document == nullptr || !JSON_NODE_HOLDS_OBJECT(document)) {
    Errors errors = job_schema().validate(document);
    if (errors.empty()) errors.push_back({"", "expected a JSON object"});
    throw SpecError(document_name, std::move(errors));
  }
  JsonObject *root = json_node_get_object(document);

  Errors shared;
  job.variations = read_variations(object_member(root, "variations"), &shared);
  check_templates(document, "", job.variations, &shared);
  check_platforms(root, &shared);
  for (JsonNode *platform : elements(array_member(root, "platforms")))
    if (is_string(platform)) job.platforms.emplace_back(json_node_get_string(platform));
  job.approval = string_member(root, "approval").value_or("none");

  std::vector<Variant> variants =
      expand_variations(job.variations, string_member(root, "name").value_or(""));
  if (variants.empty()) {
    bool complete = !job.variations.dimensions.empty();
    for (const Dimension &dimension : job.variations.dimensions)
      complete = complete && !dimension.values.empty();
    if (complete)
      shared.push_back({"/variations/exclude",
                        "excludes every combination, so nothing would be made; remove a rule"});
    variants.push_back(Variant{"job", {}}); /* still check the rest */
  }

  /* Per variant: schema errors, then the reader's that say something new. */
  std::vector<SchemaError> merged = shared;
  std::vector<std::vector<std::string>> found_in(merged.size());
  for (const Variant &variant : variants) {
    JsonNodePtr resolved = substitute_document(document, variant, {"variations"});
    Errors errors = job_schema().validate(resolved.get());
    Errors semantic;
    SpecReader reader(job.base_dir, &semantic);
    JobSpec spec = reader.read(json_node_get_object(resolved.get()));
    for (SchemaError &error : errors) error.message = friendlier_pattern_message(error.message);
    const size_t schema_count = errors.size();
    for (SchemaError &error : semantic) {
      const auto schema_end = errors.begin() + static_cast<std::ptrdiff_t>(schema_count);
      const bool said = std::any_of(errors.begin(), schema_end, [&](const SchemaError &e) {
        return is_within(error.pointer, e.pointer) && !e.pointer.empty();
      });
      if (!said) errors.push_back(std::move(error));
    }
    for (SchemaError &error : errors) {
      /* Where a shared check spoke (an unknown template), the rest is noise. */
      const bool shared_said = std::any_of(shared.begin(), shared.end(), [&](const auto &e) {
        return !e.pointer.empty() && is_within(error.pointer, e.pointer);
      });
      if (shared_said) continue;
      const auto existing = std::find(merged.begin(), merged.end(), error);
      if (existing == merged.end()) {
        merged.push_back(std::move(error));
        found_in.push_back({variant.name});
      } else {
        found_in[static_cast<size_t>(existing - merged.begin())].push_back(variant.name);
      }
    }
    job.variants.push_back({variant, std::move(spec)});
  }

  if (!merged.empty()) {
    for (size_t i = shared.size(); i < merged.size(); ++i)
      if (variants.size() > 1 && found_in[i].size() < variants.size())
        merged[i].message += " (in " + variant_list(found_in[i]) + ")";
    DocumentOrder order;
    number_pointers(document, "", &order);
    std::stable_sort(merged.begin(), merged.end(), [&](const auto &a, const auto &b) {
      return sort_key(a.pointer, order) < sort_key(b.pointer, order);
    });
    throw SpecError(document_name, std::move(merged));
  }
  return job;
}

Job parse_job_spec(const std::string &path) {
  JsonNodePtr document;
  try {
    document = load_json_file(path);
  } catch (const std::runtime_error &e) {
    /* load_json_file's message starts with the path already. */
    std::string message = e.what();
    if (message.starts_with(path + ": ")) message.erase(0, path.size() + 2);
    throw SpecError(path, {{"", message}});
  }
  const std::filesystem::path base_dir = std::filesystem::absolute(path).parent_path();
  return parse_job_document(document.get(), path, base_dir);
}

std::string_view name_of(Anchor anchor) {
  return edit::find_name(kAnchors, anchor);
}
std::string_view name_of(CaptionStyle style) {
  return edit::find_name(kCaptionStyles, style);
}

std::string_view name_of(TextAnimation animation) {
  return edit::find_name(kAnimations, animation);
}

}  // namespace reelforge::spec
