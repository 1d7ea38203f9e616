/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Judging measurements against a platform profile: one test per check, each
 * with a limit it meets and one it breaks; the verdict and the order of
 * findings; the report's JSON form (against qc-report.schema.json) and its
 * round trip; the text summary.
 */
#include "json-file.h"
#include "platform-profile.h"
#include "qc-report.h"
#include "test-environment.h"

#include <cmath>
#include <limits>
#include <ostream>
#include <set>

namespace reelforge::qc {

/* Readable failure output for the value types of qc-report.h. */
void PrintTo(const TimeRange &range, std::ostream *os) {
  *os << "[" << range.start_s << ", " << range.end_s << "]";
}

namespace {

constexpr double kMinusInfinity = -std::numeric_limits<double>::infinity();

/* A profile with one level named gate holding limits (JSON members). */
PlatformProfile gate(const std::string &limits, const std::string &severity = "fail") {
  const std::string json =
      R"({"name": "test", "title": "Test", "levels": {"gate": {"severity": ")" + severity +
      R"(", "limits": {)" + limits + "}}}}";
  JsonNodePtr root = parse_json(json, "test profile");
  return parse_platform_profile(root.get(), "test profile");
}

PlatformProfile profile_from(const std::string &json) {
  JsonNodePtr root = parse_json(json, "test profile");
  return parse_platform_profile(root.get(), "test profile");
}

std::string measured_text(const MeasuredValue &value) {
  if (const auto *number = std::get_if<double>(&value)) return std::to_string(*number);
  if (const auto *text = std::get_if<std::string>(&value)) return "\"" + *text + "\"";
  if (const auto *flag = std::get_if<bool>(&value)) return *flag ? "true" : "false";
  return "(none)";
}

std::string describe(const std::vector<Finding> &findings) {
  std::string text;
  for (const auto &f : findings)
    text += "\n  " + f.check + " [" + f.level + ", " + severity_name(f.severity) + "] measured " +
            measured_text(f.measured) + ", expected \"" + f.expected + "\": " + f.message;
  return text.empty() ? " none" : text;
}

struct Expected {
  std::string check;
  MeasuredValue measured;
  std::string expected;
  std::string level = "gate";
  Severity severity = Severity::kFail;
};

/* The report holds exactly one finding, and it is this one. */
::testing::AssertionResult one_finding(const QcReport &report, const Expected &want) {
  if (report.findings.size() != 1)
    return ::testing::AssertionFailure()
           << "expected one " << want.check << " finding, got" << describe(report.findings);
  const Finding &f = report.findings[0];
  if (f.check != want.check || f.level != want.level || f.severity != want.severity ||
      f.measured != want.measured || f.expected != want.expected)
    return ::testing::AssertionFailure()
           << "expected " << want.check << " [" << want.level << ", "
           << severity_name(want.severity) << "] measured " << measured_text(want.measured)
           << ", expected \"" << want.expected << "\"; got" << describe(report.findings);
  return ::testing::AssertionSuccess();
}

::testing::AssertionResult no_findings(const QcReport &report) {
  if (report.findings.empty() && report.verdict == Verdict::kPass)
    return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "verdict " << verdict_name(report.verdict)
                                       << ", findings:" << describe(report.findings);
}

Measurements with_duration(double seconds) {
  Measurements m;
  m.duration_s = seconds;
  return m;
}

Measurements with_size(int width, int height) {
  Measurements m;
  m.has_video = true;
  m.width = width;
  m.height = height;
  return m;
}

Measurements with_aspect(double aspect) {
  Measurements m;
  m.has_video = true;
  m.display_aspect = aspect;
  return m;
}

Measurements with_fps(double fps) {
  Measurements m;
  m.has_video = true;
  m.fps = fps;
  return m;
}

Measurements with_audio() {
  Measurements m;
  m.has_audio = true;
  return m;
}

/* A clean 20 s vertical H.264/AAC video, as the render step makes it. */
Measurements delivery() {
  Measurements m;
  m.duration_s = 20;
  m.has_video = true;
  m.width = 1080;
  m.height = 1920;
  m.display_aspect = 1080.0 / 1920.0;
  m.fps = 30;
  m.frames = 600;
  m.video_codec = "h264";
  m.video_profile = "high";
  m.has_audio = true;
  m.sample_rate_hz = 48000;
  m.channels = 2;
  m.audio_codec = "aac";
  m.integrated_lufs = -14.2;
  m.loudness_range_lu = 5.5;
  m.true_peak_dbtp = -1.5;
  m.sample_peak_dbfs = -2.1;
  m.container_format = "mp4";
  m.size_bytes = 12'000'000;
  m.bitrate_kbps = 4800;
  m.faststart = true;
  return m;
}

TEST(QcJudge, Duration) {
  const auto p = gate(R"("duration_s": {"min": 3, "max": 60})");
  EXPECT_TRUE(no_findings(judge(p, with_duration(3))));
  EXPECT_TRUE(no_findings(judge(p, with_duration(60))));

  const QcReport longer = judge(p, with_duration(60.5));
  EXPECT_TRUE(one_finding(longer, {"duration", 60.5, "between 3 and 60 s"}));
  ASSERT_EQ(longer.findings.size(), 1u);
  EXPECT_EQ(longer.findings[0].message,
            "duration 60.5 s breaks the gate limit: between 3 and 60 s");
  EXPECT_FALSE(longer.findings[0].range);
  EXPECT_EQ(longer.verdict, Verdict::kFail);

  EXPECT_TRUE(one_finding(judge(p, with_duration(2.9)), {"duration", 2.9, "between 3 and 60 s"}));
}

TEST(QcJudge, RangeWithOneBound) {
  EXPECT_TRUE(one_finding(judge(gate(R"("duration_s": {"max": 600})"), with_duration(601)),
                          {"duration", 601.0, "at most 600 s"}));
  EXPECT_TRUE(one_finding(judge(gate(R"("duration_s": {"min": 1})"), with_duration(0.5)),
                          {"duration", 0.5, "at least 1 s"}));
}

