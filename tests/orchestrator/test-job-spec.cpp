/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Job specs: every field and default as parsed, the exact pointer and
 * sentence of each kind of mistake, and the variation matrix.
 */
#include "json-file.h"
#include "spec/job-spec.h"
#include "spec/variations.h"
#include "test-environment.h"

#include <fstream>
#include <ostream>

namespace reelforge {

void PrintTo(const SchemaError &error, std::ostream *os) {
  *os << "{\"" << error.pointer << "\", \"" << error.message << "\"}";
}

namespace spec {
namespace {

using test::TempDir;

class JobSpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::filesystem::create_directories(dir_.path() / "media");
    for (const char *name :
         {"media/intro.mp4", "media/product.png", "media/vo.wav", "media/music.mp3",
          "media/logo.png", "media/hook-a.mp4", "media/hook-b.mp4"})
      write(name, "not really media; only existence is checked");
  }

  void write(const std::string &name, const std::string &text) const {
    std::ofstream(dir_.file(name), std::ios::binary) << text;
  }

  /* Writes text as job.json and parses it. */
  Job parse(const std::string &text) const {
    write("job.json", text);
    return parse_job_spec(dir_.file("job.json"));
  }

  /* The errors parsing text gives; none means it parsed. */
  std::vector<SchemaError> errors(const std::string &text) const {
    try {
      parse(text);
    } catch (const SpecError &e) {
      return e.errors();
    }
    return {};
  }

  std::string uri(const std::string &name) const {
    return "file://" + (dir_.path() / name).string();
  }

  TempDir dir_;
};

constexpr const char *kFullSpec = R"({
  "$schema": "../schemas/job.schema.json",
  "name": "Spring Launch",
  "description": "every field",
  "platforms": ["tiktok", "youtube"],
  "scenes": [
    {"source": {"uri": "media/intro.mp4"}, "trim": {"in": 1, "out": 4}, "fit": "blur-pad"},
    {"source": {"image": "media/product.png", "motion": "ken-burns"}, "duration": 3,
     "fit": "contain", "transition": {"type": "wipe-left", "duration": 0.25}},
    {"source": {"card": {"text": "Buy now", "background": {"gradient": ["#112233", "#445566CC"]},
                         "color": "#FFEE00", "font": "Inter Bold 80"}}, "duration": 2},
    {"source": {"card": {"text": "Thanks"}}, "duration": 1.5}
  ],
  "transition": {"type": "crossfade", "duration": 0.4},
  "audio": {
    "voiceover": {"uri": "media/vo.wav"},
    "music": {"uri": "media/music.mp3", "volume": 0.5, "fade_in": 0.2, "fade_out": 2,
              "ducking": {"amount_db": 9, "attack": 0.1, "release": 0.6}},
    "keep_clip_audio": {"volume": 0.3},
    "loudness": {"target_lufs": -16, "true_peak_db": -2}
  },
  "overlays": [
    {"text": "50% off", "start": 1, "end": 3, "ignore_safe_zone": true,
     "style": {"font": "Inter Black", "size": 90, "color": "#FF0000",
               "stroke": {"color": "#000000", "width": 6},
               "shadow": {"color": "#00000080", "offset_x": 2, "offset_y": 3},
               "box": {"color": "#FFFFFF33", "padding": 20}, "anchor": "top",
               "animation": {"in": "pop", "out": "fade", "duration": 0.5}}},
    {"image": "media/logo.png", "anchor": "bottom-left", "scale": 0.15, "opacity": 0.8},
    {"text": "plain"}
  ],
  "output": {"uri_prefix": "s3://bucket/spring/", "container": "mp4", "thumbnails": 3,
             "video": {"preset": "slow", "crf": 18}, "audio": {"bitrate": 128}}
})";

