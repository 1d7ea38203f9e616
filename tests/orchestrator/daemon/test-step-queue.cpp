/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The step queue on a real PostgreSQL: claiming, fencing, rescue, retries,
 * dependencies, priorities, approvals, budgets and cancellation, with
 * concurrent claimers on their own connections.
 */
#include "postgres-server.h"
#include "sched/step-queue.h"
#include "store/artifacts.h"
#include "store/pg.h"
#include "store/steps.h"
#include "store/variants.h"
#include "test-environment.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace reelforge::test {
namespace {

using namespace std::chrono_literals;
using sched::ClaimedStep;
using sched::ErrorClass;
using sched::Intent;
using sched::JobControl;
using sched::LeaseLost;
using sched::StepQueue;
using store::Connection;
using store::Result;
using Outcome = JobControl::Outcome;

class StepQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    conninfo_ = PostgresServer::shared().migrated_database();
    db_ = std::make_unique<Connection>(conninfo_);
    tenant_ = db_->query("INSERT INTO tenants (name) VALUES ($1) RETURNING id", "acme").int64(0, 0);
  }

  std::int64_t job(int priority = 5, std::optional<std::int64_t> budget = std::nullopt,
                   const std::string &first = "expand", int max_attempts = 6) {
    return JobControl(*db_).create_job(tenant_, "{}", priority, budget, first, max_attempts);
  }
  /* A job whose first step made n generate steps; each of n threads, on
   * its own connection, claims one and runs body with it once all are
   * claimed (so they contend). */
  std::int64_t contend(int n, std::optional<std::int64_t> budget,
                       const std::function<void(StepQueue &, const ClaimedStep &)> &body) {
    const auto id = job(5, budget, "root");
    {
      StepQueue queue(*db_, "setup");
      auto root = queue.claim();
      EXPECT_TRUE(root);
      if (!root) return id;
      queue.succeed(*root, "{}", [&](Connection &) {
        queue.add_steps(id, std::vector<sched::NewStep>(n, {.kind = "generate"}));
      });
    }
    std::latch all_claimed(n);
    std::vector<std::thread> threads;
    for (int i = 0; i < n; ++i)
      threads.emplace_back([&, i] {
        Connection db(conninfo_);
        StepQueue queue(db, "worker-" + std::to_string(i));
        auto step = queue.claim();
        all_claimed.arrive_and_wait();
        if (!step) {
          ADD_FAILURE() << "worker " << i << " found no step";
          return;
        }
        body(queue, *step);
      });
    for (auto &t : threads) t.join();
    return id;
  }

  std::string job_status(std::int64_t id) {
    return db_->query("SELECT status FROM jobs WHERE id = $1", id).text(0, 0);
  }
  std::string step_status(std::int64_t id) {
    return db_->query("SELECT status FROM steps WHERE id = $1", id).text(0, 0);
  }

  std::string conninfo_;
  std::unique_ptr<Connection> db_;
  std::int64_t tenant_ = 0;
};

TEST_F(StepQueueTest, AClaimedStepIsOursAloneAndItsSuccessEndsTheJob) {
  const auto id = job();
  StepQueue queue(*db_, "daemon-a");
  auto step = queue.claim();
  ASSERT_TRUE(step);
  EXPECT_EQ(step->job_id, id);
  EXPECT_EQ(step->kind, "expand");
  EXPECT_EQ(step->attempt, 1);
  EXPECT_EQ(step->fencing_token, 1);
  EXPECT_EQ(job_status(id), "running");
  EXPECT_FALSE(queue.claim()) << "a running step was claimed twice";

  Connection other(conninfo_);
  EXPECT_FALSE(StepQueue(other, "daemon-b").claim());

  EXPECT_TRUE(queue.heartbeat(*step));
  queue.succeed(*step, R"({"variants": 0})");
  EXPECT_EQ(step_status(step->id), "succeeded");
  EXPECT_EQ(job_status(id), "succeeded");
  const auto events = db_->query(
      "SELECT string_agg(coalesce(from_status, '-') || '>' || to_status, ' ' ORDER BY id)"
      " FROM events WHERE job_id = $1",
      id);
  EXPECT_EQ(events.text(0, 0), "->queued ready>running running>succeeded running>succeeded");
}

