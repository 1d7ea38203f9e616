/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * stitchbin's title cards: a background colour or gradient and centred,
 * wrapped text, drawn with Pango/Cairo once per output size.
 */
#pragma once

#include "gst-ptr.h"
#include "stitch-timeline.h"

#include <gst/video/video.h>

namespace reelforge::stitch {

/* Renders a title card into an I420 frame of the output size. */
BufferPtr render_card(const Card &card, const GstVideoInfo &out);

}  // namespace reelforge::stitch
