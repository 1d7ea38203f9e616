/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The graph that judges a finished file: pipelines/qc-file* decode it
 * through qcprobe (and pick thumbnails on the way), with a branch for each
 * kind of stream the file has.
 */
#pragma once

#include "plan/media-inspector.h"

#include <string>

namespace reelforge::plan {

struct QcFilePlan {
  /* Thumbnails picked on the way: how many (0: none), and a file name
   * pattern with one %d, numbered from 1. */
  unsigned thumbnails = 0;
  std::string thumbnail_pattern;
};

/* The pipeline description that decodes facts' file through qcprobe,
 * judged against profile. */
std::string qc_file_description(const MediaFacts &facts, const std::string &profile,
                                const QcFilePlan &plan = {});

}  // namespace reelforge::plan