TEST_F(StepQueueTest, AnExpiredLeaseIsRescuedAndTheOldOwnerCanWriteNothing) {
  job();
  StepQueue slow(*db_, "daemon-slow", {.lease = 150ms});
  const auto lost = slow.claim();
  ASSERT_TRUE(lost);

  Connection other_db(conninfo_);
  StepQueue rescuer(other_db, "daemon-rescuer");
  EXPECT_EQ(rescuer.rescue_expired(), 0) << "rescued a live lease";
  /* The lease is a time: wait for it to pass, with a deadline. */
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  int rescued = 0;
  while (rescued == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    rescued = rescuer.rescue_expired();
  }
  ASSERT_EQ(rescued, 1);

  EXPECT_FALSE(slow.heartbeat(*lost));
  EXPECT_THROW(slow.succeed(*lost), LeaseLost);
  EXPECT_THROW(slow.fail(*lost, ErrorClass::kTransient, "late"), LeaseLost);

  const auto again = rescuer.claim();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, lost->id);
  EXPECT_EQ(again->attempt, 2);
  EXPECT_GT(again->fencing_token, lost->fencing_token);
  EXPECT_THROW(slow.succeed(*lost), LeaseLost) << "the old owner overwrote the new one";
  rescuer.succeed(*again);
  EXPECT_EQ(step_status(again->id), "succeeded");
  EXPECT_EQ(db_->query("SELECT count(*) FROM events WHERE kind = 'rescue'").int64(0, 0), 1);
}

TEST_F(StepQueueTest, ConcurrentClaimersNeverShareAStep) {
  const auto id = job(5, std::nullopt, "root");
  {
    StepQueue queue(*db_, "setup");
    auto root = queue.claim();
    ASSERT_TRUE(root);
    queue.succeed(*root, "{}", [&](Connection &) {
      std::vector<sched::NewStep> steps(300, sched::NewStep{.kind = "work"});
      queue.add_steps(id, steps);
    });
  }
  std::mutex mutex;
  std::map<std::int64_t, int> runs;
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 6; ++w) {
    workers.emplace_back([&, w] {
      try {
        Connection db(conninfo_);
        StepQueue queue(db, "worker-" + std::to_string(w));
        while (auto step = queue.claim()) {
          {
            std::lock_guard<std::mutex> lock(mutex);
            ++runs[step->id];
          }
          queue.succeed(*step);
        }
      } catch (const std::exception &e) {
        ++failures;
        ADD_FAILURE() << e.what();
      }
    });
  }
  for (auto &t : workers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(runs.size(), 300u);
  for (const auto &[step, count] : runs) EXPECT_EQ(count, 1) << "step " << step;
  EXPECT_EQ(job_status(id), "succeeded");
}

TEST_F(StepQueueTest, RetriesBackOffThenPauseTheJobWhichCanResume) {
  const auto id = job(5, std::nullopt, "flaky", 3);
  StepQueue queue(*db_, "daemon", {}, {.base = 40ms, .cap = 1s, .jitter = 0, .max_attempts = 3});
  for (int attempt = 1; attempt <= 3; ++attempt) {
    std::optional<ClaimedStep> step;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!(step = queue.claim()) && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    ASSERT_TRUE(step) << "attempt " << attempt << " never became due";
    EXPECT_EQ(step->attempt, attempt);
    queue.fail(*step, ErrorClass::kTransient, "HTTP 503 from the provider");
    if (attempt < 3) {
      const auto wait_ms =
          db_->query(
                 "SELECT extract(epoch FROM next_run_at - updated_at) * 1000 FROM steps"
                 " WHERE id = $1",
                 step->id)
              .number(0, 0);
      EXPECT_NEAR(wait_ms, 40.0 * (1 << (attempt - 1)), 15.0) << "attempt " << attempt;
      EXPECT_EQ(step_status(step->id), "ready");
    }
  }
  EXPECT_EQ(job_status(id), "paused");
  const auto reason = db_->query("SELECT pause_reason FROM jobs WHERE id = $1", id).text(0, 0);
  EXPECT_NE(reason.find("after 3 attempts: HTTP 503"), std::string::npos) << reason;
  EXPECT_FALSE(queue.claim()) << "a paused job's step ran";

  JobControl control(*db_);
  EXPECT_EQ(control.resume(id), Outcome::kDone);
  EXPECT_EQ(control.resume(id), Outcome::kAlreadyDone);
  auto step = queue.claim();
  ASSERT_TRUE(step);
  EXPECT_EQ(step->attempt, 1);
  queue.succeed(*step);
  EXPECT_EQ(job_status(id), "succeeded");
}

