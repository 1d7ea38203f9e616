/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What QC measured on a video, the findings against a platform profile, and
 * the report's JSON form (schemas/qc-report.schema.json). qcprobe fills the
 * stream measurements; `reelforge qc` adds the container's and judges again.
 */
#pragma once

#include "gst-ptr.h"
#include "platform-profile.h"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace reelforge::qc {

struct TimeRange {
  double start_s = 0;
  double end_s = 0;
  bool operator==(const TimeRange &) const = default;
};

/* Every measurement is optional: a check runs only on what was measured. */
struct Measurements {
  std::optional<double> duration_s;

  bool has_video = false;
  std::optional<int> width;
  std::optional<int> height;
  std::optional<double> display_aspect; /* width / height, pixel aspect applied */
  std::optional<double> fps;
  std::optional<guint64> frames;
  std::optional<std::string> video_codec;   /* "h264", "h265", "vp9", ... */
  std::optional<std::string> video_profile; /* "high", "main", ... */

  /* Whether the analysis looked for audio at all, and found it. */
  std::optional<bool> has_audio;
  std::optional<int> sample_rate_hz;
  std::optional<int> channels;
  std::optional<std::string> audio_codec;

  /* Loudness; -infinity (too quiet to measure) is kept as such. */
  std::optional<double> integrated_lufs;
  std::optional<double> loudness_range_lu;
  std::optional<double> true_peak_dbtp;
  std::optional<double> sample_peak_dbfs;

  std::optional<std::string> container_format;
  std::optional<guint64> size_bytes;
  std::optional<double> bitrate_kbps;
  std::optional<bool> faststart;

  std::vector<TimeRange> black;
  std::vector<TimeRange> freeze;
  std::vector<TimeRange> silence;
};

using MeasuredValue = std::variant<std::monostate, double, std::string, bool>;

struct Finding {
  std::string check; /* "duration", "aspect", ... (the schema's enum) */
  std::string level; /* the profile level whose limit this breaks */
  Severity severity = Severity::kFail;
  MeasuredValue measured;
  std::string expected;
  std::string message; /* one sentence a person reads */
  std::optional<TimeRange> range;
};

enum class Verdict { kPass, kWarn, kFail };

struct QcReport {
  std::string profile_name;
  std::string profile_title;
  std::string input; /* file or URI, when known */
  Measurements measurements;
  std::vector<Finding> findings; /* failures first, then warnings, by time */
  Verdict verdict = Verdict::kPass;
};

/* Judges measurements against every level of profile. */
QcReport judge(const PlatformProfile &profile, const Measurements &measurements);

const char *verdict_name(Verdict verdict);

/* The report as a JSON document valid against qc-report.schema.json. */
JsonNodePtr report_to_json(const QcReport &report);

/* Reads the measurements back from a report document (as qcprobe's
 * qc-report message carries it). Throws std::runtime_error. */
Measurements measurements_from_json(JsonNode *report);

/* A readable summary: the verdict, then one line per finding. */
std::string format_report_text(const QcReport &report);

}  // namespace reelforge::qc
