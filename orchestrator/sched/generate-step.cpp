/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "sched/generate-step.h"

#include "genvideo-pricing.h"
#include "genvideo-provider.h"
#include "genvideo-request.h"
#include "gst-ptr.h"
#include "json-file.h"
#include "json-writer.h"
#include "plan/pipeline-template.h"
#include "run/pipeline-runner.h"
#include "sched/fault-window.h"
#include "sched/job-steps.h"
#include "store/artifacts.h"
#include "store/provider-calls.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cmath>
#include <memory>

namespace reelforge::sched {

namespace fs = std::filesystem;
using gen::ChainEntry;
using gen::GenError;
using gen::GenRequest;
using store::Connection;

namespace {

/* Polls slow down as a job takes longer: the provider's own pace for the
 * first polls, doubling every few polls up to this. */
constexpr std::chrono::milliseconds kSlowestPoll{15000};
/* A generated clip of a few seconds downloads and checks well within this. */
constexpr GstClockTime kDownloadTimeout = 10 * 60 * GST_SECOND;

std::int64_t to_micros(double amount) {
  return amount > 0 ? std::llround(amount * 1e6) : 0;
}

/* One HTTP client per worker thread, kept between step runs: its
 * connections to a provider stay open from one poll to the next, where a
 * client per run would open (and for HTTPS, handshake) one per poll. */
http::HttpClient &worker_client() {
  thread_local http::HttpClient client;
  return client;
}

/* A provider call of this step, as recorded. */
using Call = store::StepCall;

class GenerateStep {
 public:
  GenerateStep(StepRun &run, const GenerateConfig &config) : run_(run), config_(config) {
    JsonNodePtr inputs = parse_json(run.step.inputs, "generate inputs");
    uri_ =
        json_object_get_string_member_with_default(json_node_get_object(inputs.get()), "uri", "");
    try {
      gen::UriOptions options;
      const GenRequest primary = gen::parse_genvideo_uri(uri_, &options);
      chain_ =
          gen::request_chain(primary, options.settings["endpoint"], options.settings["fallback"]);
    } catch (const std::invalid_argument &e) {
      throw StepError(ErrorClass::kPermanent, "generate " + uri_ + ": " + e.what());
    }
  }

  void run() {
    for (const ChainEntry &entry : chain_)
      if (const std::string cached = gen::cache_file(config_.clips_dir, entry.request);
          fs::is_regular_file(cached)) {
        finish(entry, cached, std::nullopt);
        return;
      }

    const std::vector<Call> calls = store::calls_of_step(run_.db, run_.step.id);
    /* A round walks the chain once. A run resumed from a wait continues
     * the round it waited in; any other run (a retry, a rescue, a resume)
     * starts a new one at the first provider. */
    for (const Call &call : calls) round_ = std::max(round_, call.round);
    if (!run_.step.from_wait) ++round_;
    if (!calls.empty() && calls.back().state == "submitting") {
      unknown_fate(calls.back());
      return;
    }
    if (!calls.empty() && calls.back().state == "submitted") {
      round_ = calls.back().round;
      if (!follow(calls.back())) return;
    }
    /* This round's definite failures, one per provider tried. */
    std::vector<Call> failed;
    for (const Call &call : store::calls_of_step(run_.db, run_.step.id))
      if (call.round == round_ && call.state == "failed") failed.push_back(call);
    for (size_t index = failed.size(); index < chain_.size(); ++index)
      if (!submit(index, failed)) return;
    give_up(failed);
  }

