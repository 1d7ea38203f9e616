/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "job-steps.h"

#include "fault-window.h"
#include "file-qc.h"
#include "generate-step.h"
#include "gst-ptr.h"
#include "job-spec.h"
#include "json-file.h"
#include "json-writer.h"
#include "pipeline-runner.h"
#include "pipeline-template.h"
#include "render-plan.h"
#include "time-convert.h"
#include "upload-step.h"
#include "voiceover-plan.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <fstream>

namespace reelforge::sched {

namespace fs = std::filesystem;
using store::Connection;
using store::Result;

namespace {

struct LoadedJob {
  spec::Job job;
  std::string options; /* JSON */
};

std::string options_member(const std::string &options, const char *name) {
  JsonNodePtr node = parse_json(options, "job options");
  JsonObject *object = json_node_get_object(node.get());
  return json_object_get_string_member_with_default(object, name, "");
}

/* The job's spec, checked; a bad one is a permanent failure. */
LoadedJob load_job(Connection &db, std::int64_t job_id) {
  const Result row = db.query("SELECT spec::text, options::text FROM jobs WHERE id = $1", job_id);
  if (row.rows() != 1) throw StepError(ErrorClass::kPermanent, "the job is gone");
  const std::string name = "job " + std::to_string(job_id);
  const std::string options = row.text(0, 1);
  std::string base_dir = options_member(options, "base_dir");
  if (base_dir.empty()) base_dir = "/";
  try {
    JsonNodePtr document = parse_json(row.text(0, 0), name);
    return {spec::parse_job_document(document.get(), name, base_dir), options};
  } catch (const spec::SpecError &e) {
    throw StepError(ErrorClass::kPermanent, e.what());
  } catch (const std::runtime_error &e) {
    throw StepError(ErrorClass::kPermanent, e.what());
  }
}

/* The genvideo:// clips of a variant, in scene order, each once. */
std::vector<std::string> generated_clips(const spec::JobSpec &spec) {
  std::vector<std::string> uris;
  for (const spec::Scene &scene : spec.scenes)
    if (const auto *clip = std::get_if<spec::ClipSource>(&scene.source);
        clip && clip->media.uri.starts_with("genvideo://") &&
        std::find(uris.begin(), uris.end(), clip->media.uri) == uris.end())
      uris.push_back(clip->media.uri);
  return uris;
}

/* Points the job's generated scenes at the clips its generate steps made,
 * so the render reads files and can never call a provider itself. Every
 * clip of the variant named must be made (other variants' may still be on
 * their way); with none named, every clip of every variant. */
void use_generated_clips(Connection &db, std::int64_t job_id,
                         const std::optional<std::string> &variant, spec::Job &job) {
  const Result r = db.query(
      "SELECT s.inputs->>'uri', a.uri FROM steps s JOIN artifacts a ON a.step_id = s.id"
      " WHERE s.job_id = $1 AND s.kind = 'generate' AND s.status = 'succeeded'"
      " AND a.kind = 'clip'",
      job_id);
  std::map<std::string, std::string> made;
  for (int i = 0; i < r.rows(); ++i) made[r.text(i, 0)] = r.text(i, 1);
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

std::vector<plan::RenderPlan> plan_into(const spec::Job &job, const fs::path &dir) {
  try {
    return plan::plan_job(job, dir);
  } catch (const plan::PlanError &e) {
    throw StepError(ErrorClass::kPermanent, e.what());
  }
}

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

/* Adds, in the caller's transaction, one render per plan (a variant's
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

fs::path job_dir(const JobStepsConfig &config, std::int64_t job_id) {
  return config.artifacts_dir / ("job-" + std::to_string(job_id));
}

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

/* Speaks a voiceover into the TTS cache, where the planner (its word
 * timings) and the render (its audio) find it. */
void voiceover(StepRun &run) {
  JsonNodePtr inputs = parse_json(run.step.inputs, "voiceover inputs");
  const std::string variant =
      json_object_get_string_member_with_default(json_node_get_object(inputs.get()), "variant", "");
  const LoadedJob loaded = load_job(run.db, run.step.job_id);
  const auto found = std::find_if(loaded.job.variants.begin(), loaded.job.variants.end(),
                                  [&](const auto &v) { return v.variant.name == variant; });
  if (found == loaded.job.variants.end() || !found->spec.audio.spoken_voiceover)
    throw StepError(ErrorClass::kPermanent,
                    "the job no longer has variant " + variant + "'s voiceover");
  plan::VoiceoverTiming timing;
  try {
    timing = plan::time_voiceover(*found->spec.audio.spoken_voiceover, plan::tts_cache_dir());
  } catch (const plan::PlanError &e) { /* a TTS provider's outage, or its refusal */
    throw StepError(ErrorClass::kTransient, e.what());
  }
  JsonWriter w;
  w.begin_object();
  w.member("duration_s", timing.duration_s);
  w.member("words", static_cast<std::int64_t>(timing.words.size()));
  w.end_object();
  run.queue.succeed(run.step, w.text());
}

/* Plans the job once its voiceovers are spoken, and adds its renders. */
void plan_renders(StepRun &run, const JobStepsConfig &config) {
  const LoadedJob loaded = load_job(run.db, run.step.job_id);
  const auto plans = plan_into(loaded.job, job_dir(config, run.step.job_id));
  run.queue.succeed(run.step, plan_outputs(plans, loaded.job.variants.size()),
                    [&](Connection &db) { add_render_steps(run, db, loaded, plans); });
}

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
  const fs::path dir =
      job_dir(config, run.step.job_id) /
      ("step-" + std::to_string(run.step.id) + "-" + std::to_string(run.step.fencing_token));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw StepError(ErrorClass::kTransient, "cannot create " + dir.string() + ": " + ec.message());
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

void approval(StepRun &run, const JobStepsConfig &config) {
  JsonNodePtr inputs = parse_json(run.step.inputs, "approval inputs");
  JsonObject *object = json_node_get_object(inputs.get());
  JsonNode *choices = json_object_get_member(object, "choices");
  GCharPtr text(choices ? json_to_string(choices, FALSE) : g_strdup("[]"));
  const bool before_render = json_object_get_string_member_with_default(object, "stage", "") ==
                             std::string("before-render");
  const std::vector<Preview> previews =
      before_render ? render_previews(run, config) : std::vector<Preview>{};
  run.queue.wait_for_approval(
      run.step, std::string("{\"choices\": ") + text.get() + "}", [&](Connection &db) {
        for (const Preview &p : previews)
          db.query(
              "INSERT INTO artifacts (job_id, variant_id, step_id, kind, uri, size_bytes, sha256)"
              " SELECT $1, v.id, $2, 'preview', $3, $4, $5 FROM variants v"
              " WHERE v.job_id = $1 AND v.name = $6",
              run.step.job_id, run.step.id, "file://" + p.path.string(),
              static_cast<std::int64_t>(fs::file_size(p.path)), file_sha256(p.path), p.variant);
      });
}

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

}  // namespace

std::optional<std::string> chosen_variant(Connection &db, std::int64_t job_id,
                                          const std::string &stage) {
  /* Approvals written before stages were named are before the render. */
  const Result r = db.query(
      "SELECT outputs->'choices'->>((outputs->>'choice')::int),"
      " jsonb_array_length(outputs->'choices') FROM steps WHERE job_id = $1 AND kind = 'approval'"
      " AND status = 'succeeded' AND coalesce(inputs->>'stage', 'before-render') = $2"
      " ORDER BY id LIMIT 1",
      job_id, stage);
  if (r.rows() == 0 || r.is_null(0, 0) || r.int64(0, 1) < 2) return std::nullopt;
  return r.text(0, 0);
}

std::string file_sha256(const fs::path &path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  GChecksum *raw = g_checksum_new(G_CHECKSUM_SHA256);
  std::unique_ptr<GChecksum, decltype(&g_checksum_free)> checksum(raw, g_checksum_free);
  char chunk[65536];
  while (in.read(chunk, sizeof chunk) || in.gcount() > 0)
    g_checksum_update(checksum.get(), reinterpret_cast<const guchar *>(chunk), in.gcount());
  return g_checksum_get_string(checksum.get());
}

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
