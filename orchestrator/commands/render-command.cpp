/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * reelforge plan JOB.json [-o DIR] [--json]
 * reelforge render JOB.json [-o DIR] [--progress=bar|json|none]
 */
#include "commands/commands.h"

#include "gst-ptr.h"

#include "json-file.h"
#include "json-writer.h"
#include "plan/generate-plan.h"
#include "plan/render-plan.h"
#include "plan/s3-output.h"
#include "run/pipeline-runner.h"
#include "run/render-pass.h"
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
    "Usage: reelforge plan JOB.json [-o DIR] [--json]\n"
    "\n"
    "Prints, for each pass of the job (a variant's outputs for every platform),\n"
    "the gst-launch-1.0 command that renders it: the exact pipeline\n"
    "`reelforge render` runs, with the hash of its plan.\n"
    "\n"
    "  -o DIR                where the outputs go (default: the spec's output.directory)\n"
    "  --json                the plans as JSON, as the daemon stores them (the\n"
    "                        description, outputs, inputs read and their SHA-256, hash)\n";

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

constexpr int kExitInterrupted = 130;

enum class Progress { kBar, kJson, kNone };

struct JobArguments {
  std::string spec;
  std::optional<std::filesystem::path> out_dir;
  Progress progress = isatty(STDERR_FILENO) ? Progress::kBar : Progress::kNone;
  bool json = false; /* plan --json */
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

Progress parse_progress(const std::string &mode) {
  if (mode == "bar") return Progress::kBar;
  if (mode == "json") return Progress::kJson;
  if (mode == "none") return Progress::kNone;
  throw UsageError("--progress takes bar, json or none, not \"" + mode + "\"");
}

/* render takes --progress, plan --json. */
JobArguments parse_arguments(const std::vector<std::string> &args, bool render) {
  JobArguments parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    if (arg == "-o" || arg == "--output") {
      if (i + 1 >= args.size()) throw UsageError(arg + " needs a folder");
      parsed.out_dir = std::filesystem::path(args[++i]);
    } else if (render && arg.starts_with("--progress=")) {
      parsed.progress = parse_progress(arg.substr(11));
    } else if (!render && arg == "--json") {
      parsed.json = true;
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

/* The arguments, or the exit status when there is nothing to do (help
 * printed, or a usage error reported). */
std::optional<JobArguments> arguments_or_status(const std::vector<std::string> &args, bool render,
                                                int *status) {
  const char *usage = render ? kRenderUsage : kPlanUsage;
  for (const auto &arg : args)
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      *status = kExitOk;
      return std::nullopt;
    }
  try {
    return parse_arguments(args, render);
  } catch (const UsageError &e) {
    std::fprintf(stderr, "reelforge %s: %s\n\n%s", render ? "render" : "plan", e.what(), usage);
    *status = kExitBadInput;
    return std::nullopt;
  }
}

struct PlannedJob {
  std::vector<plan::RenderPlan> plans;
  std::string generation_cost; /* lines for people */
};

/* The job's plans; nullopt (the reason printed) for bad input. */
std::optional<PlannedJob> plan_or_report(const JobArguments &parsed) {
  try {
    const spec::Job job = spec::parse_job_spec(parsed.spec);
    PlannedJob planned;
    planned.plans = plan::plan_job(job, parsed.out_dir);
    planned.generation_cost = plan::describe_estimate(plan::estimate_generation(job));
    return planned;
  } catch (const spec::SpecError &e) {
    std::fprintf(stderr, "%s\n", e.what());
  } catch (const plan::PlanError &e) {
    std::fprintf(stderr, "%s: %s\n", parsed.spec.c_str(), e.what());
  }
  return std::nullopt;
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

/* Where a plan's output ends up: its file, or its object in the bucket. */
std::string destination(const plan::RenderPlan &plan, const plan::RenderOutput &output) {
  return plan.uri_prefix.empty() ? output.video.string()
                                 : plan::s3_output_uri(plan.uri_prefix, output.name + ".mp4");
}

/* Per pass: its outputs, its plan's hash and the command that renders it. */
void print_plans(const PlannedJob &planned) {
  const auto &plans = planned.plans;
  size_t outputs = 0;
  for (const auto &plan : plans) outputs += plan.outputs.size();
  std::printf("# %zu output%s in %zu pass%s\n%s", outputs, outputs == 1 ? "" : "s", plans.size(),
              plans.size() == 1 ? "" : "es", planned.generation_cost.c_str());
  for (const auto &plan : plans) {
    std::printf("\n# %s%s:", plan.name.c_str(),
                plan.stream_copy ? " (stream copy: nothing is re-encoded)" : "");
    for (const auto &output : plan.outputs) std::printf(" %s", destination(plan, output).c_str());
    std::printf("\n# plan hash %s\n%s\n", plan.hash.c_str(),
                gst_launch_command(plan.description).c_str());
  }
}

/* The plans as a JSON array, each as the daemon stores it. */
void print_plans_json(const std::vector<plan::RenderPlan> &plans) {
  JsonWriter w;
  w.begin_array();
  for (const auto &plan : plans) json_builder_add_value(w.get(), plan::to_json(plan).release());
  w.end_array();
  JsonNodePtr root(json_builder_get_root(w.get()));
  std::printf("%s\n", to_json_string(root.get(), true).c_str());
}

std::string clock_text(double seconds) {
  const auto total = static_cast<long>(std::lround(std::max(0.0, seconds)));
  char text[32];
  std::snprintf(text, sizeof text, "%ld:%02ld", total / 60, total % 60);
  return text;
}

/* value to digits decimals, as a person reads progress. */
double rounded(double value, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(value * scale) / scale;
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
    if (mode_ == Progress::kJson)
      print_json(done_s, fraction, elapsed_s, eta_s);
    else
      draw_bar(done_s, fraction, eta_s);
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
  void print_json(double done_s, double fraction, double elapsed_s, double eta_s) {
    JsonWriter w;
    w.begin_object();
    w.member("pass", plan_.name);
    std::vector<std::string> outputs;
    for (const plan::RenderOutput &output : plan_.outputs) outputs.push_back(output.name);
    w.member("outputs", outputs);
    w.member("index", static_cast<std::int64_t>(index_ + 1));
    w.member("passes", static_cast<std::int64_t>(count_));
    w.member("position_s", rounded(done_s, 2));
    w.member("duration_s", rounded(plan_.duration_s, 2));
    w.member("percent", rounded(fraction * 100, 1));
    w.member("elapsed_s", rounded(elapsed_s, 1));
    w.member("eta_s", rounded(eta_s, 1));
    w.end_object();
    std::printf("%s\n", w.text().c_str());
    std::fflush(stdout);
  }

  void draw_bar(double done_s, double fraction, double eta_s) {
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

  Progress mode_;
  const plan::RenderPlan &plan_;
  size_t index_, count_;
  gint64 start_;
};

/* Uploads: the pipeline completed each video's upload; the reports and
 * thumbnails follow, then the local copies go. */
bool upload_reports_and_thumbnails(const plan::RenderPlan &plan, const run::PassResult &pass) {
  try {
    for (const run::OutputVerdict &output : pass.outputs) {
      const std::string report_uri = plan::s3_output_uri(plan.uri_prefix, output.name + ".qc.json");
      s3::put_file(output.report.string(), report_uri, "application/json");
      for (const run::MadeFile &file : pass.files) {
        const std::string name = file.path.filename().string();
        if (file.kind != "thumbnail" || !name.starts_with(output.name + ".thumb-")) continue;
        s3::put_file(file.path.string(), plan::s3_output_uri(plan.uri_prefix, name), "image/jpeg");
      }
      std::printf("%s: %s (QC %s, report %s)\n", output.name.c_str(),
                  plan::s3_output_uri(plan.uri_prefix, output.name + ".mp4").c_str(),
                  output.verdict.c_str(), report_uri.c_str());
    }
  } catch (const std::exception &e) {
    run::remove_outputs(plan, plan.folder);
    std::fprintf(stderr, "reelforge render: %s: %s\n", plan.name.c_str(), e.what());
    return false;
  }
  run::remove_outputs(plan, plan.folder);
  return true;
}

/* What a finished pass says: each output's file or object and its
 * verdict. Returns the exit status it calls for. */
int report_pass(const plan::RenderPlan &plan, const run::PassResult &pass) {
  if (pass.stopped_by_qc) {
    /* Nothing is in the bucket; the local reports say why. */
    for (const run::OutputVerdict &output : pass.outputs)
      std::printf("%s: QC fail, nothing uploaded to %s (report %s)\n", output.name.c_str(),
                  plan.uri_prefix.c_str(), output.report.c_str());
    return kExitQcFailed;
  }
  if (!plan.uri_prefix.empty())
    return upload_reports_and_thumbnails(plan, pass) ? kExitOk : kExitBadInput;
  int status = kExitOk;
  for (const run::OutputVerdict &output : pass.outputs) {
    std::printf("%s: %s (QC %s, report %s)\n", output.name.c_str(), output.video.c_str(),
                output.verdict.c_str(), output.report.c_str());
    if (output.verdict == "fail") status = kExitQcFailed;
  }
  return status;
}

/* Renders plan (pass index of count) with progress; its exit status. */
int render_plan(const plan::RenderPlan &plan, size_t index, size_t count, Progress mode) {
  ProgressReporter progress(mode, plan, index, count);
  run::PassResult pass;
  try {
    pass = run::run_render_pass(
        plan, {.on_progress = [&](GstClockTime position) { progress.update(position); },
               .stop_on_signals = true});
  } catch (const run::Interrupted &) {
    progress.finish();
    std::fprintf(
        stderr, "reelforge render: interrupted; %s removed\n",
        plan.outputs.size() == 1 ? plan.outputs.front().video.c_str() : "its unfinished outputs");
    return kExitInterrupted;
  } catch (const std::runtime_error &e) { /* PipelineError, MediaError, a report not written */
    progress.finish();
    std::fprintf(stderr, "reelforge render: %s: %s\n", plan.name.c_str(), e.what());
    return kExitBadInput;
  }
  if (pass.stopped_by_qc)
    progress.finish();
  else
    progress.complete();
  return report_pass(plan, pass);
}

}  // namespace

int plan_command(const std::vector<std::string> &args) {
  int status = kExitOk;
  const auto parsed = arguments_or_status(args, false, &status);
  if (!parsed) return status;
  const auto planned = plan_or_report(*parsed);
  if (!planned) return kExitBadInput;
  if (parsed->json)
    print_plans_json(planned->plans);
  else
    print_plans(*planned);
  return kExitOk;
}

int render_command(const std::vector<std::string> &args) {
  int status = kExitOk;
  const auto parsed = arguments_or_status(args, true, &status);
  if (!parsed) return status;
  const auto planned = plan_or_report(*parsed);
  if (!planned) return kExitBadInput;
  const auto &plans = planned->plans;
  for (size_t i = 0; i < plans.size(); ++i) {
    const int pass_status = render_plan(plans[i], i, plans.size(), parsed->progress);
    if (pass_status == kExitBadInput || pass_status == kExitInterrupted) return pass_status;
    if (pass_status == kExitQcFailed) status = kExitQcFailed;
  }
  return status;
}

}  // namespace reelforge
