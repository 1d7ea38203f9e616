/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/private-cluster.h"

#include "store/pg.h"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <vector>

namespace reelforge::store {

namespace fs = std::filesystem;

namespace {

constexpr int kPort = 5432; /* only names the socket file: there is no TCP listener */

void take_ownership(const fs::path &path, uid_t uid, gid_t gid) {
  if (chown(path.c_str(), uid, gid) != 0)
    throw ClusterError("cannot give " + path.string() + " to the database user");
}

/* Every folder above dir must let the server's user through. */
void check_reachable(const fs::path &dir, uid_t uid) {
  for (fs::path p = fs::absolute(dir); !p.empty(); p = p.parent_path()) {
    struct stat st {};
    if (stat(p.c_str(), &st) == 0 && st.st_uid != uid && !(st.st_mode & S_IXOTH))
      throw ClusterError("the PostgreSQL server user cannot enter " + p.string() +
                         ": choose a --data-dir it can reach (e.g. under /var/lib or /tmp) or run "
                         "`chmod o+x " +
                         p.string() + "`");
    if (p == p.parent_path()) break;
  }
}

}  // namespace

fs::path find_server_binaries() {
  if (const char *forced = std::getenv("REELFORGE_PG_BIN")) {
    if (!fs::exists(fs::path(forced) / "pg_ctl"))
      throw ClusterError(std::string("REELFORGE_PG_BIN=") + forced + " holds no pg_ctl");
    return forced;
  }
  std::vector<std::pair<int, fs::path>> found;
  std::error_code ec;
  for (const auto &entry : fs::directory_iterator("/usr/lib/postgresql", ec)) {
    const fs::path bin = entry.path() / "bin";
    if (fs::exists(bin / "initdb") && fs::exists(bin / "pg_ctl"))
      found.emplace_back(std::atoi(entry.path().filename().c_str()), bin);
  }
  if (found.empty())
    throw ClusterError(
        "no PostgreSQL server found in /usr/lib/postgresql/<major>/bin: install it (Debian: "
        "apt install postgresql) or give --database postgres://...");
  std::sort(found.begin(), found.end());
  return found.back().second;
}

PrivateCluster::PrivateCluster(Options options) : options_(std::move(options)) {
  bin_dir_ = find_server_binaries();
  options_.directory = fs::absolute(options_.directory);
  data_dir_ = options_.directory / "pgdata";
  socket_dir_ = options_.directory / "socket";
  if ((socket_dir_ / ".s.PGSQL.5432").string().size() >= 100)
    throw ClusterError("the data directory " + options_.directory.string() +
                       " is too deep for a Unix socket path: choose a shorter --data-dir");

  if (geteuid() == 0) {
    const char *name = std::getenv("REELFORGE_PG_USER");
    if (!name) name = "postgres";
    const passwd *user = getpwnam(name);
    if (!user || user->pw_uid == 0)
      throw ClusterError(std::string("PostgreSQL refuses to run as root and there is no `") + name +
                         "` user to run it as: install the postgresql package (it creates the "
                         "user), create one, set REELFORGE_PG_USER, or give --database");
    switch_user_ = true;
    uid_ = user->pw_uid;
    gid_ = user->pw_gid;
  }

  std::error_code ec;
  fs::create_directories(options_.directory, ec);
  if (ec)
    throw ClusterError("cannot create the data directory " + options_.directory.string() + ": " +
                       ec.message());
  fs::create_directories(socket_dir_, ec);
  if (switch_user_) {
    check_reachable(options_.directory, uid_);
    take_ownership(socket_dir_, uid_, gid_);
  }
  chmod(socket_dir_.c_str(), 0700);

  if (!fs::exists(data_dir_ / "PG_VERSION")) initdb();
  start();
  ensure_database();
}

PrivateCluster::~PrivateCluster() {
  if (adopted_ && !options_.stop_adopted) return;
  try {
    stop();
  } catch (const std::exception &) {
    /* Nothing more to do in a destructor: the server stops with the machine. */
  }
}

std::string PrivateCluster::conninfo(const std::string &dbname) const {
  return "host=" + socket_dir_.string() + " port=" + std::to_string(kPort) +
         " user=reelforge dbname=" + dbname;
}

int PrivateCluster::run_as_server_user(const std::vector<std::string> &argv, const fs::path &log) {
  /* Everything the child needs is prepared before fork: after it only
   * async-signal-safe calls run. */
  std::vector<char *> args;
  for (const std::string &a : argv) args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  const std::string log_path = log.string();
  if (switch_user_) {
    /* The log is created by us and handed over so the child can append. */
    std::ofstream(log_path, std::ios::app).close();
    take_ownership(log, uid_, gid_);
  }
  const std::string cwd = options_.directory.string();
  const pid_t pid = fork();
  if (pid < 0) throw ClusterError("cannot start " + argv[0]);
  if (pid == 0) {
    if (switch_user_) {
      if (setgroups(0, nullptr) != 0 || setgid(gid_) != 0 || setuid(uid_) != 0) _exit(126);
    }
    const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (fd >= 0) {
      dup2(fd, STDOUT_FILENO);
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    const int null_fd = open("/dev/null", O_RDONLY);
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    if (chdir(cwd.c_str()) != 0) _exit(126);
    execv(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

std::string PrivateCluster::log_tail(const fs::path &log) const {
  std::ifstream in(log);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  std::string tail;
  for (size_t i = lines.size() > 8 ? lines.size() - 8 : 0; i < lines.size(); ++i)
    tail += "\n  " + lines[i];
  return tail;
}

void PrivateCluster::initdb() {
  std::error_code ec;
  fs::create_directories(data_dir_, ec);
  if (switch_user_) take_ownership(data_dir_, uid_, gid_);
  chmod(data_dir_.c_str(), 0700);
  const fs::path log = options_.directory / "initdb.log";
  const int status =
      run_as_server_user({(bin_dir_ / "initdb").string(), "-D", data_dir_.string(), "-U",
                          "reelforge", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"},
                         log);
  if (status != 0)
    throw ClusterError("initdb failed for " + data_dir_.string() + " (see " + log.string() +
                       "):" + log_tail(log));
  std::ofstream conf(data_dir_ / "postgresql.conf", std::ios::app);
  conf << "\n# Written by reelforge: a private server on a Unix socket only.\n"
       << "listen_addresses = ''\n"
       << "unix_socket_directories = '" << socket_dir_.string() << "'\n"
       << "port = " << kPort << "\n"
       << "max_connections = 200\n";
  if (!options_.durable) conf << "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n";
  if (!conf) throw ClusterError("cannot write " + (data_dir_ / "postgresql.conf").string());
}

void PrivateCluster::start() {
  const fs::path log = options_.directory / "postgres.log";
  const std::string pg_ctl = (bin_dir_ / "pg_ctl").string();
  /* A server left running by a process that was killed is adopted. */
  if (run_as_server_user({pg_ctl, "status", "-D", data_dir_.string()}, log) == 0) {
    running_ = true;
    adopted_ = true;
    return;
  }
  const int status = run_as_server_user(
      {pg_ctl, "start", "-w", "-t", "60", "-D", data_dir_.string(), "-l", log.string()}, log);
  adopted_ = false;
  if (status != 0)
    throw ClusterError("PostgreSQL did not start in " + data_dir_.string() + " (see " +
                       log.string() + "):" + log_tail(log));
  running_ = true;
}

void PrivateCluster::stop() {
  if (!running_) return;
  running_ = false;
  const fs::path log = options_.directory / "postgres.log";
  run_as_server_user(
      {(bin_dir_ / "pg_ctl").string(), "stop", "-w", "-m", "fast", "-D", data_dir_.string()}, log);
}

void PrivateCluster::ensure_database() {
  Connection admin(conninfo("postgres"));
  if (admin.query("SELECT 1 FROM pg_database WHERE datname = $1", "reelforge").rows() == 0) {
    try {
      admin.exec("CREATE DATABASE reelforge");
    } catch (const DatabaseError &e) {
      if (e.sqlstate() != "42P04") throw; /* created meanwhile by a peer */
    }
  }
}

}  // namespace reelforge::store
