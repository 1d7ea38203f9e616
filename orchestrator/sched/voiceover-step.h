/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The voiceover step: speaks one of the job's voiceovers into the TTS cache
 * (ttssrc), where the planner finds its word timings and the render its
 * audio. A TTS provider's outage or refusal is a transient failure.
 */
#pragma once

#include "sched/job-context.h"

namespace reelforge::sched {

void voiceover(StepRun &run);

}  // namespace reelforge::sched
