/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The step kinds `reelforge serve` runs for a job:
 *
 * - expand: checks the spec (the errors of `reelforge validate`, as a
 *   permanent failure), records the variants and adds one generate step
 *   per distinct generated clip of all variants; then, when a variant has a
 *   spoken voiceover, one voiceover step per distinct voiceover and a plan
 *   step after them, else it plans at once as the plan step would;
 * - voiceover: speaks a voiceover into the TTS cache (ttssrc), where the
 *   planner finds its word timings and the render its audio;
 * - plan: plans the job and adds, per output (variant x platform), a render
 *   step after its variant's generate steps; with {"approval":
 *   "before-render"} an approval step comes first, its choices the
 *   variants; when the spec has output.uri_prefix, an upload step after
 *   each render (with {"approval": "before-upload"}, one approval step,
 *   its choices the variants, waits for every render, and the uploads wait
 *   for it);
 * - approval: before the render, waits for the generated clips and records
 *   a preview frame of each variant's clip and image scenes (preview
 *   artifacts); then waits (holding no worker) for approve/reject; with several
 *   choices only the chosen variant renders (before-render) or is uploaded
 *   (before-upload), the others' steps succeed as skipped;
 * - generate (generate-step.h): one generated clip, paid for at most once
 *   (intent row before the POST, polls that hold no worker, resume-id to
 *   download), recorded as a clip artifact in the clip cache;
 * - render: the variant's generated scenes read from the clips its
 *   generate steps made (never a provider call), then the output's
 *   pipeline from the render plan, through the same
 *   runner as `reelforge render`, with its QC report and thumbnails; the
 *   files are recorded as artifacts (uri, size, sha256, kind) in the same
 *   transaction that ends the step;
 * - upload (upload-step.h): QC gates it (any "fail" verdict of its render
 *   uploads nothing and fails the job); otherwise the render's video, QC
 *   report and thumbnails go to output.uri_prefix (s3:// through s3sink,
 *   file:// by an atomic copy), each recorded as a delivered-* artifact in
 *   the transaction that ends the step.
 *
 * Files are written under <artifacts>/job-<id>/step-<id>-<token>/: each
 * attempt has its own folder, so a runner that lost its lease can never
 * overwrite the files the step's committed attempt recorded.
 */
#pragma once

#include "worker-pool.h"

#include <filesystem>
#include <map>
#include <optional>
#include <string>

namespace reelforge::sched {

struct JobStepsConfig {
  std::filesystem::path artifacts_dir;
  /* Generated clips, content-addressed (shared by jobs: an equal request
   * is generated once). */
  std::filesystem::path clips_dir;
};

std::map<std::string, StepHandler> job_step_handlers(const JobStepsConfig &config);

/* The variant a reviewer picked at the job's approval of stage
 * ("before-render" or "before-upload"), when it offered a choice. */
std::optional<std::string> chosen_variant(store::Connection &db, std::int64_t job_id,
                                          const std::string &stage);

/* Hex SHA-256 of a file's bytes. */
std::string file_sha256(const std::filesystem::path &path);

}  // namespace reelforge::sched
