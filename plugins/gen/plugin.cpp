/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reelgen plugin: sources that generate media, from paid providers over
 * HTTP or offline. Registration only; one line per element.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstgenvideosrc.h"
#include "gstttssrc.h"

#include <gst/gst.h>

static gboolean plugin_init(GstPlugin *plugin) {
  gboolean ret = FALSE;
  ret |= GST_ELEMENT_REGISTER(genvideosrc, plugin);
  ret |= GST_ELEMENT_REGISTER(ttssrc, plugin);
  return ret;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, reelgen,
                  "Generation sources: AI video providers and an offline renderer, text to speech",
                  plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
