/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/voiceover-step.h"

#include "json-file.h"
#include "json-writer.h"
#include "plan/render-plan.h"
#include "plan/voiceover-plan.h"

#include <json-glib/json-glib.h>

#include <algorithm>

namespace reelforge::sched {

void voiceover(StepRun &run) {
  JsonNodePtr inputs = parse_json(run.step.inputs, "voiceover inputs");
  const std::string variant =
      json_object_get_string_member_with_default(json_node_get_object(inputs.get()), "variant", "");
  const LoadedJob loaded = load_job(run.db, run.step.job_id);
  const auto found = std::find_if(loaded.job.variants.begin(), loaded.job.variants.end(),
                                  [&](const auto &v) { return v.variant.name == variant; });
  if (found == loaded.job.variants.end() || !found->spec.audio.spoken_voiceover)
    throw StepError(ErrorClass::kPermanent,
                    "the job no longer has variant " + variant + "'s voiceover");
  plan::VoiceoverTiming timing;
  try {
    timing = plan::time_voiceover(*found->spec.audio.spoken_voiceover, plan::tts_cache_dir());
  } catch (const plan::PlanError &e) { /* a TTS provider's outage, or its refusal */
    throw StepError(ErrorClass::kTransient, e.what());
  }
  JsonWriter w;
  w.begin_object();
  w.member("duration_s", timing.duration_s);
  w.member("words", static_cast<std::int64_t>(timing.words.size()));
  w.end_object();
  run.queue.succeed(run.step, w.text());
}

}  // namespace reelforge::sched
