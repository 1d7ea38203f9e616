/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "run/render-pass.h"

#include "gst-ptr.h"
#include "json-file.h"
#include "run/file-qc.h"
#include "run/pipeline-runner.h"
#include "time-convert.h"

#include <algorithm>
#include <optional>

namespace reelforge::run {

namespace {

namespace fs = std::filesystem;

/* path moved from the planned folder into folder; unchanged when it lies
 * outside the planned folder. */
fs::path relocated(const fs::path &path, const fs::path &planned, const fs::path &folder) {
  const fs::path relative = path.lexically_normal().lexically_relative(planned.lexically_normal());
  if (relative.empty() || relative == "." || *relative.begin() == "..") return path;
  return folder / relative;
}

/* plan's outputs as they are written into folder. */
std::vector<plan::RenderOutput> outputs_in(const plan::RenderPlan &plan, const fs::path &folder) {
  std::vector<plan::RenderOutput> outputs = plan.outputs;
  if (folder == plan.folder) return outputs;
  for (plan::RenderOutput &output : outputs) {
    output.video = relocated(output.video, plan.folder, folder);
    output.report = relocated(output.report, plan.folder, folder);
    output.thumbnails = relocated(output.thumbnails, plan.folder, folder).string();
  }
  return outputs;
}

/* Every element inside bin, at any depth, each referenced. */
std::vector<GstObjectPtr<GstElement>> elements_of(GstBin *bin) {
  std::vector<GstObjectPtr<GstElement>> elements;
  GstIterator *iterator = gst_bin_iterate_recurse(bin);
  GValue item = G_VALUE_INIT;
  for (bool done = false; !done;) {
    switch (gst_iterator_next(iterator, &item)) {
      case GST_ITERATOR_OK:
        elements.emplace_back(GST_ELEMENT(gst_object_ref(g_value_get_object(&item))));
        g_value_reset(&item);
        break;
      case GST_ITERATOR_RESYNC:
        elements.clear();
        gst_iterator_resync(iterator);
        break;
      default:
        done = true;
        break;
    }
  }
  g_value_unset(&item);
  gst_iterator_free(iterator);
  return elements;
}

/* Points every writable `location` inside the planned folder at the same
 * file in folder; the files the plan reads stay where they are. */
void relocate_locations(GstElement *pipeline, const plan::RenderPlan &plan,
                        const fs::path &folder) {
  if (!GST_IS_BIN(pipeline)) return;
  for (const auto &element : elements_of(GST_BIN(pipeline))) {
    GParamSpec *spec = g_object_class_find_property(G_OBJECT_GET_CLASS(element.get()), "location");
    if (!spec || spec->value_type != G_TYPE_STRING || !(spec->flags & G_PARAM_WRITABLE)) continue;
    gchar *raw = nullptr;
    g_object_get(element.get(), "location", &raw, nullptr);
    const GCharPtr location(raw);
    if (!location) continue;
    const fs::path from = location.get();
    if (std::any_of(plan.inputs.begin(), plan.inputs.end(),
                    [&](const plan::PlannedInput &input) { return input.path == from; }))
      continue;
    const fs::path to = relocated(from, plan.folder, folder);
    if (to != from) g_object_set(element.get(), "location", to.c_str(), nullptr);
  }
}

/* The verdict a QC report gives; nullopt when it cannot be read. */
std::optional<std::string> read_verdict(const fs::path &report) {
  try {
    JsonNodePtr document = load_json_file(report.string());
    JsonObject *top = json_node_get_object(document.get());
    if (!top) return std::nullopt;
    return json_object_get_string_member_with_default(top, "verdict", "fail");
  } catch (const std::runtime_error &) {
    return std::nullopt;
  }
}

/* The thumbnails an output left beside its video, in name order. */
std::vector<fs::path> thumbnails_of(const plan::RenderOutput &output) {
  std::vector<fs::path> thumbnails;
  const std::string prefix = output.name + ".thumb-";
  std::error_code ignored;
  for (const auto &entry : fs::directory_iterator(output.video.parent_path(), ignored))
    if (entry.path().filename().string().starts_with(prefix)) thumbnails.push_back(entry.path());
  std::sort(thumbnails.begin(), thumbnails.end());
  return thumbnails;
}

/* A stream copy decoded nothing: its outputs are decoded now for their QC
 * reports and thumbnails. */
void judge_copies(const std::vector<plan::RenderOutput> &outputs, GstClockTime timeout,
                  bool stop_on_signals) {
  for (const plan::RenderOutput &output : outputs) {
    const qc::QcReport report = qc_file(output.video.string(), output.platform,
                                        {.timeout = timeout,
                                         .thumbnails = output.thumbnail_count,
                                         .thumbnail_pattern = output.thumbnails,
                                         .stop_on_signals = stop_on_signals});
    write_report(output.report.string(), report);
  }
}

/* The plan's graph, its outputs written into folder, then a copy's QC. */
void run_graph(const plan::RenderPlan &plan, const fs::path &folder,
               const std::vector<plan::RenderOutput> &outputs, const PassOptions &options) {
  RunOptions run;
  run.timeout = from_seconds(plan.timeout_s);
  run.stop_on_signals = options.stop_on_signals;
  run.progress_interval = options.progress_interval;
  if (options.on_progress)
    run.on_progress = [&](GstClockTime position, GstClockTime) { options.on_progress(position); };
  if (folder != plan.folder)
    run.on_parsed = [&](GstElement *pipeline) { relocate_locations(pipeline, plan, folder); };
  run_pipeline(plan.description, run);
  if (plan.stream_copy) judge_copies(outputs, run.timeout, options.stop_on_signals);
}

/* What a finished pass made, and each output's verdict. Throws when a
 * report is missing or unreadable. */
PassResult collect(const std::vector<plan::RenderOutput> &outputs) {
  PassResult result;
  for (const plan::RenderOutput &output : outputs) {
    const std::optional<std::string> verdict = read_verdict(output.report);
    if (!verdict)
      throw std::runtime_error(output.name + ": the render wrote no readable QC report (" +
                               output.report.string() + ")");
    result.outputs.push_back({output.name, *verdict, output.video, output.report});
    result.files.push_back({"video", output.video});
    result.files.push_back({"qc-report", output.report});
    for (const fs::path &thumbnail : thumbnails_of(output))
      result.files.push_back({"thumbnail", thumbnail});
  }
  return result;
}

/* An uploading pass that failed because QC stopped it: the failing
 * outputs' reports are kept (they say why), everything else removed.
 * nullopt when no report says "fail" (the failure was something else). */
std::optional<PassResult> stopped_by_qc(const std::vector<plan::RenderOutput> &outputs) {
  PassResult result;
  result.stopped_by_qc = true;
  std::error_code ignored;
  for (const plan::RenderOutput &output : outputs) {
    fs::remove(output.video, ignored);
    for (const fs::path &thumbnail : thumbnails_of(output)) fs::remove(thumbnail, ignored);
    if (read_verdict(output.report) == "fail") {
      result.outputs.push_back({output.name, "fail", output.video, output.report});
      result.files.push_back({"qc-report", output.report});
    } else {
      fs::remove(output.report, ignored);
    }
  }
  if (result.outputs.empty()) return std::nullopt;
  return result;
}

}  // namespace

PassResult run_render_pass(const plan::RenderPlan &plan, const PassOptions &options) {
  const fs::path folder = options.folder.empty() ? plan.folder : options.folder;
  std::error_code error;
  fs::create_directories(folder, error);
  if (error) throw std::runtime_error("cannot make " + folder.string() + ": " + error.message());
  const std::vector<plan::RenderOutput> outputs = outputs_in(plan, folder);
  try {
    run_graph(plan, folder, outputs, options);
    return collect(outputs);
  } catch (const Interrupted &) {
    remove_outputs(plan, folder);
    throw;
  } catch (const PipelineError &) {
    if (!plan.uri_prefix.empty())
      if (auto stopped = stopped_by_qc(outputs)) return *stopped;
    remove_outputs(plan, folder);
    throw;
  } catch (...) {
    remove_outputs(plan, folder);
    throw;
  }
}

void check_inputs(const plan::RenderPlan &plan) {
  for (const plan::PlannedInput &input : plan.inputs) {
    std::optional<plan::PlannedInput> now;
    try {
      now = plan::digest_file(input.path);
    } catch (const plan::PlanError &) {
    }
    if (!now)
      throw InputChanged(input.path.string() +
                         " changed since the plan (it is gone): plan again by resubmitting");
    if (now->size != input.size || now->sha256 != input.sha256)
      throw InputChanged(input.path.string() + " changed since the plan (sha256 " + input.sha256 +
                         ", now " + now->sha256 + "): plan again by resubmitting");
  }
}

void remove_outputs(const plan::RenderPlan &plan, const fs::path &folder) {
  std::error_code ignored;
  for (const plan::RenderOutput &output : outputs_in(plan, folder)) {
    fs::remove(output.video, ignored);
    fs::remove(output.report, ignored);
    for (const fs::path &thumbnail : thumbnails_of(output)) fs::remove(thumbnail, ignored);
  }
}

}  // namespace reelforge::run
