/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a media file is before anything decodes it: its streams and codecs
 * (GstDiscoverer), its size, and for MP4/MOV whether the moov box comes
 * before mdat (faststart). Bad files become MediaError naming the file.
 */
#pragma once

#include <gst/gst.h>

#include <optional>
#include <stdexcept>
#include <string>

namespace reelforge::plan {

class MediaError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct MediaFacts {
  std::string path;
  std::string uri;
  guint64 size_bytes = 0;
  std::optional<double> duration_s;            /* as the container declares it */
  std::optional<std::string> container_format; /* "mp4", "mov", "matroska", ... */
  std::optional<bool> faststart;               /* ISO BMFF only */
  bool has_video = false;
  bool has_audio = false;
  std::optional<std::string> video_codec; /* "h264", "h265", "vp9", ... */
  std::optional<std::string> video_profile;
  std::optional<std::string> audio_codec; /* "aac", "opus", ... */
  /* The streams' full caps (codec_data included): two files whose caps are
   * equal can be joined without re-encoding. */
  std::optional<std::string> video_caps;
  std::optional<std::string> audio_caps;
  int width = 0, height = 0; /* the video's, in pixels */
  double fps = 0;
  int video_streams = 0, audio_streams = 0;
};

/* Inspects the file at path, giving up after timeout. Throws MediaError. */
MediaFacts inspect_media(const std::string &path, GstClockTime timeout);

/* Whether the top-level boxes of an ISO BMFF file put moov before mdat;
 * nullopt when the file has neither (not ISO BMFF, or cut short). */
std::optional<bool> moov_before_mdat(const std::string &path);

}  // namespace reelforge::plan
