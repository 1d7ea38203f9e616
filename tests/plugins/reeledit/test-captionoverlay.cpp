/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * captionoverlay on solid 320x568 video at 30 fps (frame n starts at n/30 s):
 * every output frame is compared with its input frame, copied by pad probes
 * on both sides of the element.
 */
#include "test-environment.h"

#include <cairo.h>
#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace reelforge::test {
namespace {

constexpr int kWidth = 320;
constexpr int kHeight = 568;
constexpr int kFps = 30;

struct Box {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0; /* inclusive-exclusive */
  bool contains(const Box &b) const { return b.x0 >= x0 && b.y0 >= y0 && b.x1 <= x1 && b.y1 <= y1; }
  bool operator==(const Box &) const = default;
};

std::ostream &operator<<(std::ostream &os, const Box &b) {
  return os << "[" << b.x0 << "," << b.y0 << ")-(" << b.x1 << "," << b.y1 << ")";
}

/* One frame as it entered and as it left the element. */
struct FramePair {
  GstClockTime pts = 0;
  std::vector<guint8> in, out;
  bool same_buffer = false;
};

struct Capture {
  GstVideoInfo info{};
  std::vector<FramePair> frames;
  std::map<GstClockTime, std::pair<GstBuffer *, std::vector<guint8>>> pending;
  PipelineRun run;
};

std::vector<guint8> copy_bytes(GstBuffer *buffer) {
  std::vector<guint8> bytes(gst_buffer_get_size(buffer));
  gst_buffer_extract(buffer, 0, bytes.data(), bytes.size());
  return bytes;
}

GstPadProbeReturn on_input(GstPad *, GstPadProbeInfo *info, gpointer data) {
  auto *capture = static_cast<Capture *>(data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  capture->pending[GST_BUFFER_PTS(buffer)] = {buffer, copy_bytes(buffer)};
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn on_output(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
  auto *capture = static_cast<Capture *>(data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (capture->frames.empty()) {
    CapsPtr caps(gst_pad_get_current_caps(pad));
    gst_video_info_from_caps(&capture->info, caps.get());
  }
  FramePair pair;
  pair.pts = GST_BUFFER_PTS(buffer);
  auto it = capture->pending.find(pair.pts);
  if (it != capture->pending.end()) {
    /* The input buffer is still alive here (the element is inside its chain
     * function), so equal pointers mean the very same buffer. */
    pair.same_buffer = it->second.first == buffer;
    pair.in = std::move(it->second.second);
    capture->pending.erase(it);
  }
  pair.out = copy_bytes(buffer);
  capture->frames.push_back(std::move(pair));
  return GST_PAD_PROBE_OK;
}

/* Runs `videotestsrc ! captionoverlay ! fakesink` (plus extra, e.g. a text
 * branch) for frames frames of format; configure sets the overlay up. */
Capture run_overlay(const std::string &format, int frames,
                    const std::function<void(GstElement *)> &configure,
                    const std::string &background = "pattern=black", const std::string &extra = "",
                    const std::function<void(GstElement *)> &before_play = {}) {
  Capture capture;
  const std::string description =
      "videotestsrc " + background + " num-buffers=" + std::to_string(frames) +
      " ! video/x-raw,format=" + format + ",width=" + std::to_string(kWidth) +
      ",height=" + std::to_string(kHeight) + ",framerate=" + std::to_string(kFps) +
      "/1 ! captionoverlay name=overlay ! fakesink " + extra;
  GError *raw_error = nullptr;
  GstElement *parsed = gst_parse_launch(description.c_str(), &raw_error);
  GErrorPtr error(raw_error);
  if (parsed == nullptr || error) {
    ADD_FAILURE() << "cannot parse " << description;
    return capture;
  }
  auto pipeline = adopt_floating(parsed);
  GstObjectPtr<GstElement> overlay(gst_bin_get_by_name(GST_BIN(pipeline.get()), "overlay"));
  configure(overlay.get());
  GstObjectPtr<GstPad> sink(gst_element_get_static_pad(overlay.get(), "video_sink"));
  GstObjectPtr<GstPad> src(gst_element_get_static_pad(overlay.get(), "src"));
  gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_BUFFER, on_input, &capture, nullptr);
  gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_BUFFER, on_output, &capture, nullptr);
  if (before_play) before_play(pipeline.get());
  capture.run = run_pipeline(pipeline.get());
  return capture;
}

/* Full-resolution components only (luma for YUV, all for RGB), so chroma
 * subsampling does not blur where a change is. */
Box changed_box(const GstVideoInfo &info, const FramePair &frame, bool *any) {
  Box box{kWidth, kHeight, 0, 0};
  *any = false;
  for (guint c = 0; c < GST_VIDEO_INFO_N_COMPONENTS(&info); ++c) {
    if (GST_VIDEO_FORMAT_INFO_W_SUB(info.finfo, c) || GST_VIDEO_FORMAT_INFO_H_SUB(info.finfo, c))
      continue;
    const gsize offset = GST_VIDEO_INFO_COMP_OFFSET(&info, c);
    const gint stride = GST_VIDEO_INFO_COMP_STRIDE(&info, c);
    const gint pstride = GST_VIDEO_INFO_COMP_PSTRIDE(&info, c);
    for (int y = 0; y < kHeight; ++y) {
      for (int x = 0; x < kWidth; ++x) {
        const gsize i = offset + static_cast<gsize>(y) * stride + static_cast<gsize>(x) * pstride;
        if (frame.in[i] != frame.out[i]) {
          *any = true;
          box.x0 = std::min(box.x0, x);
          box.y0 = std::min(box.y0, y);
          box.x1 = std::max(box.x1, x + 1);
          box.y1 = std::max(box.y1, y + 1);
        }
      }
    }
  }
  return box;
}

bool changed(const GstVideoInfo &info, const FramePair &frame) {
  bool any = false;
  changed_box(info, frame, &any);
  return any;
}

/* Indices of the frames the element changed. */
std::vector<int> changed_frames(const Capture &capture) {
  std::vector<int> indices;
  for (std::size_t i = 0; i < capture.frames.size(); ++i)
    if (changed(capture.info, capture.frames[i])) indices.push_back(static_cast<int>(i));
  return indices;
}

std::vector<int> range(int first, int last) {
  std::vector<int> v;
  for (int i = first; i <= last; ++i) v.push_back(i);
  return v;
}

void set_cues(GstElement *overlay, const std::string &cues) {
  g_object_set(overlay, "cues", cues.c_str(), nullptr);
}

std::string seconds(double s) {
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];
  return g_ascii_formatd(buffer, sizeof buffer, "%.6f", s);
}

const char *kLongText =
    "This caption is long enough to wrap over several lines, with a box, a stroke and a "
    "shadow around every one of its words";

/* Nine cues, one per frame, anchored at every corner and edge, each pushed
 * out of the safe zone by its offsets. Cue i starts 5 ms before frame i, as
 * i/30 s is not a whole number of nanoseconds. */
std::string anchored_cues(bool ignore_safe_zone) {
  const char *anchors[] = {"top-left",     "top-center",  "top-right",     "center-left", "center",
                           "center-right", "bottom-left", "bottom-center", "bottom-right"};
  std::string cues = "[";
  for (int i = 0; i < 9; ++i) {
    const int dx = i % 3 == 0 ? -400 : (i % 3 == 2 ? 400 : 0);
    const int dy = i / 3 == 0 ? -400 : (i / 3 == 2 ? 400 : 0);
    cues += std::string(i ? "," : "") +
            "{\"start\":" + seconds(std::max(0.0, i / double(kFps) - 0.005)) +
            ",\"end\":" + seconds((i + 1) / double(kFps) - 0.005) + ",\"text\":\"" + kLongText +
            "\",\"ignore_safe_zone\":" + (ignore_safe_zone ? "true" : "false") +
            ",\"style\":{\"size\":22,\"max_width\":0.9,\"anchor\":\"" + anchors[i] +
            "\",\"x\":" + std::to_string(dx) + ",\"y\":" + std::to_string(dy) +
            ",\"color\":\"#FFFFFF\",\"stroke\":{\"color\":\"#3050FF\",\"width\":4},"
            "\"shadow\":{\"color\":\"#FF000080\",\"dx\":6,\"dy\":6,\"blur\":5},"
            "\"box\":{\"color\":\"#20C040C0\",\"padding\":10,\"radius\":12}}}";
  }
  return cues + "]";
}

class SafeZone : public ::testing::TestWithParam<std::string> {};

TEST_P(SafeZone, NoDrawnPixelOutsideTheSafeZone) {
  const Box safe{16, 40, kWidth - 30, kHeight - 100};
  Capture capture = run_overlay(GetParam(), 9, [](GstElement *o) {
    g_object_set(o, "safe-top", 40, "safe-bottom", 100, "safe-left", 16, "safe-right", 30, nullptr);
    set_cues(o, anchored_cues(false));
  });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  ASSERT_EQ(capture.frames.size(), 9u);
  for (std::size_t i = 0; i < capture.frames.size(); ++i) {
    bool any = false;
    const Box box = changed_box(capture.info, capture.frames[i], &any);
    EXPECT_TRUE(any) << "frame " << i;
    EXPECT_TRUE(safe.contains(box)) << "frame " << i << ": drawn " << box << ", safe " << safe;
  }
  /* Pushed into the corners: the items reach the safe zone's edges (but for
   * the last rows of a blurred shadow, too faint to change a pixel). */
  bool any = false;
  EXPECT_EQ(changed_box(capture.info, capture.frames[0], &any).x0, safe.x0);
  EXPECT_EQ(changed_box(capture.info, capture.frames[0], &any).y0, safe.y0);
  EXPECT_GE(changed_box(capture.info, capture.frames[8], &any).x1, safe.x1 - 3);
  EXPECT_GE(changed_box(capture.info, capture.frames[8], &any).y1, safe.y1 - 3);
}

INSTANTIATE_TEST_SUITE_P(Formats, SafeZone, ::testing::Values("RGBA", "I420", "NV12", "BGRx"));

TEST(CaptionOverlay, ProfileSafeZoneScalesToTheVideoSize) {
  /* tiktok: 1080x1920 canvas, top 150, bottom 440, left 0, right 150; at
   * 320x568, rounded outwards: top 45, bottom 131, right 45. */
  const Box safe{0, 45, kWidth - 45, kHeight - 131};
  Capture capture = run_overlay("RGBA", 9, [](GstElement *o) {
    g_object_set(o, "profile", "tiktok", nullptr);
    set_cues(o, anchored_cues(false));
  });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  for (std::size_t i = 0; i < capture.frames.size(); ++i) {
    bool any = false;
    const Box box = changed_box(capture.info, capture.frames[i], &any);
    EXPECT_TRUE(any && safe.contains(box)) << "frame " << i << ": drawn " << box;
  }
}

TEST(CaptionOverlay, IgnoreSafeZoneKeepsItemsInTheFrameOnly) {
  Capture capture = run_overlay("RGBA", 9, [](GstElement *o) {
    g_object_set(o, "safe-top", 40, "safe-bottom", 100, "safe-left", 16, "safe-right", 30, nullptr);
    set_cues(o, anchored_cues(true));
  });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  bool any = false;
  const Box top_left = changed_box(capture.info, capture.frames[0], &any);
  EXPECT_EQ(top_left.x0, 0);
  EXPECT_EQ(top_left.y0, 0);
  const Box bottom_right = changed_box(capture.info, capture.frames[8], &any);
  EXPECT_GE(bottom_right.x1, kWidth - 3);
  EXPECT_GE(bottom_right.y1, kHeight - 3);
}

class Timing : public ::testing::TestWithParam<std::string> {};

TEST_P(Timing, CueIsVisibleExactlyFromStartToEnd) {
  Capture capture = run_overlay(GetParam(), 90, [](GstElement *o) {
    set_cues(o,
             R"([{"start":1.0,"end":2.0,"text":"One second"},
                 {"start":2.5,"end":2.6,"text":"Three frames","style":{"anchor":"top-left"}}])");
  });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  ASSERT_EQ(capture.frames.size(), 90u);
  std::vector<int> expected = range(30, 59);
  for (int i : range(75, 77)) expected.push_back(i);
  EXPECT_EQ(changed_frames(capture), expected);

