/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/artifacts.h"

namespace reelforge::store {

void record_artifact(Connection &db, const NewArtifact &artifact) {
  db.query(
      "INSERT INTO artifacts (job_id, variant_id, step_id, kind, uri, size_bytes, sha256)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7)",
      artifact.job_id, artifact.variant_id, artifact.step_id, artifact.kind, artifact.uri,
      artifact.size_bytes, artifact.sha256);
}

std::vector<RenderedFile> rendered_files(Connection &db, std::int64_t render_step_id) {
  const Result r = db.query(
      "SELECT kind, uri, size_bytes, sha256, variant_id FROM artifacts WHERE step_id = $1"
      " AND kind IN ('video', 'qc-report', 'thumbnail') ORDER BY id",
      render_step_id);
  std::vector<RenderedFile> files;
  for (int i = 0; i < r.rows(); ++i)
    files.push_back({.kind = r.text(i, "kind"),
                     .uri = r.text(i, "uri"),
                     .size_bytes = r.int64(i, "size_bytes"),
                     .sha256 = r.text(i, "sha256"),
                     .variant_id = r.optional_int64(i, "variant_id")});
  return files;
}

std::optional<ArtifactLocation> tenant_artifact(Connection &db, std::int64_t artifact_id,
                                                std::int64_t tenant_id) {
  const Result r = db.query(
      "SELECT a.uri, a.kind FROM artifacts a JOIN jobs j ON j.id = a.job_id"
      " WHERE a.id = $1 AND j.tenant_id = $2",
      artifact_id, tenant_id);
  if (r.rows() == 0) return std::nullopt;
  return ArtifactLocation{.uri = r.text(0, "uri"), .kind = r.text(0, "kind")};
}

std::vector<GeneratedClip> generated_clip_files(Connection &db, std::int64_t job_id) {
  const Result r = db.query(
      "SELECT s.inputs->>'uri' AS source_uri, a.uri AS file_uri FROM steps s"
      " JOIN artifacts a ON a.step_id = s.id"
      " WHERE s.job_id = $1 AND s.kind = 'generate' AND s.status = 'succeeded'"
      " AND a.kind = 'clip'",
      job_id);
  std::vector<GeneratedClip> clips;
  for (int i = 0; i < r.rows(); ++i)
    clips.push_back({.source_uri = r.text(i, "source_uri"), .file_uri = r.text(i, "file_uri")});
  return clips;
}

}  // namespace reelforge::store
