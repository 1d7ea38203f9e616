/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "qc-report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace reelforge::qc {

namespace {

std::string number_text(double value) {
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  char text[64];
  /* Whole numbers in full (a size one byte over its limit must not print as
   * the limit); otherwise enough digits to tell 29.97 from 30, no noise. */
  if (value == std::trunc(value) && std::abs(value) < 1e15)
    std::snprintf(text, sizeof text, "%.0f", value);
  else
    std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

std::string with_unit(double value, const std::string &unit) {
  return unit.empty() ? number_text(value) : number_text(value) + " " + unit;
}

std::string range_text(const Range &range, const std::string &unit) {
  if (range.min && range.max) {
    if (*range.min == *range.max) return "exactly " + with_unit(*range.min, unit);
    return "between " + number_text(*range.min) + " and " + with_unit(*range.max, unit);
  }
  if (range.max) return "at most " + with_unit(*range.max, unit);
  return "at least " + with_unit(range.min.value_or(0), unit);
}

std::string list_text(const std::vector<std::string> &names) {
  std::string text;
  for (size_t i = 0; i < names.size(); ++i)
    text += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ") + names[i];
  return text;
}

std::string seconds_text(double s) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f s", s);
  return text;
}

/* Collects the findings of one level. */
class LevelJudge {
 public:
  LevelJudge(const Level &level, std::vector<Finding> &findings)
      : level_(level), findings_(findings) {}

  void add(const char *check, MeasuredValue measured, const std::string &measured_text,
           const std::string &subject, std::string expected,
           std::optional<TimeRange> range = std::nullopt) {
    Finding finding;
    finding.check = check;
    finding.level = level_.name;
    finding.severity = level_.severity;
    finding.measured = std::move(measured);
    finding.message =
        subject + " " + measured_text + " breaks the " + level_.name + " limit: " + expected;
    finding.expected = std::move(expected);
    finding.range = range;
    findings_.push_back(std::move(finding));
  }

  void range(const char *check, const std::optional<Range> &limit,
             const std::optional<double> &measured, const std::string &subject,
             const std::string &unit) {
    if (!limit || !measured) return;
    /* -inf (silence) is below any minimum and within any maximum. */
    if (limit->contains(*measured)) return;
    add(check, std::isinf(*measured) ? MeasuredValue(number_text(*measured)) : *measured,
        with_unit(*measured, unit), subject, range_text(*limit, unit));
  }

  void one_of(const char *check, const std::vector<std::string> &allowed,
              const std::optional<std::string> &measured, const std::string &subject) {
    if (allowed.empty() || !measured) return;
    if (std::find(allowed.begin(), allowed.end(), *measured) != allowed.end()) return;
    add(check, *measured, *measured, subject, list_text(allowed));
  }

  void intervals(const char *check, const std::optional<bool> &allowed,
                 const std::vector<TimeRange> &found, const std::string &subject,
                 const std::string &expected) {
    if (!allowed || *allowed) return;
    for (const auto &interval : found) {
      const double length = interval.end_s - interval.start_s;
      add(check, length,
          "from " + seconds_text(interval.start_s) + " to " + seconds_text(interval.end_s) + " (" +
              seconds_text(length) + ")",
          subject, expected, interval);
    }
  }

