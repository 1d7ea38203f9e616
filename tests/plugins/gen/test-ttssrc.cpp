/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * ttssrc with real espeak-ng synthesis: words and their timings against the
 * audio they describe, long texts joined seamlessly, the cache, bad input.
 */
#include "json-file.h"
#include "stand-in-server.h"
#include "test-environment.h"

#include <gst/app/gstappsink.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
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
  /* It names the files it read: the entry's samples and words. */
  const GValue *files = gst_structure_get_value(second.done(), "cache-files");
  ASSERT_NE(files, nullptr);
  ASSERT_TRUE(GST_VALUE_HOLDS_ARRAY(files));
  ASSERT_EQ(gst_value_array_get_size(files), 2u);
  const std::filesystem::path pcm = g_value_get_string(gst_value_array_get_value(files, 0));
  const std::filesystem::path words = g_value_get_string(gst_value_array_get_value(files, 1));
  EXPECT_EQ(pcm.parent_path(), dir.path());
  EXPECT_EQ(pcm.extension(), ".pcm");
  EXPECT_EQ(words.extension(), ".json");
  EXPECT_EQ(pcm.stem(), words.stem());
  EXPECT_TRUE(std::filesystem::exists(pcm) && std::filesystem::exists(words));
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

/* ---- HTTP backends, against stand-ins speaking the providers' shapes ---- */

constexpr const char *kKey = "sk-test-5ecret-never-logged";
constexpr gint kProviderRate = 24000;

/* PCM of a tone for seconds at 24 kHz. */
std::string tone(double seconds, double amplitude = 8000) {
  std::string pcm;
  const int count = static_cast<int>(seconds * kProviderRate);
  for (int i = 0; i < count; ++i) {
    const auto sample =
        static_cast<gint16>(amplitude * std::sin(2 * G_PI * 220.0 * i / kProviderRate));
    pcm.append(reinterpret_cast<const char *>(&sample), 2);
  }
  return pcm;
}

std::string silence(double seconds) {
  return std::string(static_cast<size_t>(seconds * kProviderRate) * 2, '\0');
}

/* An ElevenLabs /with-timestamps answer: text's characters 60 ms apart. */
std::string elevenlabs_answer(const std::string &text, const std::string &pcm) {
  GCharPtr audio(g_base64_encode(reinterpret_cast<const guchar *>(pcm.data()), pcm.size()));
  std::string characters, starts, ends;
  for (size_t i = 0; i < text.size(); ++i) {
    const std::string sep = i ? "," : "";
    characters += sep + "\"" + text.substr(i, 1) + "\"";
    starts += sep + std::to_string(i * 0.06);
    ends += sep + std::to_string((i + 1) * 0.06);
  }
  const std::string alignment = R"({"characters":[)" + characters +
                                R"(],"character_start_times_seconds":[)" + starts +
                                R"(],"character_end_times_seconds":[)" + ends + "]}";
  return R"({"audio_base64":")" + std::string(audio.get()) + R"(","alignment":)" + alignment +
         R"(,"normalized_alignment":)" + alignment + "}";
}

/* Everything GStreamer logs from ttssrc and the HTTP client, to look for
 * the key in. */
class LogCapture {
 public:
  LogCapture() {
    gst_debug_set_threshold_for_name("ttssrc", GST_LEVEL_LOG);
    gst_debug_set_threshold_for_name("reelforge-http", GST_LEVEL_LOG);
    gst_debug_add_log_function(&LogCapture::log, this, nullptr);
  }
  ~LogCapture() {
    gst_debug_remove_log_function_by_data(this);
    gst_debug_set_threshold_for_name("ttssrc", GST_LEVEL_ERROR);
    gst_debug_set_threshold_for_name("reelforge-http", GST_LEVEL_ERROR);
  }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }

 private:
  static void log(GstDebugCategory *, GstDebugLevel, const gchar *, const gchar *, gint, GObject *,
                  GstDebugMessage *message, gpointer user_data) {
    auto *self = static_cast<LogCapture *>(user_data);
    std::lock_guard lock(self->mutex_);
    self->text_ += gst_debug_message_get(message);
    self->text_ += '\n';
  }
  std::mutex mutex_;
  std::string text_;
};