TEST_F(StepQueueTest, APermanentErrorFailsTheJobAtOnce) {
  const auto id = job();
  StepQueue queue(*db_, "daemon");
  auto step = queue.claim();
  ASSERT_TRUE(step);
  queue.fail(*step, ErrorClass::kPermanent, "/scenes/0/prompt: empty");
  EXPECT_EQ(job_status(id), "failed");
  EXPECT_EQ(step_status(step->id), "failed");
}

TEST(RetryPolicy, FollowsTheDocumentedFormula) {
  const sched::RetryPolicy p{.base = 2000ms, .cap = 300000ms, .jitter = 0.2, .max_attempts = 6};
  EXPECT_EQ(p.delay(1, 0.0), 2000ms);
  EXPECT_EQ(p.delay(2, 0.0), 4000ms);
  EXPECT_EQ(p.delay(5, 0.0), 32000ms);
  EXPECT_EQ(p.delay(30, 0.0), 300000ms) << "the cap";
  EXPECT_EQ(p.delay(1, 1.0), 2400ms);
  EXPECT_EQ(p.delay(1, -1.0), 1600ms);
  EXPECT_EQ(p.delay(1, 0.0, 60000ms), 60000ms) << "Retry-After is a floor";
  for (int i = 0; i < 200; ++i) {
    const auto d = p.delay(3);
    EXPECT_GE(d, 6400ms);
    EXPECT_LE(d, 9600ms);
  }
}

TEST_F(StepQueueTest, TheMoreUrgentJobGoesFirst) {
  const auto low = job(1);
  const auto high = job(9);
  StepQueue queue(*db_, "daemon");
  auto first = queue.claim();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->job_id, high);
  auto second = queue.claim();
  ASSERT_TRUE(second);
  EXPECT_EQ(second->job_id, low);
}

TEST_F(StepQueueTest, AStepWaitsForTheStepsItDependsOn) {
  const auto id = job();
  StepQueue queue(*db_, "daemon");
  auto expand = queue.claim();
  ASSERT_TRUE(expand);
  std::vector<std::int64_t> ids;
  queue.succeed(*expand, "{}", [&](Connection &) {
    ids = queue.add_steps(id, {{.kind = "a"}, {.kind = "b"}, {.kind = "join", .after = {0, 1}}});
  });
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(step_status(ids[2]), "blocked");
  auto a = queue.claim();
  auto b = queue.claim();
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(queue.claim()) << "the join ran before its inputs";
  queue.succeed(*a);
  EXPECT_EQ(step_status(ids[2]), "blocked");
  queue.succeed(*b);
  auto join = queue.claim();
  ASSERT_TRUE(join);
  EXPECT_EQ(join->kind, "join");
  queue.succeed(*join);
  EXPECT_EQ(job_status(id), "succeeded");
}

