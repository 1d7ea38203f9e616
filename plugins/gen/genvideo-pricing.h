/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Cost estimates of generation requests from schemas/pricing.json (built
 * in as a GResource; REELFORGE_PRICING names another file to use instead).
 * Prices are data with their source and date, never code.
 */
#pragma once

#include "genvideo-request.h"

#include <string>

namespace reelforge::gen {

struct CostEstimate {
  bool known = false; /* false: no price for this provider and model */
  double amount = 0;  /* in currency */
  std::string currency = "USD";
  std::string basis; /* e.g. "8 s x 0.1 USD/s (seed notes, 2026-11)" */
};

/* The estimate for request; duration_s overrides the request's when > 0
 * (the actual length of a result). Throws std::runtime_error when the
 * pricing file cannot be read. */
CostEstimate estimate_cost(const GenRequest &request, double duration_s = 0);

}  // namespace reelforge::gen
