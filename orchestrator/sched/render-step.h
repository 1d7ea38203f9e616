/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The render step runs exactly the plan stored in its inputs by the plan
 * step (plan-step.h): the spec is not read again, nothing is planned,
 * probed or spoken. It refuses, as a permanent failure,
 *
 * - a plan whose content does not match its hash;
 * - with a before-render approval, a plan whose hash is not one the
 *   approval approved for its variant;
 * - a plan whose inputs changed since it was made (a file's size or
 *   SHA-256), naming the input.
 *
 * The pass (run/render-pass.h, as for `reelforge render`) writes into the
 * attempt's own folder, with QC reports and thumbnails; the files are
 * recorded as artifacts (uri, size, sha256, kind) in the same transaction
 * that ends the step, with each output's QC verdict in its outputs:
 * {"verdicts": {"<variant>.<platform>": "pass" | "warn" | "fail"}}.
 */
#pragma once

#include "sched/job-context.h"

namespace reelforge::sched {

void render(StepRun &run, const JobStepsConfig &config);

}  // namespace reelforge::sched