TEST(QcJudge, WidthAndHeight) {
  const auto p = gate(R"("width_px": {"min": 1080, "max": 1080}, "height_px": {"max": 1920})");
  EXPECT_TRUE(no_findings(judge(p, with_size(1080, 1920))));
  EXPECT_TRUE(no_findings(judge(p, with_size(1080, 1080))));
  EXPECT_TRUE(one_finding(judge(p, with_size(720, 1280)), {"width", 720.0, "exactly 1080 px"}));
  EXPECT_TRUE(one_finding(judge(p, with_size(1080, 2160)), {"height", 2160.0, "at most 1920 px"}));
}

TEST(QcJudge, SideAppliesToWidthAndHeight) {
  const auto p = gate(R"("side_px": {"min": 360, "max": 4096})");
  EXPECT_TRUE(no_findings(judge(p, with_size(360, 4096))));
  EXPECT_TRUE(
      one_finding(judge(p, with_size(320, 568)), {"width", 320.0, "between 360 and 4096 px"}));
  EXPECT_TRUE(
      one_finding(judge(p, with_size(2160, 4200)), {"height", 4200.0, "between 360 and 4096 px"}));

  const QcReport both = judge(p, with_size(300, 5000));
  ASSERT_EQ(both.findings.size(), 2u) << describe(both.findings);
  EXPECT_EQ(both.findings[0].check, "width");
  EXPECT_EQ(both.findings[0].measured, MeasuredValue(300.0));
  EXPECT_EQ(both.findings[1].check, "height");
  EXPECT_EQ(both.findings[1].measured, MeasuredValue(5000.0));
}

TEST(QcJudge, AspectEqualsWithTolerance) {
  const auto p = gate(R"("aspect": {"equals": "9:16", "tolerance": 0.01})");
  const double nine_sixteen = 9.0 / 16.0;
  EXPECT_TRUE(no_findings(judge(p, with_aspect(nine_sixteen))));
  EXPECT_TRUE(no_findings(judge(p, with_aspect(nine_sixteen * 1.009))));
  EXPECT_TRUE(no_findings(judge(p, with_aspect(nine_sixteen * 0.991))));
  EXPECT_TRUE(one_finding(judge(p, with_aspect(nine_sixteen * 1.011)),
                          {"aspect", nine_sixteen * 1.011, "9:16"}));

  const QcReport landscape = judge(p, with_aspect(16.0 / 9.0));
  EXPECT_TRUE(one_finding(landscape, {"aspect", 16.0 / 9.0, "9:16"}));
  ASSERT_EQ(landscape.findings.size(), 1u);
  EXPECT_EQ(landscape.findings[0].message,
            "aspect ratio 1.7778 (width/height) breaks the gate limit: 9:16");
}

TEST(QcJudge, AspectToleranceDefaultsToOnePercent) {
  const auto p = gate(R"("aspect": {"equals": "16:9"})");
  EXPECT_TRUE(no_findings(judge(p, with_aspect(16.0 / 9.0 * 1.009))));
  EXPECT_TRUE(one_finding(judge(p, with_aspect(16.0 / 9.0 * 1.011)),
                          {"aspect", 16.0 / 9.0 * 1.011, "16:9"}));
}

TEST(QcJudge, AspectBounds) {
  const auto square_or_taller = gate(R"("aspect": {"max": "1:1"})");
  EXPECT_TRUE(no_findings(judge(square_or_taller, with_aspect(1.0))));
  EXPECT_TRUE(no_findings(judge(square_or_taller, with_aspect(9.0 / 16.0))));
  EXPECT_TRUE(one_finding(judge(square_or_taller, with_aspect(16.0 / 9.0)),
                          {"aspect", 16.0 / 9.0, "1:1 or taller"}));

  const auto portrait_or_wider = gate(R"("aspect": {"min": "9:16"})");
  EXPECT_TRUE(no_findings(judge(portrait_or_wider, with_aspect(9.0 / 16.0))));
  EXPECT_TRUE(no_findings(judge(portrait_or_wider, with_aspect(1.0))));
  EXPECT_TRUE(
      one_finding(judge(portrait_or_wider, with_aspect(0.5)), {"aspect", 0.5, "9:16 or wider"}));
}

TEST(QcJudge, FpsRange) {
  const auto p = gate(R"("fps": {"min": 23, "max": 60})");
  EXPECT_TRUE(no_findings(judge(p, with_fps(23))));
  EXPECT_TRUE(no_findings(judge(p, with_fps(59.94))));
  EXPECT_TRUE(no_findings(judge(p, with_fps(60))));
  EXPECT_TRUE(one_finding(judge(p, with_fps(15)), {"fps", 15.0, "between 23 and 60 fps"}));
  EXPECT_TRUE(one_finding(judge(p, with_fps(120)), {"fps", 120.0, "between 23 and 60 fps"}));
}

TEST(QcJudge, FpsValuesAcceptBroadcastRates) {
  const auto p = gate(R"("fps_values": [24, 25, 30, 48, 50, 60])");
  for (double fps : {24.0, 25.0, 30.0, 60.0, 30000.0 / 1001.0, 24000.0 / 1001.0, 60000.0 / 1001.0,
                     29.97, 23.976})
    EXPECT_TRUE(no_findings(judge(p, with_fps(fps)))) << fps << " fps";

  const QcReport odd = judge(p, with_fps(29));
  EXPECT_TRUE(one_finding(odd, {"fps", 29.0, "24, 25, 30, 48, 50 or 60 fps"}));
  ASSERT_EQ(odd.findings.size(), 1u);
  EXPECT_EQ(odd.findings[0].message,
            "frame rate 29 fps breaks the gate limit: 24, 25, 30, 48, 50 or 60 fps");
  EXPECT_TRUE(one_finding(judge(p, with_fps(15)), {"fps", 15.0, "24, 25, 30, 48, 50 or 60 fps"}));
}

