/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ttssrc with real espeak-ng synthesis: words and their timings against the
 * audio they describe, long texts joined seamlessly, the cache, bad input.
 */
#include "test-environment.h"

#include <gst/app/gstappsink.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace reelforge::test {
namespace {

struct Word {
  std::string text;
  GstClockTime pts, duration;
};

struct AudioBuffer {
  GstClockTime pts, duration;
  guint64 offset, offset_end;
};

/* What ttssrc pushed on both pads, and what the pipeline posted. */
struct Spoken {
  PipelineRun run;
  std::vector<gint16> samples;
  std::vector<AudioBuffer> buffers;
  std::vector<Word> words;
  gint rate = 0;

  const GstStructure *done() const {
    auto done = run.messages("ttssrc-done");
    return done.size() == 1 ? done[0] : nullptr;
  }
};

GstFlowReturn on_audio(GstAppSink *sink, gpointer user_data) {
  auto *spoken = static_cast<Spoken *>(user_data);
  SamplePtr sample(gst_app_sink_pull_sample(sink));
  GstBuffer *buffer = gst_sample_get_buffer(sample.get());
  const GstStructure *s = gst_caps_get_structure(gst_sample_get_caps(sample.get()), 0);
  gst_structure_get_int(s, "rate", &spoken->rate);
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_READ);
  const auto *data = reinterpret_cast<const gint16 *>(map.data);
  spoken->samples.insert(spoken->samples.end(), data, data + map.size / 2);
  gst_buffer_unmap(buffer, &map);
  spoken->buffers.push_back({GST_BUFFER_PTS(buffer), GST_BUFFER_DURATION(buffer),
                             GST_BUFFER_OFFSET(buffer), GST_BUFFER_OFFSET_END(buffer)});
  return GST_FLOW_OK;
}

GstFlowReturn on_word(GstAppSink *sink, gpointer user_data) {
  auto *spoken = static_cast<Spoken *>(user_data);
  SamplePtr sample(gst_app_sink_pull_sample(sink));
  GstBuffer *buffer = gst_sample_get_buffer(sample.get());
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_READ);
  spoken->words.push_back({std::string(reinterpret_cast<const char *>(map.data), map.size),
                           GST_BUFFER_PTS(buffer), GST_BUFFER_DURATION(buffer)});
  gst_buffer_unmap(buffer, &map);
  return GST_FLOW_OK;
}

/* Runs ttssrc with properties (gst-launch syntax) into two appsinks. */
Spoken speak(const std::string &properties) {
  Spoken spoken;
  GError *raw_error = nullptr;
  const std::string description = "ttssrc name=tts " + properties +
                                  " ! appsink name=audio sync=false "
                                  "tts.captions ! appsink name=words sync=false";
  GstElement *parsed = gst_parse_launch(description.c_str(), &raw_error);
  GErrorPtr error(raw_error);
  if (!parsed || error) {
    ADD_FAILURE() << description << ": " << (error ? error->message : "?");
    if (parsed) gst_object_unref(parsed);
    return spoken;
  }
  auto pipeline = adopt_floating(parsed);
  GstAppSinkCallbacks audio_callbacks = {};
  audio_callbacks.new_sample = on_audio;
  GstAppSinkCallbacks word_callbacks = {};
  word_callbacks.new_sample = on_word;
  GstObjectPtr<GstElement> audio(gst_bin_get_by_name(GST_BIN(pipeline.get()), "audio"));
  GstObjectPtr<GstElement> words(gst_bin_get_by_name(GST_BIN(pipeline.get()), "words"));
  gst_app_sink_set_callbacks(GST_APP_SINK(audio.get()), &audio_callbacks, &spoken, nullptr);
  gst_app_sink_set_callbacks(GST_APP_SINK(words.get()), &word_callbacks, &spoken, nullptr);
  spoken.run = run_pipeline(pipeline.get());
  return spoken;
}

/* Our own definition of "voiced", independent of the element's: the first
 * 10 ms window whose RMS is above -40 dBFS. */