TEST_F(JobSpecTest, AFullSpecParsesEveryField) {
  const Job job = parse(kFullSpec);
  ASSERT_EQ(job.variants.size(), 1u);
  EXPECT_EQ(job.variants[0].variant.name, "spring-launch");
  EXPECT_EQ(job.platforms, (std::vector<std::string>{"tiktok", "youtube"}));
  const JobSpec &spec = job.variants[0].spec;
  EXPECT_EQ(spec.name, "Spring Launch");
  EXPECT_EQ(spec.transition, (Transition{TransitionType::kCrossfade, 0.4}));

  ASSERT_EQ(spec.scenes.size(), 4u);
  const Scene &clip = spec.scenes[0];
  ASSERT_TRUE(std::holds_alternative<ClipSource>(clip.source));
  EXPECT_EQ(std::get<ClipSource>(clip.source).media.uri, uri("media/intro.mp4"));
  EXPECT_EQ(std::get<ClipSource>(clip.source).media.local_path, dir_.path() / "media/intro.mp4");
  EXPECT_EQ(clip.trim, (Trim{1, 4}));
  EXPECT_FALSE(clip.duration_s);
  EXPECT_EQ(clip.known_length_s(), 3);
  EXPECT_EQ(clip.fit, Fit::kBlurPad);

  const Scene &image = spec.scenes[1];
  ASSERT_TRUE(std::holds_alternative<ImageSource>(image.source));
  EXPECT_EQ(std::get<ImageSource>(image.source).media.uri, uri("media/product.png"));
  EXPECT_EQ(std::get<ImageSource>(image.source).motion, Motion::kKenBurns);
  EXPECT_EQ(image.duration_s, 3);
  EXPECT_EQ(image.fit, Fit::kContain);
  EXPECT_TRUE(image.transition_overridden);
  EXPECT_EQ(image.transition, (Transition{TransitionType::kWipeLeft, 0.25}));

  const Scene &card = spec.scenes[2];
  ASSERT_TRUE(std::holds_alternative<CardSource>(card.source));
  const CardSource &card_source = std::get<CardSource>(card.source);
  EXPECT_EQ(card_source.text, "Buy now");
  EXPECT_EQ(card_source.background, (std::variant<Colour, Gradient>(Gradient{
                                        {0x11, 0x22, 0x33, 0xFF}, {0x44, 0x55, 0x66, 0xCC}})));
  EXPECT_EQ(card_source.color, (Colour{0xFF, 0xEE, 0x00, 0xFF}));
  EXPECT_EQ(card_source.font, "Inter Bold 80");
  EXPECT_FALSE(card.transition_overridden);
  EXPECT_EQ(card.transition, spec.transition);
  EXPECT_EQ(card.fit, Fit::kCover);

  const CardSource &plain_card = std::get<CardSource>(spec.scenes[3].source);
  EXPECT_EQ(plain_card.background, (std::variant<Colour, Gradient>(Colour{0, 0, 0, 255})));
  EXPECT_EQ(plain_card.color, (Colour{255, 255, 255, 255}));
  EXPECT_EQ(plain_card.font, "Sans Bold 72");

  const Audio &audio = spec.audio;
  ASSERT_TRUE(audio.voiceover);
  EXPECT_EQ(audio.voiceover->uri, uri("media/vo.wav"));
  ASSERT_TRUE(audio.music);
  EXPECT_EQ(audio.music->media.uri, uri("media/music.mp3"));
  EXPECT_EQ(audio.music->volume, 0.5);
  EXPECT_EQ(audio.music->fade_in_s, 0.2);
  EXPECT_EQ(audio.music->fade_out_s, 2);
  EXPECT_EQ(audio.music->ducking, (Ducking{true, 9, 0.1, 0.6}));
  EXPECT_EQ(audio.clip_audio, (ClipAudio{true, 0.3}));
  EXPECT_EQ(audio.loudness, (Loudness{-16, -2, true}));

  ASSERT_EQ(spec.overlays.size(), 3u);
  const Overlay &text = spec.overlays[0];
  EXPECT_EQ(text.start_s, 1);
  EXPECT_EQ(text.end_s, 3);
  ASSERT_TRUE(std::holds_alternative<TextOverlay>(text.content));
  const TextOverlay &text_content = std::get<TextOverlay>(text.content);
  EXPECT_EQ(text_content.text, "50% off");
  EXPECT_TRUE(text_content.ignore_safe_zone);
  const TextStyle &style = text_content.style;
  EXPECT_EQ(style.font, "Inter Black");
  EXPECT_EQ(style.size, 90);
  EXPECT_EQ(style.color, (Colour{0xFF, 0, 0, 0xFF}));
  EXPECT_EQ(style.stroke, (Stroke{{0, 0, 0, 0xFF}, 6}));
  EXPECT_EQ(style.shadow, (Shadow{{0, 0, 0, 0x80}, 2, 3}));
  EXPECT_EQ(style.box, (TextBox{{0xFF, 0xFF, 0xFF, 0x33}, 20}));
  EXPECT_EQ(style.anchor, Anchor::kTop);
  EXPECT_EQ(style.animation_in, TextAnimation::kPop);
  EXPECT_EQ(style.animation_out, TextAnimation::kFade);
  EXPECT_EQ(style.animation_s, 0.5);

  const Overlay &logo = spec.overlays[1];
  EXPECT_EQ(logo.start_s, 0);
  EXPECT_FALSE(logo.end_s);
  ASSERT_TRUE(std::holds_alternative<ImageOverlay>(logo.content));
  const ImageOverlay &logo_content = std::get<ImageOverlay>(logo.content);
  EXPECT_EQ(logo_content.media.uri, uri("media/logo.png"));
  EXPECT_EQ(logo_content.anchor, Anchor::kBottomLeft);
  EXPECT_EQ(logo_content.scale, 0.15);
  EXPECT_EQ(logo_content.opacity, 0.8);

  const TextOverlay &plain = std::get<TextOverlay>(spec.overlays[2].content);
  EXPECT_EQ(plain.style, TextStyle{});
  EXPECT_FALSE(plain.ignore_safe_zone);

  const Output &output = spec.output;
  EXPECT_FALSE(output.directory);
  EXPECT_EQ(output.uri_prefix, "s3://bucket/spring/");
  EXPECT_EQ(output.container, "mp4");
  EXPECT_EQ(output.thumbnails, 3);
  EXPECT_EQ(output.video_preset, "slow");
  EXPECT_EQ(output.video_crf, 18);
  EXPECT_EQ(output.audio_bitrate_kbps, 128);

  const std::vector<OutputTarget> outputs = job.outputs();
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0].name, "spring-launch.tiktok");
  EXPECT_EQ(outputs[1].name, "spring-launch.youtube");
  EXPECT_EQ(outputs[1].platform, "youtube");
  EXPECT_EQ(outputs[1].variant, &job.variants[0]);
}