TEST_F(StepQueueTest, AnApprovalHoldsNoWorkerAndApprovingIsIdempotent) {
  const auto id = job(5, std::nullopt, "approval");
  StepQueue queue(*db_, "daemon");
  auto approval = queue.claim();
  ASSERT_TRUE(approval);
  queue.wait_for_approval(*approval, R"({"choices": ["script-a", "script-b", "script-c"]})");
  EXPECT_EQ(step_status(approval->id), "waiting");
  EXPECT_EQ(db_->query("SELECT count(*) FROM steps WHERE status = 'running'").int64(0, 0), 0)
      << "the waiting step holds a worker";
  EXPECT_FALSE(queue.claim()) << "an approval was claimed again before anyone approved";

  JobControl control(*db_);
  EXPECT_EQ(control.approve(id, 3), Outcome::kInvalidChoice);
  EXPECT_EQ(control.approve(id + 1000, 1), Outcome::kNotFound);
  EXPECT_EQ(control.approve(id, 1), Outcome::kDone);
  EXPECT_EQ(control.approve(id, 1), Outcome::kAlreadyDone);
  EXPECT_EQ(control.approve(id, 2), Outcome::kConflict);
  EXPECT_EQ(
      db_->query("SELECT outputs->>'choice' FROM steps WHERE id = $1", approval->id).text(0, 0),
      "1");
  EXPECT_EQ(job_status(id), "succeeded");
  EXPECT_EQ(control.reject(id, "too late"), Outcome::kConflict);
}

TEST_F(StepQueueTest, RejectingEndsTheJob) {
  const auto id = job(5, std::nullopt, "approval");
  StepQueue queue(*db_, "daemon");
  auto approval = queue.claim();
  ASSERT_TRUE(approval);
  queue.wait_for_approval(*approval, R"({"choices": ["only"]})");
  JobControl control(*db_);
  EXPECT_EQ(control.reject(id, "off brand"), Outcome::kDone);
  EXPECT_EQ(control.reject(id, "off brand"), Outcome::kAlreadyDone);
  EXPECT_EQ(job_status(id), "failed");
  EXPECT_EQ(control.approve(id, 0), Outcome::kConflict);
}

TEST_F(StepQueueTest, TwentyConcurrentReservationsNeverOverspendABudgetThatFitsSeven) {
  constexpr std::int64_t kCost = 250000; /* $0.25 a clip */
  std::atomic<int> reserved{0}, refused{0};
  /* All 20 steps are running before any of them asks for money. */
  const auto id =
      contend(20, 7 * kCost + kCost / 2, [&](StepQueue &queue, const ClaimedStep &step) {
        const Intent intent =
            queue.record_intent(step, {.provider = "replicate",
                                       .idempotency_key = "key-" + std::to_string(step.id),
                                       .reserve_micros = kCost});
        if (intent.outcome == Intent::Outcome::kRecorded) {
          ++reserved;
          queue.record_submitted(step, intent.call_id, "pred-" + std::to_string(step.id));
          queue.settle(step, intent.call_id, kCost - 10000, true);
          queue.succeed(step);
        } else {
          /* Over the budget, or paused by a peer that was. */
          EXPECT_TRUE(intent.outcome == Intent::Outcome::kOverJobBudget ||
                      intent.outcome == Intent::Outcome::kJobPaused)
              << intent.reason;
          ++refused;
          queue.pause_job(step, intent.reason);
        }
      });
  EXPECT_EQ(reserved.load(), 7);
  EXPECT_EQ(refused.load(), 13);
  const auto sums = db_->query(
      "SELECT j.budget_micros, j.reserved_micros, j.spent_micros,"
      " (SELECT coalesce(sum(CASE entry WHEN 'reserve' THEN amount_micros"
      "   WHEN 'release' THEN -amount_micros ELSE 0 END), 0) FROM cost_ledger WHERE job_id = j.id),"
      " (SELECT coalesce(sum(amount_micros), 0) FROM cost_ledger WHERE job_id = j.id"
      "   AND entry = 'charge'),"
      " (SELECT coalesce(sum(actual_micros), 0) FROM provider_calls)"
      " FROM jobs j WHERE j.id = $1",
      id);
  EXPECT_LE(sums.int64(0, 1) + sums.int64(0, 2), sums.int64(0, 0)) << "overspent";
  EXPECT_EQ(sums.int64(0, 1), 0) << "a reservation was left open";
  EXPECT_EQ(sums.int64(0, 3), sums.int64(0, 1)) << "ledger reservations disagree with the job";
  EXPECT_EQ(sums.int64(0, 4), sums.int64(0, 2)) << "ledger charges disagree with the job";
  EXPECT_EQ(sums.int64(0, 5), sums.int64(0, 2)) << "ledger disagrees with the providers";
  EXPECT_EQ(sums.int64(0, 2), 7 * (kCost - 10000));
  EXPECT_EQ(job_status(id), "paused");
  EXPECT_NE(db_->query("SELECT pause_reason FROM jobs WHERE id = $1", id).text(0, 0).find("budget"),
            std::string::npos);
  EXPECT_EQ(db_->query("SELECT count(*) FROM steps WHERE job_id = $1 AND status = 'ready'", id)
                .int64(0, 0),
            13)
      << "refused steps should wait, unspent, for a resume";
}

