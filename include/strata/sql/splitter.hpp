// strata/sql/splitter.hpp: splits a SQL script into statements and reads the
// directives in its leading comments.
//
// Pure and total: never throws on any input (short of std::bad_alloc).
// Problems (an unterminated string, comment, dollar-quoted body or trigger
// body, a bad directive) are diagnostics with a position; after an
// unterminated construct the rest of the input still forms a last statement,
// so the engine can report its own error too.
//
// Understood syntax, per dialect:
//   both      '...' with '' escapes; "..." identifiers with ""; -- line
//             comments; /* */ block comments; a last statement without ';';
//             ";;" and blank or comment-only stretches (no statement).
//   SQLite    [...] and `...` identifiers (`` escapes); block comments do not
//             nest; CREATE [TEMP|TEMPORARY] TRIGGER ... BEGIN ... END; is one
//             statement (also after EXPLAIN). E'...' is the identifier E
//             followed by a string.
//   Postgres  E'...' / e'...' strings with backslash escapes; $tag$...$tag$
//             and $$...$$ bodies, where the tag is empty or
//             [A-Za-z_][A-Za-z0-9_]* (plus, as in PostgreSQL itself, bytes
//             >= 0x80), a '$' that continues a word (a$b$) opens nothing, and
//             $1 is a parameter; block comments nest; CREATE [OR REPLACE]
//             FUNCTION|PROCEDURE ... BEGIN ATOMIC ... END; is one statement.
// A body (trigger or BEGIN ATOMIC) ends at the first END that directly
// follows a ';' inside it (or ATOMIC, for an empty body), as in
// sqlite3_complete(): CASE ... END inside never closes it. Plain BEGIN;,
// BEGIN TRANSACTION;, COMMIT; and END; are ordinary statements. A ';' in a
// SQLite CREATE TRIGGER before its BEGIN ends the (broken) statement.
//
// Text: a leading UTF-8 BOM is skipped (line 1's columns count from after
// it; offsets still count it). LF and CRLF both count as one line break, a
// lone CR as none. Columns count bytes. Statement text is kept byte for byte
// (CRLF stays CRLF, non-ASCII UTF-8 untouched).
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

// Position convention: a statement begins at its first SQL token. Comments
// before that token (and blanks) are not part of it, so its line and column
// point at the SQL, which is where an error message should point; comments
// between its tokens are kept. It ends at its last token: comments and
// blanks before the ';' are not part of it either. (Exception: when the input
// ends inside an unterminated construct, the statement runs to the end of the
// input, trailing blanks excepted.) So joining statements with ";\n" and
// splitting again gives the same statements.
struct Statement {
  std::string text;          // without the ';' and the comments/blanks around it
  int line = 0;              // 1-based line of its first token
  int column = 0;            // 1-based column (bytes) of its first token
  std::size_t offset = 0;    // byte offset of its first token in the input (a BOM counts)
};

