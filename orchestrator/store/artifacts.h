/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The artifacts table: the files a job's steps made (clips, previews,
 * videos, QC reports, thumbnails) and the copies they delivered
 * (delivered-*), each with its URI, size and SHA-256. A step records its
 * artifacts in the transaction that ends it, so they exist exactly when
 * the step succeeded (or, for previews, waits for its approval).
 */
#pragma once

#include "store/pg.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reelforge::store {

struct NewArtifact {
  std::int64_t job_id = 0;
  std::optional<std::int64_t> variant_id;
  std::int64_t step_id = 0;
  std::string kind; /* clip, preview, video, qc-report, thumbnail, delivered-... */
  std::string uri;  /* file:///... or s3://... */
  std::int64_t size_bytes = 0;
  std::string sha256; /* lowercase hex */
};

void record_artifact(Connection &db, const NewArtifact &artifact);

/* A file a render recorded, as its upload delivers it. */
struct RenderedFile {
  std::string kind; /* video, qc-report or thumbnail */
  std::string uri;
  std::int64_t size_bytes = 0;
  std::string sha256;
  std::optional<std::int64_t> variant_id;
};
/* The videos, QC reports and thumbnails a render step recorded, in order. */
std::vector<RenderedFile> rendered_files(Connection &db, std::int64_t render_step_id);

/* Where an artifact the tenant may read is stored. */
struct ArtifactLocation {
  std::string uri;
  std::string kind;
};
std::optional<ArtifactLocation> tenant_artifact(Connection &db, std::int64_t artifact_id,
                                                std::int64_t tenant_id);

/* A clip a succeeded generate step of the job made. */
struct GeneratedClip {
  std::string source_uri; /* the genvideo:// URI the step made it for */
  std::string file_uri;   /* file:///... in the clip cache */
};
std::vector<GeneratedClip> generated_clip_files(Connection &db, std::int64_t job_id);

}  // namespace reelforge::store
