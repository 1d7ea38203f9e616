/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * reelforge validate JOB.json
 */
#include "commands/commands.h"

#include "spec/job-spec.h"

#include <cstdio>

namespace reelforge {

namespace {

constexpr const char *kValidateUsage =
    "Usage: reelforge validate JOB.json\n"
    "\n"
    "Checks a job spec against schemas/job.schema.json and for what a schema\n"
    "cannot see: platforms that exist, local media files that exist, trims and\n"
    "transitions that fit their scenes, ${dimension} templates that name a\n"
    "declared dimension. Every problem is listed, one line each, with the JSON\n"
    "pointer of the value at fault.\n"
    "\n"
    "Exit status: 0 valid, 2 invalid or unreadable.\n";

}  // namespace

int validate_command(const std::vector<std::string> &args) {
  std::vector<std::string> files;
  for (const auto &arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::fputs(kValidateUsage, stdout);
      return kExitOk;
    }
    if (arg.starts_with("--")) {
      std::fprintf(stderr, "reelforge validate: unknown option %s\n\n%s", arg.c_str(),
                   kValidateUsage);
      return kExitBadInput;
    }
    files.push_back(arg);
  }
  if (files.size() != 1) {
    std::fprintf(stderr, "reelforge validate: %s\n\n%s",
                 files.empty() ? "which spec? Give the job JSON file" : "one spec at a time",
                 kValidateUsage);
    return kExitBadInput;
  }

  const std::string &path = files[0];
  try {
    const spec::Job job = spec::parse_job_spec(path);
    const size_t variants = job.variants.size();
    const size_t platforms = job.platforms.size();
    std::printf("%s: valid \u2014 %zu output%s (%zu variant%s \u00d7 %zu platform%s)\n",
                path.c_str(), variants * platforms, variants * platforms == 1 ? "" : "s", variants,
                variants == 1 ? "" : "s", platforms, platforms == 1 ? "" : "s");
    return kExitOk;
  } catch (const spec::SpecError &e) {
    std::fprintf(stderr, "%s\n", e.what());
    return kExitBadInput;
  }
}

}  // namespace reelforge
