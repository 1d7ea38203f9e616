/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/render-step.h"

#include "json-file.h"
#include "json-writer.h"
#include "run/file-qc.h"
#include "run/pipeline-runner.h"
#include "sched/fault-window.h"
#include "sched/plan-step.h"
#include "time-convert.h"

#include <json-glib/json-glib.h>

namespace reelforge::sched {

namespace fs = std::filesystem;
using store::Connection;

void render(StepRun &run, const JobStepsConfig &config) {
  JsonNodePtr inputs = parse_json(run.step.inputs, "render inputs");
  JsonObject *in = json_node_get_object(inputs.get());
  const auto index = static_cast<size_t>(json_object_get_int_member_with_default(in, "plan", -1));
  const std::string variant = json_object_get_string_member_with_default(in, "variant", "");

  if (const auto chosen = chosen_variant(run.db, run.step.job_id, "before-render");
      chosen && *chosen != variant) {
    run.queue.succeed(run.step, "{\"skipped\": \"the reviewer chose " + *chosen + "\"}");
    return;
  }

  LoadedJob loaded = load_job(run.db, run.step.job_id);
  use_generated_clips(run.db, run.step.job_id, variant, loaded.job);
  const fs::path dir =
      config.artifacts_dir / ("job-" + std::to_string(run.step.job_id)) /
      ("step-" + std::to_string(run.step.id) + "-" + std::to_string(run.step.fencing_token));
  const auto plans = plan_into(loaded.job, dir);
  if (index >= plans.size() || plans[index].name != variant)
    throw StepError(ErrorClass::kPermanent, "the job's plan no longer has render " +
                                                std::to_string(index) + " of " + variant);
  const plan::RenderPlan &plan = plans[index];

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw StepError(ErrorClass::kTransient, "cannot create " + dir.string() + ": " + ec.message());
  run::RunOptions options;
  options.timeout = from_seconds(60 + plan.duration_s * 30 * plan.outputs.size());
  /* A cancelled job or a rescued step (the heartbeat finds the lease
   * gone) stops the pipeline at the next tick. */
  options.progress_interval = 200 * GST_MSECOND;
  bool rendering = false;
  options.on_progress = [&](GstClockTime, GstClockTime) {
    if (!rendering) fault_window("render", run.step.id);
    rendering = true;
    if (run.lease_lost) throw LeaseLost("lost the lease while rendering " + variant);
  };
  try {
    run::run_pipeline(plan.description, options);
    /* A stream copy decoded nothing: QC and thumbnails from the result, as
     * `reelforge render` does. */
    if (plan.stream_copy)
      for (const plan::RenderOutput &output : plan.outputs)
        run::write_report(output.report.string(),
                          run::qc_file(output.video.string(), output.platform,
                                       {.timeout = options.timeout,
                                        .thumbnails = output.thumbnail_count,
                                        .thumbnail_pattern = output.thumbnails}));
  } catch (const LeaseLost &) {
    throw;
  } catch (const std::runtime_error &e) { /* PipelineError, MediaError, no report */
    throw StepError(ErrorClass::kTransient, "render of " + variant + ": " + e.what());
  }
  if (run.lease_lost) throw LeaseLost("lost the lease while rendering " + variant);

  struct Recorded {
    std::string kind;
    fs::path path;
    std::int64_t size = 0;
    std::string sha256;
  };
  std::vector<Recorded> recorded;
  std::string verdicts;
  for (const plan::RenderOutput &output : plan.outputs) {
    JsonNodePtr report = load_json_file(output.report.string());
    const std::string verdict = json_object_get_string_member_with_default(
        json_node_get_object(report.get()), "verdict", "fail");
    verdicts +=
        (verdicts.empty() ? "" : ", ") + json_string(output.name) + ": " + json_string(verdict);
    recorded.push_back({"video", output.video});
    recorded.push_back({"qc-report", output.report});
    for (const auto &entry : fs::directory_iterator(dir))
      if (entry.path().filename().string().starts_with(output.name + ".thumb-"))
        recorded.push_back({"thumbnail", entry.path()});
  }
  for (Recorded &r : recorded) {
    r.size = static_cast<std::int64_t>(fs::file_size(r.path));
    r.sha256 = file_sha256(r.path);
  }

  run.queue.succeed(run.step, "{\"verdicts\": {" + verdicts + "}}", [&](Connection &db) {
    for (const Recorded &r : recorded)
      db.query(
          "INSERT INTO artifacts (job_id, variant_id, step_id, kind, uri, size_bytes, sha256)"
          " VALUES ($1, $2, $3, $4, $5, $6, $7)",
          run.step.job_id, run.step.variant_id ? store::param(*run.step.variant_id) : std::nullopt,
          run.step.id, r.kind, "file://" + r.path.string(), r.size, r.sha256);
  });
}

}  // namespace reelforge::sched
