/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The job spec (schemas/job.schema.json) as plain C++ values, with every
 * default applied. parse_job_spec() checks a spec file against the schema
 * and then for what the schema cannot say (platforms that exist, local media
 * that exists, trims and transitions that fit, templates naming declared
 * dimensions), and reports every problem at once:
 *
 *   job.json: /scenes/2/transition/type: "swoosh" is not one of cut, crossfade, ...
 *   job.json: /scenes/0/source/uri: no file at media/intro.mp4 (...); ...
 *
 * Each variant of the job gets its own JobSpec, with its ${dimension}
 * templates substituted; checks run on every variant.
 */
#pragma once

#include "edit-vocabulary.h"
#include "json-schema.h"
#include "spec/variations.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace reelforge::spec {

/* Everything wrong with a spec, one SchemaError (pointer + sentence) each.
 * what() is the lines "<document>: <pointer>: <message>". */
class SpecError : public std::runtime_error {
 public:
  SpecError(std::string document, std::vector<SchemaError> errors);
  const std::string &document() const { return document_; }
  const std::vector<SchemaError> &errors() const { return errors_; }

 private:
  std::string document_;
  std::vector<SchemaError> errors_;
};

struct Colour {
  std::uint8_t r = 0, g = 0, b = 0, a = 255;

  /* "#RRGGBB" or "#RRGGBBAA"; nullopt for anything else. */
  static std::optional<Colour> parse(const std::string &text);
  bool operator==(const Colour &) const = default;
};

/* Media named by the spec. Local files are resolved against the spec's
 * folder: uri is then an absolute file:// URI and local_path the file. */
struct MediaRef {
  std::string uri;
  std::optional<std::filesystem::path> local_path;

  bool operator==(const MediaRef &) const = default;
};

/* Transitions, fits and motions are the editing vocabulary stitchbin
 * shares (plugins/reeledit/edit-vocabulary.h). */
using edit::Fit;
using edit::Motion;
using edit::TransitionType;

enum class Anchor {
  kTopLeft,
  kTop,
  kTopRight,
  kLeft,
  kCenter,
  kRight,
  kBottomLeft,
  kBottom,
  kBottomRight,
};
enum class TextAnimation { kNone, kFade, kPop, kSlideUp, kSlideDown, kTypewriter };

struct ClipSource {
  MediaRef media;
  bool operator==(const ClipSource &) const = default;
};

struct ImageSource {
  MediaRef media;
  Motion motion = Motion::kNone;
  bool operator==(const ImageSource &) const = default;
};

struct Gradient {
  Colour top;
  Colour bottom;
  bool operator==(const Gradient &) const = default;
};

struct CardSource {
  std::string text;
  std::variant<Colour, Gradient> background = Colour{0, 0, 0, 255};
  Colour color{255, 255, 255, 255};
  std::string font = "Sans Bold 72";
  bool operator==(const CardSource &) const = default;
};

using Source = std::variant<ClipSource, ImageSource, CardSource>;

struct Transition {
  TransitionType type = TransitionType::kCut;
  double duration_s = 0.5; /* as written; a cut takes no time (overlap_s()) */

  double overlap_s() const { return type == TransitionType::kCut ? 0 : duration_s; }
  bool operator==(const Transition &) const = default;
};

struct Trim {
  double in_s = 0;
  std::optional<double> out_s; /* the clip's end when absent */
  bool operator==(const Trim &) const = default;
};

struct Scene {
  Source source;
  std::optional<double> duration_s; /* always set for images and cards */
  std::optional<Trim> trim;
  Fit fit = Fit::kCover;
  /* Into this scene from the previous one: the scene's own, filled in from the
   * job's (a cut of no length on the first scene). */
  Transition transition;
  bool transition_overridden = false;

  /* How long the scene plays when the spec says (duration, else trim
   * out - in); nullopt for a clip whose length only the file knows. */
  std::optional<double> known_length_s() const;
  bool operator==(const Scene &) const = default;
};

struct Ducking {
  bool enabled = true;
  double amount_db = 12;
  double attack_s = 0.05;
  double release_s = 0.3;
  bool operator==(const Ducking &) const = default;
};

struct Music {
  MediaRef media;
  double volume = 1;
  double fade_in_s = 0;
  double fade_out_s = 1;
  Ducking ducking;
  bool operator==(const Music &) const = default;
};

struct ClipAudio {
  bool enabled = false;
  double volume = 1;
  bool operator==(const ClipAudio &) const = default;
};

struct Loudness {
  double target_lufs = -14;
  double true_peak_db = -1;
  bool requested = false; /* the spec says "loudness" (stream copy never applies it) */
  bool operator==(const Loudness &) const = default;
};

/* A voiceover spoken from text by ttssrc (audio.voiceover {text, tts}). */
struct SpokenVoiceover {
  std::string text;
  std::string backend = "espeak";
  std::string voice; /* empty: the language's default */
  std::string language = "en";
  double speed = 1;
  std::string model; /* empty: the provider's default */
  bool operator==(const SpokenVoiceover &) const = default;
};

