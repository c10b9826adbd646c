// The SQLite driver.
//
// File permissions: a database file strata creates is created here, before
// sqlite3_open_v2, with open(O_CREAT|O_EXCL, 0600) followed by fchmod(0600),
// so its mode is 0600 whatever the umask. SQLite then creates the -wal and
// -shm files with the database file's own permission bits (os_unix.c copies
// them), so they are 0600 too. An existing file keeps its mode.
#include "drivers/sqlite/sqlite_connection.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <thread>
#include <cctype>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "strata/error.hpp"

namespace strata::detail {
namespace {

struct DbCloser {
  void operator()(sqlite3* db) const noexcept { sqlite3_close_v2(db); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;

struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const noexcept { sqlite3_finalize(stmt); }
};
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

struct CodeName {
  int code;
  const char* name;
};

constexpr CodeName kCodeNames[] = {
    {SQLITE_OK, "SQLITE_OK"},
    {SQLITE_ERROR, "SQLITE_ERROR"},
    {SQLITE_INTERNAL, "SQLITE_INTERNAL"},
    {SQLITE_PERM, "SQLITE_PERM"},
    {SQLITE_ABORT, "SQLITE_ABORT"},
    {SQLITE_BUSY, "SQLITE_BUSY"},
    {SQLITE_LOCKED, "SQLITE_LOCKED"},
    {SQLITE_NOMEM, "SQLITE_NOMEM"},
    {SQLITE_READONLY, "SQLITE_READONLY"},
    {SQLITE_INTERRUPT, "SQLITE_INTERRUPT"},
    {SQLITE_IOERR, "SQLITE_IOERR"},
    {SQLITE_CORRUPT, "SQLITE_CORRUPT"},
    {SQLITE_NOTFOUND, "SQLITE_NOTFOUND"},
    {SQLITE_FULL, "SQLITE_FULL"},
    {SQLITE_CANTOPEN, "SQLITE_CANTOPEN"},
    {SQLITE_PROTOCOL, "SQLITE_PROTOCOL"},
    {SQLITE_EMPTY, "SQLITE_EMPTY"},
    {SQLITE_SCHEMA, "SQLITE_SCHEMA"},
    {SQLITE_TOOBIG, "SQLITE_TOOBIG"},
    {SQLITE_CONSTRAINT, "SQLITE_CONSTRAINT"},
    {SQLITE_MISMATCH, "SQLITE_MISMATCH"},
    {SQLITE_MISUSE, "SQLITE_MISUSE"},
    {SQLITE_NOLFS, "SQLITE_NOLFS"},
    {SQLITE_AUTH, "SQLITE_AUTH"},
    {SQLITE_FORMAT, "SQLITE_FORMAT"},
    {SQLITE_RANGE, "SQLITE_RANGE"},
    {SQLITE_NOTADB, "SQLITE_NOTADB"},
    {SQLITE_NOTICE, "SQLITE_NOTICE"},
    {SQLITE_WARNING, "SQLITE_WARNING"},
    {SQLITE_ROW, "SQLITE_ROW"},
    {SQLITE_DONE, "SQLITE_DONE"},
#ifdef SQLITE_ERROR_MISSING_COLLSEQ
    {SQLITE_ERROR_MISSING_COLLSEQ, "SQLITE_ERROR_MISSING_COLLSEQ"},
#endif
#ifdef SQLITE_ERROR_RETRY
    {SQLITE_ERROR_RETRY, "SQLITE_ERROR_RETRY"},
#endif
#ifdef SQLITE_ERROR_SNAPSHOT
    {SQLITE_ERROR_SNAPSHOT, "SQLITE_ERROR_SNAPSHOT"},
#endif
#ifdef SQLITE_IOERR_READ
    {SQLITE_IOERR_READ, "SQLITE_IOERR_READ"},
#endif
#ifdef SQLITE_IOERR_SHORT_READ
    {SQLITE_IOERR_SHORT_READ, "SQLITE_IOERR_SHORT_READ"},
#endif
#ifdef SQLITE_IOERR_WRITE
    {SQLITE_IOERR_WRITE, "SQLITE_IOERR_WRITE"},
#endif
#ifdef SQLITE_IOERR_FSYNC
    {SQLITE_IOERR_FSYNC, "SQLITE_IOERR_FSYNC"},
#endif
#ifdef SQLITE_IOERR_DIR_FSYNC
    {SQLITE_IOERR_DIR_FSYNC, "SQLITE_IOERR_DIR_FSYNC"},
#endif
#ifdef SQLITE_IOERR_TRUNCATE
    {SQLITE_IOERR_TRUNCATE, "SQLITE_IOERR_TRUNCATE"},
#endif
#ifdef SQLITE_IOERR_FSTAT
    {SQLITE_IOERR_FSTAT, "SQLITE_IOERR_FSTAT"},
#endif
#ifdef SQLITE_IOERR_UNLOCK
    {SQLITE_IOERR_UNLOCK, "SQLITE_IOERR_UNLOCK"},
#endif
#ifdef SQLITE_IOERR_RDLOCK
    {SQLITE_IOERR_RDLOCK, "SQLITE_IOERR_RDLOCK"},
#endif
#ifdef SQLITE_IOERR_DELETE
    {SQLITE_IOERR_DELETE, "SQLITE_IOERR_DELETE"},
#endif
#ifdef SQLITE_IOERR_BLOCKED
    {SQLITE_IOERR_BLOCKED, "SQLITE_IOERR_BLOCKED"},
#endif
#ifdef SQLITE_IOERR_NOMEM
    {SQLITE_IOERR_NOMEM, "SQLITE_IOERR_NOMEM"},
#endif
#ifdef SQLITE_IOERR_ACCESS
    {SQLITE_IOERR_ACCESS, "SQLITE_IOERR_ACCESS"},
#endif
#ifdef SQLITE_IOERR_CHECKRESERVEDLOCK
    {SQLITE_IOERR_CHECKRESERVEDLOCK, "SQLITE_IOERR_CHECKRESERVEDLOCK"},
#endif
#ifdef SQLITE_IOERR_LOCK
    {SQLITE_IOERR_LOCK, "SQLITE_IOERR_LOCK"},
#endif
#ifdef SQLITE_IOERR_CLOSE
    {SQLITE_IOERR_CLOSE, "SQLITE_IOERR_CLOSE"},
#endif
#ifdef SQLITE_IOERR_DIR_CLOSE
    {SQLITE_IOERR_DIR_CLOSE, "SQLITE_IOERR_DIR_CLOSE"},
#endif
#ifdef SQLITE_IOERR_SHMOPEN
    {SQLITE_IOERR_SHMOPEN, "SQLITE_IOERR_SHMOPEN"},
#endif
#ifdef SQLITE_IOERR_SHMSIZE
    {SQLITE_IOERR_SHMSIZE, "SQLITE_IOERR_SHMSIZE"},
#endif
#ifdef SQLITE_IOERR_SHMLOCK
    {SQLITE_IOERR_SHMLOCK, "SQLITE_IOERR_SHMLOCK"},
#endif
#ifdef SQLITE_IOERR_SHMMAP
    {SQLITE_IOERR_SHMMAP, "SQLITE_IOERR_SHMMAP"},
#endif
#ifdef SQLITE_IOERR_SEEK
    {SQLITE_IOERR_SEEK, "SQLITE_IOERR_SEEK"},
#endif
#ifdef SQLITE_IOERR_DELETE_NOENT
    {SQLITE_IOERR_DELETE_NOENT, "SQLITE_IOERR_DELETE_NOENT"},
#endif
#ifdef SQLITE_IOERR_MMAP
    {SQLITE_IOERR_MMAP, "SQLITE_IOERR_MMAP"},
#endif
#ifdef SQLITE_IOERR_GETTEMPPATH
    {SQLITE_IOERR_GETTEMPPATH, "SQLITE_IOERR_GETTEMPPATH"},
#endif
#ifdef SQLITE_IOERR_CONVPATH
    {SQLITE_IOERR_CONVPATH, "SQLITE_IOERR_CONVPATH"},
#endif
#ifdef SQLITE_IOERR_VNODE
    {SQLITE_IOERR_VNODE, "SQLITE_IOERR_VNODE"},
#endif
#ifdef SQLITE_IOERR_AUTH
    {SQLITE_IOERR_AUTH, "SQLITE_IOERR_AUTH"},
#endif
#ifdef SQLITE_IOERR_BEGIN_ATOMIC
    {SQLITE_IOERR_BEGIN_ATOMIC, "SQLITE_IOERR_BEGIN_ATOMIC"},
#endif
#ifdef SQLITE_IOERR_COMMIT_ATOMIC
    {SQLITE_IOERR_COMMIT_ATOMIC, "SQLITE_IOERR_COMMIT_ATOMIC"},
#endif
#ifdef SQLITE_IOERR_ROLLBACK_ATOMIC
    {SQLITE_IOERR_ROLLBACK_ATOMIC, "SQLITE_IOERR_ROLLBACK_ATOMIC"},
#endif
#ifdef SQLITE_IOERR_DATA
    {SQLITE_IOERR_DATA, "SQLITE_IOERR_DATA"},
#endif
#ifdef SQLITE_IOERR_CORRUPTFS
    {SQLITE_IOERR_CORRUPTFS, "SQLITE_IOERR_CORRUPTFS"},
#endif
#ifdef SQLITE_LOCKED_SHAREDCACHE
    {SQLITE_LOCKED_SHAREDCACHE, "SQLITE_LOCKED_SHAREDCACHE"},
#endif
#ifdef SQLITE_LOCKED_VTAB
    {SQLITE_LOCKED_VTAB, "SQLITE_LOCKED_VTAB"},
#endif
#ifdef SQLITE_BUSY_RECOVERY
    {SQLITE_BUSY_RECOVERY, "SQLITE_BUSY_RECOVERY"},
#endif
#ifdef SQLITE_BUSY_SNAPSHOT
    {SQLITE_BUSY_SNAPSHOT, "SQLITE_BUSY_SNAPSHOT"},
#endif
#ifdef SQLITE_BUSY_TIMEOUT
    {SQLITE_BUSY_TIMEOUT, "SQLITE_BUSY_TIMEOUT"},
#endif
#ifdef SQLITE_CANTOPEN_NOTEMPDIR
    {SQLITE_CANTOPEN_NOTEMPDIR, "SQLITE_CANTOPEN_NOTEMPDIR"},
#endif
#ifdef SQLITE_CANTOPEN_ISDIR
    {SQLITE_CANTOPEN_ISDIR, "SQLITE_CANTOPEN_ISDIR"},
#endif
#ifdef SQLITE_CANTOPEN_FULLPATH
    {SQLITE_CANTOPEN_FULLPATH, "SQLITE_CANTOPEN_FULLPATH"},
#endif
#ifdef SQLITE_CANTOPEN_CONVPATH
    {SQLITE_CANTOPEN_CONVPATH, "SQLITE_CANTOPEN_CONVPATH"},
#endif
#ifdef SQLITE_CANTOPEN_DIRTYWAL
    {SQLITE_CANTOPEN_DIRTYWAL, "SQLITE_CANTOPEN_DIRTYWAL"},
#endif
#ifdef SQLITE_CANTOPEN_SYMLINK
    {SQLITE_CANTOPEN_SYMLINK, "SQLITE_CANTOPEN_SYMLINK"},
#endif
#ifdef SQLITE_CORRUPT_VTAB
    {SQLITE_CORRUPT_VTAB, "SQLITE_CORRUPT_VTAB"},
#endif
#ifdef SQLITE_CORRUPT_SEQUENCE
    {SQLITE_CORRUPT_SEQUENCE, "SQLITE_CORRUPT_SEQUENCE"},
#endif
#ifdef SQLITE_CORRUPT_INDEX
    {SQLITE_CORRUPT_INDEX, "SQLITE_CORRUPT_INDEX"},
#endif
#ifdef SQLITE_READONLY_RECOVERY
    {SQLITE_READONLY_RECOVERY, "SQLITE_READONLY_RECOVERY"},
#endif
#ifdef SQLITE_READONLY_CANTLOCK
    {SQLITE_READONLY_CANTLOCK, "SQLITE_READONLY_CANTLOCK"},
#endif
#ifdef SQLITE_READONLY_ROLLBACK
    {SQLITE_READONLY_ROLLBACK, "SQLITE_READONLY_ROLLBACK"},
#endif
#ifdef SQLITE_READONLY_DBMOVED
    {SQLITE_READONLY_DBMOVED, "SQLITE_READONLY_DBMOVED"},
#endif
#ifdef SQLITE_READONLY_CANTINIT
    {SQLITE_READONLY_CANTINIT, "SQLITE_READONLY_CANTINIT"},
#endif
#ifdef SQLITE_READONLY_DIRECTORY
    {SQLITE_READONLY_DIRECTORY, "SQLITE_READONLY_DIRECTORY"},
#endif
#ifdef SQLITE_ABORT_ROLLBACK
    {SQLITE_ABORT_ROLLBACK, "SQLITE_ABORT_ROLLBACK"},
#endif
#ifdef SQLITE_CONSTRAINT_CHECK
    {SQLITE_CONSTRAINT_CHECK, "SQLITE_CONSTRAINT_CHECK"},
#endif
#ifdef SQLITE_CONSTRAINT_COMMITHOOK
    {SQLITE_CONSTRAINT_COMMITHOOK, "SQLITE_CONSTRAINT_COMMITHOOK"},
#endif
#ifdef SQLITE_CONSTRAINT_FOREIGNKEY
    {SQLITE_CONSTRAINT_FOREIGNKEY, "SQLITE_CONSTRAINT_FOREIGNKEY"},
#endif
#ifdef SQLITE_CONSTRAINT_FUNCTION
    {SQLITE_CONSTRAINT_FUNCTION, "SQLITE_CONSTRAINT_FUNCTION"},
#endif
#ifdef SQLITE_CONSTRAINT_NOTNULL
    {SQLITE_CONSTRAINT_NOTNULL, "SQLITE_CONSTRAINT_NOTNULL"},
#endif
#ifdef SQLITE_CONSTRAINT_PRIMARYKEY
    {SQLITE_CONSTRAINT_PRIMARYKEY, "SQLITE_CONSTRAINT_PRIMARYKEY"},
#endif
#ifdef SQLITE_CONSTRAINT_TRIGGER
    {SQLITE_CONSTRAINT_TRIGGER, "SQLITE_CONSTRAINT_TRIGGER"},
#endif
#ifdef SQLITE_CONSTRAINT_UNIQUE
    {SQLITE_CONSTRAINT_UNIQUE, "SQLITE_CONSTRAINT_UNIQUE"},
#endif
#ifdef SQLITE_CONSTRAINT_VTAB
    {SQLITE_CONSTRAINT_VTAB, "SQLITE_CONSTRAINT_VTAB"},
#endif
#ifdef SQLITE_CONSTRAINT_ROWID
    {SQLITE_CONSTRAINT_ROWID, "SQLITE_CONSTRAINT_ROWID"},
#endif
#ifdef SQLITE_CONSTRAINT_PINNED
    {SQLITE_CONSTRAINT_PINNED, "SQLITE_CONSTRAINT_PINNED"},
#endif
#ifdef SQLITE_CONSTRAINT_DATATYPE
    {SQLITE_CONSTRAINT_DATATYPE, "SQLITE_CONSTRAINT_DATATYPE"},
#endif
#ifdef SQLITE_NOTICE_RECOVER_WAL
    {SQLITE_NOTICE_RECOVER_WAL, "SQLITE_NOTICE_RECOVER_WAL"},
#endif
#ifdef SQLITE_NOTICE_RECOVER_ROLLBACK
    {SQLITE_NOTICE_RECOVER_ROLLBACK, "SQLITE_NOTICE_RECOVER_ROLLBACK"},
#endif
#ifdef SQLITE_WARNING_AUTOINDEX
    {SQLITE_WARNING_AUTOINDEX, "SQLITE_WARNING_AUTOINDEX"},
#endif
#ifdef SQLITE_AUTH_USER
    {SQLITE_AUTH_USER, "SQLITE_AUTH_USER"},
#endif
#ifdef SQLITE_OK_LOAD_PERMANENTLY
    {SQLITE_OK_LOAD_PERMANENTLY, "SQLITE_OK_LOAD_PERMANENTLY"},
#endif
#ifdef SQLITE_OK_SYMLINK
    {SQLITE_OK_SYMLINK, "SQLITE_OK_SYMLINK"},
#endif
};

// "SQLITE_CONSTRAINT_UNIQUE (2067)"; an unknown extended code is named after
// its primary code: "SQLITE_IOERR (4874)".
std::string code_name(int code) {
  const char* name = nullptr;
  for (const auto& c : kCodeNames) {
    if (c.code == code) name = c.name;
  }
  if (name == nullptr) {
    for (const auto& c : kCodeNames) {
      if (c.code == (code & 0xff)) name = c.name;
    }
  }
  return std::string(name != nullptr ? name : "SQLITE_UNKNOWN") + " (" + std::to_string(code) + ")";
}

// The engine's error for the last call on `db`. `offset_base` is where the
// text handed to sqlite3_prepare starts within `sql`.
Error engine_error(sqlite3* db, int rc, std::string_view sql, ErrorKind kind = ErrorKind::sql,
                   std::size_t offset_base = 0) {
  int code = db != nullptr ? sqlite3_extended_errcode(db) : rc;
  if (code == SQLITE_OK) code = rc;
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  Error e(kind, std::move(message), code_name(code), std::string(sql));
#if SQLITE_VERSION_NUMBER >= 3038000
  if (db != nullptr) {
    int offset = sqlite3_error_offset(db);
    if (offset >= 0) e.set_sql_offset(static_cast<int>(offset_base) + offset);
  }
#endif
  return e;
}

// Where the first non-trivia character of `s` is.
std::size_t skip_trivia(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == ';') {
      ++i;
    } else if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      i = s.find('\n', i);
      if (i == std::string_view::npos) return s.size();
    } else if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
      i = s.find("*/", i + 2);
      if (i == std::string_view::npos) return s.size();
      i += 2;
    } else {
      break;
    }
  }
  return i;
}