  /* Frames with nothing to show are the input buffers themselves, untouched. */
  for (std::size_t i = 0; i < capture.frames.size(); ++i) {
    const FramePair &frame = capture.frames[i];
    if (std::find(expected.begin(), expected.end(), static_cast<int>(i)) != expected.end())
      continue;
    EXPECT_TRUE(frame.same_buffer) << "frame " << i << " was copied";
    EXPECT_EQ(frame.in, frame.out) << "frame " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Formats, Timing,
                         ::testing::Values("I420", "NV12", "RGBA", "BGRA", "BGRx"));

TEST(CaptionOverlay, CuesFollowStreamTimeAfterAFlushingSeek) {
  Capture capture = run_overlay(
      "I420", 300,
      [](GstElement *o) {
        set_cues(
            o,
            R"([{"start":0.0,"end":0.5,"text":"Before"},{"start":2.0,"end":2.5,"text":"After"}])");
      },
      "pattern=black", "",
      [](GstElement *pipeline) {
        gst_element_set_state(pipeline, GST_STATE_PAUSED);
        ASSERT_NE(gst_element_get_state(pipeline, nullptr, nullptr, 10 * GST_SECOND),
                  GST_STATE_CHANGE_FAILURE);
        ASSERT_TRUE(gst_element_seek(
            pipeline, 1.0, GST_FORMAT_TIME,
            static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE),
            GST_SEEK_TYPE_SET, GST_SECOND + GST_SECOND / 2, GST_SEEK_TYPE_SET, 3 * GST_SECOND));
      });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  std::vector<GstClockTime> changed_pts;
  for (const FramePair &frame : capture.frames) {
    if (frame.pts < GST_SECOND) continue; /* prerolled before the seek */
    if (changed(capture.info, frame)) changed_pts.push_back(frame.pts);
  }
  ASSERT_EQ(changed_pts.size(), 15u);
  /* videotestsrc truncates its timestamps to the nanosecond. */
  EXPECT_EQ(changed_pts.front(), gst_util_uint64_scale(60, GST_SECOND, kFps));
  EXPECT_EQ(changed_pts.back(), gst_util_uint64_scale(74, GST_SECOND, kFps));
}

