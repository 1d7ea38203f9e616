/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "run/file-qc.h"

#include "json-file.h"
#include "plan/qc-file-plan.h"
#include "run/pipeline-runner.h"

#include <cmath>

namespace reelforge::run {

qc::QcReport qc_file(const std::string &path, const std::string &profile_name,
                     const QcFileOptions &qc_options) {
  const GstClockTime timeout = qc_options.timeout;
  /* An unknown profile is reported before any decoding. */
  const qc::PlatformProfile profile = qc::load_platform_profile(profile_name);
  const plan::MediaFacts facts = plan::inspect_media(path, timeout);

  std::string report_json;
  RunOptions options;
  options.timeout = timeout;
  options.stop_on_signals = qc_options.stop_on_signals;
  options.on_element_message = [&](GstMessage *message) {
    const GstStructure *s = gst_message_get_structure(message);
    if (gst_structure_has_name(s, "qc-report")) report_json = gst_structure_get_string(s, "report");
  };
  try {
    run_pipeline(plan::qc_file_description(facts, profile_name,
                                           {.thumbnails = qc_options.thumbnails,
                                            .thumbnail_pattern = qc_options.thumbnail_pattern}),
                 options);
  } catch (const Interrupted &) {
    throw;
  } catch (const PipelineError &e) {
    throw plan::MediaError(path + ": cannot be decoded to the end: " + e.what());
  }
  if (report_json.empty()) throw plan::MediaError(path + ": decoding ended without a QC report");

  JsonNodePtr stream_report = parse_json(report_json, "qcprobe report");
  qc::Measurements m = qc::measurements_from_json(stream_report.get());

  /* A file cut short still decodes, to where it was cut: compare with the
   * duration its container declares. */
  if (facts.duration_s && m.duration_s && *m.duration_s + 1.0 < *facts.duration_s) {
    char text[160];
    std::snprintf(text, sizeof text,
                  ": truncated or damaged: the media ends at %.2f s but the container declares "
                  "%.2f s",
                  *m.duration_s, *facts.duration_s);
    throw plan::MediaError(path + text);
  }

  m.container_format = facts.container_format;
  m.size_bytes = facts.size_bytes;
  m.faststart = facts.faststart;
  m.video_codec = facts.video_codec;
  m.video_profile = facts.video_profile;
  m.audio_codec = facts.audio_codec;
  if (m.duration_s && *m.duration_s > 0)
    m.bitrate_kbps = static_cast<double>(facts.size_bytes) * 8 / 1000 / *m.duration_s;

  qc::QcReport report = qc::judge(profile, m);
  report.input = path;
  return report;
}

void write_report(const std::string &path, const qc::QcReport &report) {
  JsonNodePtr json = qc::report_to_json(report);
  const std::string text = to_json_string(json.get(), true) + "\n";
  GError *raw_error = nullptr;
  if (!g_file_set_contents(path.c_str(), text.c_str(), static_cast<gssize>(text.size()),
                           &raw_error)) {
    GErrorPtr error(raw_error);
    throw std::runtime_error("cannot write the report to " + path + ": " +
                             std::string(error->message));
  }
}

}  // namespace reelforge::run
