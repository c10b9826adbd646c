// src/schema/sqlite_text.hpp (internal): what the SQLite schema readers
// (dump_sqlite.cpp, inspect_sqlite.cpp) share about SQLite's names and the
// CREATE statements it keeps in sqlite_master.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

namespace strata {
class Connection;
}

namespace strata::schema::detail {

// ASCII lower case: SQLite compares names ASCII case-insensitively.
std::string ascii_lower(std::string_view s);

// The name an identifier token stands for: "a""b" -> a"b, [a b] -> a b,
// `a``b` -> a`b, 'a''b' -> a'b (SQLite accepts a string where it expects a
// name), a bare word as it is. Pure.
std::string sqlite_identifier(std::string_view token);

// The identifiers and keywords of a SQLite statement, lower-cased: bare
// words and quoted names; strings, numbers and comments left out. Callers
// use it to see which tables and views a view or trigger names, where a
// false match (a column that shares a table's name) only adds an ordering
// constraint. Pure.
std::set<std::string> sqlite_words(std::string_view sql);

// The shadow tables of the main database's virtual tables (an FTS5 table's
// t_data, t_idx, ...), lower-cased, from PRAGMA table_list; nullopt when this
// SQLite is older than 3.37 and has no such pragma. Throws only what
// Connection::query throws for other reasons.
std::optional<std::set<std::string>> sqlite_shadow_tables(Connection& connection);

}  // namespace strata::schema::detail
