/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Replicate's prediction API on a StandInServer, as the daemon's tests and
 * bench need it: every submission becomes a prediction that reports
 * "processing" for a number of polls and then "succeeded" with a real
 * H.264 clip to download; a prompt containing "UNSAFE" fails with
 * Replicate's sensitive-content error (E005). It keeps the books a
 * provider keeps: each prediction, its polls, whether it succeeded (and so
 * is billed), downloaded or was cancelled.
 *
 *   ReplicateStandIn replicate(clip_bytes);
 *   spec: {"provider": "replicate", "model": "minimax/hailuo-02",
 *          "endpoint": replicate.endpoint()}   (REPLICATE_API_TOKEN = kToken)
 */
#pragma once

#include "stand-in-server.h"

#include <atomic>
#include <map>
#include <mutex>
#include <string>

namespace reelforge::test {

class ReplicateStandIn {
 public:
  static constexpr const char *kToken = "r8_test_SECRET_0123456789";

  /* clip: the MP4 bytes every prediction outputs. */
  explicit ReplicateStandIn(std::string clip, int polls_before_done = 2);

  std::string endpoint() const { return server_.url(); }
  StandInServer &server() { return server_; }

  struct Prediction {
    std::string prompt;
    int polls = 0;
    bool succeeded = false; /* reported succeeded at least once: billed */
    bool downloaded = false;
    bool cancelled = false;
  };
  std::map<std::string, Prediction> predictions() const;
  int submissions() const;
  /* Predictions in flight now (created, not yet succeeded, failed or
   * cancelled) and the most there ever were at once. */
  int in_flight() const;
  int max_in_flight() const { return max_in_flight_.load(); }

 private:
  Reply create(const RecordedRequest &request);
  Reply get(const RecordedRequest &request);
  Reply cancel(const RecordedRequest &request);
  Reply file(const RecordedRequest &request);
  std::string prediction_json(const std::string &id, const std::string &status) const;

  StandInServer server_;
  std::string clip_;
  int polls_before_done_;
  mutable std::mutex mutex_;
  std::map<std::string, Prediction> predictions_;
  int next_id_ = 0;
  std::atomic<int> max_in_flight_{0};
};

}  // namespace reelforge::test