TEST_F(StepQueueTest, CancelStopsRunnersAndReleasesReservations) {
  const auto id = job(5, 1000000, "generate");
  StepQueue queue(*db_, "daemon");
  auto step = queue.claim();
  ASSERT_TRUE(step);
  const Intent intent = queue.record_intent(
      *step, {.provider = "runway", .idempotency_key = "idem-1", .reserve_micros = 400000});
  ASSERT_EQ(intent.outcome, Intent::Outcome::kRecorded);
  const auto call = intent.call_id;
  queue.record_submitted(*step, call, "task-9");

  JobControl control(*db_);
  EXPECT_EQ(control.cancel(id), Outcome::kDone);
  EXPECT_EQ(control.cancel(id), Outcome::kAlreadyDone);
  EXPECT_EQ(job_status(id), "cancelled");
  EXPECT_FALSE(queue.heartbeat(*step)) << "the runner of a cancelled job kept its lease";
  EXPECT_THROW(queue.settle(*step, call, 400000, true), LeaseLost);
  EXPECT_THROW(queue.succeed(*step), LeaseLost);
  const auto money = db_->query(
      "SELECT reserved_micros, spent_micros,"
      " (SELECT sum(CASE entry WHEN 'reserve' THEN amount_micros ELSE -amount_micros END)"
      "  FROM cost_ledger WHERE job_id = $1)"
      " FROM jobs WHERE id = $1",
      id);
  EXPECT_EQ(money.int64(0, 0), 0);
  EXPECT_EQ(money.int64(0, 1), 0);
  EXPECT_EQ(money.int64(0, 2), 0);
  EXPECT_EQ(db_->query("SELECT state FROM provider_calls WHERE id = $1", call).text(0, 0),
            "cancelled");
}

TEST_F(StepQueueTest, AProviderLimitHoldsAcrossConcurrentReservers) {
  db_->exec("INSERT INTO provider_limits (provider, max_in_flight) VALUES ('runway', 3)");
  std::atomic<int> recorded{0}, at_limit{0};
  contend(10, std::nullopt, [&](StepQueue &queue, const ClaimedStep &step) {
    for (;;) {
      const Intent intent = queue.record_intent(
          step, {.provider = "runway", .idempotency_key = "k-" + std::to_string(step.id)});
      if (intent.outcome == Intent::Outcome::kRecorded) {
        ++recorded;
        return;
      }
      ASSERT_EQ(intent.outcome, Intent::Outcome::kProviderBusy) << intent.reason;
      /* NOWAIT found a peer counting: it asks to look again. */
      if (intent.reason.find("in flight") != std::string::npos) {
        ++at_limit;
        return;
      }
      EXPECT_GT(intent.retry_in.count(), 0);
    }
  });
  EXPECT_EQ(recorded.load(), 3);
  EXPECT_EQ(at_limit.load(), 7);
  EXPECT_EQ(db_->exec("SELECT count(*) FROM provider_calls WHERE state = 'submitting'").int64(0, 0),
            3);

  /* A call settling frees its slot for the next reservation. */
  const Result open = db_->exec("SELECT step_id FROM provider_calls ORDER BY id LIMIT 1");
  db_->exec("UPDATE provider_calls SET state = 'succeeded' WHERE step_id = " + open.text(0, 0));
  db_->exec(
      "UPDATE steps SET status = 'ready' WHERE status = 'running' AND id NOT IN"
      " (SELECT step_id FROM provider_calls)");
  StepQueue queue(*db_, "late");
  auto late = queue.claim();
  ASSERT_TRUE(late);
  EXPECT_EQ(queue.record_intent(*late, {.provider = "runway", .idempotency_key = "late"}).outcome,
            Intent::Outcome::kRecorded);
  EXPECT_EQ(queue.record_intent(*late, {.provider = "luma", .idempotency_key = "other"}).outcome,
            Intent::Outcome::kRecorded)
      << "a provider without a limit row is not limited";
}

