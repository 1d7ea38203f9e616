/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * stitchbin on clips the tests make: exact output length with transitions,
 * crossfade arithmetic, every transition's first and last frames, mixed
 * frame rates and sizes, continuous audio with silence where a clip has
 * none, clips opened and closed around the playhead, and errors that name
 * the clip.
 */
#include "test-environment.h"
#include "time-convert.h"

#include <gst/video/video.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

namespace reelforge::test {
namespace {

constexpr gint kWidth = 320;
constexpr gint kHeight = 568;
constexpr gint kFps = 30;
constexpr gint kRate = 48000;

/* Where each output frame is sampled: centre, left, right, top, bottom,
 * and between the top and the centre. */
enum Probe { kCentre, kLeft, kRight, kTop, kBottom, kUpper, kProbes };
constexpr std::array<std::pair<int, int>, kProbes> kProbeAt = {{
    {kWidth / 2, kHeight / 2},
    {kWidth / 8, kHeight / 2},
    {kWidth * 7 / 8, kHeight / 2},
    {kWidth / 2, kHeight / 8},
    {kWidth / 2, kHeight * 7 / 8},
    {kWidth / 2, 180},
}};

/* Y, U and V at a probe point. */
using Yuv = std::array<int, 3>;

struct VideoRecord {
  GstClockTime pts = 0, duration = 0;
  std::array<Yuv, kProbes> at{};
};

struct AudioRecord {
  GstClockTime pts = 0, duration = 0;
  guint64 frames = 0;
  float peak = 0;
};

struct Output {
  PipelineRun run;
  std::vector<VideoRecord> video;
  std::vector<AudioRecord> audio;
  guint64 duration_property = 0;
  gint64 duration_query = -1;
  int width = 0, height = 0, fps_n = 0, fps_d = 0, rate = 0, channels = 0;
};

void on_video(GstElement *, GstBuffer *buffer, GstPad *pad, gpointer user_data) {
  auto *out = static_cast<Output *>(user_data);
  CapsPtr caps(gst_pad_get_current_caps(pad));
  GstVideoInfo info;
  ASSERT_TRUE(gst_video_info_from_caps(&info, caps.get()));
  out->width = info.width;
  out->height = info.height;
  out->fps_n = info.fps_n;
  out->fps_d = info.fps_d;
  ASSERT_EQ(GST_VIDEO_INFO_FORMAT(&info), GST_VIDEO_FORMAT_I420);
  GstVideoFrame frame;
  ASSERT_TRUE(gst_video_frame_map(&frame, &info, buffer, GST_MAP_READ));
  VideoRecord record;
  record.pts = GST_BUFFER_PTS(buffer);
  record.duration = GST_BUFFER_DURATION(buffer);
  for (int p = 0; p < kProbes; ++p) {
    const auto [x, y] = kProbeAt[p];
    for (int c = 0; c < 3; ++c) {
      const int cx = c == 0 ? x : x / 2, cy = c == 0 ? y : y / 2;
      const guint8 *data = static_cast<const guint8 *>(GST_VIDEO_FRAME_COMP_DATA(&frame, c));
      record.at[p][c] = data[cy * GST_VIDEO_FRAME_COMP_STRIDE(&frame, c) + cx];
    }
  }
  gst_video_frame_unmap(&frame);
  out->video.push_back(record);
}

void on_audio(GstElement *, GstBuffer *buffer, GstPad *pad, gpointer user_data) {
  auto *out = static_cast<Output *>(user_data);
  CapsPtr caps(gst_pad_get_current_caps(pad));
  GstStructure *s = gst_caps_get_structure(caps.get(), 0);
  ASSERT_STREQ(gst_structure_get_string(s, "format"), "F32LE");
  gst_structure_get_int(s, "rate", &out->rate);
  gst_structure_get_int(s, "channels", &out->channels);
  GstMapInfo map;
  ASSERT_TRUE(gst_buffer_map(buffer, &map, GST_MAP_READ));
  AudioRecord record;
  record.pts = GST_BUFFER_PTS(buffer);
  record.duration = GST_BUFFER_DURATION(buffer);
  record.frames = map.size / sizeof(float) / std::max(1, out->channels);
  const float *samples = reinterpret_cast<const float *>(map.data);
  for (gsize i = 0; i < map.size / sizeof(float); ++i)
    record.peak = std::max(record.peak, std::fabs(samples[i]));
  gst_buffer_unmap(buffer, &map);
  out->audio.push_back(record);
}

/* Runs stitchbin at 320x568, 30 fps, 48 kHz stereo on clips to EOS. */
Output stitch(const std::string &clips) {
  Output out;
  GError *raw_error = nullptr;
  GstObjectPtr<GstElement> pipeline(adopt_floating(gst_parse_launch(
      "stitchbin name=s width=320 height=568 framerate=30/1 audio-rate=48000 audio-channels=2 "
      "s.video ! fakesink name=vsink signal-handoffs=true sync=false "
      "s.audio ! fakesink name=asink signal-handoffs=true sync=false",
      &raw_error)));
  GErrorPtr error(raw_error);
  EXPECT_FALSE(error) << error->message;
  GstObjectPtr<GstElement> bin(gst_bin_get_by_name(GST_BIN(pipeline.get()), "s"));
  g_object_set(bin.get(), "clips", clips.c_str(), nullptr);
  GstObjectPtr<GstElement> vsink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "vsink"));
  GstObjectPtr<GstElement> asink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "asink"));
  g_signal_connect(vsink.get(), "handoff", G_CALLBACK(on_video), &out);
  g_signal_connect(asink.get(), "handoff", G_CALLBACK(on_audio), &out);

  /* The duration query, answered once prerolled. */
  if (gst_element_set_state(pipeline.get(), GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE &&
      gst_element_get_state(pipeline.get(), nullptr, nullptr, 60 * GST_SECOND) ==
          GST_STATE_CHANGE_SUCCESS)
    gst_element_query_duration(pipeline.get(), GST_FORMAT_TIME, &out.duration_query);
  out.run = run_pipeline(pipeline.get(), 120 * GST_SECOND);
  g_object_get(bin.get(), "duration", &out.duration_property, nullptr);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  return out;
}

