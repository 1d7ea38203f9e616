/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * reelforge plan JOB.json [-o DIR]
 * reelforge render JOB.json [-o DIR] [--progress=bar|json|none]
 */
#include "commands/commands.h"

#include "gst-ptr.h"

#include "json-file.h"
#include "plan/generate-plan.h"
#include "plan/render-plan.h"
#include "plan/s3-output.h"
#include "run/file-qc.h"
#include "run/pipeline-runner.h"
#include "s3-client.h"
#include "spec/job-spec.h"
#include "time-convert.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

namespace reelforge {

namespace {

constexpr const char *kPlanUsage =
    "Usage: reelforge plan JOB.json [-o DIR]\n"
    "\n"
    "Prints, for each pass of the job (a variant's outputs for every platform),\n"
    "the gst-launch-1.0 command that renders it: the exact pipeline\n"
    "`reelforge render` runs.\n";

constexpr const char *kRenderUsage =
    "Usage: reelforge render JOB.json [-o DIR] [--progress=bar|json|none]\n"
    "\n"
    "Renders every output of the job (variant x platform): the video, its QC\n"
    "report (<name>.qc.json) and thumbnails (<name>.thumb-N.jpg). A variant's\n"
    "platforms render together in one pass, from one decode of the sources.\n"
    "\n"
    "  -o DIR                where to write (default: the spec's output.directory)\n"
    "  --progress=MODE       bar (default on a terminal), json (a line a second), none\n"
    "\n"
    "Exit status: 0 done and QC passed (warnings allowed), 1 an output failed QC\n"
    "(it is kept and its report says why), 2 bad input or a render that failed.\n";

enum class Progress { kBar, kJson, kNone };

struct JobArguments {
  std::string spec;
  std::optional<std::filesystem::path> out_dir;
  Progress progress = isatty(STDERR_FILENO) ? Progress::kBar : Progress::kNone;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

JobArguments parse_arguments(const std::vector<std::string> &args, bool takes_progress) {
  JobArguments parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    if (arg == "-o" || arg == "--output") {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a folder");
      parsed.out_dir = std::filesystem::path(args[++i]);
    } else if (takes_progress && arg.starts_with("--progress=")) {
      const std::string mode = arg.substr(11);
      if (mode == "bar")
        parsed.progress = Progress::kBar;
      else if (mode == "json")
        parsed.progress = Progress::kJson;
      else if (mode == "none")
        parsed.progress = Progress::kNone;
      else
        throw UsageError("--progress takes bar, json or none, not \"" + mode + "\"");
    } else if (arg.starts_with("-")) {
      throw UsageError("unknown option " + arg);
    } else if (parsed.spec.empty()) {
      parsed.spec = arg;
    } else {
      throw UsageError("one job at a time; \"" + arg + "\" is one too many");
    }
  }
  if (parsed.spec.empty()) throw UsageError("which job? Give the job spec (JSON)");
  return parsed;
}

/* gst-launch-1.0 joins its arguments with spaces but escapes the spaces
 * inside each one, so the description must reach it one token per argument:
 * split at spaces outside double quotes, each token quoted for the shell. */
std::string gst_launch_command(const std::string &description) {
  std::string command = "gst-launch-1.0 -e";
  std::string token;
  bool in_quotes = false;
  auto flush = [&] {
    if (token.empty()) return;
    GCharPtr quoted(g_shell_quote(token.c_str()));
    command += " " + std::string(quoted.get());
    token.clear();
  };
  for (size_t i = 0; i < description.size(); ++i) {
    const char c = description[i];
    if (c == '"' && (i == 0 || description[i - 1] != '\\')) in_quotes = !in_quotes;
    if (c == ' ' && !in_quotes)
      flush();
    else
      token += c;
  }
  flush();
  return command;
}

std::string clock_text(double seconds) {
  const auto total = static_cast<long>(std::lround(std::max(0.0, seconds)));
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
  return text;
}

/* One line on the terminal, redrawn in place, or one JSON line a second. */
class ProgressReporter {
 public:
  ProgressReporter(Progress mode, const plan::RenderPlan &plan, size_t index, size_t count)
      : mode_(mode), plan_(plan), index_(index), count_(count), start_(g_get_monotonic_time()) {}

