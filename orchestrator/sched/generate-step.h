/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The generate step: one generated clip of a job (a scene's genvideo://
 * URI), paid for at most once. Each run of the step does one short thing
 * and lets the worker go:
 *
 * 1. A clip already in the cache (this job's, or any earlier job's equal
 *    request) ends the step at once, free.
 * 2. A call recorded as `submitted` is polled once; while the provider
 *    works, the step waits as a row (holding no worker) and is polled
 *    again at the provider's pace, slower as the job takes longer. When
 *    it succeeded, genvideosrc resumes the job (resume-id: it never
 *    submits), downloads and checks the clip into the cache
 *    (pipelines/generate-clip.pipeline); the call is settled with the
 *    actual cost and the clip recorded as an artifact.
 * 3. A call left `submitting` (a crash between the intent and storing the
 *    provider's id, or a POST that got no answer) may or may not exist at
 *    the provider. None of the providers can be asked for a job by our key
 *    (reference/providers.md lists no such query), so it is never
 *    resubmitted: the step and the call wait for a person
 *    (needs-attention) and the job pauses, naming the provider and the
 *    time; resuming the job says the person checked.
 * 4. Otherwise the next provider of the chain is asked: the estimated cost
 *    is reserved and the intent row committed (StepQueue::record_intent:
 *    budgets and provider limits), then the POST, then its id stored. A
 *    budget that cannot cover it pauses the job; a provider at its limit
 *    makes the step wait and look again.
 *
 * A provider's definite no (refused, fatal, or transient after the HTTP
 * client's own retries) settles the call at no cost and moves to the next
 * provider of the chain in the same run; when the chain is exhausted the
 * step fails, to be retried with backoff if any failure was transient,
 * permanently otherwise.
 */
#pragma once

#include "sched/worker-pool.h"

#include <filesystem>

namespace reelforge::sched {

struct GenerateConfig {
  std::filesystem::path clips_dir; /* the content-addressed clip cache */
};

void run_generate_step(StepRun &run, const GenerateConfig &config);

/* Asks providers to stop the jobs of calls cancelled with their job (each
 * call once, across daemons: take_calls_to_cancel), where the provider has
 * a cancel request; a provider that has none, or fails, is logged. For
 * WorkerPool::Options::chores. */
void cancel_provider_jobs(store::Connection &db);

}  // namespace reelforge::sched
