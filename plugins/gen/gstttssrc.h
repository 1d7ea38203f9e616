/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_TTS_SRC (gst_tts_src_get_type())
G_DECLARE_FINAL_TYPE(GstTtsSrc, gst_tts_src, GST, TTS_SRC, GstBin)

GST_ELEMENT_REGISTER_DECLARE(ttssrc);

G_END_DECLS