 private:
  const Level &level_;
  std::vector<Finding> &findings_;
};

void judge_level(const Level &level, const Measurements &m, std::vector<Finding> &findings) {
  const Limits &limits = level.limits;
  LevelJudge judge(level, findings);

  judge.range("duration", limits.duration_s, m.duration_s, "duration", "s");

  auto as_double = [](const std::optional<int> &v) -> std::optional<double> {
    return v ? std::optional<double>(*v) : std::nullopt;
  };
  judge.range("width", limits.width_px, as_double(m.width), "width", "px");
  judge.range("height", limits.height_px, as_double(m.height), "height", "px");
  judge.range("width", limits.side_px, as_double(m.width), "width", "px");
  judge.range("height", limits.side_px, as_double(m.height), "height", "px");

  if (limits.aspect && m.display_aspect) {
    const AspectLimit &aspect = *limits.aspect;
    const double measured = *m.display_aspect;
    char text[32];
    std::snprintf(text, sizeof text, "%.4f (width/height)", measured);
    if (aspect.equals &&
        std::abs(measured - aspect.equals->value()) > aspect.tolerance * aspect.equals->value())
      judge.add("aspect", measured, text, "aspect ratio", aspect.equals->text);
    if (aspect.min && measured < aspect.min->value() * (1 - 1e-6))
      judge.add("aspect", measured, text, "aspect ratio", aspect.min->text + " or wider");
    if (aspect.max && measured > aspect.max->value() * (1 + 1e-6))
      judge.add("aspect", measured, text, "aspect ratio", aspect.max->text + " or taller");
  }

  judge.range("fps", limits.fps, m.fps, "frame rate", "fps");
  if (!limits.fps_values.empty() && m.fps) {
    /* 29.97 counts as 30: broadcast rates are within 0.1% of the nominal. */
    const bool listed = std::any_of(limits.fps_values.begin(), limits.fps_values.end(),
                                    [&](double v) { return std::abs(*m.fps - v) <= v * 0.002; });
    if (!listed) {
      std::vector<std::string> values;
      for (double v : limits.fps_values) values.push_back(number_text(v));
      judge.add("fps", *m.fps, with_unit(*m.fps, "fps"), "frame rate", list_text(values) + " fps");
    }
  }

  if (m.size_bytes)
    judge.range("size", limits.size_bytes, static_cast<double>(*m.size_bytes), "file size",
                "bytes");
  judge.range("bitrate", limits.bitrate_kbps, m.bitrate_kbps, "overall bitrate", "kbps");
  judge.one_of("video-codec", limits.video_codecs, m.video_codec, "video codec");
  judge.one_of("video-profile", limits.video_profiles, m.video_profile, "video profile");

  if (limits.audio_required.value_or(false) && m.has_audio == false)
    judge.add("audio-present", false, "missing", "audio track", "an audio track");
  if (m.has_audio.value_or(false)) {
    judge.one_of("audio-codec", limits.audio_codecs, m.audio_codec, "audio codec");
    if (!limits.sample_rates_hz.empty() && m.sample_rate_hz &&
        std::find(limits.sample_rates_hz.begin(), limits.sample_rates_hz.end(),
                  *m.sample_rate_hz) == limits.sample_rates_hz.end()) {
      std::vector<std::string> rates;
      for (int rate : limits.sample_rates_hz) rates.push_back(std::to_string(rate));
      judge.add("sample-rate", static_cast<double>(*m.sample_rate_hz),
                std::to_string(*m.sample_rate_hz) + " Hz", "sample rate", list_text(rates) + " Hz");
    }
    judge.range("channels", limits.channels, as_double(m.channels), "channel count", "");
    judge.range("loudness", limits.integrated_lufs, m.integrated_lufs, "integrated loudness",
                "LUFS");
    judge.range("true-peak", limits.true_peak_dbtp, m.true_peak_dbtp, "true peak", "dBTP");
  }

  if (limits.faststart && m.faststart && *limits.faststart && !*m.faststart)
    judge.add("faststart", false, "after the media data", "moov box",
              "moov before mdat (faststart)");

  judge.intervals("black", limits.allow_black, m.black, "black picture", "no black stretch");
  judge.intervals("freeze", limits.allow_freeze, m.freeze, "frozen picture", "no frozen stretch");
  judge.intervals("silence", limits.allow_silence, m.silence, "silence", "no silent stretch");
}

/* JSON has no infinities: a loudness too low to measure is null. */
void add_loudness(JsonBuilder *builder, const char *name, const std::optional<double> &value) {
  if (!value) return;
  json_builder_set_member_name(builder, name);
  if (std::isfinite(*value))
    json_builder_add_double_value(builder, *value);
  else
    json_builder_add_null_value(builder);
}

void add_double(JsonBuilder *builder, const char *name, const std::optional<double> &value) {
  if (!value || !std::isfinite(*value)) return;
  json_builder_set_member_name(builder, name);
  json_builder_add_double_value(builder, *value);
}

void add_int(JsonBuilder *builder, const char *name, const std::optional<gint64> &value) {
  if (!value) return;
  json_builder_set_member_name(builder, name);
  json_builder_add_int_value(builder, *value);
}

void add_string(JsonBuilder *builder, const char *name, const std::optional<std::string> &value) {
  if (!value) return;
  json_builder_set_member_name(builder, name);
  json_builder_add_string_value(builder, value->c_str());
}

void add_intervals(JsonBuilder *builder, const char *name, const std::vector<TimeRange> &ranges) {
  json_builder_set_member_name(builder, name);
  json_builder_begin_array(builder);
  for (const auto &range : ranges) {
    json_builder_begin_object(builder);
    add_double(builder, "start_s", range.start_s);
    add_double(builder, "end_s", range.end_s);
    json_builder_end_object(builder);
  }
  json_builder_end_array(builder);
}

std::optional<gint64> as_int64(const std::optional<int> &v) {
  return v ? std::optional<gint64>(*v) : std::nullopt;
}

void add_measurements(JsonBuilder *builder, const Measurements &m) {
  json_builder_set_member_name(builder, "measurements");
  json_builder_begin_object(builder);
  add_double(builder, "duration_s", m.duration_s);
  if (m.has_video) {
    json_builder_set_member_name(builder, "video");
    json_builder_begin_object(builder);
    add_int(builder, "width", as_int64(m.width));
    add_int(builder, "height", as_int64(m.height));
    add_double(builder, "display_aspect", m.display_aspect);
    add_double(builder, "fps", m.fps);
    add_int(builder, "frames",
            m.frames ? std::optional<gint64>(static_cast<gint64>(*m.frames)) : std::nullopt);
    add_string(builder, "codec", m.video_codec);
    add_string(builder, "profile", m.video_profile);
    json_builder_end_object(builder);
  }
  if (m.has_audio.value_or(false)) {
    json_builder_set_member_name(builder, "audio");
    json_builder_begin_object(builder);
    add_int(builder, "sample_rate_hz", as_int64(m.sample_rate_hz));
    add_int(builder, "channels", as_int64(m.channels));
    add_string(builder, "codec", m.audio_codec);
    json_builder_end_object(builder);

    json_builder_set_member_name(builder, "loudness");
    json_builder_begin_object(builder);
    add_loudness(builder, "integrated_lufs", m.integrated_lufs);
    add_loudness(builder, "loudness_range_lu", m.loudness_range_lu);
    add_loudness(builder, "true_peak_dbtp", m.true_peak_dbtp);
    add_loudness(builder, "sample_peak_dbfs", m.sample_peak_dbfs);
    json_builder_end_object(builder);
  }
  if (m.container_format || m.size_bytes || m.bitrate_kbps || m.faststart) {
    json_builder_set_member_name(builder, "container");
    json_builder_begin_object(builder);
    add_string(builder, "format", m.container_format);
    add_int(
        builder, "size_bytes",
        m.size_bytes ? std::optional<gint64>(static_cast<gint64>(*m.size_bytes)) : std::nullopt);
    add_double(builder, "bitrate_kbps", m.bitrate_kbps);
    if (m.faststart) {
      json_builder_set_member_name(builder, "faststart");
      json_builder_add_boolean_value(builder, *m.faststart);
    }
    json_builder_end_object(builder);
  }
  add_intervals(builder, "black", m.black);
  add_intervals(builder, "freeze", m.freeze);
  add_intervals(builder, "silence", m.silence);
  json_builder_end_object(builder);
}

void add_finding(JsonBuilder *builder, const Finding &finding) {
  json_builder_begin_object(builder);
  add_string(builder, "check", finding.check);
  add_string(builder, "level", finding.level);
  add_string(builder, "severity", std::string(severity_name(finding.severity)));
  if (const auto *number = std::get_if<double>(&finding.measured)) {
    add_double(builder, "measured", *number);
  } else if (const auto *text = std::get_if<std::string>(&finding.measured)) {
    add_string(builder, "measured", *text);
  } else if (const auto *flag = std::get_if<bool>(&finding.measured)) {
    json_builder_set_member_name(builder, "measured");
    json_builder_add_boolean_value(builder, *flag);
  }
  add_string(builder, "expected", finding.expected);
  add_string(builder, "message", finding.message);
  if (finding.range) {
    add_double(builder, "start_s", finding.range->start_s);
    add_double(builder, "end_s", finding.range->end_s);
  }
  json_builder_end_object(builder);
}

/* Reading back: absent members stay nullopt, null loudness is -infinity. */
class MeasurementReader {
 public:
  explicit MeasurementReader(JsonObject *object) : object_(object) {}