std::string hex(guint32 rgb) {
  char text[16];
  std::snprintf(text, sizeof text, "#%06X", rgb);
  return text;
}

std::string card(guint32 rgb, double seconds, const std::string &transition = "",
                 double transition_s = 0) {
  std::ostringstream s;
  s << R"({"card": {"text": "", "background": ")" << hex(rgb) << R"("}, "duration": )" << seconds;
  if (!transition.empty())
    s << R"(, "transition": {"type": ")" << transition << R"(", "duration": )" << transition_s
      << "}";
  s << "}";
  return s.str();
}

/* A clip file made with videotestsrc (a solid colour) and optionally an
 * audiotestsrc tone, H.264 + AAC in MP4. */
std::string make_clip(const TempDir &dir, const std::string &name, int fps, int width, int height,
                      double seconds, bool audio, guint32 rgb,
                      const std::string &pattern = "pattern=solid-color",
                      const std::string &par = "1/1") {
  const std::string path = dir.file(name + ".mp4");
  std::ostringstream d;
  d << "mp4mux name=mux ! filesink location=" << path
    << " videotestsrc num-buffers=" << static_cast<int>(std::lround(seconds * fps)) << " "
    << pattern << " foreground-color=" << (0xff000000u | rgb)
    << " ! video/x-raw,format=I420,width=" << width << ",height=" << height
    << ",pixel-aspect-ratio=" << par << ",framerate=" << fps
    << "/1 ! x264enc speed-preset=ultrafast key-int-max=10 ! h264parse ! mux.";
  if (audio)
    d << " audiotestsrc num-buffers=" << static_cast<int>(std::ceil(seconds * 44100 / 1024))
      << " samplesperbuffer=1024 freq=440 volume=0.5 ! audio/x-raw,rate=44100,channels=1 ! "
         "avenc_aac ! aacparse ! mux.";
  const PipelineRun run = run_pipeline(d.str());
  EXPECT_TRUE(run.reached_eos) << run.error;
  gchar *uri = gst_filename_to_uri(path.c_str(), nullptr);
  std::string result = uri;
  g_free(uri);
  return result;
}

std::string make_png(const TempDir &dir, const std::string &name, int width, int height,
                     guint32 rgb, const std::string &pattern = "pattern=solid-color") {
  const std::string path = dir.file(name + ".png");
  std::ostringstream d;
  d << "videotestsrc num-buffers=1 " << pattern << " foreground-color=" << (0xff000000u | rgb)
    << " ! video/x-raw,width=" << width << ",height=" << height
    << " ! pngenc ! filesink location=" << path;
  const PipelineRun run = run_pipeline(d.str());
  EXPECT_TRUE(run.reached_eos) << run.error;
  return path;
}

GstClockTime frame_time(guint64 n) {
  return frame_to_time(n, kFps, 1);
}

/* Timestamps start at 0, each frame lasts one frame, no gaps. */
void expect_continuous_video(const Output &out, guint64 frames) {
  ASSERT_EQ(out.video.size(), frames);
  for (guint64 n = 0; n < frames; ++n) {
    ASSERT_EQ(out.video[n].pts, frame_time(n)) << "frame " << n;
    ASSERT_EQ(out.video[n].pts + out.video[n].duration, frame_time(n + 1)) << "frame " << n;
  }
  EXPECT_EQ(out.width, kWidth);
  EXPECT_EQ(out.height, kHeight);
  EXPECT_EQ(out.fps_n, kFps);
  EXPECT_EQ(out.fps_d, 1);
}

/* Audio buffers follow each other sample-exactly and add up to the video's
 * length. */