/* Pixels close to (r, g, b) in an RGBA frame. */
std::vector<std::pair<int, int>> pixels_like(const GstVideoInfo &info,
                                             const std::vector<guint8> &data, int r, int g, int b) {
  std::vector<std::pair<int, int>> found;
  const gint stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
  for (int y = 0; y < kHeight; ++y) {
    for (int x = 0; x < kWidth; ++x) {
      const guint8 *p = data.data() + static_cast<gsize>(y) * stride + static_cast<gsize>(x) * 4;
      if (std::abs(p[0] - r) < 40 && std::abs(p[1] - g) < 40 && std::abs(p[2] - b) < 40)
        found.emplace_back(x, y);
    }
  }
  return found;
}

TEST(CaptionOverlay, WordHighlightFollowsTheWordTimings) {
  Capture capture = run_overlay("RGBA", 60, [](GstElement *o) {
    set_cues(o, R"([{"start":0.0,"end":2.0,"text":"AAAA BBBB",
      "style":{"size":40,"color":"#FFFFFF","highlight_color":"#FF0000","anchor":"center"},
      "words":[{"start":0.5,"end":1.0,"text":"AAAA"},{"start":1.0,"end":1.5,"text":"BBBB"}]}])");
  });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  ASSERT_EQ(capture.frames.size(), 60u);
  bool any = false;
  const Box text = changed_box(capture.info, capture.frames[0], &any);
  ASSERT_TRUE(any);
  const int middle = (text.x0 + text.x1) / 2;
  for (int i = 0; i < 60; ++i) {
    const auto red = pixels_like(capture.info, capture.frames[i].out, 255, 0, 0);
    const bool first_word = i >= 15 && i < 30, second_word = i >= 30 && i < 45;
    if (!first_word && !second_word) {
      EXPECT_TRUE(red.empty()) << "frame " << i << " has " << red.size() << " highlight pixels";
      continue;
    }
    ASSERT_GT(red.size(), 50u) << "frame " << i;
    for (const auto &[x, y] : red) {
      if (first_word) {
        ASSERT_LT(x, middle) << "frame " << i;
      } else {
        ASSERT_GT(x, middle) << "frame " << i;
      }
      ASSERT_TRUE(y >= text.y0 && y < text.y1);
    }
  }
}

