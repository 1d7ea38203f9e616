/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A checked job spec becomes one pipeline description per output (variant x
 * platform), filled from pipelines/render*.pipeline. The description is the
 * whole render: stitch, captions, thumbnails, the audio mix, loudness, QC,
 * encode and mux, in one pass; it also runs unchanged under gst-launch-1.0.
 */
#pragma once

#include "job-spec.h"

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace reelforge::plan {

/* A spec that validates but cannot be rendered as asked; names the field. */
class PlanError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct RenderPlan {
  std::string name; /* "<variant>.<platform>" */
  std::string platform;
  std::filesystem::path video;  /* <out>/<name>.mp4 */
  std::filesystem::path report; /* <out>/<name>.qc.json */
  std::string thumbnails;       /* <out>/<name>.thumb-%d.jpg */
  double duration_s = 0;        /* the stitched timeline's length */
  std::string description;      /* gst-launch syntax */
  std::string uri_prefix;       /* s3://bucket/prefix/: the video is uploaded by the pipeline,
                                   report and thumbnails after it; empty: local files */
};

/* Plans every output of job into out_dir (the spec's output.directory when
 * absent). Clip lengths the spec leaves open are read from the files.
 * Throws PlanError. */
std::vector<RenderPlan> plan_job(const spec::Job &job,
                                 const std::optional<std::filesystem::path> &out_dir);

}  // namespace reelforge::plan
