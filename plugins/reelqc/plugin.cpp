/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reelqc plugin: quality-control analysers and the qcprobe bin.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>

#include "gstloudnessmeter.h"

static gboolean plugin_init(GstPlugin *plugin) {
  gboolean ret = FALSE;
  ret |= GST_ELEMENT_REGISTER(loudnessmeter, plugin);
  return ret;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, reelqc,
                  "Quality control for short-form video: black, frozen and silent intervals, "
                  "EBU R128 loudness, and a verdict against a platform profile",
                  plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
