/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The expand step: checks the spec (the errors of `reelforge validate`, as
 * a permanent failure) and records the variants. A job with nothing to
 * generate or speak is planned at once, as the plan step would. Otherwise
 * it adds one generate step per distinct generated clip of all variants,
 * one voiceover step per distinct spoken voiceover, and the plan step after
 * all of them (the plans read the clips and the speech); a job without a
 * voiceover is still planned once now, with its generated scenes unmade,
 * so that a spec that cannot be planned fails before any clip is paid for.
 */
#pragma once

#include "sched/job-context.h"

namespace reelforge::sched {

void expand(StepRun &run, const JobStepsConfig &config);

}  // namespace reelforge::sched