TEST_F(JobSpecTest, AMinimalSpecGetsTheDefaults) {
  const Job job = parse(R"({"name": "m", "platforms": ["tiktok"],
    "scenes": [{"source": {"uri": "https://example.com/a.mp4"}},
               {"source": {"image": "media/product.png"}, "duration": 2}]})");
  const JobSpec &spec = job.variants.at(0).spec;
  EXPECT_EQ(spec.transition, Transition{});
  EXPECT_EQ(spec.transition.type, TransitionType::kCut);
  EXPECT_EQ(spec.transition.overlap_s(), 0);
  EXPECT_EQ(std::get<ClipSource>(spec.scenes[0].source).media,
            (MediaRef{"https://example.com/a.mp4", {}}));
  EXPECT_FALSE(spec.scenes[0].trim);
  EXPECT_FALSE(spec.scenes[0].known_length_s());
  EXPECT_EQ(std::get<ImageSource>(spec.scenes[1].source).motion, Motion::kNone);
  EXPECT_EQ(spec.scenes[1].fit, Fit::kCover);
  EXPECT_EQ(spec.audio, Audio{});
  EXPECT_FALSE(spec.audio.clip_audio.enabled);
  EXPECT_EQ(spec.audio.loudness, (Loudness{-14, -1, false}));
  EXPECT_TRUE(spec.overlays.empty());
  EXPECT_EQ(spec.output.directory, dir_.path() / "out");
  EXPECT_FALSE(spec.output.uri_prefix);
  EXPECT_EQ(spec.output.container, "mp4");
  EXPECT_EQ(spec.output.thumbnails, 1);
  EXPECT_EQ(spec.output.video_preset, "medium");
  EXPECT_EQ(spec.output.video_crf, 20);
  EXPECT_EQ(spec.output.audio_bitrate_kbps, 192);
}

TEST_F(JobSpecTest, SceneTransitionsTakeWhatTheyLeaveOutFromTheJob) {
  const Job job = parse(R"({"name": "t", "platforms": ["tiktok"],
    "transition": {"type": "fade-white", "duration": 0.8},
    "scenes": [{"source": {"card": {"text": "a"}}, "duration": 2},
               {"source": {"card": {"text": "b"}}, "duration": 2,
                "transition": {"type": "zoom-in"}},
               {"source": {"card": {"text": "c"}}, "duration": 2,
                "transition": {"duration": 0.2}},
               {"source": {"card": {"text": "d"}}, "duration": 2}]})");
  const std::vector<Scene> &scenes = job.variants[0].spec.scenes;
  EXPECT_EQ(scenes[0].transition, (Transition{TransitionType::kCut, 0}));
  EXPECT_EQ(scenes[1].transition, (Transition{TransitionType::kZoomIn, 0.8}));
  EXPECT_EQ(scenes[2].transition, (Transition{TransitionType::kFadeWhite, 0.2}));
  EXPECT_EQ(scenes[3].transition, (Transition{TransitionType::kFadeWhite, 0.8}));
  EXPECT_FALSE(scenes[3].transition_overridden);
}

