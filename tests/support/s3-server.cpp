/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "s3-server.h"

#include <glib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <regex>

namespace reelforge::test {

S3Server::S3Server(std::vector<std::string> buckets) : buckets_(std::move(buckets)) {
  start();
}

S3Server::~S3Server() {
  kill();
}

void S3Server::start() {
  if (pid_ > 0) return;
  const char *configured = g_getenv("S3RVER");
  gchar *program = configured ? g_strdup(configured) : g_find_program_in_path("s3rver");
  if (!program) {
    ADD_FAILURE() << "s3rver not found on PATH: run .ci/install-deps (npm install -g s3rver@3.7.1)";
    return;
  }
  std::vector<std::string> args = {program,     "-d", dir_.path().string(), "-a",
                                   "127.0.0.1", "-p", std::to_string(port_)};
  g_free(program);
  for (const auto &bucket : buckets_) {
    args.push_back("--configure-bucket");
    args.push_back(bucket);
  }
  std::vector<gchar *> argv;
  for (auto &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  GPid pid = 0;
  gint out_fd = -1;
  GError *error = nullptr;
  if (!g_spawn_async_with_pipes(nullptr, argv.data(), nullptr,
                                static_cast<GSpawnFlags>(G_SPAWN_DO_NOT_REAP_CHILD), nullptr,
                                nullptr, &pid, nullptr, &out_fd, nullptr, &error)) {
    ADD_FAILURE() << "cannot start s3rver: " << error->message;
    g_error_free(error);
    return;
  }
  pid_ = pid;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    listening_ = false;
    exited_ = false;
    output_.clear();
  }
  reader_ = std::thread([this, out_fd] { drain(out_fd); });

  /* s3rver prints "S3rver listening on 127.0.0.1:PORT" once it accepts. */
  std::unique_lock<std::mutex> lock(mutex_);
  const bool ready =
      changed_.wait_for(lock, std::chrono::seconds(30), [&] { return listening_ || exited_; });
  if (!ready || !listening_) {
    const std::string output = output_;
    lock.unlock();
    ADD_FAILURE() << "s3rver did not start: " << output;
    kill();
  }
}

void S3Server::drain(int fd) {
  static const std::regex listening("listening on 127\\.0\\.0\\.1:([0-9]+)");
  char buffer[4096];
  while (true) {
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) break;
    std::lock_guard<std::mutex> lock(mutex_);
    output_.append(buffer, static_cast<size_t>(n));
    changed_.notify_all();
    if (!listening_) {
      std::smatch match;
      if (std::regex_search(output_, match, listening)) {
        port_ = std::stoi(match[1].str());
        listening_ = true;
        changed_.notify_all();
      }
    }
  }
  close(fd);
  std::lock_guard<std::mutex> lock(mutex_);
  exited_ = true;
  changed_.notify_all();
}

std::string S3Server::log() {
  std::lock_guard<std::mutex> lock(mutex_);
  return output_;
}

bool S3Server::wait_for_log(const std::string &pattern, int seconds) {
  const std::regex wanted(pattern);
  std::unique_lock<std::mutex> lock(mutex_);
  return changed_.wait_for(lock, std::chrono::seconds(seconds), [&] {
    return std::regex_search(output_, wanted) || exited_;
  }) && std::regex_search(output_, wanted);
}

void S3Server::kill() {
  if (pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, 0);
    g_spawn_close_pid(pid_);
    pid_ = -1;
  }
  if (reader_.joinable()) reader_.join();
}

S3Environment::S3Environment(const S3Server &server) {
  g_setenv("AWS_ACCESS_KEY_ID", S3Server::kAccessKey, TRUE);
  g_setenv("AWS_SECRET_ACCESS_KEY", S3Server::kSecretKey, TRUE);
  g_setenv("AWS_ENDPOINT_URL", server.endpoint().c_str(), TRUE);
  g_setenv("AWS_REGION", "us-east-1", TRUE);
}

S3Environment::~S3Environment() {
  for (const char *name :
       {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL", "AWS_REGION"})
    g_unsetenv(name);
}

}  // namespace reelforge::test