// Whitespace, ';' and comments only.
bool only_trivia(std::string_view s) { return skip_trivia(s) == s.size(); }

Error usage_error(std::string message, std::string_view sql) {
  return Error(ErrorKind::usage, std::move(message), {}, std::string(sql));
}

int checked_length(std::string_view sql) {
  if (sql.size() >= static_cast<std::size_t>(INT_MAX)) {
    throw usage_error("the SQL text is too long for SQLite (" + std::to_string(sql.size()) + " bytes)", {});
  }
  return static_cast<int>(sql.size());
}

class SqliteConnection final : public Connection {
 public:
  SqliteConnection(DbHandle db, std::string redacted_url)
      : Connection(std::move(redacted_url)), db_(std::move(db)) {}

  Engine engine() const noexcept override { return Engine::sqlite; }
  bool transactional_ddl() const noexcept override { return true; }
  bool in_transaction() const noexcept override { return sqlite3_get_autocommit(db_.get()) == 0; }
  sqlite3* native() const noexcept { return db_.get(); }

  ResultSet query(std::string_view sql, std::span<const Value> params) override {
    if (!params.empty()) return query_cached(sql, params);
    StmtHandle stmt = prepare_one(sql, 0);
    if (!stmt) return {};
    bind(stmt.get(), sql, params);
    return run(stmt.get(), sql);
  }

