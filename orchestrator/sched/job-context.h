/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What every step of a job reads about the job: its spec (checked again,
 * a bad one a permanent failure) and options, the clips its generate
 * steps made, the folder its files go to, and the reviewer's choice.
 *
 * Files are written under <artifacts>/job-<id>/step-<id>-<token>/: each
 * attempt has its own folder, so a runner that lost its lease can never
 * overwrite the files the step's committed attempt recorded.
 */
#pragma once

#include "sched/worker-pool.h"
#include "spec/job-spec.h"

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace reelforge::sched {

struct JobStepsConfig {
  std::filesystem::path artifacts_dir;
  /* Generated clips, content-addressed (shared by jobs: an equal request
   * is generated once). */
  std::filesystem::path clips_dir;
};

struct LoadedJob {
  spec::Job job;
  std::string options; /* JSON */
};

/* A string of the job's options ("approval", "base_dir"); empty when unset. */
std::string options_member(const std::string &options, const char *name);

/* The job's spec, checked; a bad one is a permanent failure (StepError). */
LoadedJob load_job(store::Connection &db, std::int64_t job_id);

/* The genvideo:// clips of a variant, in scene order, each once. */
std::vector<std::string> generated_clips(const spec::JobSpec &spec);

/* Points the job's generated scenes at the clips its generate steps made,
 * so a render reads files and can never call a provider itself. Every
 * clip of the variant named must be made (other variants' may still be on
 * their way); with none named, every clip of every variant. */
void use_generated_clips(store::Connection &db, std::int64_t job_id,
                         const std::optional<std::string> &variant, spec::Job &job);

/* <artifacts>/job-<id>/ */
std::filesystem::path job_dir(const JobStepsConfig &config, std::int64_t job_id);
/* <artifacts>/job-<id>/step-<id>-<token>/, created; a folder that cannot
 * be made is a transient failure. */
std::filesystem::path attempt_dir(const JobStepsConfig &config, const ClaimedStep &step);

/* The variant a reviewer picked at the job's approval of stage
 * ("before-render" or "before-upload"), when it offered a choice. */
std::optional<std::string> chosen_variant(store::Connection &db, std::int64_t job_id,
                                          const std::string &stage);

/* The hashes of the render plans the job's before-render approval approves
 * for variant (its inputs' "plans"): empty until a person approved it;
 * nullopt when the job has no before-render approval. */
std::optional<std::vector<std::string>> approved_plan_hashes(store::Connection &db,
                                                             std::int64_t job_id,
                                                             const std::string &variant);

/* Hex SHA-256 of a file's bytes. */
std::string file_sha256(const std::filesystem::path &path);

}  // namespace reelforge::sched