TEST_F(JobSpecTest, MusicDuckingAppliesByDefaultAndCanBeTurnedOff) {
  Job job = parse(R"({"name": "m", "platforms": ["tiktok"],
    "scenes": [{"source": {"card": {"text": "x"}}, "duration": 1}],
    "audio": {"music": {"uri": "media/music.mp3"}}})");
  EXPECT_EQ(job.variants[0].spec.audio.music->ducking, Ducking{});
  EXPECT_EQ(job.variants[0].spec.audio.music->volume, 1);
  EXPECT_EQ(job.variants[0].spec.audio.music->fade_out_s, 1);
  job = parse(R"({"name": "m", "platforms": ["tiktok"],
    "scenes": [{"source": {"card": {"text": "x"}}, "duration": 1}],
    "audio": {"music": {"uri": "media/music.mp3", "ducking": {"enabled": false}},
              "keep_clip_audio": {"enabled": false}}})");
  EXPECT_FALSE(job.variants[0].spec.audio.music->ducking.enabled);
  EXPECT_FALSE(job.variants[0].spec.audio.clip_audio.enabled);
}

/* A valid spec with one scene replaced, for the error tests. */
std::string with_scenes(const std::string &scenes, const std::string &extra = "") {
  return R"({"name": "e", "platforms": ["tiktok"], "scenes": [)" + scenes + "]" + extra + "}";
}

constexpr const char *kCard = R"({"source": {"card": {"text": "x"}}, "duration": 2})";

TEST_F(JobSpecTest, ABadTransitionTypeListsTheAllowedOnes) {
  const auto found = errors(with_scenes(std::string(kCard) + "," + kCard + "," +
                                        R"({"source": {"card": {"text": "x"}}, "duration": 2,
                                            "transition": {"type": "swoosh"}})"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], (SchemaError{"/scenes/2/transition/type",
                                   "\"swoosh\" is not one of cut, crossfade, fade-black, "
                                   "fade-white, wipe-left, wipe-right, wipe-up, wipe-down, "
                                   "slide-left, slide-right, slide-up, slide-down, circle-open, "
                                   "circle-close, zoom-in"}));
}

TEST_F(JobSpecTest, ACircleCloseTransitionIsAccepted) {
  const Job job = parse(with_scenes(std::string(kCard) + "," +
                                    R"({"source": {"card": {"text": "x"}}, "duration": 2,
                                        "transition": {"type": "circle-close"}})"));
  EXPECT_EQ(job.variants[0].spec.scenes[1].transition.type, TransitionType::kCircleClose);
}

TEST_F(JobSpecTest, TheErrorTextNamesTheFileAndPointer) {
  write("job.json", with_scenes(R"({"source": {"card": {"text": "x"}}, "fit": "stretch",
                                    "duration": 1})"));
  const std::string path = dir_.file("job.json");
  try {
    parse_job_spec(path);
    FAIL() << "parsed";
  } catch (const SpecError &e) {
    EXPECT_EQ(std::string(e.what()),
              path + ": /scenes/0/fit: \"stretch\" is not one of cover, contain, blur-pad");
    EXPECT_EQ(e.document(), path);
  }
}

TEST_F(JobSpecTest, AMissingFileIsNamedWithWhereItWasLookedFor) {
  const auto found = errors(with_scenes(R"({"source": {"uri": "media/nope.mp4"}})"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].pointer, "/scenes/0/source/uri");
  EXPECT_EQ(found[0].message, "no file at \"media/nope.mp4\" (looked for " +
                                  (dir_.path() / "media/nope.mp4").string() +
                                  "); fix the path (relative paths start at the spec's folder) "
                                  "or add the file");
}

TEST_F(JobSpecTest, FileUrisAndAbsolutePathsAreCheckedToo) {
  const std::string missing = (dir_.path() / "gone.png").string();
  const auto found = errors(with_scenes(R"({"source": {"uri": "file://)" + missing + R"("}},
                            {"source": {"image": ")" +
                                        missing + R"("}, "duration": 1},
                            {"source": {"uri": "file:///)" +
                                        dir_.path().string() +
                                        R"(/media/intro.mp4"}},
                            {"source": {"image": "media"}, "duration": 1},
                            {"source": {"uri": "file://media/intro.mp4"}})"));
  ASSERT_EQ(found.size(), 4u) << testing::PrintToString(found);
  EXPECT_EQ(found[0], (SchemaError{"/scenes/0/source/uri",
                                   "no file at \"file://" + missing +
                                       "\"; fix the path (relative paths start at the spec's "
                                       "folder) or add the file"}));
  EXPECT_EQ(found[1].pointer, "/scenes/1/source/image");
  EXPECT_EQ(found[2],
            (SchemaError{"/scenes/3/source/image",
                         "\"media\" is a folder, not a file; name the media file in it"}));
  EXPECT_EQ(found[3], (SchemaError{"/scenes/4/source/uri",
                                   "\"file://media/intro.mp4\" names the host \"media\", not a "
                                   "local file; write file:///absolute/path (three slashes), or a "
                                   "path relative to the spec's folder"}));
}

TEST_F(JobSpecTest, AnUnknownPlatformListsTheKnownOnes) {
  const auto found = errors(R"({"name": "e", "platforms": ["tiktok", "myspace"],
                                "scenes": [)" +
                            std::string(kCard) + "]}");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].pointer, "/platforms/1");
  EXPECT_TRUE(found[0].message.starts_with("unknown platform \"myspace\"; known platforms are "))
      << found[0].message;
  for (const char *name : {"instagram-reels", "tiktok", "youtube", "youtube-shorts"})
    EXPECT_NE(found[0].message.find(name), std::string::npos) << found[0].message;
}

