/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Runs one pipeline description to EOS on a GLib main loop: bus watch,
 * deadline, element messages handed to the caller as they come, and the
 * first error turned into an exception a person can read.
 */
#pragma once

#include "gst-ptr.h"

#include <gst/gst.h>

#include <functional>
#include <stdexcept>
#include <string>

namespace reelforge::run {

/* The pipeline failed: a GStreamer error, a deadline, or a bad description. */
class PipelineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/* The run was stopped by SIGINT or SIGTERM (Ctrl-C). */
class Interrupted : public PipelineError {
 public:
  using PipelineError::PipelineError;
};

struct RunOptions {
  /* Give up (and stop the pipeline) after this long; 0 for never. */
  GstClockTime timeout = 0;
  /* Called with the parsed pipeline before it plays (still in NULL), to
   * set properties on its elements. */
  std::function<void(GstElement *pipeline)> on_parsed;
  /* Called on the main loop for every element message. */
  std::function<void(GstMessage *)> on_element_message;
  /* Called on the main loop every progress_interval with the pipeline's
   * position and duration (GST_CLOCK_TIME_NONE while unknown). */
  std::function<void(GstClockTime position, GstClockTime duration)> on_progress;
  GstClockTime progress_interval = GST_SECOND;
  /* Stop the pipeline on SIGINT/SIGTERM and throw Interrupted. */
  bool stop_on_signals = false;
};

/* Parses description (gst-launch syntax) and plays it until EOS. Throws
 * PipelineError with the element's error text on failure. */
void run_pipeline(const std::string &description, const RunOptions &options);

}  // namespace reelforge::run
