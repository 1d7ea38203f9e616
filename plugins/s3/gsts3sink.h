/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/base/gstbasesink.h>

G_BEGIN_DECLS

typedef enum {
  GST_S3_SINK_ON_ERROR_ABORT,
  GST_S3_SINK_ON_ERROR_COMPLETE,
} GstS3SinkOnError;

#define GST_TYPE_S3_SINK_ON_ERROR (gst_s3_sink_on_error_get_type())
GType gst_s3_sink_on_error_get_type(void);

#define GST_TYPE_S3_SINK (gst_s3_sink_get_type())
G_DECLARE_FINAL_TYPE(GstS3Sink, gst_s3_sink, GST, S3_SINK, GstBaseSink)

GST_ELEMENT_REGISTER_DECLARE(s3sink);

G_END_DECLS