TEST_F(JobSpecTest, TrimOutMustComeAfterIn) {
  const auto found = errors(with_scenes(R"({"source": {"uri": "media/intro.mp4"},
                                           "trim": {"in": 3, "out": 3}},
                                          {"source": {"uri": "media/intro.mp4"},
                                           "trim": {"in": 3, "out": 1}})"));
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0], (SchemaError{"/scenes/0/trim/out",
                                   "3 s is not after \"in\" (3 s), which leaves a zero-length "
                                   "scene; make \"out\" greater than \"in\""}));
  EXPECT_EQ(found[1], (SchemaError{"/scenes/1/trim/out",
                                   "1 s is not after \"in\" (3 s), which leaves nothing to play; "
                                   "make \"out\" greater than \"in\""}));
}

TEST_F(JobSpecTest, AZeroDurationIsRefused) {
  const auto found = errors(with_scenes(R"({"source": {"card": {"text": "x"}}, "duration": 0})"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], (SchemaError{"/scenes/0/duration", "0 must be greater than 0"}));
}

TEST_F(JobSpecTest, ATransitionLongerThanAClipItJoins) {
  const auto found = errors(with_scenes(
      std::string(kCard) + R"(, {"source": {"uri": "media/intro.mp4"}, "trim": {"out": 1},
                                 "transition": {"type": "crossfade", "duration": 1.5}})"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], (SchemaError{"/scenes/1/transition/duration",
                                   "the 1.5 s transition into scene 1 is longer than scene 1 "
                                   "(1 s); shorten the transition or lengthen the scene"}));
}

TEST_F(JobSpecTest, TheJobTransitionIsBlamedWhenNoSceneOverridesIt) {
  const auto found = errors(
      with_scenes(R"({"source": {"card": {"text": "x"}}, "duration": 0.5}, )" + std::string(kCard),
                  R"(, "transition": {"type": "fade-black", "duration": 1})"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], (SchemaError{"/transition/duration",
                                   "the 1 s transition into scene 1 is longer than scene 0 "
                                   "(0.5 s); shorten the transition or lengthen the scene"}));
}

TEST_F(JobSpecTest, TransitionsThatEatAWholeSceneLeaveItZeroLength) {
  const auto found = errors(with_scenes(
      std::string(kCard) + R"(, {"source": {"card": {"text": "x"}}, "duration": 1}, )" + kCard,
      R"(, "transition": {"type": "crossfade", "duration": 0.6})"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], (SchemaError{"/scenes/1",
                                   "the transitions into it (0.6 s) and out of it (0.6 s) overlap "
                                   "inside its 1 s, leaving a zero-length scene; shorten them or "
                                   "lengthen the scene"}));
}

TEST_F(JobSpecTest, ImagesAndCardsNeedADuration) {
  const auto found = errors(with_scenes(R"({"source": {"image": "media/product.png"}},
                                          {"source": {"card": {"text": "x"}}})"));
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0], (SchemaError{"/scenes/0/duration",
                                   "missing: a scene showing an image has no length of its own; "
                                   "give it a \"duration\" in seconds"}));
  EXPECT_EQ(found[1].pointer, "/scenes/1/duration");
  EXPECT_NE(found[1].message.find("a card"), std::string::npos);
}

TEST_F(JobSpecTest, TheFirstSceneHasNoTransitionIntoIt) {
  const auto found = errors(with_scenes(R"({"source": {"card": {"text": "x"}}, "duration": 1,
                                           "transition": {"type": "crossfade"}})"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].pointer, "/scenes/0/transition");
}

