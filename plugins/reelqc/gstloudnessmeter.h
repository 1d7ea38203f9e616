/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * loudnessmeter: passthrough EBU R128 loudness, peak and silence analyser
 * for raw audio. See the SECTION:element-loudnessmeter block in the .cpp.
 */
#pragma once

#include <gst/audio/gstaudiofilter.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_LOUDNESS_METER (gst_loudness_meter_get_type())
G_DECLARE_FINAL_TYPE(GstLoudnessMeter, gst_loudness_meter, GST, LOUDNESS_METER, GstAudioFilter)

GST_ELEMENT_REGISTER_DECLARE(loudnessmeter);

G_END_DECLS