  void update(GstClockTime position) {
    if (mode_ == Progress::kNone || !GST_CLOCK_TIME_IS_VALID(position)) return;
    const double done_s = std::min(to_seconds(position), plan_.duration_s);
    const double fraction = plan_.duration_s > 0 ? done_s / plan_.duration_s : 0;
    const double elapsed_s = (g_get_monotonic_time() - start_) / 1e6;
    const double eta_s = fraction > 0.01 ? elapsed_s * (1 - fraction) / fraction : -1;
    if (mode_ == Progress::kJson) {
      std::string outputs;
      for (const plan::RenderOutput &output : plan_.outputs)
        outputs += (outputs.empty() ? "\"" : ", \"") + output.name + "\"";
      std::printf(
          "{\"pass\": \"%s\", \"outputs\": [%s], \"index\": %zu, \"passes\": %zu, "
          "\"position_s\": %.2f, \"duration_s\": %.2f, \"percent\": %.1f, \"elapsed_s\": %.1f, "
          "\"eta_s\": %.1f}\n",
          plan_.name.c_str(), outputs.c_str(), index_ + 1, count_, done_s, plan_.duration_s,
          fraction * 100, elapsed_s, eta_s);
      std::fflush(stdout);
      return;
    }
    constexpr int kWidth = 30;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(filled, '#');
    bar.resize(kWidth, '.');
    std::fprintf(stderr, "\r[%zu/%zu] %s [%s] %3.0f%% %s / %s  ETA %s ", index_ + 1, count_,
                 plan_.name.c_str(), bar.c_str(), fraction * 100, clock_text(done_s).c_str(),
                 clock_text(plan_.duration_s).c_str(),
                 eta_s < 0 ? "--:--" : clock_text(eta_s).c_str());
    std::fflush(stderr);
  }

  /* The last line says 100%, however short the render was. */
  void complete() {
    update(from_seconds(plan_.duration_s));
    finish();
  }

  void finish() {
    if (mode_ == Progress::kBar) std::fputc('\n', stderr);
  }

 private:
  Progress mode_;
  const plan::RenderPlan &plan_;
  size_t index_, count_;
  gint64 start_;
};

/* Removes what a failed or interrupted render left, so no half-written
 * file stays under a final name. */
void remove_outputs(const plan::RenderPlan &plan) {
  std::error_code ignored;
  for (const plan::RenderOutput &output : plan.outputs) {
    std::filesystem::remove(output.video, ignored);
    std::filesystem::remove(output.report, ignored);
    const auto folder = output.video.parent_path();
    const std::string prefix = output.name + ".thumb-";
    for (const auto &entry : std::filesystem::directory_iterator(folder, ignored))
      if (entry.path().filename().string().starts_with(prefix))
        std::filesystem::remove(entry.path(), ignored);
  }
}

std::string report_verdict(const plan::RenderOutput &output) {
  JsonNodePtr report = load_json_file(output.report.string());
  JsonObject *top = json_node_get_object(report.get());
  return json_object_get_string_member_with_default(top, "verdict", "fail");
}

/* Uploads: the pipeline completed each video's upload; the reports and
 * thumbnails follow, then the local copies go. */
bool upload_reports_and_thumbnails(const plan::RenderPlan &plan) {
  try {
    for (const plan::RenderOutput &output : plan.outputs) {
      const std::string verdict = report_verdict(output);
      const std::string report_uri = plan::s3_output_uri(plan.uri_prefix, output.name + ".qc.json");
      s3::put_file(output.report.string(), report_uri, "application/json");
      std::error_code ignored;
      const std::string prefix = output.name + ".thumb-";
      for (const auto &entry :
           std::filesystem::directory_iterator(output.video.parent_path(), ignored)) {
        const std::string file = entry.path().filename().string();
        if (!file.starts_with(prefix)) continue;
        s3::put_file(entry.path().string(), plan::s3_output_uri(plan.uri_prefix, file),
                     "image/jpeg");
      }
      std::printf("%s: %s (QC %s, report %s)\n", output.name.c_str(),
                  plan::s3_output_uri(plan.uri_prefix, output.name + ".mp4").c_str(),
                  verdict.c_str(), report_uri.c_str());
    }
  } catch (const std::exception &e) {
    remove_outputs(plan);
    std::fprintf(stderr, "reelforge render: %s: %s\n", plan.name.c_str(), e.what());
    return false;
  }
  remove_outputs(plan);
  return true;
}

/* An upload whose QC failed: qcprobe stopped the stream, every s3sink of
 * the pass aborted, nothing is in the bucket; the local reports say why.
 * False when the error was something else. */
bool qc_failed_upload(const plan::RenderPlan &plan) {
  std::vector<const plan::RenderOutput *> failed;
  for (const plan::RenderOutput &output : plan.outputs)
    if (std::filesystem::exists(output.report) && report_verdict(output) == "fail")
      failed.push_back(&output);
  if (failed.empty()) return false;
  std::error_code ignored;
  for (const auto *output : failed)
    std::filesystem::rename(output->report, output->report.string() + ".failed", ignored);
  remove_outputs(plan);
  for (const auto *output : failed) {
    std::filesystem::rename(output->report.string() + ".failed", output->report, ignored);
    std::printf("%s: QC fail, nothing uploaded to %s (report %s)\n", output->name.c_str(),
                plan.uri_prefix.c_str(), output->report.c_str());
  }
  return true;
}

/* A stream copy decoded nothing: its outputs are decoded now for their QC
 * reports and thumbnails. */
void judge_copies(const plan::RenderPlan &plan, GstClockTime timeout) {
  for (const plan::RenderOutput &output : plan.outputs) {
    const qc::QcReport report = run::qc_file(output.video.string(), output.platform,
                                             {.timeout = timeout,
                                              .thumbnails = output.thumbnail_count,
                                              .thumbnail_pattern = output.thumbnails,
                                              .stop_on_signals = true});
    run::write_report(output.report.string(), report);
  }
}

int job_command(const std::vector<std::string> &args, bool render) {
  const char *usage = render ? kRenderUsage : kPlanUsage;
  const char *name = render ? "render" : "plan";
  for (const auto &arg : args)
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      return kExitOk;
    }
  JobArguments parsed;
  try {
    parsed = parse_arguments(args, render);
  } catch (const UsageError &e) {
    std::fprintf(stderr, "reelforge %s: %s\n\n%s", name, e.what(), usage);
    return kExitBadInput;
  }

