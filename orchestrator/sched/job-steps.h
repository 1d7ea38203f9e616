/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The step kinds `reelforge serve` runs for a job, one file each:
 *
 *   expand-step      the spec checked, the variants, the generate and voiceover steps
 *   generate-step    one generated clip, paid for at most once
 *   voiceover-step   one voiceover spoken into the TTS cache
 *   plan-step        the job planned (after every clip and voiceover); its
 *                    renders, each holding its plan, approvals and uploads
 *   approval-step    preview frames, then a person's approve or reject of
 *                    the plans (by hash)
 *   render-step      exactly one stored plan, with QC and thumbnails
 *   upload-step      a render's files delivered to output.uri_prefix
 *
 * In order: expand -> generate*, voiceover* -> plan -> [approval] ->
 * render* -> [approval] -> upload*. A job with nothing to generate or speak
 * is planned by its expand step.
 *
 * job-context.h holds what they all read about their job.
 */
#pragma once

#include "sched/job-context.h"
#include "sched/worker-pool.h"

#include <map>
#include <string>

namespace reelforge::sched {

std::map<std::string, StepHandler> job_step_handlers(const JobStepsConfig &config);

}  // namespace reelforge::sched
