/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/video/gstvideofilter.h>
#include <gst/video/video.h>

G_BEGIN_DECLS

#define GST_TYPE_FREEZE_DETECT (gst_freeze_detect_get_type())
G_DECLARE_FINAL_TYPE(GstFreezeDetect, gst_freeze_detect, GST, FREEZE_DETECT, GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE(freezedetect);

G_END_DECLS
