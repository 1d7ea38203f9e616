/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/job-context.h"

#include "json-file.h"
#include "plan/render-plan.h"
#include "store/artifacts.h"
#include "store/jobs.h"
#include "store/steps.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <map>

namespace reelforge::sched {

namespace fs = std::filesystem;
using store::Connection;

std::string options_member(const std::string &options, const char *name) {
  JsonNodePtr node = parse_json(options, "job options");
  JsonObject *object = json_node_get_object(node.get());
  return json_object_get_string_member_with_default(object, name, "");
}

LoadedJob load_job(Connection &db, std::int64_t job_id) {
  const auto stored = store::job_document(db, job_id);
  if (!stored) throw StepError(ErrorClass::kPermanent, "the job is gone");
  const std::string name = "job " + std::to_string(job_id);
  std::string base_dir = options_member(stored->options, "base_dir");
  if (base_dir.empty()) base_dir = "/";
  try {
    JsonNodePtr document = parse_json(stored->spec, name);
    return {spec::parse_job_document(document.get(), name, base_dir), stored->options};
  } catch (const spec::SpecError &e) {
    throw StepError(ErrorClass::kPermanent, e.what());
  } catch (const std::runtime_error &e) {
    throw StepError(ErrorClass::kPermanent, e.what());
  }
}

std::vector<std::string> generated_clips(const spec::JobSpec &spec) {
  std::vector<std::string> uris;
  for (const spec::Scene &scene : spec.scenes)
    if (const auto *clip = std::get_if<spec::ClipSource>(&scene.source);
        clip && clip->media.uri.starts_with("genvideo://") &&
        std::find(uris.begin(), uris.end(), clip->media.uri) == uris.end())
      uris.push_back(clip->media.uri);
  return uris;
}

void use_generated_clips(Connection &db, std::int64_t job_id,
                         const std::optional<std::string> &variant, spec::Job &job) {
  std::map<std::string, std::string> made;
  for (const store::GeneratedClip &clip : store::generated_clip_files(db, job_id))
    made[clip.source_uri] = clip.file_uri;
  for (auto &v : job.variants)
    for (spec::Scene &scene : v.spec.scenes) {
      auto *clip = std::get_if<spec::ClipSource>(&scene.source);
      if (!clip || !clip->media.uri.starts_with("genvideo://")) continue;
      const auto found = made.find(clip->media.uri);
      if (found == made.end()) {
        if (variant && v.variant.name != *variant) continue;
        throw StepError(ErrorClass::kPermanent,
                        "no generate step made " + clip->media.uri + " (was the job edited?)");
      }
      clip->media.uri = found->second;
      clip->media.local_path = found->second.substr(std::string_view("file://").size());
    }
}

fs::path job_dir(const JobStepsConfig &config, std::int64_t job_id) {
  return config.artifacts_dir / ("job-" + std::to_string(job_id));
}

fs::path attempt_dir(const JobStepsConfig &config, const ClaimedStep &step) {
  const fs::path dir = job_dir(config, step.job_id) / ("step-" + std::to_string(step.id) + "-" +
                                                       std::to_string(step.fencing_token));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw StepError(ErrorClass::kTransient, "cannot create " + dir.string() + ": " + ec.message());
  return dir;
}

std::optional<std::string> chosen_variant(Connection &db, std::int64_t job_id,
                                          const std::string &stage) {
  /* A single candidate was no choice: every render runs. */
  const auto approval = store::stage_approval(db, job_id, stage);
  if (!approval || !approval->chosen || approval->choices < 2) return std::nullopt;
  return approval->chosen;
}

std::optional<std::vector<std::string>> approved_plan_hashes(Connection &db, std::int64_t job_id,
                                                             const std::string &variant) {
  const auto approval = store::before_render_approval_plans(db, job_id, variant);
  if (!approval) return std::nullopt;
  std::vector<std::string> hashes;
  if (approval->status != "succeeded") return hashes;
  JsonNodePtr listed = parse_json(approval->hashes_json, "the approval's plans");
  JsonArray *array =
      JSON_NODE_HOLDS_ARRAY(listed.get()) ? json_node_get_array(listed.get()) : nullptr;
  for (guint i = 0; array && i < json_array_get_length(array); ++i) {
    JsonNode *hash = json_array_get_element(array, i);
    if (JSON_NODE_HOLDS_VALUE(hash) && json_node_get_value_type(hash) == G_TYPE_STRING)
      hashes.emplace_back(json_node_get_string(hash));
  }
  return hashes;
}

std::string file_sha256(const fs::path &path) {
  return plan::digest_file(path).sha256; /* one reader of files' hashes, the planner's */
}

}  // namespace reelforge::sched
