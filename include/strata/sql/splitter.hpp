// strata/sql/splitter.hpp: splits a SQL script into statements and reads the
// directives in its leading comments.
//
// Pure and total: never throws on any input. Problems (an unterminated string,
// comment or dollar-quoted body, an unknown directive) are diagnostics with a
// position; the text up to the end of input still forms a last statement so
// the engine can report its own error too.
//
// Understood syntax, per dialect:
//   '...' with '' escapes; "..." identifiers with ""; E'...' / e'...' strings
//   with backslash escapes (postgres); $tag$...$tag$ and $$...$$ bodies
//   (postgres); -- line comments; /* */ block comments, nested on postgres;
//   [..] and `..` identifiers (sqlite); CREATE TRIGGER ... BEGIN ... END;
//   (sqlite, with CASE ... END inside); BEGIN ATOMIC ... END (postgres);
//   a last statement without ';'. A leading UTF-8 BOM is skipped; CRLF and LF
//   line endings both count as one line break.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/url.hpp"

namespace strata::sql {

struct Diagnostic {
  enum class Severity { error, warning };
  Severity severity = Severity::error;
  int line = 0;    // 1-based
  int column = 0;  // 1-based, in bytes from the start of the line
  std::string message;
};

struct Statement {
  // The statement text without the terminating ';' and without leading and
  // trailing whitespace; comments inside (and leading comments) are kept.
  std::string text;
  int line = 0;              // 1-based line of the statement's first character
  int column = 0;            // 1-based column (bytes) of its first character
  std::size_t offset = 0;    // byte offset of its first character in the input
};

// Directives, read from the comment lines at the top of a file (before the
// first statement). Each is one line comment:
//   -- strata: no-transaction   (also sqlx's "-- no-transaction" and
//                                mautrix's "-- transaction: off")
//   -- strata: breaking
//   -- strata: compatible-with N
// Anywhere in the file, "-- only: postgres" / "-- only: sqlite" keeps the
// next line only for that engine (it is blanked, keeping line numbers, for
// the other). An unknown "-- strata: ..." directive is an error diagnostic.
struct Directives {
  bool no_transaction = false;
  bool breaking = false;
  std::optional<long long> compatible_with;
};

struct Script {
  Directives directives;
  std::vector<Statement> statements;   // empty statements (";;") are dropped
  std::vector<Diagnostic> diagnostics;
  bool ok() const;  // no error diagnostics
};

// Splits `text` for `dialect`. Before splitting, applies "-- only:" lines and
// replaces Synapse's $%AUTO_INCREMENT_PRIMARY_KEY%$ placeholder with the
// engine's auto-increment primary key type (SQLite: "INTEGER PRIMARY KEY
// AUTOINCREMENT"; PostgreSQL: "BIGSERIAL PRIMARY KEY").
Script parse_script(std::string_view text, Engine dialect);

// Renders a diagnostic as "file:line:column: error: message" followed by the
// offending source line and a caret under the column.
std::string render(const Diagnostic& d, std::string_view file, std::string_view text);

}  // namespace strata::sql
