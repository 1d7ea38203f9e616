/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "analysis-message.h"

namespace reelforge {

GstStructure *new_analysis_structure(const char *name, const GstSegment &segment,
                                     GstClockTime start, GstClockTime duration) {
  const GstClockTime stream_time = gst_segment_to_stream_time(&segment, GST_FORMAT_TIME, start);
  const GstClockTime running_time = gst_segment_to_running_time(&segment, GST_FORMAT_TIME, start);
  return gst_structure_new(name, "timestamp", G_TYPE_UINT64, start, "stream-time", G_TYPE_UINT64,
                           stream_time, "running-time", G_TYPE_UINT64, running_time, "duration",
                           G_TYPE_UINT64, duration, nullptr);
}

void post_element_message(GstElement *element, GstStructure *structure) {
  gst_element_post_message(element, gst_message_new_element(GST_OBJECT_CAST(element), structure));
}

}  // namespace reelforge
