/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/upload-step.h"

#include "sched/fault-window.h"

#include "gst-ptr.h"
#include "json-file.h"
#include "json-writer.h"
#include "plan/pipeline-template.h"
#include "plan/s3-output.h"
#include "run/pipeline-runner.h"
#include "s3-location.h"

#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

namespace reelforge::sched {

namespace fs = std::filesystem;
using store::Connection;
using store::Result;

namespace {

std::string string_member(JsonObject *object, const char *name) {
  return json_object_get_string_member_with_default(object, name, "");
}

/* Where the files go: an S3 prefix or a local folder. */
struct Destination {
  std::string s3_prefix; /* s3://bucket/prefix/ */
  fs::path folder;       /* when not S3 */
};

Destination parse_destination(const std::string &destination) {
  if (destination.starts_with("s3://")) {
    std::string error;
    if (!s3::parse_s3_uri(destination, &error))
      throw StepError(ErrorClass::kPermanent,
                      "upload destination (the spec's /output/uri_prefix): " + error);
    return {.s3_prefix = destination};
  }
  std::string path = destination;
  if (destination.starts_with("file://")) {
    GError *raw = nullptr;
    GCharPtr filename(g_filename_from_uri(destination.c_str(), nullptr, &raw));
    GErrorPtr error(raw);
    if (!filename)
      throw StepError(ErrorClass::kPermanent,
                      "upload destination " + destination + " (the spec's /output/uri_prefix): " +
                          error->message + "; give file:///absolute/folder/");
    path = filename.get();
  }
  if (!g_path_is_absolute(path.c_str()))
    throw StepError(ErrorClass::kPermanent,
                    "upload destination \"" + destination +
                        "\" (the spec's /output/uri_prefix): give s3://bucket/prefix/, "
                        "file:///absolute/folder/ or an absolute folder");
  return {.folder = fs::path(path)};
}

/* A render artifact to deliver. */
struct Source {
  std::string kind; /* video, qc-report, thumbnail */
  fs::path path;
  std::int64_t size = 0;
  std::string sha256; /* as the render recorded it */
  std::optional<std::int64_t> variant_id;
};

/* One delivered object. */
struct Delivered {
  std::string kind;
  std::string uri;
  std::int64_t size = 0;
  std::string sha256;
  std::optional<std::int64_t> variant_id;
};

const char *content_type(const std::string &kind) {
  if (kind == "video") return "video/mp4";
  if (kind == "thumbnail") return "image/jpeg";
  return "application/json";
}

/* The file is still what the render recorded: a retry must never deliver
 * other bytes under a recorded name. */
void check_source(const Source &source) {
  std::error_code ec;
  if (!fs::exists(source.path, ec))
    /* Daemons on other machines see it only through a shared data dir;
     * another daemon (or a later attempt) may. */
    throw StepError(ErrorClass::kTransient,
                    "cannot upload " + source.path.string() +
                        ": the file is not on this machine (daemons sharing a database must "
                        "share --data-dir's artifacts folder)");
  if (file_sha256(source.path) != source.sha256)
    throw StepError(ErrorClass::kPermanent, source.path.string() +
                                                " changed after its render recorded it (sha256 " +
                                                source.sha256 + "); render the job again");
}

Delivered upload_to_s3(StepRun &run, const Source &source, const std::string &prefix) {
  const std::string uri = plan::s3_output_uri(prefix, source.path.filename().string());
  const std::string description = plan::PipelineTemplate::load("upload-s3")
                                      .fill({{"source", source.path.string()},
                                             {"uri", uri},
                                             {"content_type", content_type(source.kind)}});
  run::RunOptions options;
  /* Generous: 30 s plus 1 s per 256 KiB. */
  options.timeout = (30 + source.size / 262144) * GST_SECOND;
  options.progress_interval = 200 * GST_MSECOND;
  options.on_progress = [&](GstClockTime, GstClockTime) {
    if (run.lease_lost) throw LeaseLost("lost the lease while uploading " + uri);
  };
  std::optional<guint64> uploaded;
  options.on_element_message = [&](GstMessage *message) {
    const GstStructure *s = gst_message_get_structure(message);
    guint64 size = 0;
    if (gst_structure_has_name(s, "s3sink-complete") && gst_structure_get_uint64(s, "size", &size))
      uploaded = size;
  };
  try {
    run::run_pipeline(description, options);
  } catch (const LeaseLost &) {
    throw;
  } catch (const std::runtime_error &e) {
    throw StepError(ErrorClass::kTransient, "upload of " + source.path.filename().string() +
                                                " to " + uri + ": " + e.what());
  }
  if (!uploaded || static_cast<std::int64_t>(*uploaded) != source.size)
    throw StepError(ErrorClass::kTransient,
                    "upload to " + uri + " ended with " +
                        (uploaded ? std::to_string(*uploaded) : std::string("no")) +
                        " bytes stored of " + std::to_string(source.size));
  return {"delivered-" + source.kind, uri, source.size, source.sha256, source.variant_id};
}

/* Closes a file descriptor at scope exit. */
struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) close(fd);
  }
};