  void execute_script(std::string_view sql) override {
    int length = checked_length(sql);
    const char* begin = sql.data();
    const char* end = begin + length;
    const char* p = begin;
    while (p < end) {
      sqlite3_stmt* raw = nullptr;
      const char* tail = nullptr;
      int rc = sqlite3_prepare_v3(db_.get(), p, static_cast<int>(end - p), 0, &raw, &tail);
      StmtHandle stmt(raw);
      if (rc != SQLITE_OK) throw engine_error(db_.get(), rc, sql, ErrorKind::sql, static_cast<std::size_t>(p - begin));
      if (stmt) {
        while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        }
        if (rc != SQLITE_DONE) {
          Error e = engine_error(db_.get(), rc, sql, ErrorKind::sql, static_cast<std::size_t>(p - begin));
          if (e.sql_offset() < 0) e.set_sql_offset(static_cast<int>(p - begin + skip_trivia(std::string_view(p, end - p))));
          throw e;
        }
      }
      if (tail == nullptr || tail <= p) break;
      p = tail;
    }
  }

  StatementDescription describe(std::string_view sql) override {
    StatementDescription out;
    StmtHandle stmt = prepare_one(sql, 0);
    if (!stmt) return out;
    sqlite3_stmt* s = stmt.get();
    out.parameters.resize(highest_parameter(s, sql));
    const int columns = sqlite3_column_count(s);
    for (int c = 0; c < columns; ++c) {
      ColumnDescription column;
      auto text = [](const char* p) { return std::string(p != nullptr ? p : ""); };
      column.name = text(sqlite3_column_name(s, c));
      column.type = text(sqlite3_column_decltype(s, c));
      column.table = text(sqlite3_column_table_name(s, c));
      column.table_column = text(sqlite3_column_origin_name(s, c));
      if (!column.table.empty() && !column.table_column.empty()) {
        const char* type = nullptr;
        const char* collation = nullptr;
        int not_null = 0;
        int primary_key = 0;
        int autoincrement = 0;
        if (sqlite3_table_column_metadata(db_.get(), sqlite3_column_database_name(s, c), column.table.c_str(),
                                          column.table_column.c_str(), &type, &collation, &not_null, &primary_key,
                                          &autoincrement) == SQLITE_OK) {
          // An INTEGER PRIMARY KEY is the rowid: never NULL, NOT NULL or not.
          std::string declared = text(type);
          std::transform(declared.begin(), declared.end(), declared.begin(),
                         [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
          column.not_null = not_null != 0 || (primary_key != 0 && declared == "INTEGER");
        }
      }
      out.columns.push_back(std::move(column));
    }
    return out;
  }

 private:
  // The highest $n of a prepared statement (other parameter styles are a
  // usage error, as in bind()).
  static std::size_t highest_parameter(sqlite3_stmt* stmt, std::string_view sql) {
    int count = sqlite3_bind_parameter_count(stmt);
    std::size_t highest = 0;
    for (int j = 1; j <= count; ++j) {
      const char* name = sqlite3_bind_parameter_name(stmt, j);
      std::string_view n = name != nullptr ? name : "?";
      bool numbered = n.size() >= 2 && n[0] == '$' && n[1] >= '1' && n[1] <= '9' && n.size() <= 7 &&
                      n.find_first_not_of("0123456789", 1) == std::string_view::npos;
      if (!numbered) {
        throw usage_error("unsupported parameter " + std::string(n) + ": write parameters as $1, $2, ...", sql);
      }
      highest = std::max<std::size_t>(highest, std::stoul(std::string(n.substr(1))));
    }
    return highest;
  }

  // Prepares the one statement `sql` holds (null for none: blanks and
  // comments only); more than one is a usage error pointing at the second.
  StmtHandle prepare_one(std::string_view sql, unsigned flags) {
    int length = checked_length(sql);
    if (length == 0) return {};
    sqlite3_stmt* raw = nullptr;
    const char* tail = nullptr;
    int rc = sqlite3_prepare_v3(db_.get(), sql.data(), length, flags, &raw, &tail);
    StmtHandle stmt(raw);
    if (rc != SQLITE_OK) throw engine_error(db_.get(), rc, sql);
    const std::size_t tail_offset = tail != nullptr ? static_cast<std::size_t>(tail - sql.data()) : sql.size();
    std::string_view rest = sql.substr(tail_offset);
    if (!only_trivia(rest)) {
      Error e = usage_error(
          "query() and execute() run exactly one statement, but this SQL holds more: use execute_script() for "
          "several statements",
          sql);
      e.set_sql_offset(static_cast<int>(tail_offset + skip_trivia(rest)));
      throw e;
    }
    return stmt;
  }

  // A parameterised query runs through a statement kept prepared for the
  // next call with the same text (see cache_).
  ResultSet query_cached(std::string_view sql, std::span<const Value> params) {
    auto hit = std::find_if(cache_.begin(), cache_.end(), [&](const Cached& c) { return c.sql == sql; });
    if (hit != cache_.end()) {
      std::rotate(cache_.begin(), hit, hit + 1);  // most recently used first
    } else {
      StmtHandle stmt = prepare_one(sql, SQLITE_PREPARE_PERSISTENT);
      if (!stmt) {
        throw usage_error("the SQL holds no statement but " + std::to_string(params.size()) + " parameter value(s) were given", sql);
      }
      if (cache_.size() == kCacheSize) cache_.pop_back();
      cache_.insert(cache_.begin(), Cached{std::string(sql), std::move(stmt)});
    }
    sqlite3_stmt* stmt = cache_.front().stmt.get();
    // Reset whatever happens, so a cached statement never holds a lock.
    struct Reset {
      sqlite3_stmt* s;
      ~Reset() {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
      }
    } reset{stmt};
    bind(stmt, sql, params);
    return run(stmt, sql);
  }

  void bind(sqlite3_stmt* stmt, std::string_view sql, std::span<const Value> params) {
    const std::size_t highest = highest_parameter(stmt, sql);
    if (highest != params.size()) {
      throw usage_error("the statement uses " + std::to_string(highest) + " parameter(s) ($1..$" +
                            std::to_string(highest) + ") but " + std::to_string(params.size()) + " value(s) were given",
                        sql);
    }
    for (std::size_t i = 0; i < params.size(); ++i) {
      std::string name = "$" + std::to_string(i + 1);
      int index = sqlite3_bind_parameter_index(stmt, name.c_str());
      if (index == 0) continue;  // $i is not used: nothing to bind
      int rc = bind_one(stmt, index, params[i]);
      if (rc != SQLITE_OK) throw engine_error(db_.get(), rc, sql);
    }
  }

  static int bind_one(sqlite3_stmt* stmt, int index, const Value& value) {
    return std::visit(
        [&](const auto& v) -> int {
          using T = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<T, Null>) {
            return sqlite3_bind_null(stmt, index);
          } else if constexpr (std::is_same_v<T, std::int64_t>) {
            return sqlite3_bind_int64(stmt, index, v);
          } else if constexpr (std::is_same_v<T, double>) {
            return sqlite3_bind_double(stmt, index, v);
          } else if constexpr (std::is_same_v<T, std::string>) {
            return sqlite3_bind_text64(stmt, index, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
          } else if constexpr (std::is_same_v<T, Blob>) {
            if (v.empty()) return sqlite3_bind_zeroblob(stmt, index, 0);
            return sqlite3_bind_blob64(stmt, index, v.data(), v.size(), SQLITE_STATIC);
          } else if constexpr (std::is_same_v<T, bool>) {
            return sqlite3_bind_int64(stmt, index, v ? 1 : 0);
          } else if constexpr (std::is_same_v<T, Timestamp>) {
            std::string text = format_timestamp(v);
            return sqlite3_bind_text64(stmt, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
          }
        },
        value.storage());
  }

  ResultSet run(sqlite3_stmt* stmt, std::string_view sql) {
    ResultSet result;
    sqlite3_int64 before = sqlite3_total_changes64(db_.get());
    // The columns are read after the first step: a kept statement whose
    // tables changed is re-prepared by that step, and `SELECT *` may then
    // have more or fewer columns than before it.
    int rc = sqlite3_step(stmt);
    int columns = sqlite3_column_count(stmt);
    result.columns.reserve(static_cast<std::size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      const char* name = sqlite3_column_name(stmt, c);
      result.columns.emplace_back(name != nullptr ? name : "");
    }
    for (; rc == SQLITE_ROW; rc = sqlite3_step(stmt)) {
      std::vector<Value> values;
      values.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) values.push_back(column(stmt, c));
      result.rows.emplace_back(std::move(values));
    }
    if (rc != SQLITE_DONE) throw engine_error(db_.get(), rc, sql);
    // sqlite3_changes64 keeps the count of the last INSERT/UPDATE/DELETE
    // until another one runs, so it only counts when this statement changed
    // something.
    if (sqlite3_total_changes64(db_.get()) != before) result.affected = sqlite3_changes64(db_.get());
    return result;
  }

  static Value column(sqlite3_stmt* stmt, int c) {
    switch (sqlite3_column_type(stmt, c)) {
      case SQLITE_INTEGER: return Value(static_cast<long long>(sqlite3_column_int64(stmt, c)));
      case SQLITE_FLOAT: return Value(sqlite3_column_double(stmt, c));
      case SQLITE_TEXT: {
        const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt, c));
        int n = sqlite3_column_bytes(stmt, c);
        return Value(std::string(text != nullptr ? text : "", static_cast<std::size_t>(n)));
      }
      case SQLITE_BLOB: {
        const auto* data = static_cast<const std::byte*>(sqlite3_column_blob(stmt, c));
        int n = sqlite3_column_bytes(stmt, c);
        return Value(data != nullptr ? Blob(data, data + n) : Blob{});
      }
      default: return Value(Null{});
    }
  }

  DbHandle db_;
  // Prepared statements of parameterised queries (the history insert of each
  // migration, the background runner's progress updates), most recently used
  // first, at most kCacheSize. They are kept reset, so they hold no lock, and
  // SQLite re-prepares one whose tables changed. Declared after db_: they are
  // finalized before the database closes.
  static constexpr std::size_t kCacheSize = 16;
  struct Cached {
    std::string sql;
    StmtHandle stmt;
  };
  std::vector<Cached> cache_;
};

