/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Test signals for the reeledit audio elements: an appsrc that generates a
 * signal on demand, and a fakesink probe that keeps what reaches it.
 */
#pragma once

#include "gst-ptr.h"
#include "time-convert.h"

#include <gst/audio/audio.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace reelforge::test {

/* A signal as a function of the frame index and channel, full scale = 1.0. */
using Signal = std::function<double(guint64 frame, guint channel)>;

inline Signal sine(double amplitude, double frequency, gint rate) {
  return [=](guint64 frame, guint) {
    return amplitude * std::sin(2.0 * G_PI * frequency * static_cast<double>(frame) / rate);
  };
}

inline Signal silence() {
  return [](guint64, guint) { return 0.0; };
}

/* Deterministic noise with a crest factor of about 11 dB (sum of four
 * uniform values per sample, from a fixed-seed generator): channel c of
 * frame f is always the same number. */
inline Signal noise(double amplitude) {
  return [=](guint64 frame, guint channel) {
    guint64 x = (frame * 8 + channel) * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
    double sum = 0.0;
    for (int i = 0; i < 4; ++i) {
      x ^= x >> 31;
      x *= 0xBF58476D1CE4E5B9ull;
      x ^= x >> 27;
      sum += static_cast<double>(x >> 11) / static_cast<double>(1ull << 53) - 0.5;
    }
    return amplitude * sum / 2.0;
  };
}

/* noise() squashed by a soft clipper, like a heavily mastered mix: peaks
 * stay under amplitude and the crest factor is about 5 dB. */
inline Signal dense_noise(double amplitude) {
  return [n = noise(0.5), amplitude](guint64 frame, guint channel) {
    return amplitude * std::tanh(4.0 * n(frame, channel));
  };
}

/* piecewise({{end_frame, signal}, ...}): each signal up to its end frame. */
inline Signal piecewise(std::vector<std::pair<guint64, Signal>> pieces) {
  return [pieces = std::move(pieces)](guint64 frame, guint channel) {
    for (const auto &[end, signal] : pieces)
      if (frame < end) return signal(frame, channel);
    return 0.0;
  };
}

/* What an appsrc named in a pipeline generates: frames of signal in
 * buffers of buffer_frames, timestamped from 0 by sample count. */
struct GeneratedAudio {
  std::string format = "F32LE";
  gint rate = 48000;
  guint channels = 2;
  guint64 frames = 0;
  Signal signal;
  guint64 buffer_frames = 1024;
  guint64 next = 0;

  std::string caps() const {
    return "audio/x-raw,format=" + format + ",rate=" + std::to_string(rate) +
           ",channels=" + std::to_string(channels) + ",layout=interleaved";
  }
};

inline void generate_next(GstElement *appsrc, guint, gpointer data) {
  auto *audio = static_cast<GeneratedAudio *>(data);
  GstFlowReturn ret = GST_FLOW_OK;
  if (audio->next >= audio->frames) {
    g_signal_emit_by_name(appsrc, "end-of-stream", &ret);
    return;
  }
  const guint64 n = std::min(audio->buffer_frames, audio->frames - audio->next);
  const bool is_float = audio->format == "F32LE";
  const gsize width = is_float ? 4 : 2;
  BufferPtr buffer(gst_buffer_new_allocate(nullptr, n * audio->channels * width, nullptr));
  GstMapInfo map;
  gst_buffer_map(buffer.get(), &map, GST_MAP_WRITE);
  for (guint64 f = 0; f < n; ++f) {
    for (guint c = 0; c < audio->channels; ++c) {
      const double v = audio->signal(audio->next + f, c);
      const guint64 k = f * audio->channels + c;
      if (is_float) {
        reinterpret_cast<gfloat *>(map.data)[k] = static_cast<gfloat>(v);
      } else {
        reinterpret_cast<gint16 *>(map.data)[k] =
            static_cast<gint16>(std::clamp(std::lround(v * 32768.0), -32768L, 32767L));
      }
    }
  }
  gst_buffer_unmap(buffer.get(), &map);
  GST_BUFFER_PTS(buffer.get()) = samples_to_time(audio->next, audio->rate);
  GST_BUFFER_DURATION(buffer.get()) =
      samples_to_time(audio->next + n, audio->rate) - GST_BUFFER_PTS(buffer.get());
  audio->next += n;
  g_signal_emit_by_name(appsrc, "push-buffer", buffer.get(), &ret);
}

