/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * `reelforge serve` as a child process for the daemon tests: started with
 * its stderr in a file, its API URL read from its first line, stopped with
 * SIGTERM or killed with SIGKILL; and a small blocking HTTP client for its
 * API.
 */
#pragma once

#include "gst-ptr.h"

#include <libsoup/soup.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace reelforge::test {

class DaemonProcess {
 public:
  /* Starts `reelforge serve --database conninfo --data-dir data_dir` (no
   * --database when conninfo is empty: its own private cluster) with
   * fast test leases and extra arguments; waits for its API. A test
   * failure when it does not come up (then up() is false). */
  DaemonProcess(const std::string &conninfo, const std::filesystem::path &data_dir,
                const std::vector<std::string> &extra = {});
  /* SIGKILLs it if still running. */
  ~DaemonProcess();
  DaemonProcess(const DaemonProcess &) = delete;
  DaemonProcess &operator=(const DaemonProcess &) = delete;

  void kill_hard(); /* SIGKILL, and reap */
  int stop();       /* SIGTERM; returns the exit status */
  pid_t pid() const { return pid_; }
  bool up() const { return !url_.empty(); }
  const std::string &url() const { return url_; }
  std::string log() const;

 private:
  pid_t pid_ = -1;
  std::string url_;
  std::filesystem::path log_;
};

struct HttpReply {
  guint status = 0;
  std::string body;
  std::string header(const std::string &name) const;
  std::vector<std::pair<std::string, std::string>> headers;
};

HttpReply http(const std::string &method, const std::string &url, const std::string &key,
               const std::string &body = "",
               const std::vector<std::pair<std::string, std::string>> &headers = {});

/* Polls condition every 50 ms until it holds or timeout passes. */
bool wait_until(const std::function<bool()> &condition, std::chrono::milliseconds timeout);

}  // namespace reelforge::test