void expect_continuous_audio(const Output &out, GstClockTime duration) {
  ASSERT_FALSE(out.audio.empty());
  EXPECT_EQ(out.rate, kRate);
  EXPECT_EQ(out.channels, 2);
  guint64 samples = 0;
  for (const auto &record : out.audio) {
    ASSERT_EQ(record.pts, samples_to_time(samples, kRate)) << "after " << samples << " samples";
    samples += record.frames;
    ASSERT_EQ(record.pts + record.duration, samples_to_time(samples, kRate));
  }
  EXPECT_EQ(samples, time_to_samples(duration, kRate));
}

void expect_near(const Yuv &actual, const Yuv &expected, int tolerance, const std::string &what) {
  for (int c = 0; c < 3; ++c)
    EXPECT_NEAR(actual[c], expected[c], tolerance) << what << ", component "
                                                   << "YUV"[c];
}

bool same(const Yuv &a, const Yuv &b, int tolerance) {
  for (int c = 0; c < 3; ++c)
    if (std::abs(a[c] - b[c]) > tolerance) return false;
  return true;
}

TEST(StitchBin, LengthIsClipsMinusOverlapsToTheFrame) {
  TempDir dir;
  const std::string a = make_clip(dir, "a", 30, 320, 568, 2, true, 0xc02020);
  const std::string b = make_clip(dir, "b", 30, 320, 568, 2, true, 0x20c020);
  /* a: 2 s = 60 frames, crossfade 0.5 s = 15 frames; b trimmed 0.25..1.75
   * = 45 frames, cut; card 1.2 s = 36 frames, wipe 0.3 s = 9 frames; a
   * again with its own length (60 frames). */
  const std::string clips =
      "[{\"uri\": \"" + a +
      "\", \"duration\": 2, \"transition\": {\"type\": \"crossfade\", \"duration\": 0.5}},"
      " {\"uri\": \"" +
      b + "\", \"in\": 0.25, \"out\": 1.75}," + card(0x2020c0, 1.2, "wipe-left", 0.3) +
      ", {\"uri\": \"" + a + "\", \"out\": 2}]";
  const Output out = stitch(clips);
  ASSERT_TRUE(out.run.reached_eos) << out.run.error;
  const guint64 frames = 60 - 15 + 45 + 36 - 9 + 60;
  expect_continuous_video(out, frames);
  EXPECT_EQ(out.video.back().pts, frame_time(frames - 1));
  EXPECT_EQ(out.duration_property, frame_time(frames));
  EXPECT_EQ(out.duration_query, static_cast<gint64>(frame_time(frames)));
  expect_continuous_audio(out, frame_time(frames));

  /* The clips are where the plan puts them: red, then green from frame
   * 45 (after the crossfade), blue from 90, red again from 117 + 9. */
  EXPECT_GT(out.video[10].at[kCentre][2], 160) << "red clip: V high";
  EXPECT_LT(out.video[70].at[kCentre][1], 100) << "green clip: U low";
  EXPECT_LT(out.video[70].at[kCentre][2], 100) << "green clip: V low";
  EXPECT_GT(out.video[100].at[kCentre][1], 160) << "blue card: U high";
  EXPECT_GT(out.video[frames - 5].at[kCentre][2], 160) << "red clip again";
}

TEST(StitchBin, DurationPropertyBeforeStarting) {
  GstObjectPtr<GstElement> bin(adopt_floating(gst_element_factory_make("stitchbin", nullptr)));
  ASSERT_TRUE(bin);
  const std::string clips =
      "[" + card(0x000000, 1, "crossfade", 0.5) + "," + card(0xffffff, 2.01) + "]";
  g_object_set(bin.get(), "clips", clips.c_str(), nullptr);
  guint64 duration = 0;
  g_object_get(bin.get(), "duration", &duration, nullptr);
  /* 30 + 60 (2.01 s rounds to 60 frames) - 15 */
  EXPECT_EQ(duration, frame_time(75));
}

TEST(StitchBin, CrossfadeMidpointIsTheMeanOfTheSources) {
  /* 1 s + 1 s with a 0.5 s crossfade: 15 overlap frames from frame 15;
   * frame 15 + 7 is the midpoint (progress 7/14). */
  const Output out =
      stitch("[" + card(0xe03020, 1, "crossfade", 0.5) + "," + card(0x2040c0, 1) + "]");
  ASSERT_TRUE(out.run.reached_eos) << out.run.error;
  expect_continuous_video(out, 45);
  const Yuv a = out.video[0].at[kCentre];
  const Yuv b = out.video[44].at[kCentre];
  ASSERT_FALSE(same(a, b, 20)) << "the two sources must differ for the test to mean anything";
  const Yuv mid = out.video[22].at[kCentre];
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(mid[c], (a[c] + b[c]) / 2.0, 2) << "YUV"[c];
  /* In between, every component moves steadily from a to b. */
  for (int c = 0; c < 3; ++c)
    for (int n = 15; n < 29; ++n)
      EXPECT_LE((out.video[n].at[kCentre][c] - out.video[n + 1].at[kCentre][c]) * (b[c] - a[c]), 0)
          << "frame " << n << ", component "
          << "YUV"[c];
}