  std::vector<plan::RenderPlan> plans;
  std::string generation_cost;
  try {
    const spec::Job job = spec::parse_job_spec(parsed.spec);
    plans = plan::plan_job(job, parsed.out_dir);
    generation_cost = plan::describe_estimate(plan::estimate_generation(job));
  } catch (const spec::SpecError &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kExitBadInput;
  } catch (const plan::PlanError &e) {
    std::fprintf(stderr, "%s: %s\n", parsed.spec.c_str(), e.what());
    return kExitBadInput;
  }

  if (!render) {
    size_t outputs = 0;
    for (const auto &plan : plans) outputs += plan.outputs.size();
    std::printf("# %zu output%s in %zu pass%s\n%s", outputs, outputs == 1 ? "" : "s", plans.size(),
                plans.size() == 1 ? "" : "es", generation_cost.c_str());
    for (const auto &plan : plans) {
      std::printf("\n# %s%s:", plan.name.c_str(),
                  plan.stream_copy ? " (stream copy: nothing is re-encoded)" : "");
      for (const auto &output : plan.outputs)
        std::printf(" %s",
                    plan.uri_prefix.empty()
                        ? output.video.c_str()
                        : plan::s3_output_uri(plan.uri_prefix, output.name + ".mp4").c_str());
      std::printf("\n%s\n", gst_launch_command(plan.description).c_str());
    }
    return kExitOk;
  }

  int status = kExitOk;
  for (size_t i = 0; i < plans.size(); ++i) {
    const plan::RenderPlan &plan = plans[i];
    for (const plan::RenderOutput &output : plan.outputs) {
      std::error_code error;
      std::filesystem::create_directories(output.video.parent_path(), error);
      if (error) {
        std::fprintf(stderr, "reelforge render: cannot make %s: %s\n",
                     output.video.parent_path().c_str(), error.message().c_str());
        return kExitBadInput;
      }
    }
    ProgressReporter progress(parsed.progress, plan, i, plans.size());
    run::RunOptions options;
    options.stop_on_signals = true;
    /* Generous: a render runs at several times real time here. */
    options.timeout = from_seconds(60 + plan.duration_s * 30 * plan.outputs.size());
    options.on_progress = [&](GstClockTime position, GstClockTime) { progress.update(position); };
    try {
      run::run_pipeline(plan.description, options);
      if (plan.stream_copy) judge_copies(plan, options.timeout);
    } catch (const run::Interrupted &) {
      progress.finish();
      remove_outputs(plan);
      std::fprintf(
          stderr, "reelforge render: interrupted; %s removed\n",
          plan.outputs.size() == 1 ? plan.outputs.front().video.c_str() : "its unfinished outputs");
      return 130;
    } catch (const std::runtime_error &e) { /* PipelineError, MediaError, a report not written */
      progress.finish();
      if (!plan.uri_prefix.empty() && qc_failed_upload(plan)) {
        status = kExitQcFailed;
        continue;
      }
      remove_outputs(plan);
      std::fprintf(stderr, "reelforge render: %s: %s\n", plan.name.c_str(), e.what());
      return kExitBadInput;
    }
    progress.complete();
    if (!plan.uri_prefix.empty()) {
      if (!upload_reports_and_thumbnails(plan)) return kExitBadInput;
      continue;
    }
    for (const plan::RenderOutput &output : plan.outputs) {
      const std::string verdict = report_verdict(output);
      std::printf("%s: %s (QC %s, report %s)\n", output.name.c_str(), output.video.c_str(),
                  verdict.c_str(), output.report.c_str());
      if (verdict == "fail") status = kExitQcFailed;
    }
  }
  return status;
}

}  // namespace

int plan_command(const std::vector<std::string> &args) {
  return job_command(args, false);
}

int render_command(const std::vector<std::string> &args) {
  return job_command(args, true);
}

}  // namespace reelforge
