// strata/error.hpp: the one exception type strata throws.
//
// Every failure that reaches a caller is a strata::Error. It carries a kind
// the caller can branch on (and the CLI maps to an exit code), the engine's
// own code where there is one (a SQLSTATE such as "42601", or a SQLite
// extended result code such as "SQLITE_CONSTRAINT_UNIQUE (2067)"), the SQL
// text that failed and where that SQL came from.
//
// Messages never contain passwords: anything built from a URL uses
// DatabaseUrl::redacted().
#pragma once

#include <cstdint>
#include <exception>
#include <string>

namespace strata {

enum class ErrorKind {
  usage,         // bad command-line or API arguments (an invalid --target, ...)
  config,        // bad configuration (an unparseable URL, a bad identifier)
  source,        // the migration source is broken: bad file name, duplicate version, unreadable file
  connection,    // cannot reach or authenticate to the database
  sql,           // a statement failed on the engine
  validation,    // history disagrees with the source: changed or missing migrations
  incompatible,  // the database is newer than this code can safely use
  dirty,         // a failed no-transaction migration must be repaired first
  lock_timeout,  // another migrator held the lock for too long
  io,            // a local file could not be read or written
  internal,      // a bug in strata
  blocked,       // queued background updates need handlers only the application has
  port_target,      // strata port: the target holds rows or is at another version
  port_conversion,  // strata port: a source value does not convert to the target column's type
  port_verify,      // strata port: row counts or checksums differ after copying
  lint,          // strata lint found problems at error severity (strata/lint.hpp)
  ddl_lock_timeout,  // the DDL lock guard gave up: a migration kept timing out on a lock
  multiple_heads,    // the revision graph has several heads and the command needs one (merge them)
};

// A short stable name for the kind: "sql", "lock_timeout", ...
const char* to_string(ErrorKind kind) noexcept;

// Where a piece of SQL came from. Lines and columns are 1-based; 0 means unknown.
struct SourcePosition {
  std::string file;   // as the user named it (relative paths stay relative)
  int line = 0;
  int column = 0;
  int statement = 0;  // 1-based index of the statement within the file
};

class Error : public std::exception {
 public:
  Error(ErrorKind kind, std::string message);
  Error(ErrorKind kind, std::string message, std::string engine_code, std::string sql = {});

  const char* what() const noexcept override { return what_.c_str(); }
  ErrorKind kind() const noexcept { return kind_; }
  // The engine's code: a SQLSTATE on PostgreSQL, "NAME (number)" on SQLite; empty if none.
  const std::string& engine_code() const noexcept { return engine_code_; }
  // The message as the engine gave it (what() adds context around it).
  const std::string& engine_message() const noexcept { return engine_message_; }
  const std::string& sql() const noexcept { return sql_; }
  const SourcePosition& position() const noexcept { return position_; }
  // The byte offset within sql() the engine blamed (sqlite3_error_offset, or
  // PostgreSQL's statement position converted from characters to bytes), or
  // -1 when the engine named none. Callers map it to a file line/column and
  // pass that to at(); at() itself does not move the position.
  int sql_offset() const noexcept { return sql_offset_; }
  // Every context prefix added so far, outermost first, joined by ": ".
  const std::string& context_text() const noexcept { return context_; }

  // Records the file/line/column of the error (as given: see sql_offset())
  // and rebuilds what().
  Error& at(SourcePosition position);
  // Prepends context ("applying 0003_add_users.sql: ...") to what(). Called
  // again, the newer prefix goes in front.
  Error& context(std::string prefix);
  // Set by the engine drivers; rebuilds what().
  Error& set_sql_offset(int offset);
  // A suggestion for the user, printed last as "hint: ..." (one per error;
  // a newer one replaces it).
  Error& hint(std::string text);
  const std::string& hint_text() const noexcept { return hint_; }

 private:
  // what() is, on its first line:
  //   [<context>: ][<file>:<line>:<column>: ]SQL error <engine_code>: <message>
  // for ErrorKind::sql (other kinds: "<message>", plus " [<engine_code>]" when
  // there is a code); then any further lines of the message (PostgreSQL's
  // DETAIL/HINT/CONTEXT); then, when sql_offset() >= 0, the offending line of
  // the SQL with a caret under the offending character, numbered with the
  // file's line when at() gave one.
  void rebuild();

  ErrorKind kind_;
  std::string summary_;
  std::string engine_code_;
  std::string engine_message_;
  std::string sql_;
  SourcePosition position_;
  std::string context_;
  int sql_offset_ = -1;
  std::string hint_;
  std::string what_;
};

}  // namespace strata
