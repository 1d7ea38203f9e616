/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * stitchbin's transition frames: one output frame blended from the outgoing
 * clip's frame (a) and the incoming clip's frame (b) at a progress between
 * 0 (exactly a) and 1 (exactly b). Planar YUV (I420) of one size only.
 */
#pragma once

#include "stitch-timeline.h"

#include <gst/video/video.h>

namespace reelforge::stitch {

/* Progress of frame j of a transition k frames long: 0 on its first frame,
 * 1 on its last, so the first and last transition frames are the pure
 * sources and the frames between move in equal steps. */
double transition_progress(guint64 j, guint64 k);

/* Writes the transition frame into out; a, b and out share one format
 * (I420) and size. progress is clamped to [0, 1]. */
void render_transition(TransitionType type, double progress, const GstVideoFrame &a,
                       const GstVideoFrame &b, GstVideoFrame &out);

}  // namespace reelforge::stitch