class StitchBinTransitions : public ::testing::TestWithParam<std::string> {};

TEST_P(StitchBinTransitions, FirstAndLastFramesAreThePureSources) {
  const std::string type = GetParam();
  /* 1 s (30 frames) + 1 s with a 0.5 s (15 frame) transition: frames
   * 15..29 are the transition. */
  const Output out = stitch("[" + card(0xe03020, 1, type, 0.5) + "," + card(0x2040c0, 1) + "]");
  ASSERT_TRUE(out.run.reached_eos) << out.run.error;
  expect_continuous_video(out, 45);
  const VideoRecord &pure_a = out.video[14];
  const VideoRecord &pure_b = out.video[30];
  const VideoRecord &first = out.video[15];
  const VideoRecord &last = out.video[29];
  for (int p = 0; p < kProbes; ++p) {
    expect_near(first.at[p], pure_a.at[p], 2, type + " first frame, probe " + std::to_string(p));
    expect_near(last.at[p], pure_b.at[p], 2, type + " last frame, probe " + std::to_string(p));
  }
  /* Somewhere in the middle the picture is neither source. */
  bool changed = false;
  for (int n = 17; n <= 27 && !changed; ++n) {
    bool all_a = true, all_b = true;
    for (int p = 0; p < kProbes; ++p) {
      all_a = all_a && same(out.video[n].at[p], pure_a.at[p], 2);
      all_b = all_b && same(out.video[n].at[p], pure_b.at[p], 2);
    }
    changed = !all_a && !all_b;
  }
  EXPECT_TRUE(changed) << type << " shows only one source during the transition";

  /* Geometry at the midpoint (frame 22, progress 0.5). */
  const VideoRecord &mid = out.video[22];
  const auto is_a = [&](Probe p) { return same(mid.at[p], pure_a.at[p], 2); };
  const auto is_b = [&](Probe p) { return same(mid.at[p], pure_b.at[p], 2); };
  if (type == "wipe-left" || type == "slide-left") {
    EXPECT_TRUE(is_a(kLeft) && is_b(kRight)) << type;
  } else if (type == "wipe-right" || type == "slide-right") {
    EXPECT_TRUE(is_b(kLeft) && is_a(kRight)) << type;
  } else if (type == "wipe-up" || type == "slide-up") {
    EXPECT_TRUE(is_a(kTop) && is_b(kBottom)) << type;
  } else if (type == "wipe-down" || type == "slide-down") {
    EXPECT_TRUE(is_b(kTop) && is_a(kBottom)) << type;
  } else if (type == "circle-open") {
    EXPECT_TRUE(is_b(kCentre) && is_a(kTop)) << type;
  } else if (type == "circle-close") {
    EXPECT_TRUE(is_a(kCentre) && is_b(kTop)) << type;
  } else if (type == "fade-black") {
    EXPECT_NEAR(mid.at[kCentre][0], 16, 2);
  } else if (type == "fade-white") {
    EXPECT_NEAR(mid.at[kCentre][0], 235, 2);
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, StitchBinTransitions,
                         ::testing::Values("crossfade", "fade-black", "fade-white", "wipe-left",
                                           "wipe-right", "wipe-up", "wipe-down", "slide-left",
                                           "slide-right", "slide-up", "slide-down", "circle-open",
                                           "circle-close", "zoom-in"),
                         [](const auto &info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(StitchBin, MixedRatesAndSizesBecomeTheTargetFormat) {
  TempDir dir;
  const std::string a = make_clip(dir, "a24", 24, 320, 240, 1, true, 0xc02020);
  const std::string b = make_clip(dir, "b25", 25, 640, 360, 1, false, 0x20c020);
  const std::string c = make_clip(dir, "c30", 30, 180, 320, 1, true, 0x2020c0);
  const std::string still = make_png(dir, "still", 200, 100, 0xe0e020);
  const std::string clips = "[{\"uri\": \"" + a + "\", \"duration\": 1}, {\"uri\": \"" + b +
                            "\", \"duration\": 1, \"fit\": \"contain\"}, {\"uri\": \"" + c +
                            "\", \"duration\": 1, \"fit\": \"blur-pad\"}, {\"image\": \"" + still +
                            "\", \"duration\": 1, \"motion\": \"ken-burns\"}]";
  const Output out = stitch(clips);
  ASSERT_TRUE(out.run.reached_eos) << out.run.error;
  expect_continuous_video(out, 120);
  expect_continuous_audio(out, frame_time(120));
  /* cover fills the frame; contain letterboxes a landscape clip (black
   * above and below); blur-pad fills the bars with the clip's colours. */
  EXPECT_GT(out.video[15].at[kTop][2], 160) << "24 fps clip, cover: red to the top";
  EXPECT_LT(out.video[45].at[kCentre][2], 100) << "25 fps clip: green in the middle";
  EXPECT_NEAR(out.video[45].at[kTop][0], 16, 3) << "contain: black bar at the top";
  EXPECT_GT(out.video[75].at[kCentre][1], 160) << "30 fps clip: blue";
  EXPECT_GT(out.video[75].at[kTop][1], 140) << "blur-pad: the bar is bluish, not black";
  EXPECT_GT(out.video[105].at[kCentre][0], 150) << "the yellow still";
}

TEST(StitchBin, PixelAspectRatioIsHonoured) {
  TempDir dir;
  /* 320x284 pixels twice as wide as high: a 640:284 picture. contain
   * gives it 142 rows in the middle of the 568, so the row at 180 is a
   * black bar; with the pixels taken as square it would be picture. */
  const std::string wide =
      make_clip(dir, "wide", 30, 320, 284, 1, false, 0xe0e0e0, "pattern=solid-color", "2/1");
  const Output out = stitch("[{\"uri\": \"" + wide + "\", \"fit\": \"contain\"}]");
  ASSERT_TRUE(out.run.reached_eos) << out.run.error;
  expect_continuous_video(out, 30);
  EXPECT_GT(out.video[10].at[kCentre][0], 150) << "the picture";
  EXPECT_NEAR(out.video[10].at[kUpper][0], 16, 3) << "a bar: the picture is 2.25:1";
}

TEST(StitchBin, StillMotionMovesThePicture) {
  TempDir dir;
  const std::string still = make_png(dir, "bars", 640, 360, 0, "pattern=smpte");
  for (const std::string motion : {"none", "pan-right", "zoom-in", "ken-burns"}) {
    const Output out =
        stitch("[{\"image\": \"" + still + "\", \"duration\": 1, \"motion\": \"" + motion + "\"}]");
    ASSERT_TRUE(out.run.reached_eos) << out.run.error;
    expect_continuous_video(out, 30);
    bool moved = false;
    for (int p = 0; p < kProbes; ++p)
      moved = moved || !same(out.video[0].at[p], out.video[29].at[p], 2);
    EXPECT_EQ(moved, motion != "none") << motion;
  }
}

TEST(StitchBin, CardsDrawTextOnAGradient) {
  /* A full block character in white, large, in the middle of a gradient
   * from black (top) to white (bottom). */
  const Output out = stitch(
      "[{\"card\": {\"text\": \"\u2588\", \"font\": \"DejaVu Sans 60\", \"color\": "
      "\"#FFFFFF\", \"background\": {\"gradient\": [\"#000000\", \"#FFFFFF\"]}}, "
      "\"duration\": 0.5}, {\"card\": {\"text\": \"\", \"background\": \"#000000\"}, \"duration\": "
      "0.5}]");
  ASSERT_TRUE(out.run.reached_eos) << out.run.error;
  expect_continuous_video(out, 30);
  const VideoRecord &text = out.video[0];
  EXPECT_LT(text.at[kTop][0], 60) << "dark at the top";
  EXPECT_GT(text.at[kBottom][0], 190) << "light at the bottom";
  EXPECT_GT(text.at[kCentre][0], 220) << "the white glyph in the middle";
  EXPECT_LT(out.video[20].at[kCentre][0], 20) << "the plain black card";
}

TEST(StitchBin, AudioIsContinuousWithSilenceWhereClipsHaveNone) {
  TempDir dir;
  const std::string tone = make_clip(dir, "tone", 30, 320, 568, 1, true, 0x808080);
  const std::string mute = make_clip(dir, "mute", 30, 320, 568, 1, false, 0x808080);
  const std::string clips = "[{\"uri\": \"" + tone + "\", \"duration\": 1}," + card(0x000000, 1) +
                            ", {\"uri\": \"" + mute + "\", \"duration\": 1}, {\"uri\": \"" + tone +
                            "\", \"duration\": 1, \"transition\": {\"type\": \"crossfade\", "
                            "\"duration\": 0.5}}, {\"uri\": \"" +
                            tone + "\", \"duration\": 1}]";
  const Output out = stitch(clips);
  ASSERT_TRUE(out.run.reached_eos) << out.run.error;
  const guint64 frames = 150 - 15;
  expect_continuous_video(out, frames);
  expect_continuous_audio(out, frame_time(frames));
  /* 20 ms blocks: tone in 0.1..0.9 s, silence in 1.05..2.95 s, tone again
   * (through the crossfade) from 3.1 s to 4.4 s. */
  for (const auto &record : out.audio) {
    const double t = to_seconds(record.pts);
    if (t > 0.1 && t < 0.9) {
      EXPECT_GT(record.peak, 0.2) << "tone at " << t;
    }
    if (t > 1.05 && t < 2.95) {
      EXPECT_EQ(record.peak, 0.0f) << "silence at " << t;
    }
    if (t > 3.1 && t < 4.4) {
      EXPECT_GT(record.peak, 0.2) << "tone at " << t;
    }
  }
}

TEST(StitchBin, InAndOutTrimTheSource) {
  TempDir dir;
  /* A scrolling pattern: every source frame looks different. */
  const std::string moving = make_clip(dir, "moving", 30, 320, 568, 2, false, 0xffffff,
                                       "pattern=smpte horizontal-speed=7");
  const Output whole = stitch("[{\"uri\": \"" + moving + "\"}]");
  ASSERT_TRUE(whole.run.reached_eos) << whole.run.error;
  expect_continuous_video(whole, 60);
  const Output trimmed = stitch("[{\"uri\": \"" + moving + "\", \"in\": 0.5, \"out\": 1.5}]");
  ASSERT_TRUE(trimmed.run.reached_eos) << trimmed.run.error;
  expect_continuous_video(trimmed, 30);
  /* Output frame n of the trimmed clip is source frame 15 + n. */
  for (int n : {0, 14, 29}) {
    for (int p = 0; p < kProbes; ++p)
      expect_near(trimmed.video[n].at[p], whole.video[15 + n].at[p], 2,
                  "trimmed frame " + std::to_string(n) + ", probe " + std::to_string(p));
  }
  bool differs = false;
  for (int p = 0; p < kProbes; ++p)
    differs = differs || !same(trimmed.video[0].at[p], whole.video[0].at[p], 2);
  EXPECT_TRUE(differs) << "the trimmed clip must not start at the source's first frame";
}

TEST(StitchBin, AudioCrossfadeIsEqualPower) {
  TempDir dir;
  const std::string tone = make_clip(dir, "tone", 30, 320, 568, 2, true, 0x808080);
  /* 1 s of tone crossfading over 0.6 s (18 frames, 0.4..1.0 s) into a
   * silent card: at the midpoint (0.7 s) the tone's gain is cos(pi/4). */
  const Output out = stitch("[{\"uri\": \"" + tone +
                            "\", \"duration\": 1, \"transition\": {\"type\": \"crossfade\", "
                            "\"duration\": 0.6}}," +
                            card(0, 1) + "]");
  ASSERT_TRUE(out.run.reached_eos) << out.run.error;
  expect_continuous_audio(out, frame_time(30 + 30 - 18));
  /* The tone's level: the mean block peak (AAC wobbles a little). */
  float full = 0, mid = 0;
  int blocks = 0;
  for (const auto &record : out.audio) {
    const double t = to_seconds(record.pts);
    if (t > 0.1 && t < 0.35) {
      full += record.peak;
      ++blocks;
    }
    if (std::fabs(t - 0.70) < 0.005) mid = record.peak;
  }
  ASSERT_GT(blocks, 0);
  full /= blocks;
  ASSERT_GT(full, 0.3f);
  EXPECT_NEAR(mid / full, std::cos(G_PI / 4), 0.04) << "equal-power gain at the midpoint";
}

TEST(StitchBin, OnlyClipsAroundThePlayheadAreOpen) {
  TempDir dir;
  const std::string clip = make_clip(dir, "clip", 30, 320, 568, 1.5, true, 0x808080);
  std::string clips = "[";
  for (int i = 0; i < 6; ++i)
    clips += std::string(i ? "," : "") + "{\"uri\": \"" + clip + "\", \"duration\": 1.5}";
  clips += "]";
  const Output out = stitch(clips);
  ASSERT_TRUE(out.run.reached_eos) << out.run.error;
  int open = 0, most = 0;
  std::map<guint, std::vector<std::string>> states;
  for (const GstStructure *s : out.run.messages("stitchbin-clip")) {
    guint index = 0;
    ASSERT_TRUE(gst_structure_get_uint(s, "index", &index));
    const std::string state = get_string(s, "state");
    states[index].push_back(state);
    EXPECT_EQ(get_string(s, "source"), clip);
    EXPECT_EQ(get_uint64(s, "timestamp"), frame_time(45 * index));
    EXPECT_EQ(get_uint64(s, "duration"), frame_time(45));
    open += state == "opened" ? 1 : -1;
    most = std::max(most, open);
  }
  EXPECT_EQ(open, 0) << "every clip is closed at the end";
  EXPECT_LE(most, 3) << "clips are opened shortly before they play and closed after";
  ASSERT_EQ(states.size(), 6u);
  for (const auto &[index, sequence] : states)
    EXPECT_EQ(sequence, (std::vector<std::string>{"opened", "closed"})) << "clip " << index;
}

TEST(StitchBin, StopsWhileClipsAreDecoding) {
  TempDir dir;
  const std::string clip = make_clip(dir, "clip", 30, 320, 568, 2, true, 0x808080);
  const std::string clips = "[{\"uri\": \"" + clip + "\"}, {\"uri\": \"" + clip + "\"}]";
  for (GstState stop_from : {GST_STATE_PAUSED, GST_STATE_PLAYING}) {
    GstObjectPtr<GstElement> pipeline(adopt_floating(gst_parse_launch(
        "stitchbin name=s width=320 height=568 s.video ! fakesink name=v s.audio ! fakesink",
        nullptr)));
    ASSERT_TRUE(pipeline);
    GstObjectPtr<GstElement> bin(gst_bin_get_by_name(GST_BIN(pipeline.get()), "s"));
    g_object_set(bin.get(), "clips", clips.c_str(), nullptr);
    /* The sinks sync to the clock, so in PLAYING the bin is mid-way
     * through the first clip, its threads blocked on full queues. */
    ASSERT_NE(gst_element_set_state(pipeline.get(), stop_from), GST_STATE_CHANGE_FAILURE);
    ASSERT_EQ(gst_element_get_state(pipeline.get(), nullptr, nullptr, 30 * GST_SECOND),
              GST_STATE_CHANGE_SUCCESS);
    gint64 duration = 0;
    ASSERT_TRUE(gst_element_query_duration(pipeline.get(), GST_FORMAT_TIME, &duration));
    /* Each clip lasts as long as its file (AAC makes that a frame or two
     * more than the 2 s of video); the query and the property agree. */
    guint64 property = 0;
    g_object_get(bin.get(), "duration", &property, nullptr);
    EXPECT_EQ(duration, static_cast<gint64>(property));
    EXPECT_GE(duration, static_cast<gint64>(frame_time(120)));
    EXPECT_LE(duration, static_cast<gint64>(frame_time(126)));
    /* Returns (the threads give up) instead of hanging the test. */
    EXPECT_EQ(gst_element_set_state(pipeline.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    /* And starts again from the beginning. */
    ASSERT_NE(gst_element_set_state(pipeline.get(), GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    ASSERT_EQ(gst_element_get_state(pipeline.get(), nullptr, nullptr, 30 * GST_SECOND),
              GST_STATE_CHANGE_SUCCESS);
    GstObjectPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "v"));
    GstSample *raw = nullptr;
    g_object_get(sink.get(), "last-sample", &raw, nullptr);
    SamplePtr sample(raw);
    ASSERT_TRUE(sample);
    EXPECT_EQ(GST_BUFFER_PTS(gst_sample_get_buffer(sample.get())), 0u);
    EXPECT_EQ(gst_element_set_state(pipeline.get(), GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  }
}

/* Per frame of one video pad: its size, timestamp and the luma and V at
 * the middle of the top eighth. */
struct SizedFrame {
  int width = 0, height = 0;
  GstClockTime pts = 0;
  int top_y = 0, top_v = 0;
};

void on_sized_video(GstElement *, GstBuffer *buffer, GstPad *pad, gpointer user_data) {
  auto *frames = static_cast<std::vector<SizedFrame> *>(user_data);
  CapsPtr caps(gst_pad_get_current_caps(pad));
  GstVideoInfo info;
  ASSERT_TRUE(gst_video_info_from_caps(&info, caps.get()));
  GstVideoFrame frame;
  ASSERT_TRUE(gst_video_frame_map(&frame, &info, buffer, GST_MAP_READ));
  const int x = info.width / 2, y = info.height / 8;
  const auto at = [&](int c, int cx, int cy) {
    return static_cast<const guint8 *>(
        GST_VIDEO_FRAME_COMP_DATA(&frame, c))[cy * GST_VIDEO_FRAME_COMP_STRIDE(&frame, c) + cx];
  };
  frames->push_back(
      {info.width, info.height, GST_BUFFER_PTS(buffer), at(0, x, y), at(2, x / 2, y / 2)});
  gst_video_frame_unmap(&frame);
}

/* One decode, two sizes: each pad gets every frame of the timeline at its
 * own size, and each clip's fit is applied per size. */
TEST(StitchBin, RenditionsGiveTheTimelineAtEachSize) {
  TempDir dir;
  const std::string wide = make_clip(dir, "wide", 30, 640, 360, 1, true, 0xc02020);
  GError *raw_error = nullptr;
  GstObjectPtr<GstElement> pipeline(adopt_floating(
      gst_parse_launch("stitchbin name=s width=320 height=568 renditions=568x320 "
                       "s.video ! fakesink name=tall signal-handoffs=true sync=false "
                       "s.video_1 ! fakesink name=wide signal-handoffs=true sync=false "
                       "s.audio ! fakesink sync=false",
                       &raw_error)));
  GErrorPtr error(raw_error);
  ASSERT_FALSE(error) << error->message;
  GstObjectPtr<GstElement> bin(gst_bin_get_by_name(GST_BIN(pipeline.get()), "s"));
  g_object_set(bin.get(), "clips",
               ("[{\"uri\": \"" + wide +
                "\", \"duration\": 1, \"fit\": \"contain\", \"transition\": "
                "{\"type\": \"crossfade\", \"duration\": 0.2}}, " +
                card(0x2020c0, 0.5) + "]")
                   .c_str(),
               nullptr);
  std::vector<SizedFrame> tall_frames, wide_frames;
  GstObjectPtr<GstElement> tall(gst_bin_get_by_name(GST_BIN(pipeline.get()), "tall"));
  GstObjectPtr<GstElement> wide_sink(gst_bin_get_by_name(GST_BIN(pipeline.get()), "wide"));
  g_signal_connect(tall.get(), "handoff", G_CALLBACK(on_sized_video), &tall_frames);
  g_signal_connect(wide_sink.get(), "handoff", G_CALLBACK(on_sized_video), &wide_frames);
  const PipelineRun run = run_pipeline(pipeline.get(), 60 * GST_SECOND);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  ASSERT_TRUE(run.reached_eos) << run.error;

  /* 30 + 15 frames minus a 6-frame crossfade, on both pads */
  ASSERT_EQ(tall_frames.size(), 39u);
  ASSERT_EQ(wide_frames.size(), 39u);
  for (size_t n = 0; n < tall_frames.size(); ++n) {
    EXPECT_EQ(tall_frames[n].pts, frame_time(n));
    EXPECT_EQ(wide_frames[n].pts, frame_time(n));
  }
  EXPECT_EQ(tall_frames[0].width, 320);
  EXPECT_EQ(tall_frames[0].height, 568);
  EXPECT_EQ(wide_frames[0].width, 568);
  EXPECT_EQ(wide_frames[0].height, 320);
  /* contain letterboxes the 16:9 clip in 9:16 but fills 16:9 */
  EXPECT_NEAR(tall_frames[10].top_y, 16, 3) << "a black bar at the top of the tall one";
  EXPECT_GT(wide_frames[10].top_v, 160) << "the red clip at the top of the wide one";
  /* the blue card, drawn at each size */
  EXPECT_LT(tall_frames[35].top_v, 128);
  EXPECT_LT(wide_frames[35].top_v, 128);
  EXPECT_GT(tall_frames[35].top_y, 20);
}

TEST(StitchBin, BadRenditionsAreAnError) {
  GError *raw_error = nullptr;
  GstObjectPtr<GstElement> pipeline(adopt_floating(gst_parse_launch(
      "stitchbin name=s renditions=wide s.video ! fakesink s.audio ! fakesink", &raw_error)));
  GErrorPtr error(raw_error);
  ASSERT_FALSE(error) << error->message;
  GstObjectPtr<GstElement> bin(gst_bin_get_by_name(GST_BIN(pipeline.get()), "s"));
  g_object_set(bin.get(), "clips", ("[" + card(0x2020c0, 0.5) + "]").c_str(), nullptr);
  const PipelineRun run = run_pipeline(pipeline.get(), 10 * GST_SECOND);
  gst_element_set_state(pipeline.get(), GST_STATE_NULL);
  EXPECT_FALSE(run.reached_eos);
  EXPECT_NE(run.error.find("renditions \"wide\""), std::string::npos) << run.error;
  EXPECT_NE(run.error.find("WIDTHxHEIGHT"), std::string::npos) << run.error;
}

std::string first_error(const std::string &clips) {
  const Output out = stitch(clips);
  EXPECT_FALSE(out.run.reached_eos);
  return out.run.error;
}

TEST(StitchBin, ErrorsNameTheClip) {
  TempDir dir;
  const std::string good = make_clip(dir, "good", 30, 320, 568, 1, true, 0x808080);
  const std::string missing = "file://" + dir.file("missing.mp4");

  std::string error =
      first_error("[{\"uri\": \"" + good + "\", \"duration\": 1}, {\"uri\": \"" + missing + "\"}]");
  EXPECT_NE(error.find("clips[1]"), std::string::npos) << error;
  EXPECT_NE(error.find("missing.mp4"), std::string::npos) << error;
  EXPECT_NE(error.find("not found"), std::string::npos) << error;

  error = first_error("[" + card(0, 0.01) + "]");
  EXPECT_NE(error.find("clips[0]"), std::string::npos) << error;
  EXPECT_NE(error.find("zero-length"), std::string::npos) << error;

  error = first_error("[{\"uri\": \"" + good + "\", \"in\": 0.5, \"out\": 0.5}]");
  EXPECT_NE(error.find("clips[0]"), std::string::npos) << error;

  error = first_error("[" + card(0, 1, "crossfade", 1.5) + "," + card(0xffffff, 2) + "]");
  EXPECT_NE(error.find("clips[0]"), std::string::npos) << error;
  EXPECT_NE(error.find("longer"), std::string::npos) << error;

  error = first_error("[" + card(0, 1, "swoosh", 0.5) + "," + card(0xffffff, 2) + "]");
  EXPECT_NE(error.find("clips[0]"), std::string::npos) << error;
  EXPECT_NE(error.find("swoosh"), std::string::npos) << error;

  const std::string not_an_image = dir.file("broken.png");
  std::ofstream(not_an_image) << "this is not a PNG";
  error =
      first_error("[" + card(0, 1) + ", {\"image\": \"" + not_an_image + "\", \"duration\": 1}]");
  EXPECT_NE(error.find("clips[1]"), std::string::npos) << error;
  EXPECT_NE(error.find("broken.png"), std::string::npos) << error;

  error = first_error("[{\"image\": \"" + dir.file("nope.png") + "\", \"duration\": 1}]");
  EXPECT_NE(error.find("clips[0]"), std::string::npos) << error;
  EXPECT_NE(error.find("not found"), std::string::npos) << error;
}

}  // namespace
}  // namespace reelforge::test
