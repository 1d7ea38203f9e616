/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Outputs to S3 (the spec's output.uri_prefix = s3://bucket/prefix/): the
 * render pipeline streams the MP4 to s3sink (pipelines/output-s3.pipeline)
 * with qcprobe on-fail=error, so a failed QC never completes the upload;
 * the QC report and thumbnails, written locally by the pipeline, are
 * uploaded after it succeeded.
 */
#pragma once

#include "render-plan.h"

#include <string>

namespace reelforge::plan {

/* prefix (s3://bucket/prefix/) joined with a file name. */
std::string s3_output_uri(const std::string &prefix, const std::string &file_name);

/* Rewrites plan.description so the video goes to uri through s3sink and a
 * failed QC is an error. Throws PlanError when the render template has no
 * file sink or qcprobe to rewrite. */
void route_video_to_s3(RenderPlan &plan, const std::string &uri);

/* PUTs a local file to an s3:// URI with credentials, region and endpoint
 * from the environment or the ~/.aws profile. Throws std::runtime_error
 * naming the file and the object. */
void upload_file(const std::string &path, const std::string &uri, const std::string &content_type);

}  // namespace reelforge::plan