/* Makes the appsrc called name in pipeline generate audio (which must
 * outlive the pipeline's run). */
inline void attach_generator(GstElement *pipeline, const char *name, GeneratedAudio &audio) {
  GstObjectPtr<GstElement> appsrc(gst_bin_get_by_name(GST_BIN(pipeline), name));
  ASSERT_TRUE(appsrc) << "no element " << name;
  CapsPtr caps(gst_caps_from_string(audio.caps().c_str()));
  g_object_set(appsrc.get(), "caps", caps.get(), "format", GST_FORMAT_TIME, nullptr);
  g_signal_connect(appsrc.get(), "need-data", G_CALLBACK(generate_next), &audio);
}

/* Output buffers reaching a sink: their times and their samples as
 * doubles (full scale 1.0), interleaved. */
struct CapturedAudio {
  std::mutex lock;
  std::vector<std::pair<GstClockTime, GstClockTime>> times; /* (pts, duration) */
  std::vector<double> samples;
  guint channels = 0;
  bool is_float = true;

  guint64 frames() const { return channels ? samples.size() / channels : 0; }

  /* RMS in dBFS of channel 0 over frames [first, last). */
  double rms_db(guint64 first, guint64 last) const {
    double sum = 0.0;
    for (guint64 f = first; f < last; ++f) {
      const double v = samples[f * channels];
      sum += v * v;
    }
    return 10.0 * std::log10(sum / static_cast<double>(last - first));
  }
};

inline GstPadProbeReturn capture_buffer(GstPad *pad, GstPadProbeInfo *info, gpointer data) {
  auto *captured = static_cast<CapturedAudio *>(data);
  GstBuffer *buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  CapsPtr caps(gst_pad_get_current_caps(pad));
  GstAudioInfo audio_info;
  gst_audio_info_from_caps(&audio_info, caps.get());
  const std::lock_guard<std::mutex> lock(captured->lock);
  captured->channels = GST_AUDIO_INFO_CHANNELS(&audio_info);
  captured->is_float = GST_AUDIO_INFO_FORMAT(&audio_info) == GST_AUDIO_FORMAT_F32LE;
  captured->times.emplace_back(GST_BUFFER_PTS(buffer), GST_BUFFER_DURATION(buffer));
  GstMapInfo map;
  gst_buffer_map(buffer, &map, GST_MAP_READ);
  if (captured->is_float) {
    const auto *s = reinterpret_cast<const gfloat *>(map.data);
    captured->samples.insert(captured->samples.end(), s, s + map.size / 4);
  } else {
    const auto *s = reinterpret_cast<const gint16 *>(map.data);
    for (gsize i = 0; i < map.size / 2; ++i) captured->samples.push_back(s[i] / 32768.0);
  }
  gst_buffer_unmap(buffer, &map);
  return GST_PAD_PROBE_OK;
}

/* Keeps what reaches the sink pad of the element called name. */
inline void attach_capture(GstElement *pipeline, const char *name, CapturedAudio &captured) {
  GstObjectPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(pipeline), name));
  ASSERT_TRUE(sink) << "no element " << name;
  GstObjectPtr<GstPad> pad(gst_element_get_static_pad(sink.get(), "sink"));
  gst_pad_add_probe(pad.get(), GST_PAD_PROBE_TYPE_BUFFER, capture_buffer, &captured, nullptr);
}

/* Parses a pipeline description; fails the test on errors. */
inline GstObjectPtr<GstElement> parse_pipeline(const std::string &description) {
  GError *raw_error = nullptr;
  GstElement *parsed = gst_parse_launch(description.c_str(), &raw_error);
  GErrorPtr error(raw_error);
  EXPECT_TRUE(parsed != nullptr && !error)
      << description << ": " << (error ? error->message : "unknown error");
  return parsed ? adopt_floating(parsed) : GstObjectPtr<GstElement>();
}

}  // namespace reelforge::test