 private:
  /* Submits to chain entry index; false once the step has been ended or
   * left to wait, true when that provider said no (recorded in failed). */
  bool submit(size_t index, std::vector<Call> &failed) {
    const ChainEntry &entry = chain_[index];
    const GenRequest &request = entry.request;
    if (request.provider == "local") {
      finish(entry, download(entry, ""), std::nullopt);
      return false;
    }
    const gen::CostEstimate estimate = gen::estimate_cost(request);
    JsonWriter w;
    w.begin_object();
    w.member("uri", gen::to_genvideo_uri(request));
    w.member("endpoint", entry.endpoint);
    w.member("round", round_);
    w.member("estimate", estimate.known ? estimate.basis : "no price known");
    w.end_object();
    const Intent intent = run_.queue.record_intent(
        run_.step, {.provider = request.provider,
                    .idempotency_key = request.key() + ":" + std::to_string(run_.step.id) + ":" +
                                       std::to_string(round_) + ":" + std::to_string(index),
                    .reserve_micros = estimate.known ? to_micros(estimate.amount) : 0,
                    .chain_index = static_cast<int>(index),
                    .request = w.text()});
    switch (intent.outcome) {
      case Intent::Outcome::kRecorded:
        break;
      case Intent::Outcome::kOverJobBudget:
      case Intent::Outcome::kOverTenantBudget:
      case Intent::Outcome::kJobPaused:
        run_.queue.pause_job(run_.step, intent.reason);
        return false;
      case Intent::Outcome::kProviderBusy:
        run_.queue.wait_for_provider(run_.step, intent.retry_in,
                                     waiting_outputs(request.provider, intent.reason));
        return false;
    }
    fault_window("after-intent", run_.step.id);

    std::unique_ptr<gen::Provider> provider = make_provider(entry);
    gen::Submission submission;
    try {
      submission = provider->submit(request);
    } catch (const GenError &e) {
      if (e.error_class() == gen::ErrorClass::kUnknown) {
        unknown_fate({.id = intent.call_id,
                      .state = "submitting",
                      .chain_index = static_cast<int>(index),
                      .error = e.what()});
        return false;
      }
      run_.queue.settle(run_.step, intent.call_id, 0, false, failure_text(e));
      failed.push_back(
          {.id = intent.call_id, .chain_index = static_cast<int>(index), .error = failure_text(e)});
      return true;
    }
    fault_window("after-submit", run_.step.id);
    run_.queue.record_submitted(run_.step, intent.call_id, submission.job_id);
    const Call call{.id = intent.call_id,
                    .state = "submitted",
                    .provider_job_id = submission.job_id,
                    .chain_index = static_cast<int>(index)};
    if (submission.status.state != gen::JobStatus::State::kSucceeded) {
      run_.queue.wait_for_provider(run_.step, provider->poll_interval(),
                                   progress_outputs(request.provider, submission.status, 0));
      return false;
    }
    if (!follow(call)) return false;
    failed.push_back({.id = call.id, .chain_index = call.chain_index, .error = last_failure_});
    return true;
  }

  /* Polls a submitted call once. False once the step has been ended or
   * left to wait; true when the provider failed the job (the call is
   * settled and the chain goes on). */
  bool follow(const Call &call) {
    const ChainEntry &entry = entry_of(call);
    std::unique_ptr<gen::Provider> provider = make_provider(entry);
    gen::JobStatus status;
    try {
      status = provider->poll(call.provider_job_id);
    } catch (const GenError &e) {
      if (e.error_class() == gen::ErrorClass::kTransient)
        throw StepError(ErrorClass::kTransient, "polling " + entry.request.provider + " job " +
                                                    call.provider_job_id + ": " + e.what());
      last_failure_ = failure_text(e);
      run_.queue.settle(run_.step, call.id, 0, false, last_failure_);
      return true;
    }
    if (status.state != gen::JobStatus::State::kSucceeded) {
      const int polls = previous_polls() + 1;
      const auto pace =
          std::min(kSlowestPoll, provider->poll_interval() * (1 << std::min(polls / 4, 5)));
      run_.queue.wait_for_provider(run_.step, pace,
                                   progress_outputs(entry.request.provider, status, polls));
      return false;
    }
    double cost = -1;
    const std::string clip = download(entry, call.provider_job_id, &cost);
    finish(entry, clip, std::make_pair(call.id, cost));
    return false;
  }

