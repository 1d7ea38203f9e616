/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/plan-step.h"

#include "json-writer.h"
#include "sched/upload-step.h"
#include "store/variants.h"

#include <map>

namespace reelforge::sched {

namespace fs = std::filesystem;
using store::Connection;

namespace {

/* A render step's inputs: its variant, its outputs' names, its plan. */
std::string render_inputs(const plan::RenderPlan &plan) {
  std::vector<std::string> names;
  for (const auto &output : plan.outputs) names.push_back(output.name);
  JsonWriter w;
  w.begin_object();
  w.member("variant", plan.name);
  w.member("outputs", names);
  w.member_node("plan", plan::to_json(plan).get());
  w.end_object();
  return w.text();
}

/* The before-render approval's inputs: its choices (the variants) and, per
 * choice, the hashes of the plans a person approves by choosing it. */
std::string approval_inputs(const spec::Job &job, const std::vector<plan::RenderPlan> &plans) {
  std::vector<std::string> choices;
  for (const auto &v : job.variants) choices.push_back(v.variant.name);
  JsonWriter w;
  w.begin_object();
  w.member("stage", "before-render");
  w.member("choices", choices);
  w.begin_object("plans");
  for (const std::string &variant : choices) {
    std::vector<std::string> hashes;
    for (const auto &plan : plans)
      if (plan.name == variant) hashes.push_back(plan.hash);
    w.member(variant.c_str(), hashes);
  }
  w.end_object();
  w.end_object();
  return w.text();
}

}  // namespace

std::vector<plan::RenderPlan> plan_into(const spec::Job &job, const fs::path &dir) {
  try {
    return plan::plan_job(job, dir);
  } catch (const plan::PlanError &e) {
    throw StepError(ErrorClass::kPermanent, e.what());
  }
}

/* One render per plan (a variant's renditions for the platforms that share
 * a frame rate, in one pass), each holding its plan; the before-render
 * approval ahead of them, and the uploads after them. */
void add_render_steps(StepRun &run, Connection &db, const LoadedJob &loaded,
                      const std::vector<plan::RenderPlan> &plans) {
  const std::string approval_option = options_member(loaded.options, "approval");
  std::map<std::string, std::int64_t> variant_ids = store::variant_ids(db, run.step.job_id);

  std::vector<NewStep> steps;
  const bool approval = approval_option == "before-render";
  if (approval) steps.push_back({.kind = "approval", .inputs = approval_inputs(loaded.job, plans)});
  for (const auto &plan : plans) {
    NewStep render{
        .kind = "render", .inputs = render_inputs(plan), .variant_id = variant_ids[plan.name]};
    if (approval) render.after = {0};
    steps.push_back(render);
  }
  const auto ids = run.queue.add_steps(run.step.job_id, steps);
  /* Deliveries to output.uri_prefix: an upload after each render. */
  run.queue.add_steps(run.step.job_id,
                      upload_steps(loaded.job, steps, ids, approval_option == "before-upload"));
}

std::string plan_outputs(const std::vector<plan::RenderPlan> &plans, size_t variants) {
  size_t outputs = 0;
  for (const auto &plan : plans) outputs += plan.outputs.size();
  JsonWriter w;
  w.begin_object();
  w.member("variants", static_cast<std::int64_t>(variants));
  w.member("renders", static_cast<std::int64_t>(plans.size()));
  w.member("outputs", static_cast<std::int64_t>(outputs));
  w.end_object();
  return w.text();
}

/* Plans the job once its clips are made and its voiceovers spoken, and
 * adds its renders. */
void plan_renders(StepRun &run, const JobStepsConfig &config) {
  LoadedJob loaded = load_job(run.db, run.step.job_id);
  /* The plans read (and record) the clips the generate steps made. */
  use_generated_clips(run.db, run.step.job_id, std::nullopt, loaded.job);
  const auto plans = plan_into(loaded.job, job_dir(config, run.step.job_id));
  run.queue.succeed(run.step, plan_outputs(plans, loaded.job.variants.size()),
                    [&](Connection &db) { add_render_steps(run, db, loaded, plans); });
}

}  // namespace reelforge::sched
