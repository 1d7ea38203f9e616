/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "plan/generate-plan.h"

#include "genvideo-pricing.h"
#include "genvideo-request.h"
#include "plan/render-plan.h"

#include <cstdio>
#include <set>

namespace reelforge::plan {

namespace {

GenerationEstimate estimate_generation_or_throw(const spec::Job &job) {
  GenerationEstimate estimate;
  std::set<std::string> seen;
  for (const auto &variant : job.variants) {
    for (const auto &scene : variant.spec.scenes) {
      const auto *clip = std::get_if<spec::ClipSource>(&scene.source);
      if (clip == nullptr || !clip->media.uri.starts_with("genvideo:")) continue;
      const gen::GenRequest request = gen::parse_genvideo_uri(clip->media.uri);
      if (!seen.insert(request.key()).second) continue;
      ++estimate.clips;
      const gen::CostEstimate cost = gen::estimate_cost(request);
      estimate.currency = cost.currency;
      const std::string what =
          request.provider + (request.model.empty() ? "" : "/" + request.model);
      char line[512];
      if (cost.known) {
        estimate.amount += cost.amount;
        std::snprintf(line, sizeof line, "%s: %.2f %s (%s)", what.c_str(), cost.amount,
                      cost.currency.c_str(), cost.basis.c_str());
      } else {
        ++estimate.unpriced;
        std::snprintf(line, sizeof line, "%s: no price in pricing.json", what.c_str());
      }
      estimate.lines.push_back(line);
    }
  }
  return estimate;
}

}  // namespace

GenerationEstimate estimate_generation(const spec::Job &job) {
  try {
    return estimate_generation_or_throw(job);
  } catch (const PlanError &) {
    throw;
  } catch (const std::exception &e) {
    throw PlanError(std::string("estimating the generation cost: ") + e.what());
  }
}

std::string describe_estimate(const GenerationEstimate &estimate) {
  if (estimate.clips == 0) return "";
  char head[256];
  std::snprintf(
      head, sizeof head,
      "# estimated generation cost: %.2f %s for %d clip%s%s (first provider of each "
      "chain; prices from pricing.json)\n",
      estimate.amount, estimate.currency.c_str(), estimate.clips, estimate.clips == 1 ? "" : "s",
      estimate.unpriced ? (", " + std::to_string(estimate.unpriced) + " unpriced").c_str() : "");
  std::string text = head;
  for (const auto &line : estimate.lines) text += "#   " + line + "\n";
  return text;
}

}  // namespace reelforge::plan
