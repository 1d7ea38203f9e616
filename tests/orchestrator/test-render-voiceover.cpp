/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `reelforge render` with a voiceover spoken from text: scenes fitted to the
 * speech, word-highlight captions that follow the words (checked in the
 * decoded frames), the loudness target met, and the render's speech read
 * back from the TTS cache the planner filled.
 */
#include "json-file.h"
#include "plan/render-plan.h"
#include "plan/voiceover-plan.h"
#include "test-environment.h"

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include <fstream>
#include <optional>

namespace reelforge::test {
namespace {

void write_file(const std::string &path, const std::string &text) {
  std::ofstream(path) << text;
}

/* A gst-launch property value in double quotes (the values here hold none). */
std::string quoted(const std::string &value) {
  return "\"" + value + "\"";
}

struct Word {
  std::string text;
  GstClockTime start, end;
};

struct Speech {
  std::vector<Word> words;
  GstClockTime duration = 0;
  std::string cache;
};

GstFlowReturn on_word(GstAppSink *sink, gpointer user_data) {
  auto *words = static_cast<std::vector<Word> *>(user_data);
  SamplePtr sample(gst_app_sink_pull_sample(sink));
  GstBuffer *buffer = gst_sample_get_buffer(sample.get());
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_READ);
  words->push_back({std::string(reinterpret_cast<const char *>(map.data), map.size),
                    GST_BUFFER_PTS(buffer), GST_BUFFER_PTS(buffer) + GST_BUFFER_DURATION(buffer)});
  gst_buffer_unmap(buffer, &map);
  return GST_FLOW_OK;
}

/* What ttssrc says for properties, with the cache the render used. */
Speech speak(const std::string &properties) {
  Speech speech;
  const std::string description = "ttssrc name=tts " + properties + " cache-dir=\"" +
                                  std::string(g_getenv("REELFORGE_TTS_CACHE")) + "\"" +
                                  " ! fakesink tts.captions ! appsink name=words sync=false";
  GError *raw_error = nullptr;
  GstElement *parsed = gst_parse_launch(description.c_str(), &raw_error);
  GErrorPtr error(raw_error);
  EXPECT_TRUE(parsed && !error) << description;
  if (!parsed) return speech;
  auto pipeline = adopt_floating(parsed);
  GstObjectPtr<GstElement> words(gst_bin_get_by_name(GST_BIN(pipeline.get()), "words"));
  GstAppSinkCallbacks callbacks = {};
  callbacks.new_sample = on_word;
  gst_app_sink_set_callbacks(GST_APP_SINK(words.get()), &callbacks, &speech.words, nullptr);
  PipelineRun run = run_pipeline(pipeline.get());
  EXPECT_TRUE(run.reached_eos) << run.error;
  const auto done = run.messages("ttssrc-done");
  if (done.size() == 1) {
    speech.duration = get_uint64(done[0], "duration");
    speech.cache = get_string(done[0], "cache");
  }
  return speech;
}

/* Red and white pixels in a band of an RGB frame. */
struct Band {
  int red = 0, white = 0;
  double red_x = 0; /* mean x of the red pixels */
};

struct Frame {
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  int width = 0, height = 0, stride = 0;
  std::vector<guint8> rgb;

