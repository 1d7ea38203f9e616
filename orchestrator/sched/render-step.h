/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The render step: the variant's generated scenes read from the clips its
 * generate steps made (never a provider call), then the output's pipeline
 * from the render plan, through the same runner as `reelforge render`,
 * with its QC report and thumbnails; the files are recorded as artifacts
 * (uri, size, sha256, kind) in the same transaction that ends the step.
 */
#pragma once

#include "sched/job-context.h"

namespace reelforge::sched {

void render(StepRun &run, const JobStepsConfig &config);

}  // namespace reelforge::sched
