/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "tts-espeak.h"

#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <stdexcept>

namespace reelforge::tts {

namespace {

std::mutex &espeak_mutex() {
  static std::mutex mutex;
  return mutex;
}

gint espeak_rate = 0; /* under espeak_mutex(); 0 until initialised */

/* What the synth callback collects for one espeak_Synth call. */
struct Collector {
  std::vector<gint16> samples;
  struct Event {
    int text_position; /* characters from the start, 1-based */
    int audio_position_ms;
  };
  std::vector<Event> words;
};

int on_synth(short *wav, int count, espeak_EVENT *events) {
  /* Every event of a call, the terminator included, carries its user_data. */
  auto *collector = events ? static_cast<Collector *>(events->user_data) : nullptr;
  if (!collector) return 0;
  if (wav && count > 0) collector->samples.insert(collector->samples.end(), wav, wav + count);
  for (espeak_EVENT *e = events; e->type != espeakEVENT_LIST_TERMINATED; ++e)
    if (e->type == espeakEVENT_WORD)
      collector->words.push_back({e->text_position, e->audio_position});
  return 0;
}

/* Initialises espeak once; call with espeak_mutex() held. */
void ensure_initialised() {
  if (espeak_rate > 0) return;
  const int rate =
      espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
  if (rate <= 0)
    throw std::runtime_error(
        "espeak-ng could not start (its data not found?): install espeak-ng-data");
  espeak_SetSynthCallback(on_synth);
  espeak_rate = rate;
}

/* Whether espeak lists a voice by this name, identifier or language; a
 * "+variant" suffix (en+f3) is allowed. espeak_SetVoiceByName() falls back
 * to a default voice for names it does not know, so this is the check. */
bool espeak_knows_voice(const std::string &name) {
  const std::string base = name.substr(0, name.find('+'));
  if (base.empty()) return false;
  const espeak_VOICE **voices = espeak_ListVoices(nullptr);
  for (const espeak_VOICE **v = voices; v && *v; ++v) {
    if ((*v)->name && g_ascii_strcasecmp((*v)->name, base.c_str()) == 0) return true;
    if ((*v)->identifier) {
      const std::string id = (*v)->identifier;
      if (id == base || id.substr(id.rfind('/') + 1) == base) return true;
    }
    /* languages: (priority byte, name, NUL) repeated, then a NUL. */
    for (const char *l = (*v)->languages; l && *l; l += strlen(l + 1) + 2)
      if (g_ascii_strcasecmp(l + 1, base.c_str()) == 0) return true;
  }
  return false;
}

void select_voice(const std::string &voice, const std::string &language) {
  const std::string name = !voice.empty() ? voice : (!language.empty() ? language : "en");
  const char *field = !voice.empty() ? "voice" : "language";
  if (!espeak_knows_voice(name) || espeak_SetVoiceByName(name.c_str()) != EE_OK)
    throw std::runtime_error("espeak has no voice \"" + name + "\" (" + field + "): set " + field +
                             " to one that `espeak-ng --voices` lists, such as en, en-us or de");
}

}  // namespace

void espeak_check_voice(const std::string &voice, const std::string &language) {
  std::lock_guard lock(espeak_mutex());
  ensure_initialised();
  select_voice(voice, language);
}

Speech espeak_synthesise(const SpeechRequest &request) {
  std::lock_guard lock(espeak_mutex());
  ensure_initialised();
  select_voice(request.voice, request.language);
  const int wpm = std::clamp(static_cast<int>(std::lround(espeakRATE_NORMAL * request.speed)),
                             espeakRATE_MINIMUM, espeakRATE_MAXIMUM);
  espeak_SetParameter(espeakRATE, wpm, 0);

  Collector collector;
  const espeak_ERROR result = espeak_Synth(request.text.c_str(), request.text.size() + 1, 0,
                                           POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, &collector);
  if (result != EE_OK)
    throw std::runtime_error("espeak-ng failed to synthesise the text (error " +
                             std::to_string(result) + ")");

  Speech speech;
  speech.rate = espeak_rate;
  speech.samples = std::move(collector.samples);

  /* Each WORD event names where its word starts in the text (in
   * characters, from 1) and when it is spoken; a caption should light up
   * with the sound, not in the pause espeak counts into the word, so each
   * anchor moves onto the first voiced sample after it. */
  const char *text = request.text.c_str();
  const glong length = g_utf8_strlen(text, static_cast<gssize>(request.text.size()));
  std::vector<std::pair<gsize, guint64>> anchors;
  for (gsize i = 0; i < collector.words.size(); ++i) {
    const Collector::Event &event = collector.words[i];
    const glong offset = event.text_position - 1;
    if (offset < 0 || offset >= length) continue;
    const gsize position = static_cast<gsize>(g_utf8_offset_to_pointer(text, offset) - text);
    guint64 at = static_cast<guint64>(std::max(event.audio_position_ms, 0)) * speech.rate / 1000;
    const guint64 limit =
        i + 1 < collector.words.size()
            ? static_cast<guint64>(std::max(collector.words[i + 1].audio_position_ms, 0)) *
                  speech.rate / 1000
            : speech.samples.size();
    const gsize voiced = first_voiced_sample(speech.samples, at);
    if (voiced < limit) at = voiced;
    anchors.emplace_back(position, at);
  }
  time_words(speech, request.text, anchors);
  return speech;
}

}  // namespace reelforge::tts