  Band measure(int top, int bottom) const {
    Band band;
    double sum_x = 0;
    for (int y = top; y < bottom; ++y)
      for (int x = 0; x < width; ++x) {
        const guint8 *p = &rgb[static_cast<size_t>(y) * stride + x * 3];
        if (p[0] > 170 && p[1] < 90 && p[2] < 90) {
          ++band.red;
          sum_x += x;
        } else if (p[0] > 200 && p[1] > 200 && p[2] > 200) {
          ++band.white;
        }
      }
    band.red_x = band.red ? sum_x / band.red : -1;
    return band;
  }
};

/* The decoded frames of path that show the times wanted. */
std::vector<Frame> frames_at(const std::string &path, const std::vector<GstClockTime> &wanted) {
  struct Collect {
    const std::vector<GstClockTime> *wanted;
    std::vector<Frame> frames;
  } collect{&wanted, std::vector<Frame>(wanted.size())};
  const std::string description =
      "filesrc location=" + quoted(path) +
      " ! qtdemux ! avdec_h264 ! videoconvert ! video/x-raw,format=RGB ! appsink name=frames "
      "sync=false";
  GError *raw_error = nullptr;
  auto pipeline = adopt_floating(gst_parse_launch(description.c_str(), &raw_error));
  GErrorPtr error(raw_error);
  GstObjectPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "frames"));
  GstAppSinkCallbacks callbacks = {};
  callbacks.new_sample = [](GstAppSink *appsink, gpointer user_data) {
    auto *c = static_cast<Collect *>(user_data);
    SamplePtr sample(gst_app_sink_pull_sample(appsink));
    GstBuffer *buffer = gst_sample_get_buffer(sample.get());
    const GstClockTime pts = GST_BUFFER_PTS(buffer), end = pts + GST_BUFFER_DURATION(buffer);
    for (size_t i = 0; i < c->wanted->size(); ++i) {
      if ((*c->wanted)[i] < pts || (*c->wanted)[i] >= end) continue;
      GstVideoInfo info;
      gst_video_info_from_caps(&info, gst_sample_get_caps(sample.get()));
      Frame &frame = c->frames[i];
      frame.pts = pts;
      frame.width = GST_VIDEO_INFO_WIDTH(&info);
      frame.height = GST_VIDEO_INFO_HEIGHT(&info);
      frame.stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
      GstMapInfo map;
      gst_buffer_map(buffer, &map, GST_MAP_READ);
      frame.rgb.assign(map.data, map.data + map.size);
      gst_buffer_unmap(buffer, &map);
    }
    return GST_FLOW_OK;
  };
  gst_app_sink_set_callbacks(GST_APP_SINK(sink.get()), &callbacks, &collect, nullptr);
  PipelineRun run = run_pipeline(pipeline.get());
  EXPECT_TRUE(run.reached_eos) << run.error;
  return collect.frames;
}