TEST(QcJudge, FileSize) {
  const auto p = gate(R"("size_bytes": {"max": 287000000})");
  Measurements m;
  m.size_bytes = 287'000'000;
  EXPECT_TRUE(no_findings(judge(p, m)));

  /* One byte over: the message must still tell the two apart. */
  m.size_bytes = 287'000'001;
  const QcReport over = judge(p, m);
  EXPECT_TRUE(one_finding(over, {"size", 287000001.0, "at most 287000000 bytes"}));
  ASSERT_EQ(over.findings.size(), 1u);
  EXPECT_EQ(over.findings[0].message,
            "file size 287000001 bytes breaks the gate limit: at most 287000000 bytes");

  m.size_bytes = 4'500'000'000;
  EXPECT_TRUE(one_finding(judge(gate(R"("size_bytes": {"max": 4000000000})"), m),
                          {"size", 4500000000.0, "at most 4000000000 bytes"}));
}

TEST(QcJudge, Bitrate) {
  const auto p = gate(R"("bitrate_kbps": {"min": 516, "max": 25000})");
  Measurements m;
  m.bitrate_kbps = 516;
  EXPECT_TRUE(no_findings(judge(p, m)));
  m.bitrate_kbps = 400.5;
  EXPECT_TRUE(one_finding(judge(p, m), {"bitrate", 400.5, "between 516 and 25000 kbps"}));
  m.bitrate_kbps = 30000;
  EXPECT_TRUE(one_finding(judge(p, m), {"bitrate", 30000.0, "between 516 and 25000 kbps"}));
}

TEST(QcJudge, VideoCodecAndProfile) {
  const auto p = gate(R"("video_codecs": ["h264", "h265", "vp9"], "video_profiles": ["high"])");
  Measurements m;
  m.has_video = true;
  m.video_codec = "h265";
  m.video_profile = "high";
  EXPECT_TRUE(no_findings(judge(p, m)));

  m.video_codec = "av1";
  const QcReport codec = judge(p, m);
  EXPECT_TRUE(one_finding(codec, {"video-codec", std::string("av1"), "h264, h265 or vp9"}));
  ASSERT_EQ(codec.findings.size(), 1u);
  EXPECT_EQ(codec.findings[0].message, "video codec av1 breaks the gate limit: h264, h265 or vp9");

  m.video_codec = "h264";
  m.video_profile = "main";
  EXPECT_TRUE(one_finding(judge(p, m), {"video-profile", std::string("main"), "high"}));
}

TEST(QcJudge, AudioPresent) {
  const auto p = gate(R"("audio_required": true)");
  EXPECT_TRUE(no_findings(judge(p, with_audio())));

  Measurements silent_film;
  silent_film.has_audio = false;
  const QcReport missing = judge(p, silent_film);
  EXPECT_TRUE(one_finding(missing, {"audio-present", false, "an audio track"}));
  ASSERT_EQ(missing.findings.size(), 1u);
  EXPECT_EQ(missing.findings[0].message,
            "audio track missing breaks the gate limit: an audio track");

  /* Audio not analysed at all: nothing to judge. */
  EXPECT_TRUE(no_findings(judge(p, Measurements{})));
  /* Not required: no audio is fine. */
  EXPECT_TRUE(no_findings(judge(gate(R"("audio_required": false)"), silent_film)));
}

TEST(QcJudge, AudioCodec) {
  const auto p = gate(R"("audio_codecs": ["aac"])");
  Measurements m = with_audio();
  m.audio_codec = "aac";
  EXPECT_TRUE(no_findings(judge(p, m)));
  m.audio_codec = "opus";
  EXPECT_TRUE(one_finding(judge(p, m), {"audio-codec", std::string("opus"), "aac"}));
}

TEST(QcJudge, SampleRate) {
  const auto p = gate(R"("sample_rates_hz": [44100, 48000])");
  Measurements m = with_audio();
  m.sample_rate_hz = 48000;
  EXPECT_TRUE(no_findings(judge(p, m)));
  m.sample_rate_hz = 32000;
  const QcReport low = judge(p, m);
  EXPECT_TRUE(one_finding(low, {"sample-rate", 32000.0, "44100 or 48000 Hz"}));
  ASSERT_EQ(low.findings.size(), 1u);
  EXPECT_EQ(low.findings[0].message,
            "sample rate 32000 Hz breaks the gate limit: 44100 or 48000 Hz");
}

TEST(QcJudge, Channels) {
  const auto p = gate(R"("channels": {"max": 2})");
  Measurements m = with_audio();
  m.channels = 2;
  EXPECT_TRUE(no_findings(judge(p, m)));
  m.channels = 6;
  EXPECT_TRUE(one_finding(judge(p, m), {"channels", 6.0, "at most 2"}));
}

TEST(QcJudge, Loudness) {
  const auto p = gate(R"("integrated_lufs": {"min": -16, "max": -12})");
  Measurements m = with_audio();
  m.integrated_lufs = -14;
  EXPECT_TRUE(no_findings(judge(p, m)));
  m.integrated_lufs = -16;
  EXPECT_TRUE(no_findings(judge(p, m)));
  m.integrated_lufs = -9.5;
  EXPECT_TRUE(one_finding(judge(p, m), {"loudness", -9.5, "between -16 and -12 LUFS"}));
  m.integrated_lufs = -23;
  EXPECT_TRUE(one_finding(judge(p, m), {"loudness", -23.0, "between -16 and -12 LUFS"}));
}

TEST(QcJudge, LoudnessMinusInfinity) {
  Measurements m = with_audio();
  m.integrated_lufs = kMinusInfinity;

  /* Too quiet to measure is below any minimum... */
  const QcReport quiet = judge(gate(R"("integrated_lufs": {"min": -16, "max": -12})"), m);
  EXPECT_TRUE(one_finding(quiet, {"loudness", std::string("-inf"), "between -16 and -12 LUFS"}));
  ASSERT_EQ(quiet.findings.size(), 1u);
  EXPECT_EQ(quiet.findings[0].message,
            "integrated loudness -inf LUFS breaks the gate limit: between -16 and -12 LUFS");

  /* ...and within any maximum. */
  EXPECT_TRUE(no_findings(judge(gate(R"("integrated_lufs": {"max": -12})"), m)));
}