/* Red of pixel (x, y) of an RGBA frame's output. */
int red_at(const Capture &capture, std::size_t frame, int x, int y) {
  const gint stride = GST_VIDEO_INFO_PLANE_STRIDE(&capture.info, 0);
  return capture.frames.at(frame).out.at(static_cast<gsize>(y) * stride +
                                         static_cast<gsize>(x) * 4);
}

TEST(CaptionOverlay, FadeChangesOpacityOverItsDuration) {
  /* A white box fading in over [0, 0.5) s and out over [0.5, 1) s. */
  Capture capture = run_overlay("RGBA", 30, [](GstElement *o) {
    set_cues(o, R"([{"start":0,"end":1,"text":"Fade","animation":{"in":"fade","out":"fade",
      "duration":0.5},"style":{"anchor":"center","box":{"color":"#FFFFFF","padding":20}}}])");
  });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  ASSERT_EQ(capture.frames.size(), 30u);
  bool any = false;
  const Box box = changed_box(capture.info, capture.frames[15], &any);
  ASSERT_TRUE(any);
  const int x = box.x0 + 3, y = box.y0 + 3;   /* in the box's padding */
  EXPECT_TRUE(capture.frames[0].same_buffer); /* fully transparent: not even mapped */
  EXPECT_NEAR(red_at(capture, 7, x, y), 255.0 * 7 / 15, 2);
  EXPECT_NEAR(red_at(capture, 15, x, y), 255, 1);
  EXPECT_NEAR(red_at(capture, 27, x, y), 255.0 * 3 / 15, 2);
}

