/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * QC of a finished file: decode it through qcprobe (pipelines/qc-file*)
 * and add the checks that need the file itself: size, overall bitrate,
 * faststart, codecs.
 */
#pragma once

#include <gst/gst.h>
#include "platform-profile.h"
#include "qc-report.h"

#include <string>

namespace reelforge::run {

struct QcFileOptions {
  GstClockTime timeout = 600 * GST_SECOND;
  /* Thumbnails picked on the way: how many (0: none), and a file name
   * pattern with one %d, numbered from 1. */
  unsigned thumbnails = 0;
  std::string thumbnail_pattern;
  /* Stop on SIGINT/SIGTERM and throw run::Interrupted. */
  bool stop_on_signals = false;
};

/* Judges the file at path against profile. Throws MediaError for a file
 * that cannot be read or decoded to its end, qc::ProfileError for a bad
 * profile. */
qc::QcReport qc_file(const std::string &path, const std::string &profile,
                     const QcFileOptions &options);

/* Writes report as JSON (schemas/qc-report.schema.json) to path. Throws
 * std::runtime_error naming the path. */
void write_report(const std::string &path, const qc::QcReport &report);

}  // namespace reelforge::run
