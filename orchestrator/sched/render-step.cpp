/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/render-step.h"

#include "json-file.h"
#include "json-writer.h"
#include "plan/render-plan.h"
#include "run/render-pass.h"
#include "sched/fault-window.h"
#include "store/artifacts.h"

#include <json-glib/json-glib.h>

#include <algorithm>

namespace reelforge::sched {

namespace fs = std::filesystem;
using store::Connection;

namespace {

/* The plan stored in the step's inputs, checked against its hash. */
plan::RenderPlan stored_plan(JsonObject *inputs, const std::string &variant) {
  JsonNode *stored = json_object_get_member(inputs, "plan");
  if (!stored || !JSON_NODE_HOLDS_OBJECT(stored))
    throw StepError(ErrorClass::kPermanent,
                    "render of " + variant +
                        ": its inputs hold no stored plan (planned by an older reelforge): plan "
                        "again by resubmitting");
  try {
    plan::RenderPlan plan = plan::from_json(stored);
    if (plan.name != variant)
      throw plan::PlanError("render plan: it renders " + plan.name + ", not " + variant);
    return plan;
  } catch (const plan::PlanError &e) {
    throw StepError(ErrorClass::kPermanent, "refusing to render " + variant + ": " + e.what());
  }
}

/* With a before-render approval, only a plan it approved runs. */
void check_approved(StepRun &run, const plan::RenderPlan &plan) {
  const auto approved = approved_plan_hashes(run.db, run.step.job_id, plan.name);
  if (!approved || std::find(approved->begin(), approved->end(), plan.hash) != approved->end())
    return;
  throw StepError(ErrorClass::kPermanent,
                  "refusing to render " + plan.name + ": its plan (hash " + plan.hash +
                      ") is not the one the approval approved; plan again by resubmitting");
}

/* Runs the pass in the attempt's folder, stopping when the lease is lost. */
run::PassResult render_pass(StepRun &run, const plan::RenderPlan &plan, const fs::path &folder) {
  run::PassOptions options;
  options.folder = folder;
  /* A cancelled job or a rescued step (the heartbeat finds the lease gone)
   * stops the pipeline at the next tick. */
  options.progress_interval = 200 * GST_MSECOND;
  bool rendering = false;
  options.on_progress = [&](GstClockTime) {
    if (!rendering) fault_window("render", run.step.id);
    rendering = true;
    if (run.lease_lost) throw LeaseLost("lost the lease while rendering " + plan.name);
  };
  try {
    return run::run_render_pass(plan, options);
  } catch (const LeaseLost &) {
    throw;
  } catch (const std::runtime_error &e) { /* PipelineError, MediaError, no report */
    throw StepError(ErrorClass::kTransient, "render of " + plan.name + ": " + e.what());
  }
}

std::string verdicts_of(const run::PassResult &pass) {
  JsonWriter w;
  w.begin_object();
  w.begin_object("verdicts");
  for (const run::OutputVerdict &output : pass.outputs)
    w.member(output.name.c_str(), output.verdict);
  w.end_object();
  w.end_object();
  return w.text();
}

std::string skipped(const std::string &chosen) {
  JsonWriter w;
  w.begin_object();
  w.member("skipped", "the reviewer chose " + chosen);
  w.end_object();
  return w.text();
}

/* A file the pass made, as recorded. */
struct Recorded {
  std::string kind;
  fs::path path;
  std::int64_t size = 0;
  std::string sha256;
};

std::vector<Recorded> recorded_files(const run::PassResult &pass) {
  std::vector<Recorded> recorded;
  for (const run::MadeFile &file : pass.files)
    recorded.push_back({file.kind, file.path, static_cast<std::int64_t>(fs::file_size(file.path)),
                        file_sha256(file.path)});
  return recorded;
}

}  // namespace

void render(StepRun &run, const JobStepsConfig &config) {
  JsonNodePtr inputs = parse_json(run.step.inputs, "render inputs");
  JsonObject *in = json_node_get_object(inputs.get());
  const std::string variant = json_object_get_string_member_with_default(in, "variant", "");

  if (const auto chosen = chosen_variant(run.db, run.step.job_id, "before-render");
      chosen && *chosen != variant) {
    run.queue.succeed(run.step, skipped(*chosen));
    return;
  }

  const plan::RenderPlan plan = stored_plan(in, variant);
  check_approved(run, plan);
  try {
    run::check_inputs(plan);
  } catch (const run::InputChanged &e) {
    throw StepError(ErrorClass::kPermanent, "render of " + variant + ": " + e.what());
  }
  const run::PassResult pass = render_pass(run, plan, attempt_dir(config, run.step));
  if (run.lease_lost) throw LeaseLost("lost the lease while rendering " + variant);

  const std::vector<Recorded> recorded = recorded_files(pass);
  run.queue.succeed(run.step, verdicts_of(pass), [&](Connection &db) {
    for (const Recorded &r : recorded)
      store::record_artifact(db, {.job_id = run.step.job_id,
                                  .variant_id = run.step.variant_id,
                                  .step_id = run.step.id,
                                  .kind = r.kind,
                                  .uri = "file://" + r.path.string(),
                                  .size_bytes = r.size,
                                  .sha256 = r.sha256});
  });
}

}  // namespace reelforge::sched
