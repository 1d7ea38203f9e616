/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What a job's generated scenes (genvideo:// clips) will cost, estimated
 * from schemas/pricing.json for the first provider of each chain (the one
 * that runs unless it fails). `reelforge plan` prints it.
 */
#pragma once

#include "spec/job-spec.h"

#include <string>
#include <vector>

namespace reelforge::plan {

struct GenerationEstimate {
  int clips = 0;     /* distinct generated clips (equal requests are generated once) */
  double amount = 0; /* sum of the known estimates */
  int unpriced = 0;  /* clips whose provider/model has no price */
  std::string currency = "USD";
  std::vector<std::string>
      lines; /* one per clip: "provider/model: 0.80 USD (8 s x 0.1 USD/s ...)" */
};

GenerationEstimate estimate_generation(const spec::Job &job);

/* The lines `reelforge plan` prints, each starting with "# ". */
std::string describe_estimate(const GenerationEstimate &estimate);

}  // namespace reelforge::plan
