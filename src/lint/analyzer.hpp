// lint/analyzer.hpp (internal): what lint.cpp asks of each engine's reader.
//
// lint.cpp walks the migrations, splits each file, applies suppressions and
// turns positions into file lines; an Analyzer reads statements for one
// engine and says which rules they break. An Analyzer holds the state of a
// walk (the tables created so far by pending migrations, a scratch
// database): use one per lint() call, statements in order.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "strata/lint.hpp"
#include "strata/sql/splitter.hpp"

namespace strata::lint::detail {

// A rule broken by a statement. `offset` is the byte offset within the
// statement's text of the part at fault, or -1 for the statement's start.
struct Hit {
  std::string_view rule;
  std::string message;
  int offset = -1;
};

class Analyzer {
 public:
  virtual ~Analyzer() = default;
  // A migration before the pending ones (already applied): context only.
  virtual void replay(const sql::Script& script) = 0;
  // A pending migration's file starts; `transactional` unless it is marked
  // no-transaction.
  virtual void begin_file(bool transactional) = 0;
  // One statement of a pending migration, in order.
  virtual std::vector<Hit> check(const sql::Statement& statement) = 0;
};

std::unique_ptr<Analyzer> make_postgres_analyzer(const Options& options);
std::unique_ptr<Analyzer> make_sqlite_analyzer(const Options& options);

// Case-insensitive ASCII comparison, for identifiers as SQLite reports them.
bool iequals(std::string_view a, std::string_view b);

}  // namespace strata::lint::detail

namespace strata::lint::detail {

// The tables (every RangeVar) one PostgreSQL statement names, as
// to_regclass() text: "rel" or "schema.rel", each part quoted. Empty when it
// does not parse. Used by the DDL lock guard to find who holds a lock.
std::vector<std::string> postgres_relations(std::string_view sql);

}  // namespace strata::lint::detail