TEST(CaptionOverlay, PopGrowsAndSlideUpRisesIntoPlace) {
  Capture capture = run_overlay("RGBA", 60, [](GstElement *o) {
    set_cues(o, R"([{"start":0,"end":1,"text":"Pop","animation":{"in":"pop","duration":0.5},
      "style":{"anchor":"center","box":{"color":"#FFFFFF"}}},
      {"start":1,"end":2,"text":"Slide","animation":{"in":"slide-up","duration":0.5},
      "style":{"anchor":"center","box":{"color":"#FFFFFF"}}}])");
  });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  ASSERT_EQ(capture.frames.size(), 60u);
  bool any = false;
  const Box growing = changed_box(capture.info, capture.frames[3], &any);
  const Box popped = changed_box(capture.info, capture.frames[20], &any);
  EXPECT_LT(growing.x1 - growing.x0, popped.x1 - popped.x0);
  EXPECT_GT(growing.x0, popped.x0);
  EXPECT_TRUE(popped.contains(growing)) << growing << " " << popped;
  const Box rising = changed_box(capture.info, capture.frames[33], &any);
  const Box risen = changed_box(capture.info, capture.frames[50], &any);
  EXPECT_GT(rising.y0, risen.y0);
  EXPECT_EQ(rising.x0, risen.x0);
  EXPECT_EQ(risen, changed_box(capture.info, capture.frames[59], &any));
}

