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
#include "store/artifacts.h"
#include "store/steps.h"

#include <fcntl.h>
#include <json-glib/json-glib.h>
#include <unistd.h>

#include <algorithm>
#include <optional>

namespace reelforge::sched {

namespace fs = std::filesystem;
using store::Connection;

namespace {

/* {"skipped": why}: the step did nothing, and says why. */
std::string skipped_outputs(const std::string &why) {
  JsonWriter w;
  w.begin_object();
  w.member("skipped", why);
  w.end_object();
  return w.text();
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

/* Checks that the job's render_step succeeded with QC passed for every
 * output; true when it was skipped (a reviewer chose another variant). */
bool render_skipped(StepRun &run, std::int64_t render_step, const std::string &destination) {
  const auto render = store::render_step_state(run.db, render_step, run.step.job_id);
  if (!render)
    throw StepError(ErrorClass::kPermanent,
                    "upload inputs: render_step " + std::to_string(render_step) +
                        " is not a render step of job " + std::to_string(run.step.job_id));
  if (render->status != "succeeded")
    throw StepError(ErrorClass::kTransient, "render step " + std::to_string(render_step) +
                                                " has not succeeded (it is " + render->status +
                                                ")");
  if (render->skipped) return true;
  if (!render->has_verdicts)
    throw StepError(ErrorClass::kPermanent,
                    "render step " + std::to_string(render_step) + " recorded no QC verdicts");
  /* QC gates the delivery. */
  const std::vector<std::string> failed_outputs = store::failed_verdicts(run.db, render_step);
  if (failed_outputs.empty()) return false;
  std::string failed;
  for (const std::string &output : failed_outputs) failed += (failed.empty() ? "" : ", ") + output;
  const std::string job = std::to_string(run.step.job_id);
  throw StepError(ErrorClass::kPermanent,
                  "QC failed for " + failed + ": nothing was uploaded to " + destination +
                      "; the QC report is an artifact of job " + job +
                      " (kind qc-report, GET /v1/jobs/" + job + " lists it)");
}

/* The files render_step recorded, to deliver. */
std::vector<Source> rendered_sources(StepRun &run, std::int64_t render_step) {
  std::vector<Source> sources;
  for (const store::RenderedFile &file : store::rendered_files(run.db, render_step)) {
    if (!file.uri.starts_with("file://"))
      throw StepError(ErrorClass::kPermanent,
                      "render artifact " + file.uri + " is not a local file");
    sources.push_back(
        {file.kind, fs::path(file.uri.substr(7)), file.size_bytes, file.sha256, file.variant_id});
  }
  if (sources.empty())
    throw StepError(ErrorClass::kPermanent,
                    "render step " + std::to_string(render_step) + " recorded no files to upload");
  return sources;
}

/* Ends the step: its outputs list what went where, each delivered object
 * recorded as an artifact in the same transaction. */
void record_delivery(StepRun &run, const std::string &destination,
                     const std::vector<Delivered> &delivered) {
  JsonWriter outputs;
  outputs.begin_object();
  outputs.member("destination", destination);
  outputs.begin_array("delivered");
  for (const Delivered &d : delivered) outputs.value(d.uri);
  outputs.end_array();
  outputs.end_object();
  run.queue.succeed(run.step, outputs.text(), [&](Connection &db) {
    for (const Delivered &d : delivered)
      store::record_artifact(db, {.job_id = run.step.job_id,
                                  .variant_id = d.variant_id,
                                  .step_id = run.step.id,
                                  .kind = d.kind,
                                  .uri = d.uri,
                                  .size_bytes = d.size,
                                  .sha256 = d.sha256});
  });
}

}  // namespace

void upload(StepRun &run, const JobStepsConfig &) {
  JsonNodePtr inputs = parse_json(run.step.inputs, "upload inputs");
  JsonObject *in = json_node_get_object(inputs.get());
  const std::int64_t render_step = json_object_get_int_member_with_default(in, "render_step", 0);
  const std::string variant = json_object_get_string_member_with_default(in, "variant", "");
  const std::string destination = json_object_get_string_member_with_default(in, "destination", "");
  const Destination where = parse_destination(destination);

  if (const auto chosen = chosen_variant(run.db, run.step.job_id, "before-upload");
      chosen && *chosen != variant) {
    run.queue.succeed(run.step, skipped_outputs("the reviewer chose " + *chosen));
    return;
  }
  if (render_skipped(run, render_step, destination)) {
    run.queue.succeed(
        run.step, skipped_outputs("render step " + std::to_string(render_step) + " was skipped"));
    return;
  }
  const std::vector<Source> sources = rendered_sources(run, render_step);

  std::vector<Delivered> delivered;
  for (const Source &source : sources) {
    if (run.lease_lost) throw LeaseLost("lost the lease while uploading to " + destination);
    check_source(source);
    delivered.push_back(where.s3_prefix.empty() ? copy_to_folder(run.step, source, where.folder)
                                                : upload_to_s3(run, source, where.s3_prefix));
    if (delivered.size() == 1) fault_window("upload", run.step.id);
  }
  if (run.lease_lost) throw LeaseLost("lost the lease while uploading to " + destination);
  record_delivery(run, destination, delivered);
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
    const std::string variant = json_object_get_string_member_with_default(
        json_node_get_object(inputs.get()), "variant", "");
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
    JsonWriter inputs;
    inputs.begin_object();
    inputs.member("stage", "before-upload");
    inputs.member("choices", choices);
    inputs.end_object();
    approval.inputs = inputs.text();
    steps.push_back(approval);
  }
  for (const Render &r : renders) {
    JsonWriter inputs;
    inputs.begin_object();
    inputs.member("render_step", r.id);
    inputs.member("variant", r.variant);
    inputs.member("destination", r.destination);
    inputs.end_object();
    NewStep step{.kind = "upload", .inputs = inputs.text(), .variant_id = r.variant_id};
    if (approval_before_upload)
      step.after = {0};
    else
      step.after_ids = {r.id};
    steps.push_back(step);
  }
  return steps;
}

}  // namespace reelforge::sched
