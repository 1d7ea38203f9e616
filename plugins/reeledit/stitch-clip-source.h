/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One of stitchbin's clips being decoded: a private pipeline for a URI
 * (uridecodebin -> appsink for video in its native format, and
 * audioconvert ! audioresample -> appsink at the output's audio format), a
 * single decoded frame for an image, a Cairo-drawn frame for a card. The
 * element's video thread takes its frames, fitted to each output size, and
 * its audio thread takes its samples.
 */
#pragma once

#include "gst-ptr.h"
#include "stitch-converter.h"
#include "stitch-frame-fitter.h"
#include "stitch-timeline.h"

#include <gst/audio/audio.h>
#include <gst/video/video.h>

#include <atomic>
#include <cstddef>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <vector>

namespace reelforge::stitch {

/* The target formats, fixed when the element starts. */
struct OutputFormat {
  std::vector<GstVideoInfo> videos; /* [0] for the video pad, [r] for video_r */
  GstAudioInfo audio;
  gint fps_n = 0;
  gint fps_d = 1;
  gint rate = 0;
  gint channels = 0;
};

/* Thrown inside the worker threads when the element stops; never reported. */
struct StopRequested {};

/* One clip being decoded: its private pipeline (or still picture) and where
 * each output stream has got to in it. The video methods are only called
 * from the video thread and the audio ones from the audio thread. */
class ClipSource {
 public:
  /* element is the stitchbin: errors on the clip's streaming threads are
   * posted on it, and it names the clip's log lines. stopping makes waits
   * throw StopRequested. */
  ClipSource(GstElement *element, const PlannedClip &clip, const OutputFormat &format,
             const std::atomic<bool> &stopping);
  ~ClipSource();
  ClipSource(const ClipSource &) = delete;
  ClipSource &operator=(const ClipSource &) = delete;

  const PlannedClip &clip() const { return clip_; }

  /* Builds and prerolls the clip. Safe to call from both threads. */
  void open();

  /* Stops the clip's pipeline and lets it go. */
  void close();

  /* Output frame j of the clip (0 = its first) in rendition r's format.
   * The renditions of one frame share its decoded source frame. */
  BufferPtr video_frame(guint64 j, std::size_t r);

  /* The clip's next n audio frames (interleaved F32, output format) into
   * dst; silence where it has none. */
  void read_audio(float *dst, guint64 n);

  bool video_released = false; /* under the element's clip lock */
  bool audio_released = false;

 private:
  static BufferPtr ref(GstBuffer *buffer) { return BufferPtr(gst_buffer_ref(buffer)); }

  /* What the video thread keeps per output size. */
  struct Rendition {
    explicit Rendition(const GstVideoInfo &out) : info(out), fitter(out) {}
    BufferPtr black_frame();
    GstVideoInfo info;
    FrameFitter fitter;
    GstBuffer *last_source = nullptr; /* identity only, owned by current_ */
    Rect last_rect{};
    BufferPtr last_output;
    BufferPtr black;
    BufferPtr card; /* a card clip, drawn at this size */
  };

  [[noreturn]] void fail(GQuark domain, gint code, const std::string &what);
  void check_bus();
  bool pull(GstElement *sink, SamplePtr &out);
  static GstClockTime frame_start(GstSample *sample);
  void take_audio_block(GstSample *sample);
  BufferPtr image_frame(guint64 j, Rendition &rendition);
  GstElement *make(const char *factory);
  GstElement *make_appsink(GstCaps *caps, guint max_buffers);
  void wait_preroll();
  static void on_element_added(GstBin *, GstBin *, GstElement *element, gpointer);
  static void on_pad_added(GstElement *, GstPad *pad, gpointer user_data);
  void link_decoded_pad(GstPad *pad);
  void open_uri();
  void open_image();

  GstElement *element_;
  const PlannedClip clip_;
  const OutputFormat format_;
  const std::atomic<bool> &stopping_;

  std::mutex open_lock_;
  bool opened_ = false;
  std::exception_ptr open_error_;
  GstObjectPtr<GstElement> pipeline_;
  GstElement *video_sink_ = nullptr; /* owned by pipeline_ */
  GstElement *audio_sink_ = nullptr;
  std::mutex pads_lock_;
  GstElement *video_head_ = nullptr; /* waiting for a decoded pad, under pads_lock_ */
  GstElement *audio_head_ = nullptr;

  /* video thread */
  std::deque<Rendition> renditions_; /* indexed like format_.videos (not movable) */
  SamplePtr current_, pending_;
  bool video_eos_ = false;
  BufferPtr still_; /* image: BGRx as decoded */
  GstVideoInfo still_info_{};

  /* audio thread */
  std::vector<float> audio_block_;
  std::size_t audio_offset_ = 0; /* floats consumed from audio_block_ */
  gint64 audio_block_start_ = 0; /* clip sample where the block starts */
  guint64 audio_position_ = 0;   /* clip samples delivered */
  bool audio_eos_ = false;
};

}  // namespace reelforge::stitch
