/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "daemon-process.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

namespace reelforge::test {

using namespace std::chrono_literals;

DaemonProcess::DaemonProcess(const std::string &conninfo, const std::filesystem::path &data_dir,
                             const std::vector<std::string> &extra) {
  const char *bin = std::getenv("REELFORGE_BIN");
  if (!bin) {
    ADD_FAILURE() << "REELFORGE_BIN is not set";
    return;
  }
  static int serial = 0;
  log_ = data_dir.parent_path() /
         ("serve-" + std::to_string(getpid()) + "-" + std::to_string(++serial) + ".log");
  std::vector<std::string> args{
      bin, "serve",       "--data-dir", data_dir, "--listen", "127.0.0.1:0",  "--lease",
      "1", "--heartbeat", "0.25",       "--poll", "0.1",      "--retry-base", "0.1"};
  if (!conninfo.empty()) {
    args.push_back("--database");
    args.push_back(conninfo);
  }
  args.insert(args.end(), extra.begin(), extra.end());
  std::vector<char *> argv;
  for (auto &a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  const std::string log_path = log_.string();
  pid_ = fork();
  if (pid_ == 0) {
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execv(argv[0], argv.data());
    _exit(127);
  }
  if (pid_ <= 0) {
    ADD_FAILURE() << "cannot fork";
    return;
  }
  const std::regex api("API on (http://[0-9.]+:[0-9]+)");
  const bool up = wait_until(
      [&] {
        std::smatch m;
        const std::string text = log();
        if (std::regex_search(text, m, api)) url_ = m[1];
        return !url_.empty() || waitpid(pid_, nullptr, WNOHANG) == pid_;
      },
      20s);
  if (!up || url_.empty()) ADD_FAILURE() << "reelforge serve did not come up:\n" << log();
}

DaemonProcess::~DaemonProcess() {
  if (pid_ > 0) kill_hard();
}

void DaemonProcess::kill_hard() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

int DaemonProcess::stop() {
  if (pid_ <= 0) return -1;
  kill(pid_, SIGTERM);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string DaemonProcess::log() const {
  std::ifstream in(log_);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string HttpReply::header(const std::string &name) const {
  for (const auto &[k, v] : headers)
    if (g_ascii_strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return "";
}

HttpReply http(const std::string &method, const std::string &url, const std::string &key,
               const std::string &body,
               const std::vector<std::pair<std::string, std::string>> &headers) {
  static GObjectPtr<SoupSession> session(soup_session_new());
  GObjectPtr<SoupMessage> msg(soup_message_new(method.c_str(), url.c_str()));
  HttpReply reply;
  if (!msg) {
    ADD_FAILURE() << "bad URL " << url;
    return reply;
  }
  SoupMessageHeaders *request = soup_message_get_request_headers(msg.get());
  if (!key.empty())
    soup_message_headers_replace(request, "Authorization", ("Bearer " + key).c_str());
  for (const auto &[k, v] : headers) soup_message_headers_replace(request, k.c_str(), v.c_str());
  if (!body.empty()) {
    GBytesPtr bytes(g_bytes_new(body.data(), body.size()));
    soup_message_set_request_body_from_bytes(msg.get(), "application/json", bytes.get());
  }
  GError *raw_error = nullptr;
  GBytesPtr data(soup_session_send_and_read(session.get(), msg.get(), nullptr, &raw_error));
  GErrorPtr error(raw_error);
  if (!data) {
    ADD_FAILURE() << method << " " << url << ": " << error->message;
    return reply;
  }
  gsize size = 0;
  const auto *bytes = static_cast<const char *>(g_bytes_get_data(data.get(), &size));
  reply.status = soup_message_get_status(msg.get());
  reply.body.assign(bytes ? bytes : "", size);
  SoupMessageHeadersIter iter;
  soup_message_headers_iter_init(&iter, soup_message_get_response_headers(msg.get()));
  const char *name, *value;
  while (soup_message_headers_iter_next(&iter, &name, &value))
    reply.headers.emplace_back(name, value);
  return reply;
}

bool wait_until(const std::function<bool()> &condition, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

}  // namespace reelforge::test
