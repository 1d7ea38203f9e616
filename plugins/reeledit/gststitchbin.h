/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_STITCH_BIN (gst_stitch_bin_get_type())
G_DECLARE_FINAL_TYPE(GstStitchBin, gst_stitch_bin, GST, STITCH_BIN, GstBin)

GST_ELEMENT_REGISTER_DECLARE(stitchbin);

G_END_DECLS
