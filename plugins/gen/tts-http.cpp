/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tts-http.h"

#include "element-guard.h"
#include "gst-ptr.h"
#include "json-file.h"

#include <gst/gst.h>

#include <algorithm>
#include <cmath>

namespace reelforge::tts {

namespace {

/* The provider's own words from an error body: ElevenLabs'
 * {"detail": {"status", "message"}} (or a plain "detail" string), OpenAI's
 * {"error": {"message", "code", "param"}}. */
struct ProviderError {
  std::string message;
  std::string code; /* ElevenLabs detail.status, OpenAI error.code */
  std::string param;
};

ProviderError parse_provider_error(const std::string &body) {
  ProviderError error;
  try {
    JsonNodePtr root = parse_json(body, "error body");
    JsonObject *object = json_node_get_object(root.get());
    if (!object) return error;
    if (json_object_has_member(object, "detail")) {
      JsonNode *detail = json_object_get_member(object, "detail");
      if (JSON_NODE_HOLDS_OBJECT(detail)) {
        JsonObject *d = json_node_get_object(detail);
        error.message = json_object_get_string_member_with_default(d, "message", "");
        error.code = json_object_get_string_member_with_default(d, "status", "");
      } else if (JSON_NODE_HOLDS_VALUE(detail) &&
                 json_node_get_value_type(detail) == G_TYPE_STRING) {
        error.message = json_node_get_string(detail);
      }
    } else if (JsonObject *e = json_object_get_object_member(object, "error")) {
      error.message = json_object_get_string_member_with_default(e, "message", "");
      JsonNode *code = json_object_get_member(e, "code");
      if (code && JSON_NODE_HOLDS_VALUE(code) && json_node_get_value_type(code) == G_TYPE_STRING)
        error.code = json_node_get_string(code);
      JsonNode *param = json_object_get_member(e, "param");
      if (param && JSON_NODE_HOLDS_VALUE(param) && json_node_get_value_type(param) == G_TYPE_STRING)
        error.param = json_node_get_string(param);
    }
  } catch (const std::exception &) {
    /* not JSON: the status alone speaks */
  }
  if (error.message.size() > 300) error.message = error.message.substr(0, 300) + "...";
  return error;
}

/* An ElementError for a failed answer, in the provider's words. */
[[noreturn]] void throw_provider_error(const std::string &provider, const std::string &key_env,
                                       const std::string &voice, guint status,
                                       const std::string &body, const std::string &attempts) {
  const ProviderError e = parse_provider_error(body);
  const std::string said = e.message.empty() ? "" : ": " + e.message;
  const std::string code = e.code.empty() ? "" : " " + e.code;
  const std::string head =
      "ttssrc: " + provider + " answered " + std::to_string(status) + code + said;
  const bool quota = e.code == "quota_exceeded" || e.code == "insufficient_quota";
  if (quota)
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NO_SPACE_LEFT,
                       head + " (quota exceeded: add credit or raise the plan's limit)");
  if (status == 401 || status == 403)
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_AUTHORIZED,
                       head + " (the API key was refused: check api-key or " + key_env + ")");
  const bool voice_error = e.code == "voice_not_found" || e.param == "voice" ||
                           (status == 404 && provider == "ElevenLabs");
  if (voice_error)
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_NOT_FOUND,
                       head + " (no voice \"" + voice + "\": set voice to one the account has)");
  if (status == 429)
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_BUSY,
                       head + " (rate limited" + attempts + "; try again later)");
  if (status >= 500)
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
                       head + " (a server error" + attempts + ")");
  throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_FAILED, head);
}

/* Sends request; a final non-2xx answer throws in the provider's words. */
http::Response send(http::HttpClient &client, const http::Request &request,
                    const HttpBackendSettings &settings, const std::string &provider,
                    const std::string &key_env, const std::string &voice) {
  try {
    http::Response response = client.send(request, settings.retry);
    if (!response.ok())
      throw_provider_error(provider, key_env, voice, response.status, response.body, "");
    return response;
  } catch (const http::Cancelled &) {
    throw;
  } catch (const http::HttpError &e) {
    if (e.status() != 0)
      throw_provider_error(provider, key_env, voice, e.status(), e.body(),
                           " after " + std::to_string(settings.retry.max_attempts) + " attempts");
    throw ElementError(GST_RESOURCE_ERROR, GST_RESOURCE_ERROR_READ,
                       "ttssrc: " + provider + " could not be reached: " + e.what() +
                           " (check endpoint, the network, or raise timeout)");
  }
}