TEST(RenderVoiceover, CaptionsHighlightTheSpokenWordAndScenesFitTheSpeech) {
  TempDir dir;
  std::filesystem::create_directories(dir.file("profiles"));
  /* 320x568; the house level fails outside -14 +-1 LUFS. */
  write_file(dir.file("profiles/small.json"), R"({
    "name": "small", "title": "Small test canvas",
    "canvas": {"width": 320, "height": 568, "fps": 30},
    "loudness": {"target_lufs": -14.0, "true_peak_dbtp": -1.0},
    "safe_zone": {"top": 40, "bottom": 120, "left": 0, "right": 40},
    "levels": {"house": {"severity": "fail", "limits": {"duration_s": {"max": 60},
               "integrated_lufs": {"min": -15, "max": -13}, "true_peak_dbtp": {"max": -0.5},
               "audio_required": true}}}})");
  g_setenv("REELFORGE_PLATFORMS_PATH", dir.file("profiles").c_str(), TRUE);

  const std::string text = "Buy the blue one today. Only here.";
  const std::string spec = dir.file("spoken.json");
  write_file(spec, R"({"name": "spoken", "platforms": ["small"],
    "scenes": [
      {"source": {"card": {"text": "Blue", "background": "#1E3A8A"}}, "duration": 1},
      {"source": {"card": {"text": "Sale", "background": "#0F766E"}}, "duration": 1,
       "transition": {"type": "crossfade", "duration": 0.25}}],
    "duration": "voiceover",
    "audio": {"voiceover": {"text": ")" +
                       text + R"(", "tts": {"voice": "en-us"}}},
    "captions": {"from": "voiceover", "max_words": 3, "highlight_color": "#FF0000",
                 "text_style": {"size": 90, "color": "#FFFFFF", "anchor": "bottom"}},
    "output": {"directory": "out", "thumbnails": 1, "video": {"preset": "ultrafast"}}})");
  const ProgramResult result = reelforge({"render", spec, "--progress=none"});
  g_unsetenv("REELFORGE_PLATFORMS_PATH");
  ASSERT_EQ(result.status, 0) << result.output;
  EXPECT_NE(result.output.find("QC pass"), std::string::npos) << result.output;

  /* The render left the speech in the cache: the same request is a hit. */
  const Speech speech = speak("text=" + quoted(text) + " voice=en-us");
  std::string cached;
  for (const auto &entry : std::filesystem::directory_iterator(g_getenv("REELFORGE_TTS_CACHE")))
    cached += entry.path().filename().string() + "\n";
  EXPECT_EQ(speech.cache, "hit") << "the cache holds:\n" << cached;
  ASSERT_EQ(speech.words.size(), 7u);

  /* The loudness target, and the video's length: the speech + 0.5 s. */
  JsonNodePtr report = load_json_file(dir.file("out/spoken.small.qc.json"));
  JsonObject *root = json_node_get_object(report.get());
  EXPECT_STREQ(json_object_get_string_member(root, "verdict"), "pass");
  JsonObject *measurements = json_object_get_object_member(root, "measurements");
  JsonObject *loudness = json_object_get_object_member(measurements, "loudness");
  EXPECT_NEAR(json_object_get_double_member(loudness, "integrated_lufs"), -14.0, 1.0);
  EXPECT_NEAR(json_object_get_double_member(measurements, "duration_s"),
              static_cast<double>(speech.duration) / GST_SECOND + 0.5, 0.05);

  /* "Buy the blue": red moves from the left word to the right one, inside
   * the caption band above the bottom safe margin; nothing red elsewhere. */
  auto middle = [&](size_t i) { return (speech.words[i].start + speech.words[i].end) / 2; };
  const std::vector<Frame> frames =
      frames_at(dir.file("out/spoken.small.mp4"), {middle(0), middle(2)});
  ASSERT_EQ(frames.size(), 2u);
  for (const Frame &frame : frames) ASSERT_FALSE(frame.rgb.empty()) << "no frame decoded";
  const int band_top = 568 / 2, band_bottom = 568 - 120;
  const Band on_buy = frames[0].measure(band_top, band_bottom);
  const Band on_blue = frames[1].measure(band_top, band_bottom);
  EXPECT_GT(on_buy.red, 30) << "\"Buy\" is not highlighted";
  EXPECT_GT(on_blue.red, 30) << "\"blue\" is not highlighted";
  EXPECT_GT(on_buy.white, 30) << "the rest of the page is not drawn in white";
  EXPECT_LT(on_buy.red_x + 40, on_blue.red_x)
      << "the highlight did not move from \"Buy\" (left) to \"blue\" (right)";
  EXPECT_LT(frames[0].measure(0, band_top).red, 5);
  EXPECT_LT(frames[0].measure(band_bottom, 568).red, 5) << "a caption left the safe zone";
}

TEST(RenderVoiceover, CaptionsWithoutSpokenTextNameTheField) {
  TempDir dir;
  const std::string spec = dir.file("recorded.json");
  write_file(spec, R"({"name": "recorded", "platforms": ["tiktok"],
    "scenes": [{"source": {"card": {"text": "x"}}, "duration": 1}],
    "duration": "voiceover",
    "captions": {"from": "voiceover"}})");
  const ProgramResult result = reelforge({"validate", spec});
  EXPECT_EQ(result.status, 2) << result.output;
  EXPECT_NE(result.output.find("/captions/from: needs a spoken voiceover"), std::string::npos)
      << result.output;
  EXPECT_NE(result.output.find("/duration: needs a spoken voiceover"), std::string::npos)
      << result.output;
}

