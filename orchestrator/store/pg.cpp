/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "store/pg.h"

#include <poll.h>

#include <cerrno>
#include <cstdlib>

namespace reelforge::store {

namespace {

std::string trimmed(const char *message) {
  std::string text = message ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

/* Checks a result; throws DatabaseError with the server's message. */
Result checked(PGconn *conn, PGresult *raw) {
  PGresultPtr result(raw);
  if (!result) throw DatabaseError(trimmed(PQerrorMessage(conn)), "");
  const ExecStatusType status = PQresultStatus(result.get());
  if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) return Result(std::move(result));
  const char *state = PQresultErrorField(result.get(), PG_DIAG_SQLSTATE);
  std::string message = trimmed(PQresultErrorMessage(result.get()));
  if (message.empty()) message = trimmed(PQerrorMessage(conn));
  throw DatabaseError(message, state ? state : "");
}

}  // namespace

std::int64_t Result::affected() const {
  const char *n = PQcmdTuples(result_.get());
  return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

int Result::column(const char *name) const {
  const int index = PQfnumber(result_.get(), name);
  if (index >= 0) return index;
  std::string columns;
  for (int i = 0; i < PQnfields(result_.get()); ++i)
    columns += (i ? ", " : "") + std::string(PQfname(result_.get(), i));
  throw std::logic_error("the statement's result has no column \"" + std::string(name) +
                         "\" (it has: " + (columns.empty() ? "none" : columns) + ")");
}

std::optional<std::int64_t> Result::optional_int64(int row, const char *name) const {
  const int index = column(name);
  if (is_null(row, index)) return std::nullopt;
  return int64(row, index);
}

std::optional<std::string> Result::optional_text(int row, int column) const {
  if (is_null(row, column)) return std::nullopt;
  return text(row, column);
}

std::int64_t Result::int64(int row, int column) const {
  return std::strtoll(PQgetvalue(result_.get(), row, column), nullptr, 10);
}

double Result::number(int row, int column) const {
  return std::strtod(PQgetvalue(result_.get(), row, column), nullptr);
}

Connection::Connection(const std::string &conninfo) : conn_(PQconnectdb(conninfo.c_str())) {
  if (!conn_) throw DatabaseError("cannot allocate a PostgreSQL connection", "");
  if (PQstatus(conn_.get()) != CONNECTION_OK)
    throw DatabaseError("cannot connect to PostgreSQL: " + trimmed(PQerrorMessage(conn_.get())),
                        "");
  /* Notices (e.g. "relation already exists, skipping") are not errors. */
  PQsetNoticeProcessor(
      conn_.get(), [](void *, const char *) {}, nullptr);
}

Result Connection::exec(const std::string &sql, const std::vector<Param> &params) {
  std::vector<const char *> values;
  values.reserve(params.size());
  for (const Param &p : params) values.push_back(p ? p->c_str() : nullptr);
  return checked(conn_.get(),
                 PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr,
                              values.data(), nullptr, nullptr, 0));
}

void Connection::exec_script(const std::string &sql) {
  /* PQexec is the only libpq call that runs several statements; it is kept
   * to scripts compiled into the program, never to text with user data. */
  checked(conn_.get(), PQexec(conn_.get(), sql.c_str()));
}

void Connection::listen(const std::string &channel) {
  char *quoted = PQescapeIdentifier(conn_.get(), channel.c_str(), channel.size());
  if (!quoted) throw DatabaseError(trimmed(PQerrorMessage(conn_.get())), "");
  const std::string sql = std::string("LISTEN ") + quoted;
  PQfreemem(quoted);
  exec(sql);
}

void Connection::notify(const std::string &channel) {
  query("SELECT pg_notify($1, '')", channel);
}

void Connection::ping() {
  exec("SELECT 1");
}

std::vector<Notification> Connection::wait_for_notifications(std::chrono::milliseconds timeout) {
  std::vector<Notification> found;
  auto drain = [&] {
    while (PGnotify *n = PQnotifies(conn_.get())) {
      found.push_back({n->relname, n->extra ? n->extra : ""});
      PQfreemem(n);
    }
  };
  drain();
  if (!found.empty()) return found;
  const int fd = PQsocket(conn_.get());
  if (fd < 0) throw DatabaseError("the PostgreSQL connection is closed", "");
  pollfd pfd{fd, POLLIN, 0};
  const int ready = poll(&pfd, 1, static_cast<int>(timeout.count()));
  if (ready < 0 && errno != EINTR) throw DatabaseError("poll on the PostgreSQL socket failed", "");
  if (ready > 0) {
    if (!PQconsumeInput(conn_.get()))
      throw DatabaseError("lost the PostgreSQL connection: " + trimmed(PQerrorMessage(conn_.get())),
                          "");
    drain();
  }
  return found;
}

Transaction::Transaction(Connection &connection) : connection_(connection) {
  connection_.exec("BEGIN");
}

Transaction::~Transaction() {
  if (done_) return;
  /* A destructor must not throw; a broken connection rolls back anyway. */
  PGresultPtr ignored(PQexec(connection_.raw(), "ROLLBACK"));
}

void Transaction::commit() {
  connection_.exec("COMMIT");
  done_ = true;
}

}  // namespace reelforge::store