struct Audio {
  std::optional<MediaRef> voiceover;               /* a recording */
  std::optional<SpokenVoiceover> spoken_voiceover; /* or text to speak */
  std::optional<Music> music;
  ClipAudio clip_audio;
  Loudness loudness;
  bool operator==(const Audio &) const = default;
};

struct Stroke {
  Colour color{0, 0, 0, 255};
  double width = 4;
  bool operator==(const Stroke &) const = default;
};

struct Shadow {
  Colour color{0, 0, 0, 0x99};
  double offset_x = 4;
  double offset_y = 4;
  bool operator==(const Shadow &) const = default;
};

struct TextBox {
  Colour color{0, 0, 0, 0xAA};
  double padding = 16;
  bool operator==(const TextBox &) const = default;
};

struct TextStyle {
  std::string font = "Sans Bold";
  double size = 64; /* pixels on a 1080-wide frame */
  Colour color{255, 255, 255, 255};
  std::optional<Stroke> stroke;
  std::optional<Shadow> shadow;
  std::optional<TextBox> box;
  Anchor anchor = Anchor::kBottom;
  TextAnimation animation_in = TextAnimation::kNone;
  TextAnimation animation_out = TextAnimation::kNone;
  double animation_s = 0.3;
  bool operator==(const TextStyle &) const = default;
};

struct TextOverlay {
  std::string text;
  TextStyle style;
  bool ignore_safe_zone = false;
  bool operator==(const TextOverlay &) const = default;
};

struct ImageOverlay {
  MediaRef media;
  Anchor anchor = Anchor::kTopRight;
  double scale = 0.2; /* of the frame's width */
  double opacity = 1;
  bool operator==(const ImageOverlay &) const = default;
};

struct Overlay {
  double start_s = 0;
  std::optional<double> end_s; /* the end of the video when absent */
  std::variant<TextOverlay, ImageOverlay> content;
  bool operator==(const Overlay &) const = default;
};

struct Output {
  /* Exactly one is set; directory defaults to <spec folder>/out. */
  std::optional<std::filesystem::path> directory;
  std::optional<std::string> uri_prefix;
  std::string container = "mp4";
  int thumbnails = 1;
  std::string video_preset = "medium";
  int video_crf = 20;
  int audio_bitrate_kbps = 192;
  bool operator==(const Output &) const = default;
};

enum class CaptionStyle { kWordHighlight, kPhrase, kKaraoke };

/* Captions from the spoken voiceover's words (captions {from: voiceover}). */
struct Captions {
  CaptionStyle style = CaptionStyle::kWordHighlight;
  int max_words = 4;
  Colour highlight_color{0xFF, 0xD4, 0x00, 255};
  TextStyle text_style; /* defaults set by the reader: white, black stroke, bottom */
  bool operator==(const Captions &) const = default;
};

/* What one variant renders, templates substituted, defaults applied. */
struct JobSpec {
  std::string name;
  std::vector<std::string> platforms;
  std::vector<Scene> scenes;
  Transition transition; /* the job's default between scenes */
  Audio audio;
  std::vector<Overlay> overlays;
  std::optional<Captions> captions;
  bool duration_from_voiceover = false; /* duration: "voiceover" */
  Output output;
  bool operator==(const JobSpec &) const = default;
};

struct JobVariant {
  Variant variant;
  JobSpec spec;
};

/* One file to make: a variant for a platform. */
struct OutputTarget {
  std::string name; /* "<variant>.<platform>" */
  const JobVariant *variant = nullptr;
  std::string platform;
};

/* A spec file, checked and expanded. */
struct Job {
  std::filesystem::path path;     /* as given */
  std::filesystem::path base_dir; /* the spec's folder, absolute */
  Variations variations;
  std::vector<JobVariant> variants; /* in expansion order; one when no variations */
  std::vector<std::string> platforms;
  /* When `reelforge serve` waits for a person: "none", "before-render" or
   * "before-upload". */
  std::string approval = "none";

  /* Every (variant x platform), variants first, platforms in spec order.
   * The pointers point into this Job. */
  std::vector<OutputTarget> outputs() const;
};

/* The schema's word for each value ("crossfade", "ken-burns", ...). */
using edit::name_of;
std::string_view name_of(Anchor anchor);
std::string_view name_of(TextAnimation animation);
std::string_view name_of(CaptionStyle style);

/* The schema compiled into the program. */
const JsonSchema &job_schema();

/* Reads, checks and expands the spec at path. Throws SpecError listing
 * every problem, naming the file as path was given; an unreadable file or
 * broken JSON is a SpecError with one line. */
Job parse_job_spec(const std::string &path);

/* The same for a document already parsed; document_name names it in
 * errors and relative media paths are resolved against base_dir. */
Job parse_job_document(JsonNode *document, const std::string &document_name,
                       const std::filesystem::path &base_dir);

}  // namespace reelforge::spec