  /* Runs pipelines/generate-clip.pipeline: the clip into the cache. */
  std::string download(const ChainEntry &entry, const std::string &job_id, double *cost = nullptr) {
    std::string location;
    run::RunOptions options;
    options.timeout = kDownloadTimeout;
    options.progress_interval = 200 * GST_MSECOND;
    options.on_progress = [&](GstClockTime, GstClockTime) {
      if (run_.lease_lost) throw LeaseLost("lost the lease while downloading " + job_id);
    };
    options.on_element_message = [&](GstMessage *message) {
      const GstStructure *s = gst_message_get_structure(message);
      if (!gst_structure_has_name(s, "genvideosrc-done")) return;
      if (const char *l = gst_structure_get_string(s, "location")) location = l;
      if (cost) gst_structure_get_double(s, "cost", cost);
    };
    std::string uri = gen::to_genvideo_uri(entry.request);
    auto add = [&uri](const char *name, const std::string &value) {
      if (value.empty()) return;
      GCharPtr escaped(g_uri_escape_string(value.c_str(), nullptr, FALSE));
      uri += (uri.find('?') == std::string::npos ? "?" : "&") + std::string(name) + "=" +
             escaped.get();
    };
    add("endpoint", entry.endpoint);
    add("resume_id", job_id);
    add("cache_dir", config_.clips_dir.string());
    /* The job is the step's, followed across runs: a daemon stopping
     * mid-download must not cancel it (Runway's cancel deletes the output). */
    add("cancel_on_stop", "false");
    const std::string description =
        plan::PipelineTemplate::load("generate-clip").fill({{"uri", uri}});
    try {
      run::run_pipeline(description, options);
    } catch (const LeaseLost &) {
      throw;
    } catch (const std::runtime_error &e) {
      throw StepError(ErrorClass::kTransient, "fetching the clip of " + entry.request.provider +
                                                  (job_id.empty() ? "" : " job " + job_id) + ": " +
                                                  e.what());
    }
    if (location.empty())
      throw StepError(ErrorClass::kTransient,
                      "genvideosrc finished without naming the clip it stored");
    return location;
  }

  /* The clip is in the cache: the call (if any) settled with its cost, the
   * clip recorded, the step done. */
  void finish(const ChainEntry &entry, const std::string &clip,
              std::optional<std::pair<std::int64_t, double>> call) {
    if (run_.lease_lost) throw LeaseLost("lost the lease generating " + uri_);
    if (call) run_.queue.settle(run_.step, call->first, to_micros(call->second), true);
    const auto size = static_cast<std::int64_t>(fs::file_size(clip));
    const std::string sha256 = file_sha256(clip);
    JsonWriter w;
    w.begin_object();
    w.member("clip", clip);
    w.member("provider", entry.request.provider);
    w.member("cached", !call.has_value());
    w.end_object();
    run_.queue.succeed(run_.step, w.text(), [&](Connection &db) {
      store::record_artifact(db, {.job_id = run_.step.job_id,
                                  .variant_id = run_.step.variant_id,
                                  .step_id = run_.step.id,
                                  .kind = "clip",
                                  .uri = "file://" + clip,
                                  .size_bytes = size,
                                  .sha256 = sha256});
    });
  }

  void unknown_fate(const Call &call) {
    const std::string provider = entry_of(call).request.provider;
    run_.queue.needs_attention(
        run_.step, call.id,
        "provider call " + std::to_string(call.id) + " to " + provider +
            (call.created_at.empty() ? "" : " (intent recorded " + call.created_at + ")") +
            " may have created a job that is billed, but no job id was stored" +
            (call.error.empty() ? "" : " (" + call.error + ")") + "; check " + provider +
            "'s dashboard and cancel any such job, then resume this job to generate the clip "
            "again");
  }

