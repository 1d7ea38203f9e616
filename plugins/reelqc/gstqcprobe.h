/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_QC_PROBE (gst_qc_probe_get_type())
G_DECLARE_FINAL_TYPE(GstQcProbe, gst_qc_probe, GST, QC_PROBE, GstBin)

#define GST_TYPE_QC_PROBE_ON_FAIL (gst_qc_probe_on_fail_get_type())
GType gst_qc_probe_on_fail_get_type(void);

/**
 * GstQcProbeOnFail:
 * @GST_QC_PROBE_ON_FAIL_WARN: post the report and let EOS through
 * @GST_QC_PROBE_ON_FAIL_ERROR: post the report, then an error instead of EOS
 */
typedef enum {
  GST_QC_PROBE_ON_FAIL_WARN,
  GST_QC_PROBE_ON_FAIL_ERROR,
} GstQcProbeOnFail;

GST_ELEMENT_REGISTER_DECLARE(qcprobe);

G_END_DECLS