// Directives, read from the "--" comments before the first statement (block
// comments may come first). Keywords are matched case-insensitively, blanks
// are optional around ':' and '-' may also be written '_' or ' ':
//   -- strata: no-transaction   also sqlx's "-- no-transaction" and
//                               mautrix-go's "-- transaction: off" ("on" is
//                               accepted and changes nothing)
//   -- strata: foreign-keys off  SQLite: the migrator turns foreign keys off
//                               around the migration and checks them before
//                               its commit (a table rebuild needs it); "on"
//                               is accepted and changes nothing
//   -- strata: breaking
//   -- strata: compatible-with N
//   -- v5 (compatible with v3+): message   mautrix-go's header, on line 1:
//                               sets compatible_with (the header without the
//                               parenthesis sets nothing)
// "-- strata: possible rename ..." and "-- strata: cannot ..." are notes
// strata's differ writes (strata/schema/diff.hpp): plain comments anywhere,
// never a directive, an error or a warning.
// Errors: an unknown or malformed "-- strata:" directive, a bad
// "-- transaction:" value, two different compatible-with values. A
// "-- strata:" comment after the first statement is ignored with a warning.
//
// "-- only: ENGINE" lines (mautrix-go's syntax; ENGINE is postgres or sqlite,
// also postgresql / sqlite3), anywhere in the file, each on a line of its own
// (leading blanks allowed), applied to the raw lines before anything else,
// so also inside strings and bodies:
//   -- only: postgres                        the next line is kept only on
//                                            PostgreSQL
//   -- only: sqlite for next N lines         the next N lines, only on SQLite
//   -- only: postgres until "end only"       the lines up to the line
//   ...                                      "-- end only postgres", only on
//   -- end only postgres                     PostgreSQL (blocks do not nest)
// The directive lines themselves are always dropped, and so are the limited
// lines on the other engine. Dropped lines are emptied, keeping their line
// breaks, so line numbers and columns do not move (statement offsets still
// point into the original input). As in mautrix-go, when line 1 is a mautrix
// header ("-- v1: ...") and the next line (after a "-- transaction:" line, if
// any) is a plain "-- only: ENGINE", the whole file is for that engine: on
// the other one it has no statements. Errors: an unknown engine, anything
// else after the engine, an "until" block without (or with a mismatched)
// "-- end only"; a stray "-- end only" is a warning.
struct Directives {
  bool no_transaction = false;
  bool foreign_keys_off = false;
  bool breaking = false;
  std::optional<long long> compatible_with;
  // The revision graph (strata/graph.hpp). "-- strata: parents V1 V2"
  // (a merge; "parents base" for a root): set means the file names its
  // parents instead of following the previous version.
  std::optional<std::vector<long long>> parents;
  // "-- strata: depends-on V ...": needed before this one, across branches.
  std::vector<long long> depends_on;
  // "-- strata: branch NAME": a label for this node and its branch.
  std::string branch;
  // "-- strata: alembic-revision REV": the Alembic revision this file
  // replaces (strata adopt alembic).
  std::string alembic_revision;
  // "-- strata: repeatable": re-run whenever the file changes (Flyway's R__).
  bool repeatable = false;
};

struct Script {
  Directives directives;
  std::vector<Statement> statements;   // empty statements (";;") are dropped
  std::vector<Diagnostic> diagnostics;
  bool ok() const;  // no error diagnostics
};

// Splits `text` for `dialect`. Applies "-- only:" lines first, and replaces
// Synapse's $%AUTO_INCREMENT_PRIMARY_KEY%$ placeholder in statement text
// (everywhere, strings included, as Synapse does) with what Synapse uses
// (synapse/storage/engines/{sqlite,postgres}.py, executescript()):
//   SQLite:     INTEGER PRIMARY KEY AUTOINCREMENT
//   PostgreSQL: BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY
Script parse_script(std::string_view text, Engine dialect);

// Only the directives, read from the "--" comment lines that open `text`
// (blank lines between them allowed) without lexing the rest: what the
// migration loader needs of every file (its place in the graph), cheaply.
// Problems are appended to `diagnostics` as parse_script reports them.
Directives read_header_directives(std::string_view text, std::vector<Diagnostic>* diagnostics);

// The length of the part of `text` that read_header_directives reads (a BOM
// and the leading comment and blank lines): read_header_directives of that
// prefix gives the same directives and diagnostics.
std::size_t header_length(std::string_view text);

// Renders a diagnostic as "file:line:column: error: message" (or
// "warning: "), then the offending source line (without its line break) and
// a caret under the column. Tabs before the column are repeated in the caret
// line and each UTF-8 character takes one column there, so the caret lines up
// in a terminal. No trailing newline. With an empty `file` the prefix starts
// at the line; with no line (0) only the first line is produced.
std::string render(const Diagnostic& d, std::string_view file, std::string_view text);

}  // namespace strata::sql
