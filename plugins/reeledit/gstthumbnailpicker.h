/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/video/gstvideofilter.h>

G_BEGIN_DECLS

#define GST_TYPE_THUMBNAIL_PICKER (gst_thumbnail_picker_get_type())
G_DECLARE_FINAL_TYPE(GstThumbnailPicker, gst_thumbnail_picker, GST, THUMBNAIL_PICKER,
                     GstVideoFilter)

GST_ELEMENT_REGISTER_DECLARE(thumbnailpicker);

G_END_DECLS