  std::optional<double> number(const char *name, bool null_is_minus_inf = false) const {
    JsonNode *node = object_ ? json_object_get_member(object_, name) : nullptr;
    if (node == nullptr) return std::nullopt;
    if (JSON_NODE_HOLDS_NULL(node) && null_is_minus_inf) return -INFINITY;
    /* json_node_get_double() reads a string as 0 without a word. */
    if (!JSON_NODE_HOLDS_VALUE(node) || (json_node_get_value_type(node) != G_TYPE_INT64 &&
                                         json_node_get_value_type(node) != G_TYPE_DOUBLE))
      throw std::runtime_error(std::string(name) + ": not a number");
    return json_node_get_double(node);
  }
  std::optional<int> integer(const char *name) const {
    auto value = number(name);
    return value ? std::optional<int>(static_cast<int>(*value)) : std::nullopt;
  }
  std::optional<std::string> string(const char *name) const {
    JsonNode *node = object_ ? json_object_get_member(object_, name) : nullptr;
    if (node == nullptr || json_node_get_value_type(node) != G_TYPE_STRING) return std::nullopt;
    return std::string(json_node_get_string(node));
  }
  std::optional<bool> boolean(const char *name) const {
    JsonNode *node = object_ ? json_object_get_member(object_, name) : nullptr;
    if (node == nullptr || json_node_get_value_type(node) != G_TYPE_BOOLEAN) return std::nullopt;
    return json_node_get_boolean(node) != FALSE;
  }
  MeasurementReader child(const char *name) const {
    JsonNode *node = object_ ? json_object_get_member(object_, name) : nullptr;
    return MeasurementReader(node && JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node)
                                                                  : nullptr);
  }
  std::vector<TimeRange> intervals(const char *name) const {
    std::vector<TimeRange> ranges;
    JsonNode *node = object_ ? json_object_get_member(object_, name) : nullptr;
    if (node == nullptr || !JSON_NODE_HOLDS_ARRAY(node)) return ranges;
    JsonArray *array = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(array); ++i) {
      MeasurementReader item(json_array_get_object_element(array, i));
      ranges.push_back({item.number("start_s").value_or(0), item.number("end_s").value_or(0)});
    }
    return ranges;
  }
  bool present() const { return object_ != nullptr; }

 private:
  JsonObject *object_;
};

}  // namespace