GstClockTime first_voiced(const std::vector<gint16> &samples, gint rate) {
  const gsize window = rate / 100;
  for (gsize start = 0; start + window <= samples.size(); start += window / 2) {
    double energy = 0;
    for (gsize i = start; i < start + window; ++i) energy += double(samples[i]) * samples[i];
    const double rms = std::sqrt(energy / window) / 32768.0;
    if (rms > 0.01) return gst_util_uint64_scale(start, GST_SECOND, rate);
  }
  return GST_CLOCK_TIME_NONE;
}

std::vector<std::string> split_words(const std::string &text) {
  std::istringstream in(text);
  return {std::istream_iterator<std::string>(in), std::istream_iterator<std::string>()};
}

void expect_words_in_order(const Spoken &spoken) {
  const GstClockTime audio_duration =
      gst_util_uint64_scale(spoken.samples.size(), GST_SECOND, spoken.rate);
  GstClockTime previous_end = 0;
  for (const Word &word : spoken.words) {
    ASSERT_TRUE(GST_CLOCK_TIME_IS_VALID(word.pts)) << word.text;
    EXPECT_GT(word.duration, 0u) << word.text;
    EXPECT_GE(word.pts, previous_end) << word.text << " overlaps the word before it";
    EXPECT_LE(word.pts + word.duration, audio_duration + GST_MSECOND) << word.text;
    previous_end = word.pts + word.duration;
  }
}

TEST(TtsSrc, EspeakSpeaksEveryWordAtItsSound) {
  const std::string text =
      "Meet Nova Buds. Twelve hours of music, and noise that simply disappears!";
  Spoken spoken = speak("text=\"" + text + "\"");
  ASSERT_TRUE(spoken.run.reached_eos) << spoken.run.error;
  EXPECT_EQ(spoken.rate, 22050);
  ASSERT_FALSE(spoken.samples.empty());

  std::vector<std::string> texts;
  for (const Word &word : spoken.words) texts.push_back(word.text);
  EXPECT_EQ(texts, split_words(text));
  expect_words_in_order(spoken);

  const GstClockTime voiced = first_voiced(spoken.samples, spoken.rate);
  ASSERT_TRUE(GST_CLOCK_TIME_IS_VALID(voiced));
  ASSERT_FALSE(spoken.words.empty());
  const GstClockTimeDiff lead = GST_CLOCK_DIFF(voiced, spoken.words.front().pts);
  EXPECT_LE(std::llabs(lead), 50 * GST_MSECOND)
      << "first word at " << spoken.words.front().pts << " ns, first voice at " << voiced << " ns";

  const GstStructure *done = spoken.done();
  ASSERT_NE(done, nullptr);
  EXPECT_EQ(get_string(done, "backend"), "espeak");
  EXPECT_EQ(get_string(done, "cache"), "miss");
  EXPECT_EQ(get_uint64(done, "duration"),
            gst_util_uint64_scale_round(spoken.samples.size(), GST_SECOND, spoken.rate));
  guint words = 0, characters = 0;
  gst_structure_get_uint(done, "words", &words);
  gst_structure_get_uint(done, "characters", &characters);
  EXPECT_EQ(words, spoken.words.size());
  EXPECT_EQ(characters, text.size());
  EXPECT_EQ(get_uint64(done, "timestamp"), 0u);
}

