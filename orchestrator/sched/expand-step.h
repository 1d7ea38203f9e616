/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The expand step: checks the spec (the errors of `reelforge validate`, as
 * a permanent failure), records the variants and adds one generate step
 * per distinct generated clip of all variants; then, when a variant has a
 * spoken voiceover, one voiceover step per distinct voiceover and a plan
 * step after them, else it plans at once as the plan step would.
 */
#pragma once

#include "sched/job-context.h"

namespace reelforge::sched {

void expand(StepRun &run, const JobStepsConfig &config);

}  // namespace reelforge::sched
