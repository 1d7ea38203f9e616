/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * audioducker: lowers the music on its sink pad while the sidechain (voice)
 * is above a threshold. See the SECTION:element-audioducker block in the .cpp.
 */
#pragma once

#include <gst/base/gstaggregator.h>
#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_AUDIO_DUCKER (gst_audio_ducker_get_type())
G_DECLARE_FINAL_TYPE(GstAudioDucker, gst_audio_ducker, GST, AUDIO_DUCKER, GstAggregator)

GST_ELEMENT_REGISTER_DECLARE(audioducker);

G_END_DECLS
