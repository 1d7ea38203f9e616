/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A checked job spec becomes one render plan per variant (per variant and
 * frame rate when its platforms differ in rate), filled from
 * pipelines/render*.pipeline. The description is the whole render of every
 * platform's rendition: stitch (one decode for all sizes), captions,
 * thumbnails, the audio mix, loudness, QC, encode and mux, in one pass; it
 * also runs unchanged under gst-launch-1.0.
 *
 * A plan is a value that is stored: everything a render needs is in it
 * (the description, where the files go, how long it may take, and the
 * local files it reads with their sizes and SHA-256), and its hash is a
 * SHA-256 of all of that. The daemon's plan step stores it in the render
 * step, an approval records the hashes it approved, and the render runs
 * exactly the stored plan.
 */
#pragma once

#include "gst-ptr.h"
#include "spec/job-spec.h"

#include <json-glib/json-glib.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace reelforge::plan {

/* A spec that validates but cannot be rendered as asked; names the field.
 * Also a stored plan that is not well formed or does not match its hash. */
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

  bool operator==(const RenderOutput &) const = default;
};

/* A local file the description reads (a clip, an image, an overlay, a
 * voiceover or music file, a generated clip in the clip cache, the speech
 * in the TTS cache), as it was when planned. */
struct PlannedInput {
  std::filesystem::path path;
  std::int64_t size = 0;
  std::string sha256; /* hex */

  bool operator==(const PlannedInput &) const = default;
};

/* One pipeline: a variant's renditions for the platforms sharing a frame
 * rate, from one decode of its sources. */
struct RenderPlan {
  std::string name;                  /* the variant's name */
  std::vector<RenderOutput> outputs; /* the first at stitchbin's video pad */
  /* The folder the outputs were planned into; a run may write them to
   * another (run/render-pass.h). */
  std::filesystem::path folder;
  double duration_s = 0;   /* the stitched timeline's length */
  double timeout_s = 0;    /* give up on the render after this long */
  std::string description; /* gst-launch syntax */
  /* A pure hard-cut concatenation of clips that share codec parameters:
   * the description copies the encoded streams (pipelines/concat-copy*),
   * and QC and thumbnails come from decoding the result afterwards. */
  bool stream_copy = false;
  /* s3://bucket/prefix/ when the outputs are uploaded: each video streams
   * to the bucket from the pipeline (output-s3), a failed QC stops it, and
   * the reports and thumbnails are uploaded after it; empty: local files. */
  std::string uri_prefix;
  std::vector<PlannedInput> inputs; /* each file once, in the order first read */
  /* Hex SHA-256 of the canonical JSON of everything above (content_hash). */
  std::string hash;

  bool operator==(const RenderPlan &) const = default;
};

/* Plans every output (variant x platform) of job into out_dir (the spec's output.directory when
 * absent). Clip lengths the spec leaves open are read from the files; the
 * plans are sealed (hash set). Throws PlanError. */
std::vector<RenderPlan> plan_job(const spec::Job &job,
                                 const std::optional<std::filesystem::path> &out_dir);

/* The SHA-256 of plan's content (every member but hash), computed on its
 * canonical JSON: to_json's members in their order, without the hash. */
std::string content_hash(const RenderPlan &plan);

/* Sets plan.hash to content_hash(plan). */
void seal(RenderPlan &plan);

/* The plan as JSON, its hash included:
 *   {"version": 1, "name", "folder", "description", "stream_copy",
 *    "uri_prefix", "duration_s", "timeout_s",
 *    "outputs": [{"name", "platform", "video", "report", "thumbnails", "thumbnail_count"}],
 *    "inputs": [{"path", "size", "sha256"}], "hash"} */
JsonNodePtr to_json(const RenderPlan &plan);
std::string to_json_text(const RenderPlan &plan, bool pretty = false);

/* A plan from to_json's form. Throws PlanError naming the member that is
 * missing or of the wrong type, and when the content's hash is not the
 * recorded one (the plan was changed after it was sealed). */
RenderPlan from_json(JsonNode *node);

/* Size and hex SHA-256 of the file at path. Throws PlanError naming it
 * when it cannot be read. */
PlannedInput digest_file(const std::filesystem::path &path);

}  // namespace reelforge::plan