TEST(QcJudge, TruePeak) {
  const auto p = gate(R"("true_peak_dbtp": {"max": -1})");
  Measurements m = with_audio();
  m.true_peak_dbtp = -1;
  EXPECT_TRUE(no_findings(judge(p, m)));
  m.true_peak_dbtp = kMinusInfinity;
  EXPECT_TRUE(no_findings(judge(p, m)));
  m.true_peak_dbtp = 0.3;
  EXPECT_TRUE(one_finding(judge(p, m), {"true-peak", 0.3, "at most -1 dBTP"}));
}

TEST(QcJudge, AudioChecksNeedAudio) {
  /* Audio values left over without an audio track are not judged. */
  const auto p = gate(
      R"("audio_codecs": ["aac"], "sample_rates_hz": [48000], "channels": {"max": 2},
         "integrated_lufs": {"min": -16, "max": -12}, "true_peak_dbtp": {"max": -1})");
  Measurements m;
  m.audio_codec = "opus";
  m.sample_rate_hz = 8000;
  m.channels = 8;
  m.integrated_lufs = -40;
  m.true_peak_dbtp = 3;
  m.has_audio = false;
  EXPECT_TRUE(no_findings(judge(p, m)));
  m.has_audio = std::nullopt;
  EXPECT_TRUE(no_findings(judge(p, m)));
  m.has_audio = true;
  EXPECT_EQ(judge(p, m).findings.size(), 5u);
}

TEST(QcJudge, Faststart) {
  const auto p = gate(R"("faststart": true)");
  Measurements m;
  m.faststart = true;
  EXPECT_TRUE(no_findings(judge(p, m)));
  m.faststart = false;
  const QcReport late = judge(p, m);
  EXPECT_TRUE(one_finding(late, {"faststart", false, "moov before mdat (faststart)"}));
  ASSERT_EQ(late.findings.size(), 1u);
  EXPECT_EQ(late.findings[0].message,
            "moov box after the media data breaks the gate limit: moov before mdat (faststart)");
  /* A profile that does not ask for faststart does not mind. */
  EXPECT_TRUE(no_findings(judge(gate(R"("faststart": false)"), m)));
}

TEST(QcJudge, ContainerChecksSkippedWithoutContainerInfo) {
  /* What qcprobe alone measures: streams, no file. */
  const auto p = gate(R"("size_bytes": {"max": 1}, "bitrate_kbps": {"min": 100000},
                         "faststart": true, "duration_s": {"max": 10})");
  Measurements m = delivery();
  m.container_format.reset();
  m.size_bytes.reset();
  m.bitrate_kbps.reset();
  m.faststart.reset();
  EXPECT_TRUE(one_finding(judge(p, m), {"duration", 20.0, "at most 10 s"}));
}

TEST(QcJudge, NothingMeasuredNothingFound) {
  const auto p = gate(R"(
      "duration_s": {"min": 3, "max": 60}, "width_px": {"min": 1080}, "height_px": {"min": 1920},
      "side_px": {"min": 360}, "aspect": {"equals": "9:16", "min": "1:2", "max": "1:1"},
      "fps": {"min": 23}, "fps_values": [30], "size_bytes": {"max": 1}, "bitrate_kbps": {"min": 1},
      "video_codecs": ["h264"], "video_profiles": ["high"], "audio_required": true,
      "audio_codecs": ["aac"], "sample_rates_hz": [48000], "channels": {"max": 2},
      "faststart": true, "integrated_lufs": {"min": -16}, "true_peak_dbtp": {"max": -1},
      "allow_black": false, "allow_freeze": false, "allow_silence": false)");
  const QcReport report = judge(p, Measurements{});
  EXPECT_TRUE(no_findings(report));
  EXPECT_EQ(report.profile_name, "test");
  EXPECT_EQ(report.profile_title, "Test");
}

TEST(QcJudge, BlackIntervals) {
  const auto p = gate(R"("allow_black": false)");
  Measurements m;
  EXPECT_TRUE(no_findings(judge(p, m)));

  m.black = {{1.0, 2.5}, {10.0, 10.75}};
  const QcReport report = judge(p, m);
  ASSERT_EQ(report.findings.size(), 2u) << describe(report.findings);
  const Finding &first = report.findings[0];
  EXPECT_EQ(first.check, "black");
  EXPECT_EQ(first.level, "gate");
  EXPECT_EQ(first.severity, Severity::kFail);
  EXPECT_EQ(first.measured, MeasuredValue(1.5));
  EXPECT_EQ(first.expected, "no black stretch");
  EXPECT_EQ(first.range, (TimeRange{1.0, 2.5}));
  EXPECT_EQ(first.message,
            "black picture from 1.00 s to 2.50 s (1.50 s) breaks the gate limit: no black stretch");
  EXPECT_EQ(report.findings[1].measured, MeasuredValue(0.75));
  EXPECT_EQ(report.findings[1].range, (TimeRange{10.0, 10.75}));

  EXPECT_TRUE(no_findings(judge(gate(R"("allow_black": true)"), m)));
  EXPECT_TRUE(no_findings(judge(gate(R"("duration_s": {"max": 60})"), m)));
}

TEST(QcJudge, FreezeAndSilenceIntervals) {
  Measurements m;
  m.freeze = {{4.0, 8.0}};
  m.silence = {{0.0, 2.25}};

  const QcReport frozen = judge(gate(R"("allow_freeze": false)"), m);
  EXPECT_TRUE(one_finding(frozen, {"freeze", 4.0, "no frozen stretch"}));
  ASSERT_EQ(frozen.findings.size(), 1u);
  EXPECT_EQ(frozen.findings[0].range, (TimeRange{4.0, 8.0}));
  EXPECT_EQ(
      frozen.findings[0].message,
      "frozen picture from 4.00 s to 8.00 s (4.00 s) breaks the gate limit: no frozen stretch");

  const QcReport silent = judge(gate(R"("allow_silence": false)"), m);
  EXPECT_TRUE(one_finding(silent, {"silence", 2.25, "no silent stretch"}));
  ASSERT_EQ(silent.findings.size(), 1u);
  EXPECT_EQ(silent.findings[0].range, (TimeRange{0.0, 2.25}));
}