TEST_F(JobSpecTest, OverlaysEndAfterTheyStartAndOutputHasOneDestination) {
  const auto found = errors(with_scenes(kCard, R"(, "overlays": [{"text": "a", "start": 2,
      "end": 1}], "output": {"directory": "x", "uri_prefix": "s3://b/"})"));
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0], (SchemaError{"/overlays/0/end",
                                   "1 s is not after \"start\" (2 s), so it would never show; "
                                   "make \"end\" greater"}));
  EXPECT_EQ(found[1], (SchemaError{"/output",
                                   "has both \"directory\" and \"uri_prefix\"; keep one: where "
                                   "should the videos go?"}));
}

TEST_F(JobSpecTest, ATemplateNamingNoDimension) {
  auto found = errors(with_scenes(kCard, R"(, "overlays": [{"text": "${tone} now"}],
      "variations": {"dimensions": {"hook": ["a", "b"], "mood": ["calm"]}})"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0], (SchemaError{"/overlays/0/text",
                                   "${tone} names no dimension; the dimensions are hook, mood "
                                   "(declare it or fix the name)"}));

  found = errors(with_scenes(R"({"source": {"uri": "media/${hook}.mp4"}})"));
  ASSERT_EQ(found.size(), 1u) << "the missing file is not reported as well";
  EXPECT_EQ(found[0], (SchemaError{"/scenes/0/source/uri",
                                   "${hook} names no dimension; declare it under "
                                   "/variations/dimensions"}));
}

TEST_F(JobSpecTest, PlatformsTakeNoTemplates) {
  const auto found =
      errors(R"({"name": "e", "platforms": ["${p}"], "scenes": [)" + std::string(kCard) +
             R"(], "variations": {"dimensions": {"p": ["tiktok"]}}})");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].pointer, "/platforms/0");
  EXPECT_TRUE(found[0].message.starts_with("platforms cannot use ${...} templates"));
}

TEST_F(JobSpecTest, SeveralErrorsAreAllReportedInDocumentOrder) {
  const auto found = errors(R"({"name": "e", "platforms": ["tiktok", "vine"], "scenes": [
      {"source": {"uri": "media/missing.mp4"}, "trim": {"in": 2, "out": 1}},
      {"source": {"image": "media/product.png", "motion": "spin"}},
      {"source": {"card": {"text": "x", "color": "red"}}, "duration": 1,
       "transition": {"type": "swoosh"}}
    ], "overlays": [{"text": "${cta}"}], "output": {"crf": 20}})");
  std::vector<std::string> pointers;
  for (const auto &error : found) pointers.push_back(error.pointer);
  EXPECT_EQ(pointers,
            (std::vector<std::string>{"/platforms/1", "/scenes/0/source/uri", "/scenes/0/trim/out",
                                      "/scenes/1/source/motion", "/scenes/1/duration",
                                      "/scenes/2/source/card/color", "/scenes/2/transition/type",
                                      "/overlays/0/text", "/output/crf"}))
      << testing::PrintToString(found);
  EXPECT_EQ(found[5].message,
            "\"red\" is not a colour; write \"#RRGGBB\" or \"#RRGGBBAA\" in hexadecimal, e.g. "
            "\"#1E3A8A\"");
  EXPECT_EQ(found[8].message.substr(0, 22), "unknown property \"crf\"");
}

TEST_F(JobSpecTest, ASourceAndAnOverlayShowExactlyOneThing) {
  const auto found = errors(with_scenes(
      R"({"source": {"uri": "media/intro.mp4", "image": "media/gone.png"}},
         {"source": {}, "duration": 1},
         {"source": {"uri": "http://example.com/a.mp4", "motion": "zoom-in"}})",
      R"(, "overlays": [{"text": "a", "image": "media/logo.png"}, {"image": "media/logo.png",
                         "style": {}}, {"start": 1}])"));
  EXPECT_EQ(
      found,
      (std::vector<SchemaError>{
          {"/scenes/0/source",
           "has \"uri\" and \"image\"; keep only one: a scene shows a "
           "video clip (uri), an image, a card or a generated clip"},
          {"/scenes/0/source/image",
           "no file at \"media/gone.png\" (looked for " +
               (dir_.path() / "media/gone.png").string() +
               "); fix the path (relative paths start at the spec's folder) or add the file"},
          {"/scenes/0/duration",
           "missing: a scene showing an image has no length of its "
           "own; give it a \"duration\" in seconds"},
          {"/scenes/1/source",
           "needs one of \"uri\", \"image\", \"card\" or \"generate\": a scene shows "
           "a video clip (uri), an image, a card or a generated clip"},
          {"/scenes/2/source", "property \"motion\" requires property \"image\""},
          {"/scenes/2/source/uri",
           "\"http://example.com/a.mp4\" is not a media location; use a path relative to "
           "the spec's folder, or a file://, https://, s3:// or genvideo:// URI"},
          {"/overlays/0",
           "has \"text\" and \"image\"; keep only one: an overlay shows text "
           "or an image"},
          {"/overlays/1", "property \"style\" requires property \"text\""},
          {"/overlays/2", "needs one of \"text\" or \"image\": an overlay shows text or an image"},
      }));
}