TEST_F(StepQueueTest, ATenantsDailyBudgetSpansItsJobs) {
  db_->query("UPDATE tenants SET daily_budget_micros = 1000000 WHERE id = $1", tenant_);
  const auto first = job(5, std::nullopt, "generate");
  StepQueue queue(*db_, "daemon");
  auto a = queue.claim();
  ASSERT_TRUE(a);
  const Intent spent = queue.record_intent(
      *a, {.provider = "veo", .idempotency_key = "a", .reserve_micros = 700000});
  ASSERT_EQ(spent.outcome, Intent::Outcome::kRecorded);
  queue.record_submitted(*a, spent.call_id, "op-1");
  queue.settle(*a, spent.call_id, 600000, true);
  queue.succeed(*a);

  /* Another job of the same tenant, no budget of its own. */
  const auto second = job(5, std::nullopt, "generate");
  auto b = queue.claim();
  ASSERT_TRUE(b);
  ASSERT_EQ(b->job_id, second);
  const Intent refused = queue.record_intent(
      *b, {.provider = "veo", .idempotency_key = "b", .reserve_micros = 500000});
  EXPECT_EQ(refused.outcome, Intent::Outcome::kOverTenantBudget);
  EXPECT_NE(refused.reason.find("tenant acme's daily budget of 1.00"), std::string::npos)
      << refused.reason;
  EXPECT_NE(refused.reason.find("0.60 is spent today"), std::string::npos) << refused.reason;
  EXPECT_EQ(db_->query("SELECT count(*) FROM cost_ledger WHERE job_id = $1", second).int64(0, 0), 0)
      << "a refused reservation left a trace";
  EXPECT_EQ(
      queue.record_intent(*b, {.provider = "veo", .idempotency_key = "b", .reserve_micros = 400000})
          .outcome,
      Intent::Outcome::kRecorded);
  EXPECT_NE(first, second);
}

TEST_F(StepQueueTest, ACallOfUnknownFateWaitsForAPersonAndResumeAbandonsIt) {
  const auto id = job(5, 1000000, "generate");
  StepQueue queue(*db_, "daemon");
  auto step = queue.claim();
  ASSERT_TRUE(step);
  const Intent intent = queue.record_intent(
      *step, {.provider = "runway", .idempotency_key = "lost", .reserve_micros = 300000});
  ASSERT_EQ(intent.outcome, Intent::Outcome::kRecorded);
  queue.needs_attention(*step, intent.call_id, "runway did not answer the submission");
  EXPECT_EQ(step_status(step->id), "needs-attention");
  EXPECT_EQ(job_status(id), "paused");
  EXPECT_FALSE(queue.claim()) << "a step waiting for a person was claimed";
  EXPECT_EQ(db_->query("SELECT reserved_micros FROM jobs WHERE id = $1", id).int64(0, 0), 300000)
      << "the money may be spent: the reservation stays";

  EXPECT_EQ(JobControl(*db_).resume(id), Outcome::kDone);
  EXPECT_EQ(db_->query("SELECT state FROM provider_calls WHERE id = $1", intent.call_id).text(0, 0),
            "failed");
  EXPECT_EQ(db_->query("SELECT reserved_micros FROM jobs WHERE id = $1", id).int64(0, 0), 0);
  auto again = queue.claim();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->id, step->id);
}