TEST(QcJudge, WarnLevelGivesWarnings) {
  const QcReport report = judge(gate(R"("duration_s": {"max": 60})", "warn"), with_duration(61));
  EXPECT_TRUE(one_finding(report, {"duration", 61.0, "at most 60 s", "gate", Severity::kWarn}));
  EXPECT_EQ(report.verdict, Verdict::kWarn);
}

const char *kTwoLevels = R"({"name": "two", "title": "Two levels", "levels": {
    "recommended": {"severity": "warn", "limits": {
      "width_px": {"min": 1080}, "allow_silence": false}},
    "platform": {"severity": "fail", "limits": {
      "duration_s": {"max": 60}, "allow_black": false, "allow_freeze": false}}}})";

TEST(QcJudge, Verdict) {
  const auto p = profile_from(kTwoLevels);
  Measurements m = with_size(1080, 1920);
  m.duration_s = 30;
  EXPECT_EQ(judge(p, m).verdict, Verdict::kPass);

  m.width = 720;
  const QcReport warned = judge(p, m);
  EXPECT_EQ(warned.verdict, Verdict::kWarn);
  EXPECT_TRUE(
      one_finding(warned, {"width", 720.0, "at least 1080 px", "recommended", Severity::kWarn}));

  m.width = 1080;
  m.duration_s = 61;
  const QcReport failed = judge(p, m);
  EXPECT_EQ(failed.verdict, Verdict::kFail);
  EXPECT_TRUE(one_finding(failed, {"duration", 61.0, "at most 60 s", "platform"}));

  m.width = 720;
  EXPECT_EQ(judge(p, m).verdict, Verdict::kFail);
}

TEST(QcJudge, FailuresFirstThenByTime) {
  /* The warn level comes first in the file; its findings still sort last. */
  const auto p = profile_from(kTwoLevels);
  Measurements m = with_size(720, 1280);
  m.duration_s = 61;
  m.black = {{5.0, 6.0}};
  m.freeze = {{1.0, 4.5}};
  m.silence = {{0.0, 3.0}, {8.0, 9.0}};

  const QcReport report = judge(p, m);
  std::vector<std::string> order;
  for (const auto &f : report.findings)
    order.push_back(f.check + "@" +
                    (f.range ? std::to_string(static_cast<int>(f.range->start_s)) : "-"));
  EXPECT_EQ(order, (std::vector<std::string>{"duration@-", "freeze@1", "black@5", "width@-",
                                             "silence@0", "silence@8"}));
  for (size_t i = 0; i < report.findings.size(); ++i)
    EXPECT_EQ(report.findings[i].severity, i < 3 ? Severity::kFail : Severity::kWarn) << i;
  EXPECT_EQ(report.verdict, Verdict::kFail);
}

TEST(QcJudge, EachLevelJudgesOnItsOwn) {
  /* The same check broken in two levels is two findings. */
  const auto p = profile_from(R"({"name": "tiers", "levels": {
      "platform": {"severity": "fail", "limits": {"duration_s": {"max": 600}}},
      "house": {"severity": "fail", "limits": {"duration_s": {"max": 60}}}}})");
  EXPECT_TRUE(
      one_finding(judge(p, with_duration(90)), {"duration", 90.0, "at most 60 s", "house"}));
  const QcReport both = judge(p, with_duration(700));
  ASSERT_EQ(both.findings.size(), 2u) << describe(both.findings);
  EXPECT_EQ(both.findings[0].level, "platform");
  EXPECT_EQ(both.findings[0].expected, "at most 600 s");
  EXPECT_EQ(both.findings[1].level, "house");
  EXPECT_EQ(both.findings[1].expected, "at most 60 s");
}

TEST(QcJudge, BuiltInProfilesOnARealisticDelivery) {
  g_unsetenv("REELFORGE_PLATFORMS_PATH");
  for (const char *name : {"tiktok", "youtube-shorts", "instagram-reels"})
    EXPECT_TRUE(no_findings(judge(load_platform_profile(name), delivery()))) << name;

  /* TikTok: the house gate stops at 60 s although the platform takes 10 min. */
  Measurements long_cut = delivery();
  long_cut.duration_s = 61;
  EXPECT_TRUE(one_finding(judge(load_platform_profile("tiktok"), long_cut),
                          {"duration", 61.0, "between 3 and 60 s", "house"}));

  /* A vertical video on the 16:9 profile: house fails, recommended warns. */
  const QcReport wrong_shape = judge(load_platform_profile("youtube"), delivery());
  EXPECT_EQ(wrong_shape.verdict, Verdict::kFail);
  std::vector<std::string> checks;
  for (const auto &f : wrong_shape.findings) checks.push_back(f.level + "/" + f.check);
  EXPECT_EQ(checks,
            (std::vector<std::string>{"house/aspect", "recommended/width", "recommended/height"}));
}

/* A small draft-07 subset (type, const, enum, required, properties,
 * additionalProperties false, items, $ref, minimum, exclusiveMinimum): enough
 * to hold report_to_json() to qc-report.schema.json. */
class SchemaChecker {
 public:
  explicit SchemaChecker(JsonNode *schema) : root_(json_node_get_object(schema)) {}

