/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The approval step: before the render (it follows the plan step, so the
 * generated clips are made), records a preview frame of each variant's clip
 * and image scenes (pipelines/preview-frame.pipeline, preview artifacts);
 * then waits (holding no worker) for approve/reject. Its outputs show the
 * reviewer the choices and, before the render, the hashes of the plans each
 * choice approves ({"choices": [...], "plans": {"<variant>": [...]}}): a
 * render runs only a plan whose hash is listed there. With several choices
 * only the chosen variant renders (before-render) or is uploaded
 * (before-upload); the others' steps succeed as skipped.
 */
#pragma once

#include "sched/job-context.h"

namespace reelforge::sched {

void approval(StepRun &run, const JobStepsConfig &config);

}  // namespace reelforge::sched