std::string base_url(const HttpBackendSettings &settings, const char *fallback) {
  std::string base = settings.endpoint.empty() ? fallback : settings.endpoint;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base;
}

std::string json_text(JsonBuilder *builder) {
  JsonNodePtr root(json_builder_get_root(builder));
  return to_json_string(root.get(), false);
}

std::vector<gint16> pcm_samples(const std::string &bytes) {
  std::vector<gint16> samples(bytes.size() / 2);
  memcpy(samples.data(), bytes.data(), samples.size() * 2);
  return samples;
}

guint64 seconds_to_sample(double seconds, gint rate) {
  return seconds <= 0 ? 0 : static_cast<guint64>(std::llround(seconds * rate));
}

}  // namespace

Speech elevenlabs_synthesise(const SpeechRequest &request, const HttpBackendSettings &settings,
                             http::HttpClient &client) {
  constexpr gint kRate = 24000;
  GCharPtr voice(g_uri_escape_string(request.voice.c_str(), nullptr, FALSE));
  http::Request r;
  r.method = "POST";
  r.url = base_url(settings, kElevenLabsEndpoint) + "/v1/text-to-speech/" + voice.get() +
          "/with-timestamps?output_format=pcm_24000";
  r.headers.emplace_back("xi-api-key", settings.api_key);
  r.headers.emplace_back("Accept", "application/json");
  r.content_type = "application/json";
  r.timeout = settings.timeout;

  GObjectPtr<JsonBuilder> builder(json_builder_new());
  JsonBuilder *b = builder.get();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "text");
  json_builder_add_string_value(b, request.text.c_str());
  json_builder_set_member_name(b, "model_id");
  json_builder_add_string_value(
      b, request.model.empty() ? kElevenLabsDefaultModel : request.model.c_str());
  if (!request.language.empty()) {
    json_builder_set_member_name(b, "language_code");
    json_builder_add_string_value(b, request.language.c_str());
  }
  json_builder_set_member_name(b, "voice_settings");
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "speed");
  json_builder_add_double_value(b, request.speed);
  json_builder_end_object(b);
  json_builder_end_object(b);
  r.body = json_text(b);

  const http::Response response =
      send(client, r, settings, "ElevenLabs", "ELEVENLABS_API_KEY", request.voice);

  auto malformed = [](const std::string &what) {
    return ElementError(GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
                        "ttssrc: ElevenLabs answered without " + what);
  };
  JsonNodePtr root;
  try {
    root = parse_json(response.body, "ElevenLabs answer");
  } catch (const std::exception &) {
    throw malformed("a JSON body");
  }
  JsonObject *object = json_node_get_object(root.get());
  if (!object || !json_object_has_member(object, "audio_base64")) throw malformed("audio_base64");
  gsize size = 0;
  GCharPtr audio(reinterpret_cast<gchar *>(
      g_base64_decode(json_object_get_string_member(object, "audio_base64"), &size)));
  Speech speech;
  speech.rate = kRate;
  speech.samples = pcm_samples(std::string(audio.get(), size));

  JsonObject *alignment = json_object_get_object_member(object, "alignment");
  JsonArray *characters =
      alignment ? json_object_get_array_member(alignment, "characters") : nullptr;
  JsonArray *starts = alignment
                          ? json_object_get_array_member(alignment, "character_start_times_seconds")
                          : nullptr;
  if (!characters || !starts || json_array_get_length(characters) != json_array_get_length(starts))
    throw malformed("a character alignment");

  /* The aligned characters spell the text as spoken; a word starts at its
   * first character's start time. */
  std::string aligned;
  std::vector<std::pair<gsize, guint64>> anchors;
  bool in_word = false;
  for (guint i = 0; i < json_array_get_length(characters); ++i) {
    const char *c = json_array_get_string_element(characters, i);
    if (!c) throw malformed("characters as strings");
    const bool space = *c == '\0' || g_unichar_isspace(g_utf8_get_char_validated(c, -1));
    if (!space && !in_word)
      anchors.emplace_back(aligned.size(),
                           seconds_to_sample(json_array_get_double_element(starts, i), kRate));
    in_word = !space;
    aligned += c;
  }
  time_words(speech, aligned, anchors);
  return speech;
}

