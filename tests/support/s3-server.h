/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A real S3 server for tests: s3rver (npm, installed by .ci/install-deps)
 * on a free loopback port with a private data directory, credentials
 * S3RVER/S3RVER. The test can kill it (as a crash would) and start it
 * again on the same port and data.
 */
#pragma once

#include "test-environment.h"

#include <sys/types.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace reelforge::test {

class S3Server {
 public:
  /* Starts s3rver with buckets created; failures are test failures
   * (check started()). */
  explicit S3Server(std::vector<std::string> buckets = {"reelforge-test"});
  ~S3Server();
  S3Server(const S3Server &) = delete;
  S3Server &operator=(const S3Server &) = delete;

  bool started() const { return pid_ > 0; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int port() const { return port_; }
  pid_t pid() const { return pid_; } /* to freeze it (SIGSTOP) as a hung server */
  static constexpr const char *kAccessKey = "S3RVER";
  static constexpr const char *kSecretKey = "S3RVER";

  /* What s3rver printed since it last started: one line per request,
   * "/key?query STATUS TIME SIZE" (an AbortMultipartUpload is a
   * "?uploadId=... 204" line). */
  std::string log();

  /* Waits until the log since the last start matches pattern (a regex):
   * s3rver prints a request's line after answering it. */
  bool wait_for_log(const std::string &pattern, int seconds = 10);

  /* SIGKILL, as a crash; then start() brings it back with the same data. */
  void kill();
  void start();

 private:
  void drain(int fd);

  TempDir dir_;
  std::vector<std::string> buckets_;
  int port_ = 0;
  pid_t pid_ = -1;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::string output_;
  bool listening_ = false;
  bool exited_ = false;
};

/* While it lives, the environment points at server with its credentials
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL, AWS_REGION),
 * as a user's shell would for `reelforge` and the elements; the variables
 * are unset after. */
class S3Environment {
 public:
  explicit S3Environment(const S3Server &server);
  ~S3Environment();
  S3Environment(const S3Environment &) = delete;
  S3Environment &operator=(const S3Environment &) = delete;
};

}  // namespace reelforge::test
