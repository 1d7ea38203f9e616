/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "plan/media-inspector.h"

#include "gst-ptr.h"
#include "time-convert.h"

#include <gst/pbutils/pbutils.h>

#include <array>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace reelforge::plan {

namespace {

std::optional<std::string> codec_name(const GstCaps *caps, std::optional<std::string> *profile) {
  if (caps == nullptr || gst_caps_is_empty(caps) || gst_caps_is_any(caps)) return std::nullopt;
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  const std::string media = gst_structure_get_name(s);
  if (profile) {
    if (const char *p = gst_structure_get_string(s, "profile")) *profile = p;
  }
  if (media == "video/x-h264") return "h264";
  if (media == "video/x-h265") return "h265";
  if (media == "video/x-vp8") return "vp8";
  if (media == "video/x-vp9") return "vp9";
  if (media == "video/x-av1") return "av1";
  if (media == "video/x-raw" || media == "audio/x-raw") return "raw";
  if (media == "audio/mpeg") {
    gint version = 0;
    gst_structure_get_int(s, "mpegversion", &version);
    if (version == 2 || version == 4) return "aac";
    return "mp3";
  }
  if (media == "audio/x-opus") return "opus";
  if (media == "audio/x-vorbis") return "vorbis";
  if (media == "audio/x-flac") return "flac";
  /* Anything else by its media type, which is still informative. */
  return media;
}

std::optional<std::string> container_name(const GstCaps *caps) {
  if (caps == nullptr || gst_caps_is_empty(caps)) return std::nullopt;
  const GstStructure *s = gst_caps_get_structure(caps, 0);
  const std::string media = gst_structure_get_name(s);
  if (media == "video/quicktime") {
    const char *variant = gst_structure_get_string(s, "variant");
    return variant && std::strcmp(variant, "iso") == 0 ? "mp4" : "mov";
  }
  if (media == "video/x-matroska") return "matroska";
  if (media == "video/webm") return "webm";
  if (media == "audio/x-wav") return "wav";
  return media;
}

std::string discoverer_failure(GstDiscovererResult result, const GError *error) {
  switch (result) {
    case GST_DISCOVERER_TIMEOUT:
      return "inspecting it timed out";
    case GST_DISCOVERER_MISSING_PLUGINS:
      return "GStreamer lacks a plugin to read it" +
             (error ? std::string(" (") + error->message + ")" : std::string());
    default:
      return std::string("not a media file GStreamer can read") +
             (error ? std::string(" (") + error->message + ")" : std::string());
  }
}

}  // namespace

std::optional<bool> moov_before_mdat(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  std::uint64_t offset = 0;
  const auto size = std::filesystem::file_size(path);
  while (file && offset + 8 <= size) {
    std::array<unsigned char, 16> header{};
    file.seekg(static_cast<std::streamoff>(offset));
    if (!file.read(reinterpret_cast<char *>(header.data()), 8)) break;
    std::uint64_t box_size =
        (std::uint64_t{header[0]} << 24) | (header[1] << 16) | (header[2] << 8) | header[3];
    const std::string type(reinterpret_cast<const char *>(header.data()) + 4, 4);
    if (type == "moov") return true;
    if (type == "mdat") return false;
    if (box_size == 1) { /* a 64-bit size follows the type */
      if (!file.read(reinterpret_cast<char *>(header.data()) + 8, 8)) break;
      box_size = 0;
      for (int i = 8; i < 16; ++i) box_size = (box_size << 8) | header[i];
    } else if (box_size == 0) { /* the box runs to the end of the file */
      break;
    }
    if (box_size < 8) break; /* corrupt: it would never advance */
    offset += box_size;
  }
  return std::nullopt;
}