const char *verdict_name(Verdict verdict) {
  switch (verdict) {
    case Verdict::kFail:
      return "fail";
    case Verdict::kWarn:
      return "warn";
    default:
      return "pass";
  }
}

QcReport judge(const PlatformProfile &profile, const Measurements &measurements) {
  QcReport report;
  report.profile_name = profile.name;
  report.profile_title = profile.title;
  report.measurements = measurements;
  for (const auto &level : profile.levels) judge_level(level, measurements, report.findings);

  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const Finding &a, const Finding &b) {
                     if (a.severity != b.severity) return a.severity == Severity::kFail;
                     const double a_start = a.range ? a.range->start_s : -1;
                     const double b_start = b.range ? b.range->start_s : -1;
                     return a_start < b_start;
                   });
  for (const auto &finding : report.findings) {
    if (finding.severity == Severity::kFail) {
      report.verdict = Verdict::kFail;
      break;
    }
    report.verdict = Verdict::kWarn;
  }
  return report;
}

JsonNodePtr report_to_json(const QcReport &report) {
  GObjectPtr<JsonBuilder> builder(json_builder_new_immutable());
  JsonBuilder *b = builder.get();
  json_builder_begin_object(b);
  add_int(b, "version", 1);
  if (!report.input.empty()) add_string(b, "input", report.input);
  json_builder_set_member_name(b, "profile");
  json_builder_begin_object(b);
  add_string(b, "name", report.profile_name);
  add_string(b, "title", report.profile_title);
  json_builder_end_object(b);
  add_string(b, "verdict", std::string(verdict_name(report.verdict)));
  add_measurements(b, report.measurements);
  json_builder_set_member_name(b, "findings");
  json_builder_begin_array(b);
  for (const auto &finding : report.findings) add_finding(b, finding);
  json_builder_end_array(b);
  json_builder_end_object(b);
  return JsonNodePtr(json_builder_get_root(b));
}