  void check(JsonNode *value, JsonObject *schema, const std::string &at,
             std::vector<std::string> &errors) const {
    if (json_object_has_member(schema, "$ref")) {
      std::string ref = json_object_get_string_member(schema, "$ref");
      const std::string prefix = "#/definitions/";
      JsonObject *definitions = json_object_get_object_member(root_, "definitions");
      check(value, json_object_get_object_member(definitions, ref.substr(prefix.size()).c_str()),
            at, errors);
      return;
    }
    if (json_object_has_member(schema, "type")) {
      JsonNode *type = json_object_get_member(schema, "type");
      bool matched = false;
      if (JSON_NODE_HOLDS_ARRAY(type)) {
        JsonArray *types = json_node_get_array(type);
        for (guint i = 0; i < json_array_get_length(types); ++i)
          matched |= is_type(value, json_array_get_string_element(types, i));
      } else {
        matched = is_type(value, json_node_get_string(type));
      }
      if (!matched) {
        errors.push_back(at + ": wrong type");
        return;
      }
    }
    if (json_object_has_member(schema, "const") &&
        !json_node_equal(value, json_object_get_member(schema, "const")))
      errors.push_back(at + ": not the constant");
    if (json_object_has_member(schema, "enum")) {
      JsonArray *values = json_object_get_array_member(schema, "enum");
      bool found = false;
      for (guint i = 0; i < json_array_get_length(values); ++i)
        found |= json_node_equal(value, json_array_get_element(values, i)) != FALSE;
      if (!found) errors.push_back(at + ": not one of the enum");
    }
    if (JSON_NODE_HOLDS_VALUE(value) && is_type(value, "number")) {
      const double number = json_node_get_double(value);
      if (json_object_has_member(schema, "minimum") &&
          number < json_object_get_double_member(schema, "minimum"))
        errors.push_back(at + ": below minimum");
      if (json_object_has_member(schema, "exclusiveMinimum") &&
          number <= json_object_get_double_member(schema, "exclusiveMinimum"))
        errors.push_back(at + ": not above exclusiveMinimum");
    }
    if (JSON_NODE_HOLDS_OBJECT(value))
      check_object(json_node_get_object(value), schema, at, errors);
    if (JSON_NODE_HOLDS_ARRAY(value) && json_object_has_member(schema, "items")) {
      JsonArray *items = json_node_get_array(value);
      for (guint i = 0; i < json_array_get_length(items); ++i)
        check(json_array_get_element(items, i), json_object_get_object_member(schema, "items"),
              at + "/" + std::to_string(i), errors);
    }
  }

  std::vector<std::string> errors(JsonNode *document) const {
    std::vector<std::string> found;
    check(document, root_, "", found);
    return found;
  }

 private:
  static bool is_type(JsonNode *value, const std::string &type) {
    if (type == "null") return JSON_NODE_HOLDS_NULL(value);
    if (type == "object") return JSON_NODE_HOLDS_OBJECT(value);
    if (type == "array") return JSON_NODE_HOLDS_ARRAY(value);
    if (!JSON_NODE_HOLDS_VALUE(value)) return false;
    const GType gtype = json_node_get_value_type(value);
    if (type == "string") return gtype == G_TYPE_STRING;
    if (type == "boolean") return gtype == G_TYPE_BOOLEAN;
    if (type == "integer") return gtype == G_TYPE_INT64;
    if (type == "number") return gtype == G_TYPE_INT64 || gtype == G_TYPE_DOUBLE;
    return false;
  }

  void check_object(JsonObject *object, JsonObject *schema, const std::string &at,
                    std::vector<std::string> &errors) const {
    if (json_object_has_member(schema, "required")) {
      JsonArray *required = json_object_get_array_member(schema, "required");
      for (guint i = 0; i < json_array_get_length(required); ++i) {
        const char *name = json_array_get_string_element(required, i);
        if (!json_object_has_member(object, name)) errors.push_back(at + "/" + name + ": missing");
      }
    }
    JsonObject *properties = json_object_has_member(schema, "properties")
                                 ? json_object_get_object_member(schema, "properties")
                                 : nullptr;
    JsonNode *additional = json_object_get_member(schema, "additionalProperties");
    const bool closed =
        additional && JSON_NODE_HOLDS_VALUE(additional) && !json_node_get_boolean(additional);
    GList *members = json_object_get_members(object);
    for (GList *l = members; l; l = l->next) {
      const auto *name = static_cast<const char *>(l->data);
      const std::string here = at + "/" + name;
      if (properties && json_object_has_member(properties, name))
        check(json_object_get_member(object, name), json_object_get_object_member(properties, name),
              here, errors);
      else if (closed)
        errors.push_back(here + ": not in the schema");
    }
    g_list_free(members);
  }

  JsonObject *root_;
};

std::vector<std::string> schema_errors(JsonNode *report) {
  static JsonNodePtr schema =
      load_json_file((test::source_dir() / "schemas" / "qc-report.schema.json").string());
  return SchemaChecker(schema.get()).errors(report);
}

JsonObject *object_at(JsonNode *root, const std::vector<const char *> &path) {
  JsonObject *object = json_node_get_object(root);
  for (const char *step : path) object = json_object_get_object_member(object, step);
  return object;
}

/* Every field, including what only a container analysis adds. */
Measurements everything() {
  Measurements m = delivery();
  m.duration_s = 21.354;
  m.display_aspect = 1080.0 / 1920.0 * 1.003;
  m.fps = 30000.0 / 1001.0;
  m.frames = 640;
  m.integrated_lufs = kMinusInfinity;
  m.loudness_range_lu = 0.1;
  m.true_peak_dbtp = kMinusInfinity;
  m.sample_peak_dbfs = -0.25;
  m.size_bytes = 5'000'000'123;
  m.bitrate_kbps = 1873.125;
  m.faststart = false;
  m.black = {{0.0, 0.52}, {12.04, 13.5}};
  m.freeze = {{3.3, 6.65}};
  m.silence = {{0.0, 21.354}};
  return m;
}

void expect_same_measurements(const Measurements &got, const Measurements &want) {
  EXPECT_EQ(got.duration_s, want.duration_s);
  EXPECT_EQ(got.has_video, want.has_video);
  EXPECT_EQ(got.width, want.width);
  EXPECT_EQ(got.height, want.height);
  EXPECT_EQ(got.display_aspect, want.display_aspect);
  EXPECT_EQ(got.fps, want.fps);
  EXPECT_EQ(got.frames, want.frames);
  EXPECT_EQ(got.video_codec, want.video_codec);
  EXPECT_EQ(got.video_profile, want.video_profile);
  EXPECT_EQ(got.has_audio, want.has_audio);
  EXPECT_EQ(got.sample_rate_hz, want.sample_rate_hz);
  EXPECT_EQ(got.channels, want.channels);
  EXPECT_EQ(got.audio_codec, want.audio_codec);
  EXPECT_EQ(got.integrated_lufs, want.integrated_lufs);
  EXPECT_EQ(got.loudness_range_lu, want.loudness_range_lu);
  EXPECT_EQ(got.true_peak_dbtp, want.true_peak_dbtp);
  EXPECT_EQ(got.sample_peak_dbfs, want.sample_peak_dbfs);
  EXPECT_EQ(got.container_format, want.container_format);
  EXPECT_EQ(got.size_bytes, want.size_bytes);
  EXPECT_EQ(got.bitrate_kbps, want.bitrate_kbps);
  EXPECT_EQ(got.faststart, want.faststart);
  EXPECT_EQ(got.black, want.black);
  EXPECT_EQ(got.freeze, want.freeze);
  EXPECT_EQ(got.silence, want.silence);
}

