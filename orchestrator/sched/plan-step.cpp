/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/plan-step.h"

#include "json-writer.h"
#include "sched/upload-step.h"

#include <map>

namespace reelforge::sched {

namespace fs = std::filesystem;
using store::Connection;
using store::Result;

std::vector<plan::RenderPlan> plan_into(const spec::Job &job, const fs::path &dir) {
  try {
    return plan::plan_job(job, dir);
  } catch (const plan::PlanError &e) {
    throw StepError(ErrorClass::kPermanent, e.what());
  }
}

/* One render per plan (a variant's
 * renditions for the platforms that share a frame rate, in one pass),
 * each after the generate steps of its variant's clips; the before-render
 * approval ahead of them, and the uploads after them. */
void add_render_steps(StepRun &run, Connection &db, const LoadedJob &loaded,
                      const std::vector<plan::RenderPlan> &plans) {
  const std::string approval_option = options_member(loaded.options, "approval");
  std::map<std::string, std::int64_t> variant_ids, generate_ids;
  const Result variants =
      db.query("SELECT name, id FROM variants WHERE job_id = $1", run.step.job_id);
  for (int i = 0; i < variants.rows(); ++i) variant_ids[variants.text(i, 0)] = variants.int64(i, 1);
  const Result generates =
      db.query("SELECT inputs->>'uri', id FROM steps WHERE job_id = $1 AND kind = 'generate'",
               run.step.job_id);
  for (int i = 0; i < generates.rows(); ++i)
    generate_ids[generates.text(i, 0)] = generates.int64(i, 1);

  std::vector<NewStep> steps;
  if (approval_option == "before-render") {
    /* After the generated clips: the reviewer sees their preview frames. */
    std::vector<std::string> choices;
    for (const auto &v : loaded.job.variants) choices.push_back(v.variant.name);
    NewStep approval{
        .kind = "approval",
        .inputs = "{\"stage\": \"before-render\", \"choices\": " + json_array(choices) + "}"};
    for (const auto &[uri, id] : generate_ids) approval.after_ids.push_back(id);
    steps.push_back(approval);
  }
  for (size_t i = 0; i < plans.size(); ++i) {
    std::vector<std::string> names;
    for (const auto &output : plans[i].outputs) names.push_back(output.name);
    NewStep render{.kind = "render",
                   .inputs = "{\"plan\": " + std::to_string(i) +
                             ", \"variant\": " + json_string(plans[i].name) +
                             ", \"outputs\": " + json_array(names) + "}",
                   .variant_id = variant_ids[plans[i].name]};
    if (approval_option == "before-render") render.after = {0};
    for (const auto &v : loaded.job.variants)
      if (v.variant.name == plans[i].name)
        for (const std::string &uri : generated_clips(v.spec))
          render.after_ids.push_back(generate_ids.at(uri));
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
  return "{\"variants\": " + std::to_string(variants) +
         ", \"renders\": " + std::to_string(plans.size()) +
         ", \"outputs\": " + std::to_string(outputs) + "}";
}

/* Plans the job once its voiceovers are spoken, and adds its renders. */
void plan_renders(StepRun &run, const JobStepsConfig &config) {
  const LoadedJob loaded = load_job(run.db, run.step.job_id);
  const auto plans = plan_into(loaded.job, job_dir(config, run.step.job_id));
  run.queue.succeed(run.step, plan_outputs(plans, loaded.job.variants.size()),
                    [&](Connection &db) { add_render_steps(run, db, loaded, plans); });
}

}  // namespace reelforge::sched
