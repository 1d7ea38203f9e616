/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/expand-step.h"

#include "json-writer.h"
#include "sched/plan-step.h"
#include "store/variants.h"

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

/* The distinct genvideo:// clips of all variants. */
std::vector<std::string> distinct_clips(const spec::Job &job) {
  std::vector<std::string> uris;
  for (const auto &v : job.variants)
    for (const std::string &uri : generated_clips(v.spec))
      if (std::find(uris.begin(), uris.end(), uri) == uris.end()) uris.push_back(uri);
  return uris;
}

std::string one_member(const char *name, const std::string &value) {
  JsonWriter w;
  w.begin_object();
  w.member(name, value);
  w.end_object();
  return w.text();
}

/* The step's outputs when the plan step plans later. */
std::string deferred_outputs(size_t variants, size_t clips, size_t voiceovers) {
  JsonWriter w;
  w.begin_object();
  w.member("variants", static_cast<std::int64_t>(variants));
  w.member("clips", static_cast<std::int64_t>(clips));
  w.member("voiceovers", static_cast<std::int64_t>(voiceovers));
  w.end_object();
  return w.text();
}

/* One generate step per clip and one voiceover step per voiceover, all at
 * once (within the limits); then the plan, after every one of them. */
std::vector<NewStep> steps_before_the_plan(
    const std::vector<std::string> &clips,
    const std::vector<std::pair<std::string, spec::SpokenVoiceover>> &voiceovers) {
  std::vector<NewStep> steps;
  for (const std::string &uri : clips)
    steps.push_back({.kind = "generate", .inputs = one_member("uri", uri)});
  for (const auto &[variant, spoken] : voiceovers)
    steps.push_back({.kind = "voiceover", .inputs = one_member("variant", variant)});
  NewStep plan{.kind = "plan"};
  for (size_t i = 0; i < steps.size(); ++i) plan.after.push_back(i);
  steps.push_back(plan);
  return steps;
}

}  // namespace

void expand(StepRun &run, const JobStepsConfig &config) {
  const LoadedJob loaded = load_job(run.db, run.step.job_id);
  const auto voiceovers = spoken_voiceovers(loaded.job);
  const auto clips = distinct_clips(loaded.job);
  const size_t variants = loaded.job.variants.size();
  /* Without a voiceover to speak first, the job is planned now: a plan
   * error fails it before anything is generated. These are the stored
   * plans only when there is nothing to generate either; otherwise the plan
   * step plans again, reading the generated clips. */
  const bool plan_now = voiceovers.empty() && clips.empty();
  std::vector<plan::RenderPlan> plans;
  if (voiceovers.empty()) plans = plan_into(loaded.job, job_dir(config, run.step.job_id));

  run.queue.succeed(run.step,
                    plan_now ? plan_outputs(plans, variants)
                             : deferred_outputs(variants, clips.size(), voiceovers.size()),
                    [&](Connection &db) {
                      for (size_t i = 0; i < loaded.job.variants.size(); ++i)
                        store::insert_variant(db, run.step.job_id, static_cast<int>(i),
                                              loaded.job.variants[i].variant.name);
                      if (plan_now)
                        add_render_steps(run, db, loaded, plans);
                      else
                        run.queue.add_steps(run.step.job_id,
                                            steps_before_the_plan(clips, voiceovers));
                    });
}

}  // namespace reelforge::sched