Measurements measurements_from_json(JsonNode *report) {
  if (report == nullptr || !JSON_NODE_HOLDS_OBJECT(report))
    throw std::runtime_error("QC report: expected a JSON object");
  const MeasurementReader top =
      MeasurementReader(json_node_get_object(report)).child("measurements");
  if (!top.present()) throw std::runtime_error("QC report: no measurements");

  Measurements m;
  m.duration_s = top.number("duration_s");
  const MeasurementReader video = top.child("video");
  m.has_video = video.present();
  m.width = video.integer("width");
  m.height = video.integer("height");
  m.display_aspect = video.number("display_aspect");
  m.fps = video.number("fps");
  if (auto frames = video.number("frames")) m.frames = static_cast<guint64>(*frames);
  m.video_codec = video.string("codec");
  m.video_profile = video.string("profile");

  const MeasurementReader audio = top.child("audio");
  m.has_audio = audio.present();
  m.sample_rate_hz = audio.integer("sample_rate_hz");
  m.channels = audio.integer("channels");
  m.audio_codec = audio.string("codec");
  const MeasurementReader loudness = top.child("loudness");
  m.integrated_lufs = loudness.number("integrated_lufs", true);
  m.loudness_range_lu = loudness.number("loudness_range_lu", true);
  m.true_peak_dbtp = loudness.number("true_peak_dbtp", true);
  m.sample_peak_dbfs = loudness.number("sample_peak_dbfs", true);

  const MeasurementReader container = top.child("container");
  m.container_format = container.string("format");
  if (auto size = container.number("size_bytes")) m.size_bytes = static_cast<guint64>(*size);
  m.bitrate_kbps = container.number("bitrate_kbps");
  m.faststart = container.boolean("faststart");

  m.black = top.intervals("black");
  m.freeze = top.intervals("freeze");
  m.silence = top.intervals("silence");
  return m;
}

std::string format_report_text(const QcReport &report) {
  size_t failures = 0;
  for (const auto &f : report.findings) failures += f.severity == Severity::kFail;
  const size_t warnings = report.findings.size() - failures;

  std::string text = "QC " + std::string(verdict_name(report.verdict)) + " for " +
                     report.profile_title + " (" + report.profile_name + ")";
  if (!report.input.empty()) text += ": " + report.input;
  text += "\n";
  if (report.findings.empty()) return text + "  no findings\n";
  text += "  " + std::to_string(failures) + (failures == 1 ? " failure, " : " failures, ") +
          std::to_string(warnings) + (warnings == 1 ? " warning\n" : " warnings\n");
  for (const auto &finding : report.findings) {
    std::string check = finding.check;
    check.resize(std::max<size_t>(check.size(), 13), ' ');
    text += std::string("  ") + (finding.severity == Severity::kFail ? "FAIL" : "WARN") + "  " +
            check + "  " + finding.message + "\n";
  }
  return text;
}

}  // namespace reelforge::qc