TEST(CaptionOverlay, SlideDownDropsIntoPlace) {
  Capture capture = run_overlay("RGBA", 30, [](GstElement *o) {
    set_cues(o, R"([{"start":0,"end":1,"text":"Drop","animation":{"in":"slide-down",
      "duration":0.5},"style":{"anchor":"center","box":{"color":"#FFFFFF"}}}])");
  });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  ASSERT_EQ(capture.frames.size(), 30u);
  bool any = false;
  const Box dropping = changed_box(capture.info, capture.frames[3], &any);
  const Box dropped = changed_box(capture.info, capture.frames[20], &any);
  EXPECT_LT(dropping.y0, dropped.y0);
  EXPECT_EQ(dropping.x0, dropped.x0);
  EXPECT_EQ(dropped, changed_box(capture.info, capture.frames[29], &any));
}

/* Typewriter: the characters appear one after another where the whole
 * text will stand, so the drawn area grows to the right from a fixed left
 * edge; as "out" they go again from the last. */
TEST(CaptionOverlay, TypewriterRevealsTheTextInPlace) {
  Capture capture = run_overlay("RGBA", 60, [](GstElement *o) {
    set_cues(o, R"([{"start":0,"end":2,"text":"WWWWWWWWWW","animation":{"in":"typewriter",
      "out":"typewriter","duration":1},"style":{"anchor":"center","size":24}}])");
  });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  ASSERT_EQ(capture.frames.size(), 60u);
  EXPECT_TRUE(capture.frames[0].same_buffer) << "no character yet: untouched";
  bool any = false;
  const Box whole = changed_box(capture.info, capture.frames[30], &any);
  ASSERT_TRUE(any);
  const int whole_width = whole.x1 - whole.x0;
  int last_width = 0;
  for (int i = 2; i <= 30; i += 2) {
    const Box box = changed_box(capture.info, capture.frames[i], &any);
    ASSERT_TRUE(any) << "frame " << i;
    EXPECT_EQ(box.x0, whole.x0) << "frame " << i << ": typed in place";
    EXPECT_GE(box.x1 - box.x0, last_width) << "frame " << i;
    last_width = box.x1 - box.x0;
  }
  /* half the time, half the characters (one W is a tenth) */
  const Box half = changed_box(capture.info, capture.frames[15], &any);
  EXPECT_NEAR(half.x1 - half.x0, whole_width / 2.0, whole_width / 10.0);
  /* going out: from the end, as they came */
  const Box going = changed_box(capture.info, capture.frames[45], &any);
  EXPECT_EQ(going.x0, whole.x0);
  EXPECT_NEAR(going.x1 - going.x0, whole_width / 2.0, whole_width / 10.0);
}

TEST(CaptionOverlay, UnknownProfileIsAnError) {
  Capture capture = run_overlay(
      "RGBA", 5, [](GstElement *o) { g_object_set(o, "profile", "no-such-platform", nullptr); });
  EXPECT_FALSE(capture.run.reached_eos);
  EXPECT_NE(capture.run.error.find("profile: "), std::string::npos) << capture.run.error;
}

TEST(CaptionOverlay, MarkupCueIsDrawnWithItsAttributes) {
  Capture capture = run_overlay("RGBA", 1, [](GstElement *o) {
    set_cues(o, R"([{"start":0,"end":1,"markup":true,"style":{"size":40,"anchor":"center"},
      "text":"plain <span foreground=\"#00FF00\">green</span>"}])");
  });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  EXPECT_GT(pixels_like(capture.info, capture.frames.at(0).out, 0, 255, 0).size(), 50u);
  EXPECT_GT(pixels_like(capture.info, capture.frames.at(0).out, 255, 255, 255).size(), 50u);
}

TEST(CaptionOverlay, ItemThatCannotFitIsAnErrorNamingTheCue) {
  Capture capture = run_overlay("RGBA", 10, [](GstElement *o) {
    g_object_set(o, "safe-top", 200, "safe-bottom", 200, nullptr);
    set_cues(o, std::string(R"([{"start":0,"end":1,"text":"fits"},)") +
                    R"({"start":0,"end":1,"text":")" + kLongText +
                    R"(","style":{"size":60,"min_size":40}}])");
  });
  EXPECT_FALSE(capture.run.reached_eos);
  EXPECT_NE(capture.run.error.find("cues/1: does not fit the safe zone"), std::string::npos)
      << capture.run.error;
}