/* Caption pages from word timings, without rendering. */
plan::VoiceoverTiming five_words() {
  plan::VoiceoverTiming timing;
  timing.duration_s = 3.0;
  const char *texts[] = {"One", "two", "three.", "Four", "five"};
  for (int i = 0; i < 5; ++i) timing.words.push_back({texts[i], 0.5 * i, 0.5 * i + 0.4});
  return timing;
}

JsonArray *cue_array(const JsonNodePtr &root) {
  return json_node_get_array(root.get());
}

TEST(CaptionPages, WordHighlightPagesHoldAtMostMaxWordsAndEndAtSentences) {
  spec::Captions captions;
  captions.max_words = 2;
  JsonNodePtr cues = parse_json(plan::caption_cues_json(captions, five_words(), 3.0, 1080), "cues");
  JsonArray *array = cue_array(cues);
  /* "One two" | "three." (the sentence ends) | "Four five" */
  ASSERT_EQ(json_array_get_length(array), 3u);
  const char *pages[] = {"One two", "three.", "Four five"};
  for (guint i = 0; i < 3; ++i) {
    JsonObject *cue = json_array_get_object_element(array, i);
    EXPECT_STREQ(json_object_get_string_member(cue, "text"), pages[i]);
    EXPECT_TRUE(json_object_has_member(cue, "words"));
  }
  JsonObject *first = json_array_get_object_element(array, 0);
  EXPECT_DOUBLE_EQ(json_object_get_double_member(first, "start"), 0.0);
  /* A page lasts until the next one starts. */
  EXPECT_DOUBLE_EQ(json_object_get_double_member(first, "end"), 1.0);
  JsonArray *words = json_object_get_array_member(first, "words");
  ASSERT_EQ(json_array_get_length(words), 2u);
  /* A word is current until the next starts. */
  EXPECT_DOUBLE_EQ(json_object_get_double_member(json_array_get_object_element(words, 0), "end"),
                   0.5);
  JsonObject *style = json_object_get_object_member(first, "style");
  EXPECT_STREQ(json_object_get_string_member(style, "highlight_color"), "#FFD400FF");
  /* The last page stays 0.6 s after its last word's end (2.4 s), within
   * the video. */
  EXPECT_DOUBLE_EQ(json_object_get_double_member(json_array_get_object_element(array, 2), "end"),
                   3.0);
}

TEST(CaptionPages, PhraseHasNoWordsAndKaraokeColoursTheWordsSpokenSoFar) {
  spec::Captions captions;
  captions.max_words = 3;
  captions.style = spec::CaptionStyle::kPhrase;
  JsonNodePtr phrase =
      parse_json(plan::caption_cues_json(captions, five_words(), 3.0, 1080), "cues");
  ASSERT_EQ(json_array_get_length(cue_array(phrase)), 2u);
  EXPECT_FALSE(
      json_object_has_member(json_array_get_object_element(cue_array(phrase), 0), "words"));

  captions.style = spec::CaptionStyle::kKaraoke;
  captions.highlight_color = {0xFF, 0, 0, 255};
  JsonNodePtr karaoke =
      parse_json(plan::caption_cues_json(captions, five_words(), 3.0, 1080), "cues");
  ASSERT_EQ(json_array_get_length(cue_array(karaoke)), 5u); /* one cue per word */
  JsonObject *second = json_array_get_object_element(cue_array(karaoke), 1);
  EXPECT_TRUE(json_object_get_boolean_member(second, "markup"));
  EXPECT_STREQ(json_object_get_string_member(second, "text"),
               "<span foreground=\"#FF0000\">One two</span> three.");
  EXPECT_DOUBLE_EQ(json_object_get_double_member(second, "start"), 0.5);
  EXPECT_DOUBLE_EQ(json_object_get_double_member(second, "end"), 1.0);
}

