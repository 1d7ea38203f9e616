/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A checked job spec becomes one pipeline description per variant (per
 * variant and frame rate when its platforms differ in rate), filled from
 * pipelines/render*.pipeline. The description is the whole render of every
 * platform's rendition: stitch (one decode for all sizes), captions,
 * thumbnails, the audio mix, loudness, QC, encode and mux, in one pass; it
 * also runs unchanged under gst-launch-1.0.
 */
#pragma once

#include "spec/job-spec.h"

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

/* One file a render writes: a platform's rendition of a variant. */
struct RenderOutput {
  std::string name; /* "<variant>.<platform>" */
  std::string platform;
  std::filesystem::path video;  /* <out>/<name>.mp4 */
  std::filesystem::path report; /* <out>/<name>.qc.json */
  std::string thumbnails;       /* <out>/<name>.thumb-%d.jpg */
  unsigned thumbnail_count = 0;
};

/* One pipeline: a variant's renditions for the platforms sharing a frame
 * rate, from one decode of its sources. */
struct RenderPlan {
  std::string name;                  /* the variant's name */
  std::vector<RenderOutput> outputs; /* the first at stitchbin's video pad */
  double duration_s = 0;             /* the stitched timeline's length */
  std::string description;           /* gst-launch syntax */
  /* A pure hard-cut concatenation of clips that share codec parameters:
   * the description copies the encoded streams (pipelines/concat-copy*),
   * and QC and thumbnails come from decoding the result afterwards. */
  bool stream_copy = false;
  /* s3://bucket/prefix/ when the outputs are uploaded: each video streams
   * to the bucket from the pipeline (output-s3), a failed QC stops it, and
   * the reports and thumbnails are uploaded after it; empty: local files. */
  std::string uri_prefix;
};

/* Plans every output (variant x platform) of job into out_dir (the spec's output.directory when
 * absent). Clip lengths the spec leaves open are read from the files.
 * Throws PlanError. */
std::vector<RenderPlan> plan_job(const spec::Job &job,
                                 const std::optional<std::filesystem::path> &out_dir);

}  // namespace reelforge::plan
