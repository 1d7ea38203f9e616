/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * stitchbin's edit decision list: the clip JSON parsed into plain values,
 * and the timeline planned from it in whole output frames, so that every
 * clip start, transition and the total length land on exact frame times.
 */
#pragma once

#include "edit-vocabulary.h"

#include <gst/gst.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reelforge::stitch {

enum class SourceKind { kUri, kImage, kCard };

/* The clip JSON's words are the job spec's (edit-vocabulary.h). */
using edit::Fit;
using edit::Motion;
using edit::TransitionType;

/* A title card drawn with Pango/Cairo. Colours are 0xRRGGBB. */
struct Card {
  std::string text;
  guint32 background_top = 0x000000;
  guint32 background_bottom = 0x000000; /* equal to top unless a gradient */
  guint32 color = 0xffffff;
  std::string font; /* Pango font description; empty: sans bold sized to the frame */
};

/* One element of the `clips` array, as written. */
struct ClipSpec {
  std::size_t index = 0;
  SourceKind kind = SourceKind::kUri;
  std::string uri;        /* kUri */
  std::string image_path; /* kImage */
  Motion motion = Motion::kNone;
  Card card; /* kCard */
  double in_s = 0;
  std::optional<double> out_s;
  std::optional<double> duration_s;
  Fit fit = Fit::kCover;
  TransitionType transition = TransitionType::kCut; /* to the next clip */
  double transition_s = 0;

  /* "clips[2] (file:///a.mp4)", for error messages. */
  std::string describe() const;
};

/* Parses the `clips` property. Throws std::runtime_error naming the clip
 * ("clips[1]: ...") for anything malformed. */
std::vector<ClipSpec> parse_clips(std::string_view json);

/* What probing a URI clip found out. */
struct MediaInfo {
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  bool has_video = false;
  bool has_audio = false;
};

/* A clip placed on the output timeline, in output frames. Clip i covers
 * frames [start_frame, start_frame + frames); its first overlap_in frames
 * are shared with clip i-1 and its last overlap_out frames with clip i+1. */
struct PlannedClip {
  ClipSpec spec;
  MediaInfo media;
  guint64 start_frame = 0;
  guint64 frames = 0;
  guint64 overlap_in = 0;
  guint64 overlap_out = 0;

  guint64 end_frame() const { return start_frame + frames; }
};

struct Timeline {
  std::vector<PlannedClip> clips;
  gint fps_n = 30;
  gint fps_d = 1;
  guint64 total_frames = 0;

  GstClockTime frame_time(guint64 frame) const;
  GstClockTime duration() const { return frame_time(total_frames); }
};

/* Places the clips. probe is called for URI clips only (it may throw).
 * Throws std::runtime_error naming the clip for a zero-length clip, a
 * transition longer than either clip it joins, or two transitions that
 * overlap inside one clip. */
Timeline plan_timeline(std::vector<ClipSpec> clips, gint fps_n, gint fps_d,
                       const std::function<MediaInfo(const ClipSpec &)> &probe);

/* Whether every clip's duration is known without probing. */
bool durations_known(const std::vector<ClipSpec> &clips);

}  // namespace reelforge::stitch