TEST(CaptionPages, ScenesStretchToTheSpeechButClipsKeepTheirLength) {
  spec::JobSpec job;
  spec::Scene card;
  card.source = spec::CardSource{};
  spec::Scene clip;
  clip.source = spec::ClipSource{};
  clip.transition = {spec::TransitionType::kCrossfade, 0.5};
  job.scenes = {card, clip, card};
  job.scenes[2].transition = {spec::TransitionType::kCrossfade, 0.5};
  /* 1 + 2 + 1 - 1 = 3 s; to 5 s: the cards take the 2 s more. */
  const std::vector<double> fitted = plan::fit_scenes_to(job, {1, 2, 1}, 5.0);
  EXPECT_DOUBLE_EQ(fitted[0], 2.0);
  EXPECT_DOUBLE_EQ(fitted[1], 2.0);
  EXPECT_DOUBLE_EQ(fitted[2], 2.0);
  /* Shorter than the clip alone: impossible, and said so. */
  try {
    plan::fit_scenes_to(job, {1, 2, 1}, 0.5);
    ADD_FAILURE() << "no error";
  } catch (const plan::PlanError &e) {
    EXPECT_NE(std::string(e.what()).find("/duration"), std::string::npos) << e.what();
  }
}

spec::Job parse(const std::string &json) {
  JsonNodePtr document = parse_json(json, "job.json");
  return spec::parse_job_document(document.get(), "job.json", std::filesystem::current_path());
}

TEST(SpokenVoiceoverSpec, TextAndTtsAreReadWithDefaults) {
  const spec::Job job = parse(R"({"name": "s", "platforms": ["tiktok"],
    "scenes": [{"source": {"card": {"text": "x"}}, "duration": 1}],
    "duration": "voiceover",
    "audio": {"voiceover": {"text": "Hello there.", "tts": {"voice": "en-us+f3", "speed": 0.9}}},
    "captions": {"from": "voiceover", "style": "karaoke", "max_words": 2}})");
  const spec::JobSpec &s = job.variants.at(0).spec;
  ASSERT_TRUE(s.audio.spoken_voiceover);
  EXPECT_FALSE(s.audio.voiceover);
  EXPECT_EQ(s.audio.spoken_voiceover->text, "Hello there.");
  EXPECT_EQ(s.audio.spoken_voiceover->backend, "espeak");
  EXPECT_EQ(s.audio.spoken_voiceover->voice, "en-us+f3");
  EXPECT_EQ(s.audio.spoken_voiceover->language, "en");
  EXPECT_DOUBLE_EQ(s.audio.spoken_voiceover->speed, 0.9);
  EXPECT_TRUE(s.duration_from_voiceover);
  ASSERT_TRUE(s.captions);
  EXPECT_EQ(s.captions->style, spec::CaptionStyle::kKaraoke);
  EXPECT_EQ(s.captions->max_words, 2);
  EXPECT_TRUE(s.captions->text_style.stroke) << "captions default to an outline";
}

TEST(SpokenVoiceoverSpec, BadVoiceoversNameTheField) {
  const std::string head = R"({"name": "s", "platforms": ["tiktok"],
    "scenes": [{"source": {"card": {"text": "x"}}, "duration": 1}], "audio": {"voiceover": )";
  const std::pair<const char *, const char *> cases[] = {
      {R"({"uri": "https://example.com/vo.wav", "text": "Hi"}})",
       "/audio/voiceover: has \"uri\" and \"text\"; keep only one"},
      {R"({"text": " ... "}})", "/audio/voiceover/text: has no words to speak"},
      {R"({"text": "Hi", "tts": {"backend": "festival"}}})", "/audio/voiceover/tts/backend"},
      {R"({"tts": {"backend": "espeak"}}})", "/audio/voiceover: needs one of \"uri\" or \"text\""},
  };
  for (const auto &[voiceover, mention] : cases) {
    try {
      parse(head + voiceover + "}");
      ADD_FAILURE() << voiceover << " was accepted";
    } catch (const spec::SpecError &e) {
      EXPECT_NE(std::string(e.what()).find(mention), std::string::npos) << voiceover << "\n"
                                                                        << e.what();
    }
  }
}

}  // namespace
}  // namespace reelforge::test