MediaFacts inspect_media(const std::string &path, GstClockTime timeout) {
  std::error_code error_code;
  const auto status = std::filesystem::status(path, error_code);
  if (!std::filesystem::exists(status)) throw MediaError(path + ": no such file");
  if (!std::filesystem::is_regular_file(status)) throw MediaError(path + ": not a regular file");
  MediaFacts facts;
  facts.path = path;
  facts.size_bytes = std::filesystem::file_size(path, error_code);
  if (error_code) throw MediaError(path + ": " + error_code.message());
  if (facts.size_bytes == 0) throw MediaError(path + ": the file is empty");
  if (!std::ifstream(path).good()) throw MediaError(path + ": cannot be read (permissions?)");

  GError *raw_error = nullptr;
  GCharPtr uri(gst_filename_to_uri(path.c_str(), &raw_error));
  GErrorPtr uri_error(raw_error);
  if (!uri) throw MediaError(path + ": " + uri_error->message);
  facts.uri = uri.get();

  GObjectPtr<GstDiscoverer> discoverer(gst_discoverer_new(timeout, &raw_error));
  GErrorPtr discoverer_error(raw_error);
  if (!discoverer)
    throw MediaError(std::string("cannot inspect media: ") + discoverer_error->message);
  GObjectPtr<GstDiscovererInfo> info(
      gst_discoverer_discover_uri(discoverer.get(), facts.uri.c_str(), &raw_error));
  GErrorPtr discover_error(raw_error);
  const GstDiscovererResult result =
      info ? gst_discoverer_info_get_result(info.get()) : GST_DISCOVERER_ERROR;
  if (result != GST_DISCOVERER_OK)
    throw MediaError(path + ": " + discoverer_failure(result, discover_error.get()));

  const GstClockTime duration = gst_discoverer_info_get_duration(info.get());
  if (GST_CLOCK_TIME_IS_VALID(duration) && duration > 0) facts.duration_s = to_seconds(duration);

  if (GstDiscovererStreamInfo *top = gst_discoverer_info_get_stream_info(info.get())) {
    if (GST_IS_DISCOVERER_CONTAINER_INFO(top)) {
      MiniObjectPtr<GstCaps> caps(gst_discoverer_stream_info_get_caps(top));
      facts.container_format = container_name(caps.get());
    }
    gst_discoverer_stream_info_unref(top);
  }

  GList *videos = gst_discoverer_info_get_video_streams(info.get());
  for (GList *l = videos; l; l = l->next) {
    auto *stream = static_cast<GstDiscovererStreamInfo *>(l->data);
    /* Cover art is a one-frame "video" stream; it does not count. */
    if (gst_discoverer_video_info_is_image(GST_DISCOVERER_VIDEO_INFO(stream))) continue;
    ++facts.video_streams;
    if (facts.has_video) continue;
    facts.has_video = true;
    MiniObjectPtr<GstCaps> caps(gst_discoverer_stream_info_get_caps(stream));
    facts.video_codec = codec_name(caps.get(), &facts.video_profile);
    GCharPtr caps_text(gst_caps_to_string(caps.get()));
    facts.video_caps = caps_text.get();
    auto *video = GST_DISCOVERER_VIDEO_INFO(stream);
    facts.width = static_cast<int>(gst_discoverer_video_info_get_width(video));
    facts.height = static_cast<int>(gst_discoverer_video_info_get_height(video));
    if (gst_discoverer_video_info_get_framerate_denom(video) > 0)
      facts.fps = static_cast<double>(gst_discoverer_video_info_get_framerate_num(video)) /
                  gst_discoverer_video_info_get_framerate_denom(video);
  }
  gst_discoverer_stream_info_list_free(videos);

  GList *audios = gst_discoverer_info_get_audio_streams(info.get());
  facts.audio_streams = static_cast<int>(g_list_length(audios));
  if (audios != nullptr) {
    facts.has_audio = true;
    MiniObjectPtr<GstCaps> caps(
        gst_discoverer_stream_info_get_caps(static_cast<GstDiscovererStreamInfo *>(audios->data)));
    facts.audio_codec = codec_name(caps.get(), nullptr);
    GCharPtr caps_text(gst_caps_to_string(caps.get()));
    facts.audio_caps = caps_text.get();
  }
  gst_discoverer_stream_info_list_free(audios);

  if (!facts.has_video && !facts.has_audio)
    throw MediaError(path + ": holds no video or audio stream");
  if (facts.container_format == "mp4" || facts.container_format == "mov")
    facts.faststart = moov_before_mdat(path);
  return facts;
}

}  // namespace reelforge::plan