TEST(TtsSrc, LongTextIsSpokenInPiecesOnOneTimeline) {
  std::string text;
  for (int i = 1; text.size() < 5000; ++i)
    text += "Sentence " + std::to_string(i) + " tells the story of a quiet morning by the sea. ";
  Spoken spoken = speak("text=\"" + text + "\" speed=2.5");
  ASSERT_TRUE(spoken.run.reached_eos) << spoken.run.error;
  const GstStructure *done = spoken.done();
  ASSERT_NE(done, nullptr);
  guint pieces = 0;
  gst_structure_get_uint(done, "pieces", &pieces);
  EXPECT_GE(pieces, 3u);

  EXPECT_EQ(spoken.words.size(), split_words(text).size());
  expect_words_in_order(spoken);

  /* The audio has no gap nor overlap anywhere, the joins included. */
  guint64 next_offset = 0;
  GstClockTime next_pts = 0;
  for (const AudioBuffer &buffer : spoken.buffers) {
    ASSERT_EQ(buffer.offset, next_offset);
    ASSERT_EQ(buffer.pts, next_pts);
    next_offset = buffer.offset_end;
    next_pts = buffer.pts + buffer.duration;
  }
  EXPECT_EQ(next_offset, spoken.samples.size());
  /* Words keep pace with the audio up to the end: the last is spoken in
   * the last two seconds. */
  const GstClockTime end = gst_util_uint64_scale(spoken.samples.size(), GST_SECOND, spoken.rate);
  EXPECT_GT(spoken.words.back().pts + 2 * GST_SECOND, end);
}

TEST(TtsSrc, CacheHitSynthesisesNothing) {
  TempDir dir;
  const std::string properties =
      "text=\"Cached words come back.\" cache-dir=" + dir.path().string();
  Spoken first = speak(properties);
  ASSERT_TRUE(first.run.reached_eos) << first.run.error;
  ASSERT_NE(first.done(), nullptr);
  EXPECT_EQ(get_string(first.done(), "cache"), "miss");

  /* Replace the cached audio by silence of the same length: a second run
   * that played speech would have synthesised it again. */
  int entries = 0;
  for (const auto &entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().extension() != ".pcm") continue;
    ++entries;
    std::ofstream(entry.path(), std::ios::binary | std::ios::trunc)
        << std::string(first.samples.size() * 2, '\0');
  }
  ASSERT_EQ(entries, 1);

  Spoken second = speak(properties);
  ASSERT_TRUE(second.run.reached_eos) << second.run.error;
  ASSERT_NE(second.done(), nullptr);
  EXPECT_EQ(get_string(second.done(), "cache"), "hit");
  ASSERT_EQ(second.samples.size(), first.samples.size());
  EXPECT_TRUE(
      std::all_of(second.samples.begin(), second.samples.end(), [](gint16 s) { return s == 0; }));
  ASSERT_EQ(second.words.size(), first.words.size());
  for (gsize i = 0; i < first.words.size(); ++i) {
    EXPECT_EQ(second.words[i].text, first.words[i].text);
    EXPECT_EQ(second.words[i].pts, first.words[i].pts);
  }

  /* Another voice is another entry. */
  Spoken other = speak(properties + " voice=en-us");
  ASSERT_NE(other.done(), nullptr);
  EXPECT_EQ(get_string(other.done(), "cache"), "miss");
}

TEST(TtsSrc, CaptionsPadMayStayUnlinked) {
  PipelineRun run = run_pipeline("ttssrc text=\"Just the voice.\" ! audioconvert ! fakesink");
  EXPECT_TRUE(run.reached_eos) << run.error;
}

struct BadInput {
  const char *properties;
  const char *error_mentions;
};

class TtsSrcBadInput : public ::testing::TestWithParam<BadInput> {};

TEST_P(TtsSrcBadInput, FailsBeforeAnyAudioWithAClearError) {
  Spoken spoken = speak(GetParam().properties);
  EXPECT_FALSE(spoken.run.reached_eos);
  EXPECT_NE(spoken.run.error.find(GetParam().error_mentions), std::string::npos)
      << spoken.run.error;
  EXPECT_TRUE(spoken.samples.empty());
  EXPECT_TRUE(spoken.words.empty());
}

INSTANTIATE_TEST_SUITE_P(
    Settings, TtsSrcBadInput,
    ::testing::Values(BadInput{"text=\"\"", "text has no words"},
                      BadInput{"text=\" ... \"", "set the text property"},
                      BadInput{"text=hello voice=nosuchvoice", "no voice \"nosuchvoice\" (voice)"},
                      BadInput{"text=hello language=xx", "(language)"},
                      BadInput{"text=hello backend=festival", "unknown backend \"festival\""}));

}  // namespace
}  // namespace reelforge::test
