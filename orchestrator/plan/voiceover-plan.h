/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Planning a spoken voiceover (audio.voiceover {text, tts}). Scene lengths
 * and caption pages need the word timings before the render starts, so the
 * planner speaks the text first, with ttssrc into the TTS cache; the
 * render's own ttssrc then reads the same speech back from the cache (a
 * cache hit: nothing is synthesised, and no provider is paid, twice).
 */
#pragma once

#include "spec/job-spec.h"

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace reelforge::plan {

struct TimedWord {
  std::string text;
  double start_s = 0, end_s = 0;
};

struct VoiceoverTiming {
  double duration_s = 0; /* of the speech */
  std::vector<TimedWord> words;
  /* The TTS cache files holding the speech, as ttssrc named them: what a
   * render's ttssrc with the same settings reads back. */
  std::vector<std::filesystem::path> cache_files;
};

/* Where ttssrc keeps speech: $REELFORGE_TTS_CACHE, else
 * <user cache dir>/reelforge/tts. */
std::string tts_cache_dir();

/* Speaks the voiceover through ttssrc into cache_dir and returns its word
 * timings. Throws PlanError naming /audio/voiceover on failure. */
VoiceoverTiming time_voiceover(const spec::SpokenVoiceover &voiceover,
                               const std::string &cache_dir);

/* Seconds of picture after the last word (duration "voiceover"). */
constexpr double kVoiceoverTail_s = 0.5;

/* lengths (one per scene) with image and card scenes scaled by one factor
 * so the stitched timeline lasts target_s; clip scenes keep their length.
 * Throws PlanError naming /duration when that cannot work. */
std::vector<double> fit_scenes_to(const spec::JobSpec &job, std::vector<double> lengths,
                                  double target_s);

/* captionoverlay cues (a JSON array) for captions over timing, on a frame
 * width pixels wide, within a video of duration_s. */
std::string caption_cues_json(const spec::Captions &captions, const VoiceoverTiming &timing,
                              double duration_s, int width);

/* The two JSON arrays a and b as one. */
std::string join_json_arrays(const std::string &a, const std::string &b);

/* The values pipelines/render-tts.pipeline needs. */
void add_tts_values(const spec::SpokenVoiceover &voiceover, const std::string &cache_dir,
                    std::map<std::string, std::string> *values);

}  // namespace reelforge::plan