  void give_up(const std::vector<Call> &failed) {
    std::string what;
    bool transient = false;
    for (const Call &call : failed) {
      what += (what.empty() ? "" : "; then ") + call.error;
      transient |= call.error.starts_with("transient");
    }
    throw StepError(transient ? ErrorClass::kTransient : ErrorClass::kPermanent,
                    "generate " + uri_ + ": every provider failed: " + what);
  }

  const ChainEntry &entry_of(const Call &call) const {
    return chain_.at(std::min<size_t>(call.chain_index, chain_.size() - 1));
  }

  std::unique_ptr<gen::Provider> make_provider(const ChainEntry &entry) {
    try {
      return gen::make_provider(entry.request.provider,
                                {.endpoint = entry.endpoint,
                                 .api_key = gen::api_key_from_environment(entry.request.provider),
                                 .model = entry.request.model},
                                worker_client());
    } catch (const GenError &e) {
      throw StepError(ErrorClass::kPermanent, e.what());
    }
  }

  int previous_polls() const {
    if (!run_.step.outputs) return 0;
    JsonNodePtr outputs = parse_json(*run_.step.outputs, "generate outputs");
    return static_cast<int>(
        json_object_get_int_member_with_default(json_node_get_object(outputs.get()), "polls", 0));
  }

  static std::string failure_text(const GenError &e) {
    return std::string(gen::error_class_name(e.error_class())) + ": " + e.what();
  }

  static std::string waiting_outputs(const std::string &provider, const std::string &reason) {
    JsonWriter w;
    w.begin_object();
    w.member("provider", provider);
    w.member("waiting", reason);
    w.end_object();
    return w.text();
  }

  static std::string progress_outputs(const std::string &provider, const gen::JobStatus &status,
                                      int polls) {
    JsonWriter w;
    w.begin_object();
    w.member("provider", provider);
    w.member("status", status.status);
    if (status.progress >= 0) w.member("progress", status.progress);
    w.member("polls", polls);
    w.end_object();
    return w.text();
  }

  StepRun &run_;
  const GenerateConfig &config_;
  std::string uri_;
  std::vector<ChainEntry> chain_;
  int round_ = 0;
  std::string last_failure_; /* the provider's reason when follow() saw a job fail */
};

}  // namespace

void cancel_provider_jobs(Connection &db) {
  const std::vector<CallToCancel> calls = take_calls_to_cancel(db, 20);
  if (calls.empty()) return;
  http::HttpClient client;
  for (const CallToCancel &call : calls) {
    std::string endpoint, model;
    try {
      JsonNodePtr request = parse_json(call.request, "provider call request");
      JsonObject *o = json_node_get_object(request.get());
      endpoint = json_object_get_string_member_with_default(o, "endpoint", "");
      model =
          gen::parse_genvideo_uri(json_object_get_string_member_with_default(o, "uri", "")).model;
    } catch (const std::exception &) {
      /* An intent written by an older daemon: the public endpoint. */
    }
    const std::string what = call.provider + " job " + call.provider_job_id + " (call " +
                             std::to_string(call.call_id) + ")";
    try {
      std::unique_ptr<gen::Provider> provider =
          gen::make_provider(call.provider,
                             {.endpoint = endpoint,
                              .api_key = gen::api_key_from_environment(call.provider),
                              .model = model},
                             client);
      if (!provider->can_cancel()) {
        g_message("%s: %s has no cancel request; it runs to its end", what.c_str(),
                  call.provider.c_str());
        continue;
      }
      const bool stopped = provider->cancel(call.provider_job_id);
      g_message("%s: %s", what.c_str(),
                stopped ? "cancelled at the provider" : "had already ended at the provider");
    } catch (const GenError &e) {
      g_message("%s: the provider did not cancel it: %s", what.c_str(), e.what());
    }
  }
}

void run_generate_step(StepRun &run, const GenerateConfig &config) {
  GenerateStep(run, config).run();
}

}  // namespace reelforge::sched
