/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One render pass: a plan's graph run to its end (within the plan's
 * timeout, with progress that may stop it, and Ctrl-C), a stream copy's
 * QC and thumbnails decoded from the result afterwards, the verdicts read
 * from the QC reports, and the list of files made. `reelforge render` and
 * the daemon's render step both run their plans through it.
 *
 * The outputs may go to a folder other than the one the plan was planned
 * into (the daemon writes each attempt into a folder of its own): once the
 * description is parsed, every element whose `location` lies inside the
 * planned folder is pointed at the same file in the run's folder. These
 * are properties set on the parsed elements; the description's text, which
 * holds tenant strings, is never edited.
 *
 * A pass that fails, is interrupted or is stopped removes what it wrote,
 * so no half-written file stays under a final name.
 */
#pragma once

#include "plan/render-plan.h"

#include <gst/gst.h>

#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace reelforge::run {

/* A file a pass made. */
struct MadeFile {
  std::string kind; /* "video", "qc-report" or "thumbnail" */
  std::filesystem::path path;
};

/* An output of the pass and its QC verdict. */
struct OutputVerdict {
  std::string name;    /* "<variant>.<platform>" */
  std::string verdict; /* "pass", "warn" or "fail", from its QC report */
  std::filesystem::path video;
  std::filesystem::path report;
};

struct PassResult {
  std::vector<OutputVerdict> outputs; /* in the plan's order */
  /* Per output its video, QC report and thumbnails. */
  std::vector<MadeFile> files;
  /* An uploading pass whose QC failed: qcprobe stopped the stream, so every
   * s3sink of the pass aborted and nothing is in the bucket. outputs then
   * holds the outputs that failed, and files only their QC reports. */
  bool stopped_by_qc = false;
};

struct PassOptions {
  /* Where the outputs go (created when missing); empty: the folder the plan
   * was planned into. */
  std::filesystem::path folder;
  /* Called every progress_interval with the pipeline's position
   * (GST_CLOCK_TIME_NONE while unknown); what it throws stops the pass and
   * is rethrown once the pass has cleaned up. */
  std::function<void(GstClockTime position)> on_progress;
  GstClockTime progress_interval = GST_SECOND;
  /* Stop on SIGINT/SIGTERM and throw Interrupted. */
  bool stop_on_signals = false;
};

/* Runs plan. Throws Interrupted, PipelineError or another
 * std::runtime_error (plan::MediaError, a report not written, a folder not
 * made), or what on_progress threw, after removing what it wrote. */
PassResult run_render_pass(const plan::RenderPlan &plan, const PassOptions &options);

/* An input of a stored plan is not the file that was planned. */
class InputChanged : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/* Checks that every input plan recorded is still there with its size and
 * SHA-256; throws InputChanged naming the first that is not. */
void check_inputs(const plan::RenderPlan &plan);

/* Removes the files of plan's outputs (videos, reports, thumbnails) from
 * folder. */
void remove_outputs(const plan::RenderPlan &plan, const std::filesystem::path &folder);

}  // namespace reelforge::run