std::string on(const test::StandInServer &server) {
  return " endpoint=\"" + server.url() + "\"";
}

class TtsSrcHttp : public ::testing::Test {
 protected:
  void SetUp() override {
    g_unsetenv("ELEVENLABS_API_KEY");
    g_unsetenv("OPENAI_API_KEY");
  }
  void TearDown() override {
    g_unsetenv("ELEVENLABS_API_KEY");
    g_unsetenv("OPENAI_API_KEY");
  }
  StandInServer server;
};

TEST_F(TtsSrcHttp, ElevenLabsGetsTheRightRequestAndItsAlignmentTimesTheWords) {
  const std::string text = "Hello brave world.";
  const std::string pcm = tone(1.2);
  server.route("POST", "/v1/text-to-speech/", [&](const RecordedRequest &) {
    return Reply::json(200, elevenlabs_answer(text, pcm));
  });
  g_setenv("ELEVENLABS_API_KEY", kKey, TRUE); /* the key from the environment */
  Spoken spoken =
      speak("backend=elevenlabs voice=voice123 speed=1.25 text=\"" + text + "\"" + on(server));
  ASSERT_TRUE(spoken.run.reached_eos) << spoken.run.error;

  ASSERT_EQ(server.count("POST"), 1u);
  const RecordedRequest request = server.requests().front();
  EXPECT_EQ(request.path, "/v1/text-to-speech/voice123/with-timestamps");
  EXPECT_EQ(request.query, "output_format=pcm_24000");
  EXPECT_EQ(request.header("xi-api-key").value_or(""), kKey);
  JsonNodePtr body = parse_json(request.body, "request");
  JsonObject *object = json_node_get_object(body.get());
  EXPECT_STREQ(json_object_get_string_member(object, "text"), text.c_str());
  EXPECT_STREQ(json_object_get_string_member(object, "model_id"), "eleven_multilingual_v2");
  EXPECT_DOUBLE_EQ(json_object_get_double_member(
                       json_object_get_object_member(object, "voice_settings"), "speed"),
                   1.25);

  /* The audio is the decoded audio_base64, the words start at their first
   * character's time: 0, 6 x 60 ms, 12 x 60 ms. */
  EXPECT_EQ(spoken.rate, kProviderRate);
  ASSERT_EQ(spoken.samples.size() * 2, pcm.size());
  EXPECT_EQ(memcmp(spoken.samples.data(), pcm.data(), pcm.size()), 0);
  ASSERT_EQ(spoken.words.size(), 3u);
  const GstClockTime expected[] = {0, 360 * GST_MSECOND, 720 * GST_MSECOND};
  const char *texts[] = {"Hello", "brave", "world."};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(spoken.words[i].text, texts[i]);
    EXPECT_EQ(spoken.words[i].pts, expected[i]) << texts[i];
  }
  expect_words_in_order(spoken);
}

