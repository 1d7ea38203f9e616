/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "plan/qc-file-plan.h"

#include "plan/pipeline-template.h"

#include <map>

namespace reelforge::plan {

std::string qc_file_description(const MediaFacts &facts, const std::string &profile,
                                const QcFilePlan &plan) {
  const std::map<std::string, std::string> values{
      {"uri", facts.uri},
      {"profile", profile},
      {"thumbnails", std::to_string(plan.thumbnails)},
      {"thumbnail_pattern", plan.thumbnails > 0 ? plan.thumbnail_pattern : "unused-%d.jpg"}};
  std::string description = PipelineTemplate::load("qc-file").fill(values);
  if (facts.has_video) description += "  " + PipelineTemplate::load("qc-file-video").fill(values);
  if (facts.has_audio) description += "  " + PipelineTemplate::load("qc-file-audio").fill(values);
  return description;
}

}  // namespace reelforge::plan
