/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_BLACK_FRAME_DETECT (gst_black_frame_detect_get_type())
G_DECLARE_FINAL_TYPE(GstBlackFrameDetect, gst_black_frame_detect, GST, BLACK_FRAME_DETECT,
                     GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE(blackframedetect);

G_END_DECLS