TEST(QcReportJson, RequiredFields) {
  QcReport report = judge(profile_from(kTwoLevels), with_duration(61));
  report.input = "s3://bucket/final.mp4";
  JsonNodePtr json = report_to_json(report);
  EXPECT_EQ(schema_errors(json.get()), std::vector<std::string>{});

  JsonObject *top = json_node_get_object(json.get());
  EXPECT_EQ(json_node_get_value_type(json_object_get_member(top, "version")), G_TYPE_INT64);
  EXPECT_EQ(json_object_get_int_member(top, "version"), 1);
  EXPECT_STREQ(json_object_get_string_member(top, "input"), "s3://bucket/final.mp4");
  EXPECT_STREQ(json_object_get_string_member(object_at(json.get(), {"profile"}), "name"), "two");
  EXPECT_STREQ(json_object_get_string_member(object_at(json.get(), {"profile"}), "title"),
               "Two levels");
  EXPECT_STREQ(json_object_get_string_member(top, "verdict"), "fail");
  EXPECT_EQ(json_object_get_double_member(object_at(json.get(), {"measurements"}), "duration_s"),
            61);

  JsonArray *findings = json_object_get_array_member(top, "findings");
  ASSERT_EQ(json_array_get_length(findings), 1u);
  JsonObject *finding = json_array_get_object_element(findings, 0);
  EXPECT_STREQ(json_object_get_string_member(finding, "check"), "duration");
  EXPECT_STREQ(json_object_get_string_member(finding, "level"), "platform");
  EXPECT_STREQ(json_object_get_string_member(finding, "severity"), "fail");
  EXPECT_EQ(json_object_get_double_member(finding, "measured"), 61);
  EXPECT_STREQ(json_object_get_string_member(finding, "expected"), "at most 60 s");
  EXPECT_STREQ(json_object_get_string_member(finding, "message"),
               "duration 61 s breaks the platform limit: at most 60 s");
  EXPECT_FALSE(json_object_has_member(finding, "start_s"));
}

TEST(QcReportJson, PassingReportWithoutInput) {
  const QcReport report = judge(profile_from(kTwoLevels), Measurements{});
  JsonNodePtr json = report_to_json(report);
  EXPECT_EQ(schema_errors(json.get()), std::vector<std::string>{});
  JsonObject *top = json_node_get_object(json.get());
  EXPECT_FALSE(json_object_has_member(top, "input"));
  EXPECT_STREQ(json_object_get_string_member(top, "verdict"), "pass");
  EXPECT_EQ(json_array_get_length(json_object_get_array_member(top, "findings")), 0u);
  /* Nothing measured: no video, audio or container sections. */
  JsonObject *measurements = object_at(json.get(), {"measurements"});
  EXPECT_FALSE(json_object_has_member(measurements, "video"));
  EXPECT_FALSE(json_object_has_member(measurements, "audio"));
  EXPECT_FALSE(json_object_has_member(measurements, "container"));
}

TEST(QcReportJson, EveryCheckIsValid) {
  /* Break every check at once: each finding's check id and members must be
   * what the schema allows. */
  const auto p = profile_from(R"({"name": "strict", "title": "Strict", "levels": {
      "hard": {"severity": "fail", "limits": {
        "duration_s": {"max": 1}, "width_px": {"max": 1}, "height_px": {"max": 1},
        "aspect": {"equals": "1:1"}, "fps": {"max": 1}, "size_bytes": {"max": 1},
        "bitrate_kbps": {"max": 1}, "video_codecs": ["av1"], "video_profiles": ["baseline"],
        "audio_codecs": ["opus"], "sample_rates_hz": [8000], "channels": {"max": 1},
        "faststart": true, "integrated_lufs": {"min": -16}, "true_peak_dbtp": {"max": -3},
        "allow_black": false, "allow_freeze": false, "allow_silence": false}},
      "soft": {"severity": "warn", "limits": {"audio_required": true}}}})");
  Measurements m = everything();
  m.true_peak_dbtp = -0.5;
  const QcReport with_audio_report = judge(p, m);
  m.has_audio = false;
  const QcReport without_audio_report = judge(p, m);

  std::set<std::string> checks;
  for (const QcReport *report : {&with_audio_report, &without_audio_report}) {
    JsonNodePtr json = report_to_json(*report);
    EXPECT_EQ(schema_errors(json.get()), std::vector<std::string>{});
    for (const auto &f : report->findings) checks.insert(f.check);
  }
  EXPECT_EQ(checks,
            (std::set<std::string>{"duration", "width", "height", "aspect", "fps", "size",
                                   "bitrate", "video-codec", "video-profile", "audio-present",
                                   "audio-codec", "sample-rate", "channels", "faststart",
                                   "loudness", "true-peak", "black", "freeze", "silence"}));
}