TEST_F(TtsSrcHttp, OpenAiGetsTheRightRequestAndTimingsAreEstimatedFromTheVoice) {
  /* Each word a burst as long as its letters (+1) x 50 ms, 250 ms apart. */
  const std::string text = "Quiet mornings begin here";
  std::string pcm = silence(0.3);
  std::vector<GstClockTime> burst_starts;
  for (const std::string &word : split_words(text)) {
    burst_starts.push_back(gst_util_uint64_scale(pcm.size() / 2, GST_SECOND, kProviderRate));
    pcm += tone(0.05 * (word.size() + 1)) + silence(0.25);
  }
  server.route("POST", "/v1/audio/speech", [&](const RecordedRequest &) {
    return Reply::text(200, pcm, "application/octet-stream");
  });
  Spoken spoken =
      speak("backend=openai api-key=" + std::string(kKey) + " text=\"" + text + "\"" + on(server));
  ASSERT_TRUE(spoken.run.reached_eos) << spoken.run.error;

  ASSERT_EQ(server.count("POST", "/v1/audio/speech"), 1u);
  const RecordedRequest request = server.requests().front();
  EXPECT_EQ(request.header("Authorization").value_or(""), std::string("Bearer ") + kKey);
  JsonNodePtr body = parse_json(request.body, "request");
  JsonObject *object = json_node_get_object(body.get());
  EXPECT_STREQ(json_object_get_string_member(object, "input"), text.c_str());
  EXPECT_STREQ(json_object_get_string_member(object, "model"), "tts-1");
  EXPECT_STREQ(json_object_get_string_member(object, "voice"), "alloy");
  EXPECT_STREQ(json_object_get_string_member(object, "response_format"), "pcm");

  EXPECT_EQ(spoken.rate, kProviderRate);
  ASSERT_EQ(spoken.samples.size() * 2, pcm.size());
  ASSERT_EQ(spoken.words.size(), burst_starts.size());
  for (size_t i = 0; i < burst_starts.size(); ++i)
    EXPECT_LE(std::llabs(GST_CLOCK_DIFF(burst_starts[i], spoken.words[i].pts)), 60 * GST_MSECOND)
        << spoken.words[i].text;
  expect_words_in_order(spoken);
}

TEST_F(TtsSrcHttp, ALongTextIsSentInSentencesWithinTheLimitAndJoined) {
  std::string text;
  for (int i = 1; text.size() < 6000; ++i)
    text += "Line " + std::to_string(i) + " of a long and winding script. ";
  std::mutex mutex;
  std::vector<std::string> inputs;
  server.route("POST", "/v1/audio/speech", [&](const RecordedRequest &request) {
    JsonNodePtr body = parse_json(request.body, "request");
    std::lock_guard lock(mutex);
    inputs.emplace_back(json_object_get_string_member(json_node_get_object(body.get()), "input"));
    return Reply::text(200, tone(0.5) + silence(0.1), "application/octet-stream");
  });
  Spoken spoken =
      speak("backend=openai api-key=" + std::string(kKey) + " text=\"" + text + "\"" + on(server));
  ASSERT_TRUE(spoken.run.reached_eos) << spoken.run.error;
  ASSERT_EQ(inputs.size(), 2u);
  std::string joined;
  for (const std::string &input : inputs) {
    EXPECT_LE(g_utf8_strlen(input.c_str(), -1), 4096);
    EXPECT_EQ(input.back(), '.') << "not cut at a sentence end";
    joined += (joined.empty() ? "" : " ") + input;
  }
  EXPECT_EQ(joined + " ", text);
  EXPECT_EQ(spoken.samples.size(), 2u * 14400);
  EXPECT_EQ(spoken.words.size(), split_words(text).size());
  expect_words_in_order(spoken);
  /* The second piece's words come after its audio starts. */
  const size_t first_piece_words = split_words(inputs[0]).size();
  EXPECT_GE(spoken.words[first_piece_words].pts, 600 * GST_MSECOND);
}

TEST_F(TtsSrcHttp, StoppingDuringASlowRequestReturnsAtOnce) {
  std::mutex mutex;
  std::condition_variable arrived_cv;
  bool arrived = false;
  server.route("POST", "/v1/audio/speech", [&](const RecordedRequest &) {
    {
      std::lock_guard lock(mutex);
      arrived = true;
    }
    arrived_cv.notify_all();
    Reply reply = Reply::text(200, tone(0.5), "application/octet-stream");
    reply.delay = std::chrono::seconds(10);
    return reply;
  });
  GError *raw_error = nullptr;
  auto pipeline =
      adopt_floating(gst_parse_launch(("ttssrc backend=openai api-key=" + std::string(kKey) +
                                       " text=Slow." + on(server) + " ! fakesink")
                                          .c_str(),
                                      &raw_error));
  GErrorPtr error(raw_error);
  ASSERT_TRUE(pipeline) << (error ? error->message : "");
  gst_element_set_state(pipeline.get(), GST_STATE_PLAYING);
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(arrived_cv.wait_for(lock, std::chrono::seconds(10), [&] { return arrived; }));
  }
  const auto start = std::chrono::steady_clock::now();
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
}

