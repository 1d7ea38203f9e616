/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The daemon's upload step: delivers what one render step made (videos, QC
 * reports, thumbnails) to the spec's output.uri_prefix, gated by QC.
 *
 * Inputs: {"render_step": <id>, "variant": "<name>", "destination": "<uri prefix>"}.
 *
 * - A render whose QC said "fail" for any output delivers nothing: the step
 *   fails permanently (so the job ends `failed`) naming the outputs; their
 *   QC reports stay artifacts of the job.
 * - s3://bucket/prefix/: each file streams through pipelines/upload-s3
 *   (filesrc ! s3sink), credentials, region and endpoint from the
 *   environment or the AWS profile, as for `reelforge render`.
 * - file:///folder/ or /folder/: an atomic copy (a temporary name in the
 *   folder, fsync, rename), so a reader never sees half a file.
 *
 * Each delivered object is recorded as an artifact (delivered-video,
 * delivered-qc-report, delivered-thumbnail; its s3:// or file:// URI, size
 * and sha256) in the transaction that ends the step. A crash between the
 * upload and that commit uploads the same keys again (an idempotent PUT or
 * rename) and records them once.
 */
#pragma once

#include "sched/job-steps.h"
#include "spec/job-spec.h"

#include <cstdint>
#include <string>
#include <vector>

namespace reelforge::sched {

/* Runs one upload step. */
void upload(StepRun &run, const JobStepsConfig &config);

/* The upload steps for the render steps just created (created[i] stored as
 * ids[i]; steps of other kinds are ignored): one per render, after it, when
 * the variant's spec has output.uri_prefix. With approval_before_upload,
 * one approval step (choices: the variants) waits for every render and the
 * uploads wait for it. Empty when nothing is uploaded. */
std::vector<NewStep> upload_steps(const spec::Job &job, const std::vector<NewStep> &created,
                                  const std::vector<std::int64_t> &ids,
                                  bool approval_before_upload);

}  // namespace reelforge::sched
