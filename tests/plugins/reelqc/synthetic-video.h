/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Raw video whose content changes at exactly known frames, for the video
 * analysers' tests: a seekable appsrc that paints frame n with a function
 * of n (black, grey, a moving texture, a still, noise...). It can hold the
 * stream at a given frame so a test can seek there deterministically.
 */
#pragma once

#include "test-environment.h"
#include "time-convert.h"

#include <gst/gst.h>
#include <gst/video/video.h>
#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

namespace reelforge::test {

constexpr gint kFps = 25;
constexpr gint kWidth = 320;
constexpr gint kHeight = 568;

/* Start time of frame n at kFps. */
inline GstClockTime frame_time(guint64 n) {
  return frame_to_time(n, kFps, 1);
}

/* Raw video caps at kWidth x kHeight, kFps, with colorimetry, e.g.
 * "bt601" (limited range) or "1:4:0:0" (full range, BT.601 matrix). */
inline std::string raw_caps(const std::string &format, const std::string &colorimetry = "bt601") {
  return "video/x-raw,format=" + format + ",width=" + std::to_string(kWidth) +
         ",height=" + std::to_string(kHeight) + ",framerate=" + std::to_string(kFps) +
         "/1,colorimetry=" + colorimetry;
}

/* Painters: each sets the luma of every pixel with luma(x, y) and every
 * chroma sample to chroma (grey when 128). */
template <typename Luma>
void paint(GstVideoFrame *frame, Luma &&luma, guint8 chroma = 128) {
  const guint width = GST_VIDEO_FRAME_COMP_WIDTH(frame, 0);
  const guint height = GST_VIDEO_FRAME_COMP_HEIGHT(frame, 0);
  auto *row = static_cast<guint8 *>(GST_VIDEO_FRAME_COMP_DATA(frame, 0));
  for (guint y = 0; y < height; ++y, row += GST_VIDEO_FRAME_COMP_STRIDE(frame, 0))
    for (guint x = 0; x < width; ++x) row[x] = luma(x, y);
  /* Every other plane of the planar formats under test holds chroma only. */
  for (guint plane = 1; plane < GST_VIDEO_FRAME_N_PLANES(frame); ++plane) {
    auto *data = static_cast<guint8 *>(GST_VIDEO_FRAME_PLANE_DATA(frame, plane));
    const gint stride = GST_VIDEO_FRAME_PLANE_STRIDE(frame, plane);
    guint rows = 0;
    for (guint comp = 0; comp < GST_VIDEO_FRAME_N_COMPONENTS(frame); ++comp)
      if (GST_VIDEO_FORMAT_INFO_PLANE(frame->info.finfo, comp) == plane)
        rows = GST_VIDEO_FRAME_COMP_HEIGHT(frame, comp);
    for (guint y = 0; y < rows; ++y)
      std::memset(data + static_cast<gssize>(y) * stride, chroma, stride);
  }
}

inline void paint_uniform(GstVideoFrame *frame, guint8 luma, guint8 chroma = 128) {
  paint(
      frame, [luma](guint, guint) { return luma; }, chroma);
}

/* A bright texture that moves with n: never black, and every frame differs
 * from every other by far more than any noise floor. */
inline void paint_moving(GstVideoFrame *frame, guint64 n) {
  paint(
      frame, [n](guint x, guint y) { return static_cast<guint8>(64 + (x + 2 * y + 7 * n) % 128); },
      static_cast<guint8>(96 + (n * 13) % 64));
}

/* A deterministic hash of (x, y, n), for noise. */
inline guint32 pixel_hash(guint x, guint y, guint64 n) {
  guint32 h = x * 374761393u + y * 668265263u + static_cast<guint32>(n) * 2246822519u;
  h = (h ^ (h >> 13)) * 1274126177u;
  return h ^ (h >> 16);
}

/* What the source shows at frame n. */
using FramePainter = std::function<void(guint64 n, GstVideoFrame *frame)>;

/* A seekable appsrc named "src" at the head of a pipeline, painting n_frames
 * frames at kFps with painter. Keep it alive while the pipeline runs. */
class SyntheticVideo {
 public:
  SyntheticVideo(const std::string &caps, guint64 n_frames, FramePainter painter)
      : n_frames_(n_frames), painter_(std::move(painter)) {
    caps_.reset(gst_caps_from_string(caps.c_str()));
    EXPECT_TRUE(caps_ && gst_video_info_from_caps(&info_, caps_.get())) << caps;
  }
  SyntheticVideo(const SyntheticVideo &) = delete;
  SyntheticVideo &operator=(const SyntheticVideo &) = delete;

  /* Builds "appsrc name=src ! <downstream>" and wires the source to this. */
  GstObjectPtr<GstElement> pipeline(const std::string &downstream) {
    const std::string description = "appsrc name=src ! " + downstream;
    GError *raw_error = nullptr;
    GstElement *parsed = gst_parse_launch(description.c_str(), &raw_error);
    GErrorPtr error(raw_error);
    if (parsed == nullptr || error) {
      ADD_FAILURE() << "cannot parse \"" << description
                    << "\": " << (error ? error->message : "unknown error");
      if (parsed) gst_object_unref(parsed);
      return {};
    }
    auto pipeline = adopt_floating(parsed);
    GstObjectPtr<GstElement> src(gst_bin_get_by_name(GST_BIN(pipeline.get()), "src"));
    g_object_set(src.get(), "caps", caps_.get(), "format", GST_FORMAT_TIME, "stream-type",
                 1 /* GST_APP_STREAM_TYPE_SEEKABLE */, nullptr);
    g_signal_connect(src.get(), "need-data", G_CALLBACK(&SyntheticVideo::on_need_data), this);
    g_signal_connect(src.get(), "seek-data", G_CALLBACK(&SyntheticVideo::on_seek_data), this);
    return pipeline;
  }

