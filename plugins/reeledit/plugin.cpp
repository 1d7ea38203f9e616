/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The reeledit plugin: stitching clips with transitions, captions and
 * overlays, ducking and loudness normalisation.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstaudioducker.h"
#include "gstcaptionoverlay.h"
#include "gstloudnorm.h"
#include "gststitchbin.h"
#include "gstthumbnailpicker.h"

#include <gst/gst.h>

static gboolean plugin_init(GstPlugin *plugin) {
  gboolean ret = FALSE;
  ret |= GST_ELEMENT_REGISTER(audioducker, plugin);
  ret |= GST_ELEMENT_REGISTER(captionoverlay, plugin);
  ret |= GST_ELEMENT_REGISTER(loudnorm, plugin);
  ret |= GST_ELEMENT_REGISTER(stitchbin, plugin);
  ret |= GST_ELEMENT_REGISTER(thumbnailpicker, plugin);
  return ret;
}

GST_PLUGIN_DEFINE(GST_VERSION_MAJOR, GST_VERSION_MINOR, reeledit,
                  "Editing for short-form video: clips stitched with transitions, captions and "
                  "overlays, music ducking and loudness normalisation",
                  plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