TEST_F(TtsSrcHttp, ACacheHitMakesNoRequest) {
  TempDir dir;
  const std::string text = "Cached once.";
  server.route("POST", "/v1/text-to-speech/", [&](const RecordedRequest &) {
    return Reply::json(200, elevenlabs_answer(text, tone(0.8)));
  });
  const std::string properties = "backend=elevenlabs voice=v1 api-key=" + std::string(kKey) +
                                 " text=\"" + text + "\" cache-dir=\"" + dir.path().string() +
                                 "\" price-per-million-characters=300" + on(server);
  Spoken first = speak(properties);
  ASSERT_TRUE(first.run.reached_eos) << first.run.error;
  EXPECT_EQ(server.total(), 1u);
  ASSERT_NE(first.done(), nullptr);
  EXPECT_EQ(get_string(first.done(), "cache"), "miss");
  EXPECT_DOUBLE_EQ(get_double(first.done(), "estimated-cost"), text.size() * 300 / 1e6);

  Spoken second = speak(properties);
  ASSERT_TRUE(second.run.reached_eos) << second.run.error;
  EXPECT_EQ(server.total(), 1u) << "a cache hit went to the provider";
  ASSERT_NE(second.done(), nullptr);
  EXPECT_EQ(get_string(second.done(), "cache"), "hit");
  EXPECT_DOUBLE_EQ(get_double(second.done(), "estimated-cost"), 0.0);
  EXPECT_EQ(second.samples, first.samples);
  ASSERT_EQ(second.words.size(), first.words.size());
}

TEST_F(TtsSrcHttp, A429IsRetriedAfterItsRetryAfter) {
  std::atomic<int> calls{0};
  server.route("POST", "/v1/audio/speech", [&](const RecordedRequest &) {
    if (calls++ == 0)
      return Reply::json(429, R"({"error":{"message":"Rate limit reached","type":"requests",)"
                              R"("param":null,"code":"rate_limit_exceeded"}})")
          .with_header("Retry-After", "1");
    return Reply::text(200, tone(0.5), "application/octet-stream");
  });
  const auto start = std::chrono::steady_clock::now();
  Spoken spoken =
      speak("backend=openai api-key=" + std::string(kKey) + " text=\"Try again.\"" + on(server));
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(spoken.run.reached_eos) << spoken.run.error;
  EXPECT_EQ(server.count("POST"), 2u);
  EXPECT_GE(waited, std::chrono::milliseconds(950)) << "Retry-After: 1 was not honoured";
  EXPECT_EQ(spoken.words.size(), 2u);
}

TEST_F(TtsSrcHttp, AStalledProviderFailsAfterTheTimeout) {
  server.route("POST", "/v1/audio/speech", [&](const RecordedRequest &) {
    Reply reply = Reply::text(200, tone(0.5), "application/octet-stream");
    reply.delay = std::chrono::milliseconds(2500);
    return reply;
  });
  const auto start = std::chrono::steady_clock::now();
  Spoken spoken = speak("backend=openai timeout=1 api-key=" + std::string(kKey) +
                        " text=\"Anyone there?\"" + on(server));
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_FALSE(spoken.run.reached_eos);
  EXPECT_NE(spoken.run.error.find("OpenAI could not be reached"), std::string::npos)
      << spoken.run.error;
  EXPECT_LT(waited, std::chrono::seconds(8));
  EXPECT_TRUE(spoken.samples.empty());
}

struct ProviderFailure {
  const char *name;
  const char *backend;
  guint status;
  const char *body;
  std::vector<const char *> error_mentions;
  size_t attempts;
};

