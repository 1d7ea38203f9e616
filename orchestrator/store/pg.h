/* Reelforge
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A thin RAII layer over libpq: a connection and a result owned by
 * unique_ptr with noexcept deleters, parameters always sent apart from the
 * SQL (PQexecParams), and a bad status turned into DatabaseError carrying
 * the server's message and SQLSTATE.
 */
#pragma once

#include <libpq-fe.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace reelforge::store {

struct PGconnDeleter {
  void operator()(PGconn *c) const noexcept { PQfinish(c); }
};
struct PGresultDeleter {
  void operator()(PGresult *r) const noexcept { PQclear(r); }
};
using PGconnPtr = std::unique_ptr<PGconn, PGconnDeleter>;
using PGresultPtr = std::unique_ptr<PGresult, PGresultDeleter>;

/* The server said no, or the connection is gone. sqlstate is the five
 * character SQLSTATE ("40001", "55P03"...), empty when there is none (a
 * broken connection). */
class DatabaseError : public std::runtime_error {
 public:
  DatabaseError(const std::string &message, std::string sqlstate)
      : std::runtime_error(message), sqlstate_(std::move(sqlstate)) {}
  const std::string &sqlstate() const { return sqlstate_; }
  /* The connection itself failed: reconnecting may help. */
  bool connection_lost() const { return sqlstate_.empty() || sqlstate_.starts_with("08"); }

 private:
  std::string sqlstate_;
};

/* SQLSTATEs callers act on. */
inline constexpr const char *kCheckViolation = "23514";
/* FOR UPDATE NOWAIT found the row locked. */
inline constexpr const char *kLockNotAvailable = "55P03";

/* One parameter in text form; std::nullopt is SQL NULL. */
using Param = std::optional<std::string>;

inline Param param(const std::string &v) {
  return v;
}
inline Param param(std::string_view v) {
  return std::string(v);
}
inline Param param(const char *v) {
  return v ? Param(v) : std::nullopt;
}
inline Param param(std::int64_t v) {
  return std::to_string(v);
}
inline Param param(int v) {
  return std::to_string(v);
}
inline Param param(double v) {
  return std::to_string(v);
}
inline Param param(std::nullopt_t) {
  return std::nullopt;
}
inline Param param(const Param &v) {
  return v;
}
inline Param param(const std::optional<std::int64_t> &v) {
  return v ? param(*v) : std::nullopt;
}

/* Rows of a statement, read by column name (as the statement's SELECT or
 * RETURNING list names them, aliases included): a query can gain or reorder
 * columns without breaking its reader. The index forms remain for ad hoc
 * statements (tests, migrations). NULL reads as "" or 0 unless read through
 * an optional_ accessor. */
class Result {
 public:
  explicit Result(PGresultPtr result) : result_(std::move(result)) {}
  int rows() const { return PQntuples(result_.get()); }
  /* Rows an UPDATE/INSERT/DELETE touched. */
  std::int64_t affected() const;

  /* The index of column name; throws std::logic_error naming the columns
   * there are when the statement has none of that name (a typo in a
   * query's reader, never a user's mistake). */
  int column(const char *name) const;

  bool is_null(int row, int column) const { return PQgetisnull(result_.get(), row, column); }
  std::string text(int row, int column) const { return PQgetvalue(result_.get(), row, column); }
  std::optional<std::string> optional_text(int row, int column) const;
  std::int64_t int64(int row, int column) const;
  double number(int row, int column) const;
  bool boolean(int row, int column) const { return text(row, column) == "t"; }

  bool is_null(int row, const char *name) const { return is_null(row, column(name)); }
  std::string text(int row, const char *name) const { return text(row, column(name)); }
  std::optional<std::string> optional_text(int row, const char *name) const {
    return optional_text(row, column(name));
  }
  std::int64_t int64(int row, const char *name) const { return int64(row, column(name)); }
  std::optional<std::int64_t> optional_int64(int row, const char *name) const;
  double number(int row, const char *name) const { return number(row, column(name)); }
  bool boolean(int row, const char *name) const { return boolean(row, column(name)); }

 private:
  PGresultPtr result_;
};

struct Notification {
  std::string channel;
  std::string payload;
};

class Connection {
 public:
  /* conninfo: "postgres://..." or "host=... dbname=...". Throws
   * DatabaseError with libpq's message (which never repeats the password). */
  explicit Connection(const std::string &conninfo);

  /* Runs one statement with its parameters sent separately. */
  Result exec(const std::string &sql, const std::vector<Param> &params = {});
  template <typename... Args>
  Result query(const std::string &sql, const Args &...args) {
    return exec(sql, std::vector<Param>{param(args)...});
  }

  /* Runs a trusted script of several statements without parameters: only
   * for the migrations the program carries. */
  void exec_script(const std::string &sql);

  /* LISTEN on channel (an identifier, quoted here). */
  void listen(const std::string &channel);
  /* Notifies channel's listeners, with an empty payload; in a transaction,
   * at its commit. */
  void notify(const std::string &channel);
  /* A trivial statement: throws DatabaseError when the server cannot
   * answer. */
  void ping();
  /* Waits up to timeout for notifications; returns those that arrived
   * (empty on timeout). Throws DatabaseError when the connection is lost. */
  std::vector<Notification> wait_for_notifications(std::chrono::milliseconds timeout);

  bool ok() const { return PQstatus(conn_.get()) == CONNECTION_OK; }
  PGconn *raw() const { return conn_.get(); }

 private:
  PGconnPtr conn_;
};

/* BEGIN at construction, ROLLBACK at destruction unless commit() ran. */
class Transaction {
 public:
  explicit Transaction(Connection &connection);
  ~Transaction();
  Transaction(const Transaction &) = delete;
  Transaction &operator=(const Transaction &) = delete;
  void commit();

 private:
  Connection &connection_;
  bool done_ = false;
};

}  // namespace reelforge::store
