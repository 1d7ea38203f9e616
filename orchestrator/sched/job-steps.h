/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The step kinds `reelforge serve` runs for a job:
 *
 * - expand: checks the spec (the errors of `reelforge validate`, as a
 *   permanent failure), records the variants and adds, per output (variant
 *   x platform), a render step; with {"approval": "before-render"} in the
 *   job's options, an approval step comes first, its choices the variants;
 * - approval: waits (holding no worker) for approve/reject; with several
 *   choices only the chosen variant renders;
 * - render: the output's pipeline from the render plan, through the same
 *   runner as `reelforge render`, with its QC report and thumbnails; the
 *   files are recorded as artifacts (uri, size, sha256, kind) in the same
 *   transaction that ends the step.
 *
 * Files are written under <artifacts>/job-<id>/step-<id>-<token>/: each
 * attempt has its own folder, so a runner that lost its lease can never
 * overwrite the files the step's committed attempt recorded.
 */
#pragma once

#include "worker-pool.h"

#include <filesystem>
#include <map>
#include <string>

namespace reelforge::sched {

struct JobStepsConfig {
  std::filesystem::path artifacts_dir;
  /* Generated clips, content-addressed (shared by jobs: an equal request
   * is generated once). */
  std::filesystem::path clips_dir;
};

std::map<std::string, StepHandler> job_step_handlers(const JobStepsConfig &config);

/* Hex SHA-256 of a file's bytes. */
std::string file_sha256(const std::filesystem::path &path);

}  // namespace reelforge::sched