// Runs a setup statement and returns its first column of its first row (or
// ""); any failure means the database cannot be used. SQLITE_BUSY is retried
// until `deadline`: switching a fresh file to WAL needs an exclusive lock,
// and SQLite reports BUSY at once, without its busy handler, when several
// connections open a new database together.
std::string setup(sqlite3* db, const char* sql, const std::string& redacted,
                  std::chrono::steady_clock::time_point deadline) {
  while (true) {
    sqlite3_stmt* raw = nullptr;
    int rc = sqlite3_prepare_v3(db, sql, -1, 0, &raw, nullptr);
    StmtHandle stmt(raw);
    std::string first;
    if (rc == SQLITE_OK && stmt) {
      while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
        if (first.empty() && sqlite3_column_count(stmt.get()) > 0) {
          const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(stmt.get(), 0));
          if (text != nullptr) first = text;
        }
      }
      if (rc == SQLITE_DONE) rc = SQLITE_OK;
    }
    if (rc == SQLITE_OK) return first;
    if ((rc & 0xff) == SQLITE_BUSY && std::chrono::steady_clock::now() < deadline) {
      stmt.reset();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    throw Error(ErrorKind::connection, "cannot open " + redacted + ": " + sqlite3_errmsg(db),
                code_name(sqlite3_extended_errcode(db)));
  }
}

}  // namespace

