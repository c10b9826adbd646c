// tools/strata/exit_codes.hpp: the CLI's exit codes, one per failure class.
// Documented in the README and in `strata --help`; scripts depend on them, so
// never renumber.
#pragma once

#include <stdexcept>
#include <string>

#include "strata/error.hpp"

namespace strata::cli {

enum class ExitCode : int {
  ok = 0,
  usage = 2,         // bad arguments or options
  config = 3,        // bad configuration or URL
  source = 4,        // broken migration source (bad name, duplicate, unreadable, unsplittable)
  connection = 5,    // database unreachable or login refused
  sql = 6,           // a migration statement failed (rolled back unless no-transaction)
  validation = 7,    // history disagrees with the source (changed or missing migrations)
  incompatible = 8,  // the database is newer than this code supports
  dirty = 9,         // a no-transaction migration failed part-way: run `strata repair`
  lock_timeout = 10, // another migrator held the lock too long
  io = 11,           // a local file could not be read or written
  blocked = 12,      // background updates wait for handlers that live in the application
  diff_changes = 13, // strata diff --exit-code: the schemas differ
  drift = 14,        // strata drift: the database differs from what its source produces
  lint = 15,         // strata lint (or up --lint error) found a problem at error severity
  prepare_mismatch = 16,  // `prepare --check`: the prepared queries file is out of date
  port_target = 17,      // strata port: the target holds rows or is at another version
  port_conversion = 18,  // strata port: a value does not convert to the target column's type
  port_verify = 19,      // strata port: row counts or checksums differ after copying
  ddl_lock_timeout = 21,  // the DDL lock guard gave up after its retries
  multiple_heads = 22,    // the revision graph has several heads: `strata merge` them or pass --target heads
  internal = 70,     // a bug in strata
  // Reserved for work in progress (one per issue, so parallel branches never
  // collide): 13 diff has changes (--exit-code), 14 drift found, 15 lint
  // findings at error severity, 16 prepare --check mismatch, 17-20 port
  // (17 target not empty or at another version, 18 a value did not convert,
  // 19 verification mismatch), 21 DDL lock guard gave up, 22-24 revision
  // graph (22 several heads).
};

// Thrown by a command that fails with an exit code of its own (not one
// derived from a strata::Error kind); main prints the message.
struct ExitFailure : std::runtime_error {
  ExitFailure(ExitCode c, std::string k, const std::string& message) : std::runtime_error(message), code(c), kind(std::move(k)) {}
  ExitCode code;
  std::string kind;
};

// Thrown by a command that has already reported its outcome (on stdout, as
// JSON or text) and only needs the process to exit with `code`: main prints
// nothing more.
struct ExitWith {
  ExitCode code;
};

inline ExitCode exit_code_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage: return ExitCode::usage;
    case ErrorKind::config: return ExitCode::config;
    case ErrorKind::source: return ExitCode::source;
    case ErrorKind::connection: return ExitCode::connection;
    case ErrorKind::sql: return ExitCode::sql;
    case ErrorKind::validation: return ExitCode::validation;
    case ErrorKind::incompatible: return ExitCode::incompatible;
    case ErrorKind::dirty: return ExitCode::dirty;
    case ErrorKind::lock_timeout: return ExitCode::lock_timeout;
    case ErrorKind::io: return ExitCode::io;
    case ErrorKind::internal: return ExitCode::internal;
    case ErrorKind::blocked: return ExitCode::blocked;
    case ErrorKind::port_target: return ExitCode::port_target;
    case ErrorKind::port_conversion: return ExitCode::port_conversion;
    case ErrorKind::port_verify: return ExitCode::port_verify;
    case ErrorKind::lint: return ExitCode::lint;
    case ErrorKind::ddl_lock_timeout: return ExitCode::ddl_lock_timeout;
    case ErrorKind::multiple_heads: return ExitCode::multiple_heads;
  }
  return ExitCode::internal;
}

// The table printed in `strata --help` and kept in the README.
inline constexpr const char* exit_code_table =
    "Exit codes:\n"
    "  0   success\n"
    "  2   usage: bad arguments or options\n"
    "  3   config: bad configuration or database URL\n"
    "  4   source: broken migration source (bad file name, duplicate version, unreadable file)\n"
    "  5   connection: database unreachable or login refused\n"
    "  6   sql: a migration statement failed\n"
    "  7   validation: an applied migration was changed or is missing\n"
    "  8   incompatible: the database is newer than this code supports\n"
    "  9   dirty: a no-transaction migration failed part-way (see `strata repair`)\n"
    "  10  lock timeout: another migrator held the lock too long\n"
    "  11  io: a local file could not be read or written\n"
    "  12  blocked: background updates wait for handlers that live in the application\n"
    "  13  diff --exit-code: the schemas differ\n"
    "  14  drift: the database differs from what its migrations produce\n"
    "  15  lint: strata lint (or up --lint error) found a problem at error severity\n"
    "  16  prepare mismatch: `strata prepare --check` found queries or migrations changed since the last prepare\n"
    "  17  port: the target holds rows or is at another version\n"
    "  18  port: a source value does not convert to the target column's type\n"
    "  19  port: row counts or checksums differ after copying\n"
    "  21  ddl lock timeout: the DDL lock guard gave up after --ddl-retries attempts\n"
    "  70  internal error\n";

// Thrown by a command that has printed its result and must still exit
// non-zero without an error message (diff --exit-code, drift). main()
// returns the code.
struct ExitStatus {
  ExitCode code = ExitCode::ok;
};

}  // namespace strata::cli