TEST(CaptionOverlay, TooTallTextShrinksDownToMinSize) {
  Capture capture = run_overlay("RGBA", 1, [](GstElement *o) {
    g_object_set(o, "safe-top", 200, "safe-bottom", 200, nullptr);
    set_cues(o, std::string(R"([{"start":0,"end":1,"text":")") + kLongText +
                    R"(","style":{"size":60,"min_size":8}}])");
  });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  bool any = false;
  const Box box = changed_box(capture.info, capture.frames.at(0), &any);
  EXPECT_TRUE(any && Box({0, 200, kWidth, kHeight - 200}).contains(box)) << box;
}

struct BadCues {
  std::string cues;
  std::string message;
};

class InvalidCues : public ::testing::TestWithParam<BadCues> {};

TEST_P(InvalidCues, AreAnErrorNamingTheField) {
  Capture capture = run_overlay("RGBA", 5, [](GstElement *o) { set_cues(o, GetParam().cues); });
  EXPECT_FALSE(capture.run.reached_eos);
  EXPECT_TRUE(capture.frames.empty());
  EXPECT_NE(capture.run.error.find(GetParam().message), std::string::npos) << capture.run.error;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, InvalidCues,
    ::testing::Values(
        BadCues{R"([{"start":0,"end":1,"text":"a"},{"start":0,"end":1,"text":"b"},
                    {"start":0,"end":1,"text":"c","style":{"color":"reddish"}}])",
                R"(cues/2/style/color: "reddish" is not a colour like #RRGGBB)"},
        BadCues{R"([{"start":2,"end":1,"text":"a"}])", "cues/0/end: must be later than start"},
        BadCues{R"([{"start":0,"text":"a"}])", R"(cues/0: missing required member "end")"},
        BadCues{R"([{"start":0,"end":1,"text":"a","style":{"anchor":"middle"}}])",
                R"(cues/0/style/anchor: "middle" is not an anchor)"},
        BadCues{
            R"([{"start":0,"end":1,"text":"a","animation":{"in":"spin"}}])",
            R"(cues/0/animation/in: "spin" is not one of none, fade, pop, slide-up, slide-down, typewriter)"},
        BadCues{R"([{"start":0,"end":1,"text":"a b","words":[{"start":0,"end":1,"text":"c"}]}])",
                R"(cues/0/words/0/text: "c" is not in the cue's text)"},
        BadCues{R"([{"start":0,"end":1,"text":"<b>a</i>","markup":true}])",
                "cues/0/text: is not valid Pango markup"},
        BadCues{R"([{"start":0,"end":1,"text":"a","colour":"#FFFFFF"}])",
                "cues/0/colour: unknown member"},
        BadCues{R"([{"start":0,"end":1,"image":"/nonexistent/logo.png"}])",
                R"(cues/0/image: cannot read "/nonexistent/logo.png")"},
        BadCues{R"([{"start":0,"end":1,"text":"a"})", "cues: not valid JSON"},
        BadCues{R"({"start":0})", "cues: {\"start\":0} is not an array of cues"}));

void push_text(GstElement *appsrc, const char *text, GstClockTime pts, GstClockTime duration) {
  GstBuffer *buffer = gst_buffer_new_memdup(text, strlen(text));
  GST_BUFFER_PTS(buffer) = pts;
  GST_BUFFER_DURATION(buffer) = duration;
  GstFlowReturn ret = GST_FLOW_OK;
  g_signal_emit_by_name(appsrc, "push-buffer", buffer, &ret);
  gst_buffer_unref(buffer);
  ASSERT_EQ(ret, GST_FLOW_OK);
}

