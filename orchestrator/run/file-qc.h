/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * QC of a finished file: decode it through qcprobe (pipelines/qc-file*)
 * and add the checks that need the file itself: size, overall bitrate,
 * faststart, codecs.
 */
#pragma once

#include "media-inspector.h"
#include "platform-profile.h"
#include "qc-report.h"

#include <string>

namespace reelforge::run {

/* The pipeline description that decodes facts' file through qcprobe. */
std::string qc_file_description(const MediaFacts &facts, const std::string &profile);

/* Judges the file at path against profile. Throws MediaError for a file
 * that cannot be read or decoded to its end, qc::ProfileError for a bad
 * profile. */
qc::QcReport qc_file(const std::string &path, const std::string &profile, GstClockTime timeout);

}  // namespace reelforge::run
