// src/schema/dump_objects.hpp (internal): the engine-neutral half of
// strata::schema::dump_schema.
//
// Each engine's reader (dump_sqlite.cpp, dump_postgres.cpp) turns its
// catalog into a list of DumpObjects: one statement each, with a kind, a sort
// key and the objects it needs. render_dump() orders and formats them the
// same way for both engines, and checks that the result splits back into
// exactly those statements.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "strata/schema/dump.hpp"
#include "strata/url.hpp"

namespace strata::schema::detail {

// Kinds in output order. Engines use the kinds they have.
enum class DumpKind {
  extension,
  type,
  sequence,
  table,
  sequence_owner,  // ALTER SEQUENCE ... OWNED BY (serial columns)
  index,
  view,
  function,
  constraint,  // ALTER TABLE ... ADD CONSTRAINT (foreign keys, NOT VALID)
  trigger,     // also ALTER TABLE ... ENABLE/DISABLE TRIGGER
};

struct DumpObject {
  DumpKind kind = DumpKind::table;
  // Orders objects of one kind (byte-wise). Keys of one kind should be
  // unique; parts are joined with '\0' so "t\0idx" sorts with its table "t".
  std::string key;
  // One statement without its ';'. render_dump drops blanks and comments
  // after its last token, as the migration runner does.
  std::string sql;
  // Indexes (into the same vector) of objects that must come first.
  std::vector<std::size_t> depends_on;
  // For messages: "table users", "view active_users", ...
  std::string label;
};

// Orders `objects` (see dump.hpp): repeatedly emits, among the objects whose
// dependencies are all emitted, the one with the smallest (kind, key). A
// dependency cycle (which a valid schema has only through objects strata does
// not model) is broken at its smallest (kind, key). Returns indexes into
// `objects`. Pure.
std::vector<std::size_t> dump_order(const std::vector<DumpObject>& objects);

// The dump text: the header line for `engine`, then each object's statement
// in dump_order(). Throws Error{ErrorKind::usage} naming the object when a
// statement would not split back into itself as a migration file would split
// it (e.g. a function body holding a "-- only:" line).
std::string render_dump(Engine engine, std::vector<DumpObject> objects);

// Whether `table` is left out by `options` (see DumpOptions).
bool excluded_table(std::string_view table, const DumpOptions& options);

std::vector<DumpObject> read_sqlite_schema(Connection& connection, const DumpOptions& options);
std::vector<DumpObject> read_postgres_schema(Connection& connection, const DumpOptions& options);

}  // namespace strata::schema::detail