  /* When the source is asked for frame n, it pushes nothing and posts an
   * application message "synthetic-video-held" instead, until a seek. Every
   * frame before n has then gone through the pipeline. */
  void hold_at(guint64 n) {
    std::lock_guard<std::mutex> lock(mutex_);
    hold_at_ = n;
  }

 private:
  static void on_need_data(GstElement *src, guint, gpointer user_data) {
    auto *self = static_cast<SyntheticVideo *>(user_data);
    guint64 n;
    {
      std::lock_guard<std::mutex> lock(self->mutex_);
      n = self->next_;
      if (self->hold_at_ && *self->hold_at_ == n) {
        self->hold_at_.reset();
        gst_element_post_message(
            src, gst_message_new_application(GST_OBJECT(src),
                                             gst_structure_new_empty("synthetic-video-held")));
        return;
      }
      if (n >= self->n_frames_) {
        GstFlowReturn ret;
        g_signal_emit_by_name(src, "end-of-stream", &ret);
        return;
      }
      self->next_ = n + 1;
    }
    BufferPtr buffer(gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&self->info_), nullptr));
    GstVideoFrame frame;
    if (!gst_video_frame_map(&frame, &self->info_, buffer.get(), GST_MAP_WRITE)) {
      ADD_FAILURE() << "cannot map a frame";
      return;
    }
    self->painter_(n, &frame);
    gst_video_frame_unmap(&frame);
    GST_BUFFER_PTS(buffer.get()) = frame_time(n);
    GST_BUFFER_DURATION(buffer.get()) = frame_time(n + 1) - frame_time(n);
    GstFlowReturn ret;
    g_signal_emit_by_name(src, "push-buffer", buffer.get(), &ret);
  }

  static gboolean on_seek_data(GstElement *, guint64 position, gpointer user_data) {
    auto *self = static_cast<SyntheticVideo *>(user_data);
    std::lock_guard<std::mutex> lock(self->mutex_);
    /* The first frame starting at or after the position. */
    self->next_ = gst_util_uint64_scale_ceil(position, kFps, GST_SECOND);
    return TRUE;
  }

  CapsPtr caps_;
  GstVideoInfo info_{};
  guint64 n_frames_;
  FramePainter painter_;
  std::mutex mutex_;
  guint64 next_ = 0;
  std::optional<guint64> hold_at_;
};

/* Plays pipeline to EOS like run_pipeline(); when the source posts
 * "synthetic-video-held", does a flushing seek to seek_to. */
inline PipelineRun run_with_seek(GstElement *pipeline, GstClockTime seek_to,
                                 GstClockTime timeout = 60 * GST_SECOND) {
  PipelineRun run;
  bool seeked = false;
  GstObjectPtr<GstBus> bus(gst_element_get_bus(pipeline));
  EXPECT_NE(gst_element_set_state(pipeline, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  const gint64 deadline = g_get_monotonic_time() + static_cast<gint64>(timeout / GST_USECOND);
  while (true) {
    const gint64 left_us = deadline - g_get_monotonic_time();
    if (left_us <= 0) {
      ADD_FAILURE() << "pipeline did not reach EOS in time";
      break;
    }
    MessagePtr message(gst_bus_timed_pop_filtered(
        bus.get(), static_cast<GstClockTime>(left_us) * GST_USECOND,
        static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT |
                                    GST_MESSAGE_APPLICATION)));
    if (!message) continue;
    const GstStructure *s = gst_message_get_structure(message.get());
    if (GST_MESSAGE_TYPE(message.get()) == GST_MESSAGE_APPLICATION &&
        gst_structure_has_name(s, "synthetic-video-held")) {
      EXPECT_TRUE(gst_element_seek_simple(
          pipeline, GST_FORMAT_TIME,
          static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE), seek_to));
      seeked = true;
    } else if (GST_MESSAGE_TYPE(message.get()) == GST_MESSAGE_ELEMENT) {
      run.element_messages.emplace_back(gst_structure_copy(s));
    } else if (GST_MESSAGE_TYPE(message.get()) == GST_MESSAGE_ERROR) {
      GError *raw_error = nullptr;
      gst_message_parse_error(message.get(), &raw_error, nullptr);
      GErrorPtr error(raw_error);
      run.error = error->message;
      break;
    } else if (GST_MESSAGE_TYPE(message.get()) == GST_MESSAGE_EOS) {
      run.reached_eos = true;
      break;
    }
  }
  EXPECT_TRUE(seeked) << "the source never reached the frame to seek from";
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return run;
}

/* The four time fields every analysis message carries. */
struct AnalysisTimes {
  guint64 timestamp, stream_time, running_time, duration;
};

inline AnalysisTimes analysis_times(const GstStructure *s) {
  return {get_uint64(s, "timestamp"), get_uint64(s, "stream-time"), get_uint64(s, "running-time"),
          get_uint64(s, "duration")};
}

}  // namespace reelforge::test