TEST_F(JobSpecTest, ErrorsInSomeVariantsSayWhichVariants) {
  const auto found = errors(with_scenes(
      R"({"source": {"uri": "media/hook-${hook}.mp4"}},
         {"source": {"image": "media/product.png", "motion": "${motion}"}, "duration": 2})",
      R"(, "variations": {"dimensions": {"hook": ["a", "b", "c"],
                                          "motion": ["zoom-in", "spin"]}})"));
  ASSERT_EQ(found.size(), 2u) << testing::PrintToString(found);
  EXPECT_EQ(found[0],
            (SchemaError{"/scenes/0/source/uri",
                         "no file at \"media/hook-c.mp4\" (looked for " +
                             (dir_.path() / "media/hook-c.mp4").string() +
                             "); fix the path (relative paths start at the spec's "
                             "folder) or add the file (in variants hook-c_motion-zoom-in, "
                             "hook-c_motion-spin)"}));
  EXPECT_EQ(found[1].pointer, "/scenes/1/source/motion");
  EXPECT_TRUE(found[1].message.starts_with("\"spin\" is not one of none, ken-burns"));
  EXPECT_TRUE(found[1].message.ends_with(
      "(in variants hook-a_motion-spin, hook-b_motion-spin, hook-c_motion-spin)"))
      << found[1].message;
}

TEST_F(JobSpecTest, BadExclusionRules) {
  const auto found = errors(with_scenes(kCard, R"(, "variations": {
      "dimensions": {"hook": ["a", "b"], "cta": ["Buy now", "buy-now!"]},
      "exclude": [{"hok": "a"}, {"hook": "z"}]})"));
  ASSERT_EQ(found.size(), 3u) << testing::PrintToString(found);
  EXPECT_EQ(found[0], (SchemaError{"/variations/dimensions/cta/1",
                                   "\"buy-now!\" and \"Buy now\" would name the same variant "
                                   "(\"cta-buy-now\"); make them differ in their letters or "
                                   "digits"}));
  EXPECT_EQ(found[1], (SchemaError{"/variations/exclude/0/hok",
                                   "there is no dimension \"hok\"; the dimensions are hook, cta"}));
  EXPECT_EQ(found[2], (SchemaError{"/variations/exclude/1/hook",
                                   "\"z\" is not a value of \"hook\", so this rule never matches; "
                                   "use one of a, b"}));
}

TEST_F(JobSpecTest, ExcludingEverythingIsAnError) {
  const auto found = errors(with_scenes(kCard, R"(, "variations": {
      "dimensions": {"hook": ["a"]}, "exclude": [{"hook": "a"}]})"));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].pointer, "/variations/exclude");
}

TEST_F(JobSpecTest, UnreadableAndBrokenFilesAreSpecErrors) {
  try {
    parse_job_spec(dir_.file("absent.json"));
    FAIL();
  } catch (const SpecError &e) {
    ASSERT_EQ(e.errors().size(), 1u);
    EXPECT_TRUE(std::string(e.what()).starts_with(dir_.file("absent.json") + ": ")) << e.what();
  }
  write("broken.json", "{\"name\": ");
  try {
    parse_job_spec(dir_.file("broken.json"));
    FAIL();
  } catch (const SpecError &e) {
    EXPECT_TRUE(std::string(e.what()).starts_with(dir_.file("broken.json") + ": not valid JSON"))
        << e.what();
  }
}

/* ---- Variations ---- */