Speech openai_synthesise(const SpeechRequest &request, const HttpBackendSettings &settings,
                         http::HttpClient &client) {
  constexpr gint kRate = 24000; /* pcm: 24 kHz S16LE mono */
  const std::string voice = request.voice.empty() ? kOpenAiDefaultVoice : request.voice;
  http::Request r;
  r.method = "POST";
  r.url = base_url(settings, kOpenAiEndpoint) + "/v1/audio/speech";
  r.headers.emplace_back("Authorization", "Bearer " + settings.api_key);
  r.content_type = "application/json";
  r.timeout = settings.timeout;

  GObjectPtr<JsonBuilder> builder(json_builder_new());
  JsonBuilder *b = builder.get();
  json_builder_begin_object(b);
  json_builder_set_member_name(b, "model");
  json_builder_add_string_value(
      b, request.model.empty() ? kOpenAiDefaultModel : request.model.c_str());
  json_builder_set_member_name(b, "input");
  json_builder_add_string_value(b, request.text.c_str());
  json_builder_set_member_name(b, "voice");
  json_builder_add_string_value(b, voice.c_str());
  json_builder_set_member_name(b, "response_format");
  json_builder_add_string_value(b, "pcm");
  json_builder_set_member_name(b, "speed");
  json_builder_add_double_value(b, request.speed);
  json_builder_end_object(b);
  r.body = json_text(b);

  const http::Response response = send(client, r, settings, "OpenAI", "OPENAI_API_KEY", voice);
  Speech speech;
  speech.rate = kRate;
  speech.samples = pcm_samples(response.body);
  if (speech.samples.empty())
    throw ElementError(GST_STREAM_ERROR, GST_STREAM_ERROR_DECODE,
                       "ttssrc: OpenAI answered without audio");
  estimate_word_timings(speech, request.text);
  return speech;
}

void estimate_word_timings(Speech &speech, const std::string &text) {
  const gsize window = std::max<gsize>(1, static_cast<gsize>(speech.rate) / 100);
  const gsize windows = speech.samples.size() / window;
  std::vector<double> rms(windows);
  double loudest = 0;
  for (gsize w = 0; w < windows; ++w) {
    double energy = 0;
    for (gsize i = w * window; i < (w + 1) * window; ++i)
      energy += static_cast<double>(speech.samples[i]) * speech.samples[i];
    rms[w] = std::sqrt(energy / window);
    loudest = std::max(loudest, rms[w]);
  }
  /* Voiced: above a tenth of the loudest window (and above noise). */
  const double threshold = std::max(0.1 * loudest, 100.0);
  std::vector<gsize> voiced;
  for (gsize w = 0; w < windows; ++w)
    if (rms[w] > threshold) voiced.push_back(w);

  const std::vector<TextWord> words = text_words(text);
  std::vector<std::pair<gsize, guint64>> anchors;
  if (!voiced.empty() && !words.empty()) {
    double total = 0;
    for (const TextWord &word : words)
      total += static_cast<double>(g_utf8_strlen(word.text.c_str(), -1) + 1);
    double before = 0;
    for (const TextWord &word : words) {
      const auto index =
          std::min<gsize>(static_cast<gsize>(before / total * voiced.size()), voiced.size() - 1);
      anchors.emplace_back(word.begin, static_cast<guint64>(voiced[index]) * window);
      before += static_cast<double>(g_utf8_strlen(word.text.c_str(), -1) + 1);
    }
  }
  time_words(speech, text, anchors);
}

}  // namespace reelforge::tts
