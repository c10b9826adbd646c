// strata/url.hpp: database URLs.
//
// Accepted forms:
//   sqlite:relative/path.db     a file, relative to the working directory
//   sqlite:/abs/path.db         an absolute file
//   sqlite:///abs/path.db       the same, URL style
//   sqlite://relative/path.db   relative (sqlx style)
//   sqlite::memory:             a private in-memory database
//   postgres://... postgresql://...   handed to libpq unchanged (any form libpq
//                                      accepts, Unix sockets included)
//   host=... dbname=... (a libpq key=value conninfo string: a first word of
//                        the form key=value)  also PostgreSQL, handed to libpq
// Schemes are case-insensitive; surrounding whitespace is ignored. SQLite
// paths are taken literally (no percent-decoding); sqlite://:memory: is also
// the in-memory database. A query string on a sqlite URL (?mode=ro) is not
// supported and is an error, as is an empty path or one ending in '/'.
#pragma once

#include <string>
#include <string_view>

namespace strata {

enum class Engine { sqlite, postgres };

// "sqlite" or "postgres".
const char* to_string(Engine engine) noexcept;

struct DatabaseUrl {
  Engine engine = Engine::sqlite;
  std::string text;         // the URL as given (may hold a password: never print it)
  std::string sqlite_path;  // sqlite only: the file path, or ":memory:"

  bool is_memory() const { return engine == Engine::sqlite && sqlite_path == ":memory:"; }

  // The URL with any password replaced by "***": the only form fit for output.
  std::string redacted() const;

  // Throws Error{ErrorKind::config} naming the problem (never the password).
  static DatabaseUrl parse(std::string_view url);
};

// Replaces the password in any postgres URL or "password=..." conninfo pair
// inside `text` with "***". Used on every message that might echo a URL.
// Covers "scheme://user:secret@host" (any scheme; a raw '@' or '/' inside the
// password included), "password=secret" and "password = 'se cret'" conninfo
// pairs, and "?password=secret" / "&password=secret" URL query parameters.
std::string redact_passwords(std::string_view text);

}  // namespace strata
