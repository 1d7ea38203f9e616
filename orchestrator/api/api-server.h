/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The daemon's HTTP API (libsoup 3), served on the main loop of
 * `reelforge serve`, loopback by default:
 *
 *   POST /v1/jobs                     {"spec": {...}, "priority": 0-9, "budget": USD,
 *                                      "approval": "none"|"before-render"|"before-upload",
 *                                      "base_dir": "/abs"}
 *                                     201 {"id": N}; 422 {"errors": [{"pointer", "message"}]}
 *   GET  /v1/jobs/{id}                status, steps, progress, costs, artifacts (delivered
 *                                     ones with their s3:// or file:// "uri"), QC verdicts
 *   GET  /v1/jobs?status=&limit=&cursor=   newest first; next_cursor pages on
 *   POST /v1/jobs/{id}/approve        {"choice": N}; /reject {"reason"}; /cancel; /resume
 *   GET  /v1/artifacts/{id}           the file, with Range
 *   GET  /healthz, GET /metrics       (Prometheus text) without a key
 *
 * Every /v1 call needs `Authorization: Bearer <key>` (from `reelforge keys
 * create`); keys are compared by SHA-256 (store/tenants.h). A tenant sees only its own jobs
 * and artifacts: anything else is 404, as if it did not exist. Bodies over
 * 1 MiB are refused with 413 before they are read.
 */
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace reelforge::sched {
class WorkerPool;
}

namespace reelforge::api {

class ApiServer {
 public:
  struct Options {
    std::string conninfo;
    std::string listen = "127.0.0.1:8750";   /* port 0: any free port */
    const sched::WorkerPool *pool = nullptr; /* for /metrics; may be null */
    std::size_t max_body = 1 << 20;
    int max_attempts = 6; /* of a new job's first step */
  };

  /* Listens at once on the thread-default main context; throws
   * std::runtime_error when the address is taken or invalid. */
  explicit ApiServer(Options options);
  ~ApiServer();
  ApiServer(const ApiServer &) = delete;
  ApiServer &operator=(const ApiServer &) = delete;

  /* http://host:port, the port really bound. */
  std::string url() const;

  struct Private;

 private:
  std::unique_ptr<Private> p_;
};

}  // namespace reelforge::api
