/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Outputs to S3 (the spec's output.uri_prefix = s3://bucket/prefix/): the
 * render pipeline streams each MP4 to s3sink (pipelines/output-s3.pipeline,
 * chosen by the planner) with qcprobe on-fail=error, so a failed QC never
 * completes the upload; the QC reports and thumbnails, written locally by
 * the pipeline, are uploaded after it succeeded.
 */
#pragma once

#include <string>

namespace reelforge::plan {

/* prefix (s3://bucket/prefix/) joined with a file name. */
std::string s3_output_uri(const std::string &prefix, const std::string &file_name);

}  // namespace reelforge::plan
