/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The espeak backend of ttssrc: libespeak-ng in synchronous mode. The
 * library is one global synthesiser, so every call holds a process-wide
 * lock. Word timings come from espeak's own WORD events (their audio
 * position), moved onto the first voiced sample of the word.
 */
#pragma once

#include "tts-speech.h"

#include <string>

namespace reelforge::tts {

/* espeak has no documented input limit; pieces this long keep the first
 * audio quick and the memory per call small. */
constexpr gsize kEspeakCharacterLimit = 2000;

/* Throws std::runtime_error naming the voice and how to list the voices
 * when espeak does not know it (voice empty: the language's default). */
void espeak_check_voice(const std::string &voice, const std::string &language);

/* Synthesises one piece of text (up to kEspeakCharacterLimit). */
Speech espeak_synthesise(const SpeechRequest &request);

}  // namespace reelforge::tts
