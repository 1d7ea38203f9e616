/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_CAPTION_OVERLAY (gst_caption_overlay_get_type())
G_DECLARE_FINAL_TYPE(GstCaptionOverlay, gst_caption_overlay, GST, CAPTION_OVERLAY, GstElement)

GST_ELEMENT_REGISTER_DECLARE(captionoverlay);

G_END_DECLS
