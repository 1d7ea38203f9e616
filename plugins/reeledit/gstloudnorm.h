/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * loudnorm: single-pass loudness normalisation to an integrated loudness
 * target with a true-peak ceiling. See the SECTION:element-loudnorm block in
 * the .cpp.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_LOUDNORM (gst_loudnorm_get_type())
G_DECLARE_FINAL_TYPE(GstLoudnorm, gst_loudnorm, GST, LOUDNORM, GstElement)

GST_ELEMENT_REGISTER_DECLARE(loudnorm);

G_END_DECLS
