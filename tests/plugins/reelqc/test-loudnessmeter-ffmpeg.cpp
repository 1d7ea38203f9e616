/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * loudnessmeter against ffmpeg: ffmpeg makes a file with a loud part, a
 * quiet part, a 3 s silence and a 1 s silence (too short to report);
 * `ffmpeg -af ebur128=peak=true,silencedetect=n=-60dB:d=2` and
 * `filesrc ! decodebin ! audioconvert ! loudnessmeter` measure it. Integrated
 * loudness must agree within 0.5 LU, true peak within 0.3 dB and silence
 * start/end within one 25 fps video frame (40 ms).
 */
#include "test-environment.h"

#include <gst/gst.h>

#include <cmath>
#include <iostream>
#include <regex>
#include <string>
#include <vector>

namespace reelforge::test {
namespace {

struct Silence {
  double start; /* seconds of stream time */
  double end;
};

struct Measurement {
  double integrated = NAN; /* LUFS */
  double range = NAN;      /* LU */
  double true_peak = NAN;  /* dBTP */
  std::vector<Silence> silences;
};

std::string quote(const std::string &s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

bool have_ffmpeg() {
  GCharPtr path(g_find_program_in_path("ffmpeg"));
  return path != nullptr;
}

/* Two channels, 48 kHz, 12 s:
 *   0-3 s      loud: 440 Hz at 0.5 / 660 Hz at 0.4
 *   3-6 s      quiet: 1 kHz at 0.05 (-26 dBFS)
 *   6-9 s      digital silence (reported)
 *   9-10.5 s   220 Hz / 330 Hz at 0.3
 *   10.5-11.5  digital silence, 1 s (not reported)
 *   11.5-12 s  220 Hz / 330 Hz at 0.3 */
std::string make_source(const TempDir &dir, const std::string &container) {
  const auto channel = [](int f_loud, double a_loud, int f_end) {
    return "if(lt(t,3)," + std::to_string(a_loud) + "*sin(2*PI*" + std::to_string(f_loud) +
           "*t),if(lt(t,6),0.05*sin(2*PI*1000*t),if(lt(t,9),0,if(lt(t,10.5)+gte(t,11.5),0.3*sin(2*"
           "PI*" +
           std::to_string(f_end) + "*t),0))))";
  };
  const std::string exprs = channel(440, 0.5, 220) + "|" + channel(660, 0.4, 330);
  std::string path = dir.file("source." + container);
  const std::string codec = container == "wav" ? "-c:a pcm_s16le" : "-c:a aac -b:a 192k";
  std::string output;
  const int status = run_command("ffmpeg -hide_banner -nostdin -y -f lavfi -i " +
                                     quote("aevalsrc=exprs='" + exprs + "':s=48000:d=12") + " " +
                                     codec + " " + quote(path),
                                 &output, true);
  EXPECT_EQ(status, 0) << output;
  return path;
}

Measurement measure_with_ffmpeg(const std::string &path) {
  std::string log;
  const int status =
      run_command("ffmpeg -hide_banner -nostdin -i " + quote(path) +
                      " -af ebur128=peak=true:framelog=verbose,silencedetect=n=-60dB:d=2 -f null -",
                  &log, true);
  EXPECT_EQ(status, 0) << log;
  Measurement m;
  std::smatch match;
  const std::string number = "(-?[0-9]+(?:\\.[0-9]+)?|-inf)";
  if (std::regex_search(log, match, std::regex("I:\\s+" + number + " LUFS")))
    m.integrated = std::stod(match[1]);
  if (std::regex_search(log, match, std::regex("LRA:\\s+" + number + " LU\\b")))
    m.range = std::stod(match[1]);
  if (std::regex_search(log, match, std::regex("True peak:\\s+Peak:\\s+" + number + " dBFS")))
    m.true_peak = std::stod(match[1]);
  const std::regex start_re("silence_start: " + number);
  const std::regex end_re("silence_end: " + number);
  std::vector<double> starts, ends;
  for (auto it = std::sregex_iterator(log.begin(), log.end(), start_re);
       it != std::sregex_iterator(); ++it)
    starts.push_back(std::stod((*it)[1]));
  for (auto it = std::sregex_iterator(log.begin(), log.end(), end_re); it != std::sregex_iterator();
       ++it)
    ends.push_back(std::stod((*it)[1]));
  EXPECT_EQ(starts.size(), ends.size()) << log;
  for (size_t i = 0; i < std::min(starts.size(), ends.size()); ++i)
    m.silences.push_back({starts[i], ends[i]});
  EXPECT_FALSE(std::isnan(m.integrated) || std::isnan(m.true_peak)) << log;
  return m;
}

/* Silence times in stream time: an MP4 edit list shifts buffer times (the
 * AAC encoder's priming samples) but not stream time, which is what ffmpeg
 * prints. */
Measurement measure_with_loudnessmeter(const std::string &path) {
  const PipelineRun run = run_pipeline("filesrc location=\"" + path +
                                       "\" ! decodebin ! audioconvert ! loudnessmeter ! "
                                       "fakesink sync=false");
  EXPECT_TRUE(run.reached_eos) << run.error;
  Measurement m;
  for (const GstStructure *s : run.messages("loudnessmeter")) {
    gboolean summary = FALSE;
    gst_structure_get_boolean(s, "summary", &summary);
    if (!summary) continue;
    m.integrated = get_double(s, "integrated");
    m.range = get_double(s, "loudness-range");
    m.true_peak = get_double(s, "true-peak");
  }
  for (const GstStructure *s : run.messages("loudnessmeter-silence")) {
    const double start = static_cast<double>(get_uint64(s, "stream-time")) / GST_SECOND;
    const double duration = static_cast<double>(get_uint64(s, "silence-duration")) / GST_SECOND;
    m.silences.push_back({start, start + duration});
  }
  return m;
}

class AgainstFfmpeg : public ::testing::TestWithParam<std::string> {};

TEST_P(AgainstFfmpeg, LoudnessTruePeakAndSilence) {
  if (!have_ffmpeg()) GTEST_SKIP() << "ffmpeg is not installed; the cross-check needs it";
  TempDir dir;
  const std::string path = make_source(dir, GetParam());
  const Measurement ffmpeg = measure_with_ffmpeg(path);
  const Measurement ours = measure_with_loudnessmeter(path);

  std::cout << GetParam() << ": integrated " << ffmpeg.integrated << " (ffmpeg) vs "
            << ours.integrated << " LUFS; true peak " << ffmpeg.true_peak << " vs "
            << ours.true_peak << " dBTP; LRA " << ffmpeg.range << " vs " << ours.range << " LU\n";
  for (const Silence &s : ffmpeg.silences)
    std::cout << "  ffmpeg silence " << s.start << " - " << s.end << " s\n";
  for (const Silence &s : ours.silences)
    std::cout << "  ours   silence " << s.start << " - " << s.end << " s\n";

  EXPECT_NEAR(ours.integrated, ffmpeg.integrated, 0.5);
  EXPECT_NEAR(ours.true_peak, ffmpeg.true_peak, 0.3);
  /* libebur128 takes a 3 s block every second for LRA, ffmpeg every 100 ms;
   * on a signal made of steps that moves the percentiles a little. */
  EXPECT_NEAR(ours.range, ffmpeg.range, 2.0);
  ASSERT_EQ(ffmpeg.silences.size(), 1u);
  ASSERT_EQ(ours.silences.size(), ffmpeg.silences.size());
  for (size_t i = 0; i < ours.silences.size(); ++i) {
    EXPECT_NEAR(ours.silences[i].start, ffmpeg.silences[i].start, 0.040);
    EXPECT_NEAR(ours.silences[i].end, ffmpeg.silences[i].end, 0.040);
  }
  /* And where it was put: 6 s to 9 s. */
  EXPECT_NEAR(ours.silences[0].start, 6.0, 0.040);
  EXPECT_NEAR(ours.silences[0].end, 9.0, 0.040);
}

INSTANTIATE_TEST_SUITE_P(Containers, AgainstFfmpeg, ::testing::Values("wav", "mp4"),
                         [](const auto &info) { return info.param; });

}  // namespace
}  // namespace reelforge::test
