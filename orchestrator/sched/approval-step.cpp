/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/approval-step.h"

#include "gst-ptr.h"
#include "json-file.h"
#include "json-writer.h"
#include "plan/pipeline-template.h"
#include "run/pipeline-runner.h"
#include "store/artifacts.h"
#include "store/variants.h"

#include <json-glib/json-glib.h>

#include <map>

namespace reelforge::sched {

namespace fs = std::filesystem;
using store::Connection;

namespace {

/* Preview frames for a before-render approval: per variant, the first
 * frame of each clip or image scene (generated clips as their generate
 * steps made them), through pipelines/preview-frame.pipeline. */
struct Preview {
  std::string variant;
  fs::path path;
};

std::vector<Preview> render_previews(StepRun &run, const JobStepsConfig &config) {
  LoadedJob loaded = load_job(run.db, run.step.job_id);
  use_generated_clips(run.db, run.step.job_id, std::nullopt, loaded.job);
  const fs::path dir = attempt_dir(config, run.step);
  const plan::PipelineTemplate frame = plan::PipelineTemplate::load("preview-frame");
  std::vector<Preview> previews;
  for (size_t i = 0; i < loaded.job.variants.size(); ++i) {
    const auto &v = loaded.job.variants[i];
    for (size_t n = 0; n < v.spec.scenes.size(); ++n) {
      const spec::Source &source = v.spec.scenes[n].source;
      std::string uri;
      if (const auto *clip = std::get_if<spec::ClipSource>(&source)) uri = clip->media.uri;
      if (const auto *image = std::get_if<spec::ImageSource>(&source)) uri = image->media.uri;
      if (uri.empty()) continue; /* a card has no frame of its own */
      const fs::path output =
          dir / ("preview-" + std::to_string(i) + "-scene-" + std::to_string(n) + ".jpg");
      try {
        run::run_pipeline(frame.fill({{"uri", uri}, {"width", "360"}, {"output", output}}),
                          {.timeout = 60 * GST_SECOND});
      } catch (const std::runtime_error &e) {
        throw StepError(ErrorClass::kTransient, "preview of " + uri + ": " + e.what());
      }
      if (run.lease_lost) throw LeaseLost("lost the lease while making previews");
      previews.push_back({v.variant.name, output});
    }
  }
  return previews;
}

/* What the reviewer is shown: the choices, and for a before-render
 * approval the hashes of the plans each choice approves. */
std::string candidates(JsonObject *inputs) {
  JsonWriter w;
  w.begin_object();
  if (JsonNode *choices = json_object_get_member(inputs, "choices"))
    w.member_node("choices", choices);
  else
    w.member("choices", std::vector<std::string>{});
  if (JsonNode *plans = json_object_get_member(inputs, "plans")) w.member_node("plans", plans);
  w.end_object();
  return w.text();
}

}  // namespace

void approval(StepRun &run, const JobStepsConfig &config) {
  JsonNodePtr inputs = parse_json(run.step.inputs, "approval inputs");
  JsonObject *object = json_node_get_object(inputs.get());
  const bool before_render = json_object_get_string_member_with_default(object, "stage", "") ==
                             std::string("before-render");
  const std::vector<Preview> previews =
      before_render ? render_previews(run, config) : std::vector<Preview>{};
  run.queue.wait_for_approval(run.step, candidates(object), [&](Connection &db) {
    const std::map<std::string, std::int64_t> variant_ids = store::variant_ids(db, run.step.job_id);
    for (const Preview &p : previews) {
      const auto variant = variant_ids.find(p.variant);
      if (variant == variant_ids.end()) continue; /* as before: a preview belongs to a variant */
      store::record_artifact(db, {.job_id = run.step.job_id,
                                  .variant_id = variant->second,
                                  .step_id = run.step.id,
                                  .kind = "preview",
                                  .uri = "file://" + p.path.string(),
                                  .size_bytes = static_cast<std::int64_t>(fs::file_size(p.path)),
                                  .sha256 = file_sha256(p.path)});
    }
  });
}

}  // namespace reelforge::sched
