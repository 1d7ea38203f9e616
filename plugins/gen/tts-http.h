/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The HTTP backends of ttssrc, on plugins/common/http-client (libsoup 3 on
 * its own context, so the streaming thread never waits on a loop it does
 * not own; 429 and 5xx retried with backoff, honouring Retry-After):
 *
 * - ElevenLabs: POST /v1/text-to-speech/{voice}/with-timestamps with
 *   output_format=pcm_24000; the JSON answer carries audio_base64 and a
 *   character alignment, which gives exact word timings.
 * - OpenAI: POST /v1/audio/speech with response_format=pcm (24 kHz S16LE
 *   mono). It returns no timings, so word timings are estimated by
 *   spreading the words over the voiced stretches of the audio in
 *   proportion to their length (estimate_word_timings()).
 *
 * A provider's error (401 / bad key, unknown voice, quota, rate limit after
 * the retries, 5xx after the retries, a timeout) becomes an ElementError
 * carrying the provider's own message. The API key is sent in a header the
 * client never logs, and never appears in a message.
 */
#pragma once

#include "http-client.h"
#include "tts-speech.h"

#include <chrono>
#include <string>

namespace reelforge::tts {

/* ElevenLabs' per-request limit differs by model (3,000 to 40,000
 * characters, their docs, unconfirmed); 3,000 fits them all. */
constexpr gsize kElevenLabsCharacterLimit = 3000;
/* OpenAI: `input` up to 4096 characters (providers.md). */
constexpr gsize kOpenAiCharacterLimit = 4096;

constexpr const char *kElevenLabsEndpoint = "https://api.elevenlabs.io";
constexpr const char *kOpenAiEndpoint = "https://api.openai.com";
constexpr const char *kElevenLabsDefaultModel = "eleven_multilingual_v2";
constexpr const char *kOpenAiDefaultModel = "tts-1";
constexpr const char *kOpenAiDefaultVoice = "alloy";

/* How to reach a provider. */
struct HttpBackendSettings {
  std::string endpoint; /* base URL, no trailing slash; empty: the public API */
  std::string api_key;
  std::chrono::milliseconds timeout{60000};
  http::RetryPolicy retry;
};

Speech elevenlabs_synthesise(const SpeechRequest &request, const HttpBackendSettings &settings,
                             http::HttpClient &client);

Speech openai_synthesise(const SpeechRequest &request, const HttpBackendSettings &settings,
                         http::HttpClient &client);

/* Word timings for speech without any: the words of text spread over the
 * voiced 10 ms windows of the samples, each taking a share proportional to
 * its characters (plus one for the space), so pauses get no words. An
 * estimate: good to a syllable or so on steady speech. */
void estimate_word_timings(Speech &speech, const std::string &text);

}  // namespace reelforge::tts