std::unique_ptr<Connection> open_sqlite(const DatabaseUrl& url, const ConnectOptions& options) {
  const std::string redacted = url.redacted();
  const bool memory = url.is_memory();
  const std::string& path = url.sqlite_path;

  bool created = false;
  if (!memory && !options.read_only) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
      created = true;
      (void)::fchmod(fd, 0600);  // umask-independent
      ::close(fd);
    } else if (errno != EEXIST) {
      int err = errno;
      throw Error(ErrorKind::connection, "cannot open " + redacted + ": cannot create " + path + ": " + std::strerror(err));
    }
  }
  auto forget_created = [&]() noexcept {
    if (created) ::unlink(path.c_str());
  };

  if (!memory && options.read_only && ::access(path.c_str(), F_OK) != 0) {
    throw Error(ErrorKind::connection, "cannot open " + redacted + ": no such SQLite database file (opened read-only, "
                                       "so it is not created)");
  }
  sqlite3* raw = nullptr;
  int flags = (options.read_only && !memory ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_NOMUTEX;
#ifdef SQLITE_OPEN_EXRESCODE
  flags |= SQLITE_OPEN_EXRESCODE;
#endif
  int rc = sqlite3_open_v2(memory ? ":memory:" : path.c_str(), &raw, flags, nullptr);
  DbHandle db(raw);
  if (rc != SQLITE_OK) {
    std::string reason = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    int code = raw != nullptr ? sqlite3_extended_errcode(raw) : rc;
    db.reset();
    forget_created();
    throw Error(ErrorKind::connection, "cannot open " + redacted + ": " + reason, code_name(code));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  auto ms = options.busy_timeout.count();
  sqlite3_busy_timeout(db.get(), ms < 0 ? 0 : ms > INT_MAX ? INT_MAX : static_cast<int>(ms));
  try {
    // journal_mode reads the file header, so a file that is not a database
    // fails here rather than on the first query.
    auto deadline = std::chrono::steady_clock::now() + options.busy_timeout;
    // WAL is persistent: only a file not in WAL mode yet needs the switch.
    if (!memory && setup(db.get(), "PRAGMA journal_mode", redacted, deadline) != "wal" && !options.read_only) {
      setup(db.get(), "PRAGMA journal_mode = WAL", redacted, deadline);
    }
    setup(db.get(), "PRAGMA foreign_keys = ON", redacted, deadline);
  } catch (Error& e) {
    db.reset();
    forget_created();
    // A WAL database needs its -wal and -shm files beside it, even to read.
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (!memory && ::access(dir.empty() ? "." : dir.c_str(), W_OK) != 0) {
      e.hint("the directory " + (dir.empty() ? std::string(".") : dir.string()) +
             " is not writable (" + std::strerror(errno) + "): SQLite in WAL mode needs to create " + path +
             "-wal and -shm beside the database");
    }
    throw;
  } catch (...) {
    db.reset();
    forget_created();
    throw;
  }
  return std::make_unique<SqliteConnection>(std::move(db), redacted);
}

namespace {

int record_authorizer_call(void* user, int action, const char* a1, const char* a2, const char* database,
                           const char* inner) {
  auto* calls = static_cast<std::vector<AuthorizerCall>*>(user);
  calls->push_back({action, a1 != nullptr ? a1 : "", a2 != nullptr ? a2 : "", database != nullptr ? database : "",
                    inner != nullptr ? inner : ""});
  return SQLITE_OK;
}

}  // namespace

std::string prepare_authorized(Connection& connection, std::string_view sql, std::vector<AuthorizerCall>& calls) {
  auto* sqlite = dynamic_cast<SqliteConnection*>(&connection);
  if (sqlite == nullptr) throw Error(ErrorKind::internal, "prepare_authorized needs a SQLite connection");
  sqlite3* db = sqlite->native();
  sqlite3_set_authorizer(db, record_authorizer_call, &calls);
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, nullptr);
  StmtHandle stmt(raw);
  sqlite3_set_authorizer(db, nullptr, nullptr);
  return rc == SQLITE_OK ? std::string() : std::string(sqlite3_errmsg(db));
}

}  // namespace strata::detail
