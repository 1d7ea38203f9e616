/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstbasesrc.h>

G_BEGIN_DECLS

#define GST_TYPE_S3_SRC (gst_s3_src_get_type())
G_DECLARE_FINAL_TYPE(GstS3Src, gst_s3_src, GST, S3_SRC, GstBaseSrc)

GST_ELEMENT_REGISTER_DECLARE(s3src);

G_END_DECLS
