/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The element messages every analyser posts carry the same four time fields
 * as GstLevel's: timestamp, stream-time, running-time and duration of the
 * stretch of media they describe. This builds them from the current segment.
 */
#pragma once

#include <gst/gst.h>

namespace reelforge {

/* A new structure named name holding timestamp (= start), stream-time,
 * running-time and duration; stream and running time are derived from
 * segment. The caller adds its own fields and posts it with
 * post_element_message(), never under the object lock. */
GstStructure *new_analysis_structure(const char *name, const GstSegment &segment,
                                     GstClockTime start, GstClockTime duration);

/* Posts structure (taken) as an element message from element. */
void post_element_message(GstElement *element, GstStructure *structure);

}  // namespace reelforge