TEST_F(StepQueueTest, ACancelledProviderJobIsHandedOutOnceForCancelling) {
  const auto id = job(5, std::nullopt, "generate");
  StepQueue queue(*db_, "daemon");
  auto step = queue.claim();
  ASSERT_TRUE(step);
  const Intent with_id = queue.record_intent(*step, {.provider = "luma", .idempotency_key = "1"});
  queue.record_submitted(*step, with_id.call_id, "gen-1");
  queue.record_intent(*step, {.provider = "luma", .idempotency_key = "2"}); /* no id yet */
  EXPECT_TRUE(sched::take_calls_to_cancel(*db_, 10).empty()) << "the job is not cancelled";
  ASSERT_EQ(JobControl(*db_).cancel(id), Outcome::kDone);
  const auto calls = sched::take_calls_to_cancel(*db_, 10);
  ASSERT_EQ(calls.size(), 1u) << "only a call the provider gave an id can be cancelled there";
  EXPECT_EQ(calls[0].provider_job_id, "gen-1");
  EXPECT_EQ(calls[0].provider, "luma");
  EXPECT_TRUE(sched::take_calls_to_cancel(*db_, 10).empty()) << "handed out twice";
}

TEST_F(StepQueueTest, IdleDaemonsAreWokenByNotify) {
  Connection listener(conninfo_);
  listener.listen(sched::kStepsChannel);
  EXPECT_TRUE(listener.wait_for_notifications(0ms).empty());
  job();
  const auto woken = listener.wait_for_notifications(5000ms);
  ASSERT_FALSE(woken.empty()) << "no notification for a new ready step";
  EXPECT_EQ(woken.front().channel, sched::kStepsChannel);
}

/* What the step kinds look up while adding steps and recording files. */
TEST_F(StepQueueTest, AJobsVariantsGenerateStepsAndClipsAreFoundByName) {
  const auto id = job(5, std::nullopt, "root");
  StepQueue queue(*db_, "daemon");
  auto root = queue.claim();
  ASSERT_TRUE(root);
  std::vector<std::int64_t> generates;
  queue.succeed(*root, "{}", [&](Connection &db) {
    store::insert_variant(db, id, 0, "short");
    store::insert_variant(db, id, 1, "long");
    generates = queue.add_steps(id, {{.kind = "generate", .inputs = R"({"uri": "genvideo://a"})"},
                                     {.kind = "generate", .inputs = R"({"uri": "genvideo://b"})"}});
  });
  const auto variants = store::variant_ids(*db_, id);
  ASSERT_EQ(variants.size(), 2u);
  EXPECT_LT(variants.at("short"), variants.at("long"));
  ASSERT_EQ(generates.size(), 2u);
  EXPECT_EQ(store::generate_step_ids(*db_, id),
            (std::map<std::string, std::int64_t>{{"genvideo://a", generates[0]},
                                                 {"genvideo://b", generates[1]}}));

  auto made = queue.claim();
  ASSERT_TRUE(made);
  queue.succeed(*made, "{}", [&](Connection &db) {
    store::record_artifact(db, {.job_id = id,
                                .variant_id = variants.at("short"),
                                .step_id = made->id,
                                .kind = "clip",
                                .uri = "file:///clips/made.mp4",
                                .size_bytes = 3,
                                .sha256 = std::string(64, 'a')});
  });
  const auto clips = store::generated_clip_files(*db_, id);
  ASSERT_EQ(clips.size(), 1u) << "only a succeeded generate step's clip";
  EXPECT_EQ(clips[0].source_uri, made->id == generates[0] ? "genvideo://a" : "genvideo://b");
  EXPECT_EQ(clips[0].file_uri, "file:///clips/made.mp4");
}

}  // namespace
}  // namespace reelforge::test
