/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstbasesrc.h>

G_BEGIN_DECLS

#define GST_TYPE_GEN_VIDEO_SRC (gst_gen_video_src_get_type())
G_DECLARE_FINAL_TYPE(GstGenVideoSrc, gst_gen_video_src, GST, GEN_VIDEO_SRC, GstBaseSrc)

GST_ELEMENT_REGISTER_DECLARE(genvideosrc);

G_END_DECLS