Delivered copy_to_folder(const ClaimedStep &step, const Source &source, const fs::path &folder) {
  const std::string name = source.path.filename().string();
  const fs::path target = folder / name;
  /* Per attempt: a runner that lost its lease never writes into the
   * temporary file of the one that holds it. */
  const fs::path temporary = folder / ("." + name + ".part-" + std::to_string(step.id) + "-" +
                                       std::to_string(step.fencing_token));
  std::error_code ec;
  auto fail = [&](const std::string &what, const std::string &why = {}) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw StepError(ErrorClass::kTransient, "cannot " + what + " (delivering " + name +
                                                "): " + (why.empty() ? ec.message() : why));
  };
  fs::create_directories(folder, ec);
  if (ec) fail("create " + folder.string());
  fs::copy_file(source.path, temporary, fs::copy_options::overwrite_existing, ec);
  if (ec) fail("write " + temporary.string());
  {
    FdCloser file{open(temporary.c_str(), O_RDONLY | O_CLOEXEC)};
    if (file.fd < 0 || fsync(file.fd) != 0) {
      ec = std::error_code(errno, std::generic_category());
      fail("sync " + temporary.string());
    }
  }
  const std::string sha256 = file_sha256(temporary);
  const auto size = static_cast<std::int64_t>(fs::file_size(temporary, ec));
  if (ec) fail("read " + temporary.string());
  if (sha256 != source.sha256 || size != source.size)
    fail("copy " + source.path.string() + " to " + temporary.string(),
         "the copy's bytes differ from the file's");
  fs::rename(temporary, target, ec);
  if (ec) fail("rename " + temporary.string() + " to " + target.string());
  /* The rename itself survives a power cut once the folder is synced. */
  const FdCloser dir{open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.fd >= 0) fsync(dir.fd);
  /* As the render records its files: file:// and the path unescaped. */
  return {"delivered-" + source.kind, "file://" + target.string(), size, sha256, source.variant_id};
}

}  // namespace

