/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reels3 plugin: S3-compatible storage, s3sink and s3src, and the
 * s3:// URI scheme.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gsts3sink.h"
#include "gsts3src.h"

#include <gst/gst.h>

static gboolean plugin_init(GstPlugin *plugin) {
  gboolean ret = FALSE;
  ret |= GST_ELEMENT_REGISTER(s3sink, plugin);
  ret |= GST_ELEMENT_REGISTER(s3src, plugin);
  return ret;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, reels3,
                  "S3-compatible storage: streaming multipart upload and ranged reads with "
                  "AWS Signature Version 4; the s3:// URI scheme",
                  plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