class TtsSrcProviderError : public TtsSrcHttp,
                            public ::testing::WithParamInterface<ProviderFailure> {};

TEST_P(TtsSrcProviderError, BecomesAnErrorInTheProvidersWordsWithoutTheKey) {
  const ProviderFailure &failure = GetParam();
  server.route("POST", "/v1/",
               [&](const RecordedRequest &) { return Reply::json(failure.status, failure.body); });
  LogCapture logs;
  Spoken spoken = speak("backend=" + std::string(failure.backend) + " voice=nope api-key=" + kKey +
                        " text=\"Hello.\"" + on(server));
  EXPECT_FALSE(spoken.run.reached_eos);
  for (const char *mention : failure.error_mentions)
    EXPECT_NE(spoken.run.error.find(mention), std::string::npos)
        << "\"" << mention << "\" not in: " << spoken.run.error;
  EXPECT_EQ(server.count("POST"), failure.attempts);
  EXPECT_TRUE(spoken.samples.empty());
  EXPECT_EQ(spoken.run.error.find(kKey), std::string::npos);
  EXPECT_EQ(logs.text().find(kKey), std::string::npos) << "the API key was logged";
  EXPECT_TRUE(logs.text().find("with-timestamps") != std::string::npos ||
              logs.text().find("/v1/audio/speech") != std::string::npos)
      << "nothing was logged, so the check above proves nothing";
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, TtsSrcProviderError,
    ::testing::Values(
        ProviderFailure{"ElevenLabsBadKey",
                        "elevenlabs",
                        401,
                        R"({"detail":{"status":"invalid_api_key","message":"Invalid API key"}})",
                        {"401", "Invalid API key", "ELEVENLABS_API_KEY"},
                        1},
        ProviderFailure{"ElevenLabsQuota",
                        "elevenlabs",
                        401,
                        R"({"detail":{"status":"quota_exceeded","message":"This request )"
                        R"(exceeds your quota of 10000."}})",
                        {"quota exceeded", "exceeds your quota of 10000"},
                        1},
        ProviderFailure{"ElevenLabsUnknownVoice",
                        "elevenlabs",
                        404,
                        R"({"detail":{"status":"voice_not_found","message":"A voice with )"
                        R"(voice_id nope does not exist."}})",
                        {"no voice \"nope\"", "does not exist"},
                        1},
        ProviderFailure{"ElevenLabsServerError",
                        "elevenlabs",
                        500,
                        R"({"detail":{"status":"internal_error","message":"Synthesis )"
                        R"(backend unavailable"}})",
                        {"500", "Synthesis backend unavailable", "after 3 attempts"},
                        3},
        ProviderFailure{"OpenAiBadKey",
                        "openai",
                        401,
                        R"({"error":{"message":"Incorrect API key provided.",)"
                        R"("type":"invalid_request_error","param":null,"code":"invalid_api_key"}})",
                        {"401", "Incorrect API key provided", "OPENAI_API_KEY"},
                        1},
        ProviderFailure{"OpenAiUnknownVoice",
                        "openai",
                        400,
                        R"({"error":{"message":"Invalid value for 'voice'.",)"
                        R"("type":"invalid_request_error","param":"voice","code":null}})",
                        {"no voice \"nope\"", "Invalid value for 'voice'"},
                        1}),
    [](const ::testing::TestParamInfo<ProviderFailure> &info) { return info.param.name; });

TEST_F(TtsSrcHttp, NoKeyFailsBeforeAnyRequest) {
  for (const char *backend : {"elevenlabs", "openai"}) {
    Spoken spoken =
        speak("backend=" + std::string(backend) + " voice=v text=\"Hello.\"" + on(server));
    EXPECT_FALSE(spoken.run.reached_eos);
    EXPECT_NE(spoken.run.error.find("needs an API key"), std::string::npos) << spoken.run.error;
    EXPECT_TRUE(spoken.samples.empty());
  }
  EXPECT_EQ(server.total(), 0u);
}

}  // namespace
}  // namespace reelforge::test