TEST(CaptionOverlay, TextPadBuffersAppearAtTheirTimestamps) {
  Capture capture = run_overlay(
      "I420", 60, [](GstElement *) {}, "pattern=black",
      "appsrc name=text format=time caps=text/x-raw,format=utf8 ! overlay.text_sink",
      [](GstElement *pipeline) {
        GstObjectPtr<GstElement> appsrc(gst_bin_get_by_name(GST_BIN(pipeline), "text"));
        push_text(appsrc.get(), "Hello", 500 * GST_MSECOND, 500 * GST_MSECOND);
        push_text(appsrc.get(), "<b>World</b>", 1500 * GST_MSECOND, 300 * GST_MSECOND);
        GstFlowReturn ret = GST_FLOW_OK;
        g_signal_emit_by_name(appsrc.get(), "end-of-stream", &ret);
      });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  ASSERT_EQ(capture.frames.size(), 60u);
  std::vector<int> expected = range(15, 29);
  for (int i : range(45, 53)) expected.push_back(i);
  EXPECT_EQ(changed_frames(capture), expected);
}

TEST(CaptionOverlay, TextWithoutDurationLastsUntilTheNextText) {
  Capture capture = run_overlay(
      "RGBA", 60, [](GstElement *) {}, "pattern=black",
      "appsrc name=text format=time caps=text/x-raw,format=utf8 ! overlay.text_sink",
      [](GstElement *pipeline) {
        GstObjectPtr<GstElement> appsrc(gst_bin_get_by_name(GST_BIN(pipeline), "text"));
        push_text(appsrc.get(), "Until the next", 500 * GST_MSECOND, GST_CLOCK_TIME_NONE);
        push_text(appsrc.get(), "Next", GST_SECOND, 500 * GST_MSECOND);
        GstFlowReturn ret = GST_FLOW_OK;
        g_signal_emit_by_name(appsrc.get(), "end-of-stream", &ret);
      });
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  EXPECT_EQ(changed_frames(capture), range(15, 44));
  /* The first text is replaced at 1 s, not drawn under the second. */
  bool any = false;
  EXPECT_NE(changed_box(capture.info, capture.frames[29], &any),
            changed_box(capture.info, capture.frames[30], &any));
}

TEST(CaptionOverlay, ImageCueIsBlendedWithItsOpacity) {
  TempDir dir;
  const std::string png = dir.file("logo.png");
  {
    cairo_surface_t *surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, 20, 10);
    cairo_t *cr = cairo_create(surface);
    cairo_set_source_rgb(cr, 200 / 255.0, 100 / 255.0, 50 / 255.0);
    cairo_paint(cr);
    cairo_destroy(cr);
    ASSERT_EQ(cairo_surface_write_to_png(surface, png.c_str()), CAIRO_STATUS_SUCCESS);
    cairo_surface_destroy(surface);
  }
  Capture capture = run_overlay(
      "RGBA", 3,
      [&](GstElement *o) {
        g_object_set(o, "safe-top", 10, "safe-left", 20, nullptr);
        set_cues(o, R"([{"start":0,"end":1,"image":")" + png +
                        R"(","anchor":"top-left","opacity":0.5,"scale":2}])");
      },
      "pattern=solid-color foreground-color=0xff808080");
  ASSERT_TRUE(capture.run.reached_eos) << capture.run.error;
  ASSERT_EQ(capture.frames.size(), 3u);
  const GstVideoInfo &info = capture.info;
  const gint stride = GST_VIDEO_INFO_PLANE_STRIDE(&info, 0);
  auto pixel = [&](int x, int y) {
    return capture.frames[1].out.data() + static_cast<gsize>(y) * stride +
           static_cast<gsize>(x) * 4;
  };
  /* 0.5 x image + 0.5 x grey 128, over the 40x20 image at (20, 10). */
  for (auto [x, y] : {std::pair{20, 10}, {40, 20}, {59, 29}}) {
    EXPECT_NEAR(pixel(x, y)[0], 164, 2) << x << "," << y;
    EXPECT_NEAR(pixel(x, y)[1], 114, 2) << x << "," << y;
    EXPECT_NEAR(pixel(x, y)[2], 89, 2) << x << "," << y;
  }
  bool any = false;
  const Box box = changed_box(info, capture.frames[1], &any);
  EXPECT_TRUE(any);
  EXPECT_EQ(box.x0, 20);
  EXPECT_EQ(box.y0, 10);
  EXPECT_EQ(box.x1, 60);
  EXPECT_EQ(box.y1, 30);
}

}  // namespace
}  // namespace reelforge::test
