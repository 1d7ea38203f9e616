/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * reelforge qc FILE [--profile NAME|PATH] [--json OUT] [--timeout SECONDS]
 */
#include "commands/commands.h"

#include "gst-ptr.h"
#include "json-file.h"
#include "run/file-qc.h"
#include "time-convert.h"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>

namespace reelforge {

namespace {

constexpr const char *kQcUsage =
    "Usage: reelforge qc FILE [--profile NAME|PATH] [--json OUT] [--timeout SECONDS]\n"
    "\n"
    "Decodes FILE, measures it (resolution, aspect, frame rate, duration, audio,\n"
    "loudness, black/frozen/silent stretches, size, bitrate, faststart, codecs)\n"
    "and judges it against a platform profile.\n"
    "\n"
    "  --profile NAME|PATH  tiktok (default), youtube-shorts, instagram-reels,\n"
    "                       youtube, or a profile JSON file\n"
    "  --json OUT           also write the report as JSON to OUT\n"
    "  --timeout SECONDS    give up after this long (default 600)\n"
    "\n"
    "Exit status: 0 pass (warnings allowed), 1 fail, 2 bad input.\n";

struct QcArguments {
  std::string file;
  std::string profile = "tiktok";
  std::optional<std::string> json_path;
  double timeout_s = 600;
};

class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

QcArguments parse_arguments(const std::vector<std::string> &args) {
  QcArguments parsed;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string &arg = args[i];
    auto value = [&](const char *option) -> const std::string & {
      if (i + 1 >= args.size()) throw UsageError(std::string(option) + " needs a value");
      return args[++i];
    };
    if (arg == "--profile") {
      parsed.profile = value("--profile");
    } else if (arg == "--json") {
      parsed.json_path = value("--json");
    } else if (arg == "--timeout") {
      const std::string &text = value("--timeout");
      char *end = nullptr;
      parsed.timeout_s = std::strtod(text.c_str(), &end);
      if (*end != '\0' || parsed.timeout_s <= 0)
        throw UsageError("--timeout takes a number of seconds above 0, not \"" + text + "\"");
    } else if (arg.starts_with("--")) {
      throw UsageError("unknown option " + arg);
    } else if (parsed.file.empty()) {
      parsed.file = arg;
    } else {
      throw UsageError("one FILE at a time; \"" + arg + "\" is one too many");
    }
  }
  if (parsed.file.empty()) throw UsageError("which file? Give the video to check");
  return parsed;
}

}  // namespace

int qc_command(const std::vector<std::string> &args) {
  for (const auto &arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::fputs(kQcUsage, stdout);
      return kExitOk;
    }
  }
  QcArguments parsed;
  try {
    parsed = parse_arguments(args);
  } catch (const UsageError &e) {
    std::fprintf(stderr, "reelforge qc: %s\n\n%s", e.what(), kQcUsage);
    return kExitBadInput;
  }

  /* Say so before minutes of decoding, not after. */
  if (parsed.json_path) {
    const auto folder = std::filesystem::absolute(*parsed.json_path).parent_path();
    if (!std::filesystem::is_directory(folder))
      throw std::runtime_error("cannot write the report to " + *parsed.json_path + ": no folder " +
                               folder.string());
  }
  const qc::QcReport report =
      run::qc_file(parsed.file, parsed.profile, {.timeout = from_seconds(parsed.timeout_s)});
  std::fputs(qc::format_report_text(report).c_str(), stdout);
  if (parsed.json_path) run::write_report(*parsed.json_path, report);
  return report.verdict == qc::Verdict::kFail ? kExitQcFailed : kExitOk;
}

}  // namespace reelforge
