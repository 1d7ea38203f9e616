/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The approval step: before the render, waits for the generated clips and
 * records a preview frame of each variant's clip and image scenes
 * (pipelines/preview-frame.pipeline, preview artifacts); then waits
 * (holding no worker) for approve/reject. With several choices only the
 * chosen variant renders (before-render) or is uploaded (before-upload);
 * the others' steps succeed as skipped.
 */
#pragma once

#include "sched/job-context.h"

namespace reelforge::sched {

void approval(StepRun &run, const JobStepsConfig &config);

}  // namespace reelforge::sched