TEST_F(JobSpecTest, VariationsExpandSubstituteAndName) {
  const Job job = parse(R"({"name": "${hook} campaign", "platforms": ["tiktok", "youtube-shorts"],
    "scenes": [{"source": {"uri": "media/hook-${hook}.mp4"}},
               {"source": {"card": {"text": "Feel ${mood}", "font": "Sans ${size}"}},
                "duration": "${length}"}],
    "overlays": [{"text": "${cta}!", "style": {"font": "${mood} font"}}],
    "output": {"directory": "out/${mood}"},
    "variations": {
      "dimensions": {"hook": ["a", "b"], "mood": ["calm", "Hype Up"], "length": [2, 3.5],
                     "cta": ["Buy"], "size": [40]},
      "exclude": [{"hook": "b", "mood": "calm"}, {"length": 3.5, "mood": "Hype Up"}]}})");
  std::vector<std::string> names;
  for (const JobVariant &variant : job.variants) names.push_back(variant.variant.name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "hook-a_mood-calm_length-2_cta-buy_size-40",
                       "hook-a_mood-calm_length-3-5_cta-buy_size-40",
                       "hook-a_mood-hype-up_length-2_cta-buy_size-40",
                       "hook-b_mood-hype-up_length-2_cta-buy_size-40",
                   }));
  EXPECT_EQ(job.outputs().size(), 8u);
  EXPECT_EQ(job.outputs()[1].name, "hook-a_mood-calm_length-2_cta-buy_size-40.youtube-shorts");

  const JobSpec &last = job.variants[3].spec;
  EXPECT_EQ(last.name, "b campaign");
  EXPECT_EQ(std::get<ClipSource>(last.scenes[0].source).media.uri, uri("media/hook-b.mp4"));
  const CardSource &card = std::get<CardSource>(last.scenes[1].source);
  EXPECT_EQ(card.text, "Feel Hype Up");
  EXPECT_EQ(card.font, "Sans 40");
  EXPECT_EQ(last.scenes[1].duration_s, 2);
  EXPECT_EQ(std::get<TextOverlay>(last.overlays[0].content).text, "Buy!");
  EXPECT_EQ(std::get<TextOverlay>(last.overlays[0].content).style.font, "Hype Up font");
  EXPECT_EQ(last.output.directory, dir_.path() / "out/Hype Up");
  EXPECT_EQ(job.variants[1].spec.scenes[1].duration_s, 3.5);
  EXPECT_EQ(job.variants[0].variant.value_of("mood")->text, "calm");
}

TEST(Variations, NoDimensionsMakeOneVariantNamedAfterTheJob) {
  EXPECT_EQ(expand_variations({}, "Spring Launch 2026!"),
            (std::vector<Variant>{{"spring-launch-2026", {}}}));
  EXPECT_EQ(expand_variations({}, "***")[0].name, "job");
}

TEST(Variations, TheFirstDimensionVariesSlowest) {
  Variations variations;
  variations.dimensions = {{"a", {{"1", true}, {"2", true}}},
                           {"b", {{"x", false}, {"y", false}, {"z", false}}}};
  variations.exclude = {{{{"b", "y"}}}, {{{"a", "2"}, {"b", "z"}}}};
  std::vector<std::string> names;
  for (const Variant &variant : expand_variations(variations, "job")) names.push_back(variant.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a-1_b-x", "a-1_b-z", "a-2_b-x"}));
}

TEST(Variations, TemplatesAreFoundAndSubstituted) {
  const Variant variant{"v", {{"hook", {"A", false}}, {"n", {"3", true}}}};
  EXPECT_EQ(substitute_templates("${hook}-${n}-${other}-$hook-${ hook}-${", variant),
            "A-3-${other}-$hook-${ hook}-${");
  const auto found = find_templates("x ${a_1} ${b-2}${9} ${}");
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].name, "a_1");
  EXPECT_EQ(found[0].offset, 2u);
  EXPECT_EQ(found[0].length, 6u);
  EXPECT_EQ(found[1].name, "b-2");
}

TEST(Variations, DocumentsAreSubstitutedDeeplyExceptSkippedMembers) {
  JsonNodePtr document = parse_json(
      R"({"a": {"b": ["${hook}", {"c": "x${hook}"}], "n": "${n}", "m": "${n}s"},
          "variations": {"v": "${hook}"}})",
      "inline");
  const Variant variant{"v", {{"hook", {"A", false}}, {"n", {"2.5", true}}}};
  JsonNodePtr result = substitute_document(document.get(), variant, {"variations"});
  EXPECT_EQ(to_json_string(result.get(), false),
            R"({"a":{"b":["A",{"c":"xA"}],"n":2.5,"m":"2.5s"},"variations":{"v":"${hook}"}})");
}

TEST(Variations, NamesAreSanitised) {
  EXPECT_EQ(sanitise_name("  Hype Up! (v2) "), "hype-up-v2");
  EXPECT_EQ(sanitise_name("a_b.c"), "a-b-c");
  EXPECT_EQ(sanitise_name("Été"), "t");
  EXPECT_EQ(variant_name({{"Call To", {"Buy Now", false}}, {"n", {"1.5", true}}}),
            "call-to-buy-now_n-1-5");
}

}  // namespace
}  // namespace spec
}  // namespace reelforge