TEST(QcReportJson, MinusInfinityIsNull) {
  QcReport report = judge(gate(R"("integrated_lufs": {"min": -16})"), everything());
  JsonNodePtr json = report_to_json(report);
  EXPECT_EQ(schema_errors(json.get()), std::vector<std::string>{});

  JsonObject *loudness = object_at(json.get(), {"measurements", "loudness"});
  EXPECT_TRUE(JSON_NODE_HOLDS_NULL(json_object_get_member(loudness, "integrated_lufs")));
  EXPECT_TRUE(JSON_NODE_HOLDS_NULL(json_object_get_member(loudness, "true_peak_dbtp")));
  EXPECT_EQ(json_object_get_double_member(loudness, "loudness_range_lu"), 0.1);
  EXPECT_EQ(json_object_get_double_member(loudness, "sample_peak_dbfs"), -0.25);

  JsonArray *findings = json_object_get_array_member(json_node_get_object(json.get()), "findings");
  ASSERT_EQ(json_array_get_length(findings), 1u);
  EXPECT_STREQ(
      json_object_get_string_member(json_array_get_object_element(findings, 0), "measured"),
      "-inf");
  /* The text form is plain JSON: no "-inf" or "nan" literals. */
  const std::string text = to_json_string(json.get(), false);
  EXPECT_NE(text.find(R"("integrated_lufs":null)"), std::string::npos) << text;
}

TEST(QcReportJson, IntervalFindingsCarryTheirTimes) {
  Measurements m;
  m.black = {{2.0, 3.5}};
  JsonNodePtr json = report_to_json(judge(gate(R"("allow_black": false)"), m));
  EXPECT_EQ(schema_errors(json.get()), std::vector<std::string>{});
  JsonArray *findings = json_object_get_array_member(json_node_get_object(json.get()), "findings");
  ASSERT_EQ(json_array_get_length(findings), 1u);
  JsonObject *finding = json_array_get_object_element(findings, 0);
  EXPECT_STREQ(json_object_get_string_member(finding, "check"), "black");
  EXPECT_EQ(json_object_get_double_member(finding, "measured"), 1.5);
  EXPECT_EQ(json_object_get_double_member(finding, "start_s"), 2.0);
  EXPECT_EQ(json_object_get_double_member(finding, "end_s"), 3.5);

  JsonArray *black = json_object_get_array_member(object_at(json.get(), {"measurements"}), "black");
  ASSERT_EQ(json_array_get_length(black), 1u);
  EXPECT_EQ(json_object_get_double_member(json_array_get_object_element(black, 0), "start_s"), 2.0);
  EXPECT_EQ(json_object_get_double_member(json_array_get_object_element(black, 0), "end_s"), 3.5);
}

TEST(QcReportJson, MeasurementsRoundTrip) {
  QcReport report;
  report.profile_name = "tiktok";
  report.profile_title = "TikTok";
  report.measurements = everything();
  JsonNodePtr json = report_to_json(report);
  EXPECT_EQ(schema_errors(json.get()), std::vector<std::string>{});
  expect_same_measurements(measurements_from_json(json.get()), report.measurements);
}

TEST(QcReportJson, MeasurementsRoundTripThroughText) {
  /* As qcprobe's message carries it: serialised, then parsed again. */
  QcReport report;
  report.measurements = everything();
  const std::string text = to_json_string(report_to_json(report).get(), true);
  JsonNodePtr parsed = parse_json(text, "report text");
  expect_same_measurements(measurements_from_json(parsed.get()), report.measurements);
}

TEST(QcReportJson, VideoOnlyRoundTrip) {
  QcReport report;
  report.measurements = with_size(320, 568);
  report.measurements.fps = 25;
  report.measurements.has_audio = false;
  JsonNodePtr json = report_to_json(report);
  EXPECT_EQ(schema_errors(json.get()), std::vector<std::string>{});
  expect_same_measurements(measurements_from_json(json.get()), report.measurements);
}

TEST(QcReportJson, MeasurementsFromBadDocumentsThrow) {
  JsonNodePtr array = parse_json("[]", "array");
  EXPECT_THROW(measurements_from_json(array.get()), std::runtime_error);
  EXPECT_THROW(measurements_from_json(nullptr), std::runtime_error);
  JsonNodePtr empty = parse_json(R"({"version": 1})", "no measurements");
  EXPECT_THROW(measurements_from_json(empty.get()), std::runtime_error);
  JsonNodePtr text_duration = parse_json(R"({"measurements": {"duration_s": "long"}})", "text");
  EXPECT_THROW(measurements_from_json(text_duration.get()), std::runtime_error);
  JsonNodePtr object_width =
      parse_json(R"({"measurements": {"video": {"width": {"px": 1080}}}})", "object");
  EXPECT_THROW(measurements_from_json(object_width.get()), std::runtime_error);
}

TEST(QcReportText, PassingReport) {
  QcReport report = judge(profile_from(kTwoLevels), with_size(1080, 1920));
  EXPECT_EQ(format_report_text(report), "QC pass for Two levels (two)\n  no findings\n");
  report.input = "out/final.mp4";
  EXPECT_EQ(format_report_text(report),
            "QC pass for Two levels (two): out/final.mp4\n  no findings\n");
}

TEST(QcReportText, OneLinePerFinding) {
  Measurements m = with_size(720, 1280);
  m.duration_s = 61;
  const QcReport report = judge(profile_from(kTwoLevels), m);
  EXPECT_EQ(format_report_text(report),
            "QC fail for Two levels (two)\n"
            "  1 failure, 1 warning\n"
            "  FAIL  duration       duration 61 s breaks the platform limit: at most 60 s\n"
            "  WARN  width          width 720 px breaks the recommended limit: at least 1080 px\n");
}

TEST(QcReportText, WarningsOnly) {
  Measurements m = with_size(720, 1280);
  m.silence = {{1.0, 4.0}, {6.0, 9.5}};
  const QcReport report = judge(profile_from(kTwoLevels), m);
  const std::string text = format_report_text(report);
  EXPECT_EQ(text,
            "QC warn for Two levels (two)\n"
            "  0 failures, 3 warnings\n"
            "  WARN  width          width 720 px breaks the recommended limit: at least 1080 px\n"
            "  WARN  silence        silence from 1.00 s to 4.00 s (3.00 s) breaks the recommended "
            "limit: no silent stretch\n"
            "  WARN  silence        silence from 6.00 s to 9.50 s (3.50 s) breaks the recommended "
            "limit: no silent stretch\n");
}

}  // namespace
}  // namespace reelforge::qc
