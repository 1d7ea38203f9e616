/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The plan step: plans the job once its generated clips are made and its
 * voiceovers spoken (it comes after every generate and voiceover step): the
 * generated scenes are pointed at the clip cache's files, the planner reads
 * the speech's word timings from the TTS cache, and each render plan (a
 * variant's platforms that share a frame rate) records those files with
 * their SHA-256 (plan/render-plan.h).
 *
 * Each render step is created with its complete plan in its inputs,
 *   {"variant": "<name>", "outputs": ["<variant>.<platform>", ...], "plan": {...}},
 * and runs exactly it. With {"approval": "before-render"} an approval step
 * comes first, the renders waiting for it; its inputs list its choices (the
 * variants) and, per choice, the hashes of the plans it approves:
 *   {"stage": "before-render", "choices": [...], "plans": {"<variant>": ["<hash>", ...]}}.
 * When the spec has output.uri_prefix, an upload step follows each render
 * (with {"approval": "before-upload"}, one approval step, its choices the
 * variants, waits for every render, and the uploads wait for it). The
 * expand step plans the same way at once when there is nothing to generate
 * or speak.
 */
#pragma once

#include "plan/render-plan.h"
#include "sched/job-context.h"

#include <filesystem>
#include <string>
#include <vector>

namespace reelforge::sched {

/* plan::plan_job, its PlanError a permanent failure. */
std::vector<plan::RenderPlan> plan_into(const spec::Job &job, const std::filesystem::path &dir);

/* Adds, in the caller's transaction, the renders of plans and what comes
 * with them (approvals, uploads). */
void add_render_steps(StepRun &run, store::Connection &db, const LoadedJob &loaded,
                      const std::vector<plan::RenderPlan> &plans);

/* The step's outputs: how many variants, renders and outputs. */
std::string plan_outputs(const std::vector<plan::RenderPlan> &plans, size_t variants);

void plan_renders(StepRun &run, const JobStepsConfig &config);

}  // namespace reelforge::sched