void upload(StepRun &run, const JobStepsConfig &) {
  JsonNodePtr inputs = parse_json(run.step.inputs, "upload inputs");
  JsonObject *in = json_node_get_object(inputs.get());
  const std::int64_t render_step = json_object_get_int_member_with_default(in, "render_step", 0);
  const std::string variant = string_member(in, "variant");
  const std::string destination = string_member(in, "destination");
  const Destination where = parse_destination(destination);

  if (const auto chosen = chosen_variant(run.db, run.step.job_id, "before-upload");
      chosen && *chosen != variant) {
    run.queue.succeed(run.step,
                      "{\"skipped\": " + json_string("the reviewer chose " + *chosen) + "}");
    return;
  }

  const Result render = run.db.query(
      "SELECT status, outputs ? 'skipped', outputs ? 'verdicts'"
      " FROM steps WHERE id = $1 AND job_id = $2 AND kind = 'render'",
      render_step, run.step.job_id);
  if (render.rows() != 1)
    throw StepError(ErrorClass::kPermanent,
                    "upload inputs: render_step " + std::to_string(render_step) +
                        " is not a render step of job " + std::to_string(run.step.job_id));
  if (render.text(0, 0) != "succeeded")
    throw StepError(ErrorClass::kTransient, "render step " + std::to_string(render_step) +
                                                " has not succeeded (it is " + render.text(0, 0) +
                                                ")");
  if (render.text(0, 1) == "t") {
    run.queue.succeed(
        run.step, "{\"skipped\": " +
                      json_string("render step " + std::to_string(render_step) + " was skipped") +
                      "}");
    return;
  }
  if (render.text(0, 2) != "t")
    throw StepError(ErrorClass::kPermanent,
                    "render step " + std::to_string(render_step) + " recorded no QC verdicts");

  /* QC gates the delivery. */
  const Result verdicts = run.db.query(
      "SELECT v.key FROM steps s, jsonb_each_text(s.outputs->'verdicts') v"
      " WHERE s.id = $1 AND v.value = 'fail' ORDER BY v.key",
      render_step);
  if (verdicts.rows() > 0) {
    std::string failed;
    for (int i = 0; i < verdicts.rows(); ++i) failed += (i ? ", " : "") + verdicts.text(i, 0);
    const std::string job = std::to_string(run.step.job_id);
    throw StepError(ErrorClass::kPermanent,
                    "QC failed for " + failed + ": nothing was uploaded to " + destination +
                        "; the QC report is an artifact of job " + job +
                        " (kind qc-report, GET /v1/jobs/" + job + " lists it)");
  }

  std::vector<Source> sources;
  const Result files = run.db.query(
      "SELECT kind, uri, size_bytes, sha256, variant_id FROM artifacts WHERE step_id = $1"
      " AND kind IN ('video', 'qc-report', 'thumbnail') ORDER BY id",
      render_step);
  for (int i = 0; i < files.rows(); ++i) {
    const std::string uri = files.text(i, 1);
    if (!uri.starts_with("file://"))
      throw StepError(ErrorClass::kPermanent, "render artifact " + uri + " is not a local file");
    sources.push_back(
        {files.text(i, 0), fs::path(uri.substr(7)), files.int64(i, 2), files.text(i, 3),
         files.is_null(i, 4) ? std::nullopt : std::optional<std::int64_t>(files.int64(i, 4))});
  }
  if (sources.empty())
    throw StepError(ErrorClass::kPermanent,
                    "render step " + std::to_string(render_step) + " recorded no files to upload");

  std::vector<Delivered> delivered;
  for (const Source &source : sources) {
    if (run.lease_lost) throw LeaseLost("lost the lease while uploading to " + destination);
    check_source(source);
    delivered.push_back(where.s3_prefix.empty() ? copy_to_folder(run.step, source, where.folder)
                                                : upload_to_s3(run, source, where.s3_prefix));
    if (delivered.size() == 1) fault_window("upload", run.step.id);
  }
  if (run.lease_lost) throw LeaseLost("lost the lease while uploading to " + destination);

  std::vector<std::string> uris;
  for (const Delivered &d : delivered) uris.push_back(d.uri);
  run.queue.succeed(run.step,
                    "{\"destination\": " + json_string(destination) +
                        ", \"delivered\": " + json_array(uris) + "}",
                    [&](Connection &db) {
                      for (const Delivered &d : delivered)
                        db.query(
                            "INSERT INTO artifacts (job_id, variant_id, step_id, kind, uri,"
                            " size_bytes, sha256) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                            run.step.job_id,
                            d.variant_id ? store::param(*d.variant_id) : std::nullopt, run.step.id,
                            d.kind, d.uri, d.size, d.sha256);
                    });
}

std::vector<NewStep> upload_steps(const spec::Job &job, const std::vector<NewStep> &created,
                                  const std::vector<std::int64_t> &ids,
                                  bool approval_before_upload) {
  struct Render {
    std::int64_t id;
    std::optional<std::int64_t> variant_id;
    std::string variant;
    std::string destination;
  };
  std::vector<Render> renders;
  std::vector<std::string> choices;
  for (size_t i = 0; i < created.size() && i < ids.size(); ++i) {
    if (created[i].kind != "render") continue;
    JsonNodePtr inputs = parse_json(created[i].inputs, "render inputs");
    const std::string variant = string_member(json_node_get_object(inputs.get()), "variant");
    for (const spec::JobVariant &v : job.variants)
      if (v.variant.name == variant && v.spec.output.uri_prefix)
        renders.push_back({ids[i], created[i].variant_id, variant, *v.spec.output.uri_prefix});
  }
  std::vector<NewStep> steps;
  if (renders.empty() && approval_before_upload)
    throw StepError(ErrorClass::kPermanent,
                    "the job asks for approval before the upload, but its spec uploads nothing: "
                    "set output.uri_prefix (s3://bucket/prefix/ or file:///folder/) or approve "
                    "before the render");
  if (renders.empty()) return steps;
  if (approval_before_upload) {
    NewStep approval{.kind = "approval"};
    for (const Render &r : renders) {
      approval.after_ids.push_back(r.id);
      if (std::find(choices.begin(), choices.end(), r.variant) == choices.end())
        choices.push_back(r.variant);
    }
    approval.inputs = "{\"stage\": \"before-upload\", \"choices\": " + json_array(choices) + "}";
    steps.push_back(approval);
  }
  for (const Render &r : renders) {
    NewStep step{.kind = "upload",
                 .inputs = "{\"render_step\": " + std::to_string(r.id) +
                           ", \"variant\": " + json_string(r.variant) +
                           ", \"destination\": " + json_string(r.destination) + "}",
                 .variant_id = r.variant_id};
    if (approval_before_upload)
      step.after = {0};
    else
      step.after_ids = {r.id};
    steps.push_back(step);
  }
  return steps;
}

}  // namespace reelforge::sched
