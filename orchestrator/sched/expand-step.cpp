/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/expand-step.h"

#include "json-writer.h"
#include "sched/plan-step.h"

#include <algorithm>

namespace reelforge::sched {

using store::Connection;

namespace {

/* The distinct spoken voiceovers of the job's variants, each with the
 * first variant that speaks it. */
std::vector<std::pair<std::string, spec::SpokenVoiceover>> spoken_voiceovers(const spec::Job &job) {
  std::vector<std::pair<std::string, spec::SpokenVoiceover>> voiceovers;
  for (const auto &v : job.variants)
    if (const auto &spoken = v.spec.audio.spoken_voiceover;
        spoken && std::none_of(voiceovers.begin(), voiceovers.end(),
                               [&](const auto &known) { return known.second == *spoken; }))
      voiceovers.emplace_back(v.variant.name, *spoken);
  return voiceovers;
}

}  // namespace

void expand(StepRun &run, const JobStepsConfig &config) {
  const LoadedJob loaded = load_job(run.db, run.step.job_id);
  const auto voiceovers = spoken_voiceovers(loaded.job);
  /* Without a voiceover to speak first, the job is planned now (a plan
   * error fails it at once); otherwise by the plan step, after them. */
  std::vector<plan::RenderPlan> plans;
  if (voiceovers.empty()) plans = plan_into(loaded.job, job_dir(config, run.step.job_id));

  run.queue.succeed(run.step,
                    voiceovers.empty()
                        ? plan_outputs(plans, loaded.job.variants.size())
                        : "{\"variants\": " + std::to_string(loaded.job.variants.size()) +
                              ", \"voiceovers\": " + std::to_string(voiceovers.size()) + "}",
                    [&](Connection &db) {
                      for (size_t i = 0; i < loaded.job.variants.size(); ++i)
                        db.query("INSERT INTO variants (job_id, ordinal, name) VALUES ($1, $2, $3)",
                                 run.step.job_id, static_cast<std::int64_t>(i),
                                 loaded.job.variants[i].variant.name);
                      /* One generate step per distinct generated clip, for every
                       * variant at once: they all run concurrently, within the limits. */
                      std::vector<NewStep> steps;
                      std::vector<std::string> uris;
                      for (const auto &v : loaded.job.variants)
                        for (const std::string &uri : generated_clips(v.spec))
                          if (std::find(uris.begin(), uris.end(), uri) == uris.end()) {
                            uris.push_back(uri);
                            steps.push_back({.kind = "generate",
                                             .inputs = "{\"uri\": " + json_string(uri) + "}"});
                          }
                      if (voiceovers.empty()) {
                        run.queue.add_steps(run.step.job_id, steps);
                        add_render_steps(run, db, loaded, plans);
                        return;
                      }
                      /* Each voiceover spoken once, then the plan. */
                      NewStep plan{.kind = "plan"};
                      for (const auto &[variant, spoken] : voiceovers) {
                        plan.after.push_back(steps.size());
                        steps.push_back({.kind = "voiceover",
                                         .inputs = "{\"variant\": " + json_string(variant) + "}"});
                      }
                      steps.push_back(plan);
                      run.queue.add_steps(run.step.job_id, steps);
                    });
}

}  // namespace reelforge::sched
