/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/job-steps.h"

#include "sched/approval-step.h"
#include "sched/expand-step.h"
#include "sched/generate-step.h"
#include "sched/plan-step.h"
#include "sched/render-step.h"
#include "sched/upload-step.h"
#include "sched/voiceover-step.h"

namespace reelforge::sched {

std::map<std::string, StepHandler> job_step_handlers(const JobStepsConfig &config) {
  return {
      {"expand", [config](StepRun &run) { expand(run, config); }},
      {"approval", [config](StepRun &run) { approval(run, config); }},
      {"voiceover", [](StepRun &run) { voiceover(run); }},
      {"plan", [config](StepRun &run) { plan_renders(run, config); }},
      {"render", [config](StepRun &run) { render(run, config); }},
      {"generate",
       [config](StepRun &run) { run_generate_step(run, {.clips_dir = config.clips_dir}); }},
      {"upload", [config](StepRun &run) { upload(run, config); }},
  };
}

}  // namespace reelforge::sched
