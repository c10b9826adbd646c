// query/analysis.hpp (internal): what `strata prepare` reads from a query's
// own text, where the engine's description says nothing. The same token rules
// serve both engines (the catalog look-ups they lead to are the dialect's).
//
// This is deliberately not a SQL parser: a few token patterns, each
// conservative (when unsure, a column is nullable and a parameter untyped).
// docs/queries.md lists the rules.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "strata/url.hpp"

namespace strata::query::detail {

struct Token {
  enum class Kind { word, quoted, string, number, parameter, punct };
  Kind kind = Kind::punct;
  std::string text;  // words lower-cased; quoted identifiers unquoted; punctuation as written
  int parameter = 0;  // $n
  int depth = 0;      // parenthesis depth at the token (a '(' has the outer depth)
};

// Comments and blanks are skipped. Never throws.
std::vector<Token> tokenize(std::string_view sql, Engine dialect);

// A reference to a table column, maybe qualified by a table name or alias.
struct ColumnRef {
  std::string qualifier;  // lower-cased; empty when unqualified
  std::string column;     // lower-cased
};

// One item of the select list (or RETURNING list) as far as the rules see it.
struct SelectItem {
  enum class Shape { other, count, exists, integer, real, text, cast, column };
  Shape shape = Shape::other;
  std::string cast_type;  // Shape::cast: the type name, lower-cased
  ColumnRef column;       // Shape::column
};

struct ParameterUse {
  std::string cast_type;             // CAST($n AS T) or $n::T
  std::optional<ColumnRef> compared;  // col = $n, col < $n, col LIKE $n, col IN ($n, ...)
  std::optional<ColumnRef> assigned;  // INSERT INTO t (col, ...) VALUES ($n, ...) or SET col = $n
  bool limit = false;                 // LIMIT $n / OFFSET $n
};

struct Analysis {
  // Tables (lower-cased, unqualified) on the nullable side of an outer join:
  // the table (or every table inside the parenthesised group) after LEFT
  // JOIN; every table before RIGHT JOIN in its FROM clause; both for FULL.
  std::set<std::string> nullable_tables;
  // Alias (or name) -> table, lower-cased, for every table after FROM, JOIN,
  // UPDATE or INSERT INTO.
  std::vector<std::pair<std::string, std::string>> tables;
  // The outermost SELECT's items, or RETURNING's; empty when a '*' is among
  // them (the items then do not line up with the columns).
  std::vector<SelectItem> items;
  std::vector<ParameterUse> parameters;  // index n-1 for $n
};

Analysis analyze(std::string_view sql, Engine dialect);

// The tables `ref` may belong to: its qualifier resolved through the aliases,
// or every table of the statement for an unqualified one.
std::vector<std::string> candidate_tables(const Analysis& analysis, const ColumnRef& ref);

}  // namespace strata::query::detail
