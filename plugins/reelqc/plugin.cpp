/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reelqc plugin: quality-control analysers and the qcprobe bin.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstblackframedetect.h"
#include "gstfreezedetect.h"
#include "gstloudnessmeter.h"
#include "gstqcprobe.h"

#include <gst/gst.h>

static gboolean plugin_init(GstPlugin *plugin) {
  gboolean ret = FALSE;
  ret |= GST_ELEMENT_REGISTER(blackframedetect, plugin);
  ret |= GST_ELEMENT_REGISTER(freezedetect, plugin);
  ret |= GST_ELEMENT_REGISTER(loudnessmeter, plugin);
  ret |= GST_ELEMENT_REGISTER(qcprobe, plugin);
  return ret;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, reelqc,
                  "Quality control for short-form video: black, frozen and silent intervals, "
                  "EBU R128 loudness, and a verdict against a platform profile",
                  plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
