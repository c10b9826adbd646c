// strata/schema/diff.hpp: the changes that turn one schema into another, and
// the SQL that makes them.
//
// diff() compares two Schemas of one engine (both from inspect(), so text
// compares exactly) and returns typed changes, each already rendered to the
// statements its engine accepts, in an order that works: what depends on an
// object is dropped before it, what an object needs is created before it.
//
// Renames are never guessed: a table or column that disappears while
// another appears is a drop and an add; the pair is marked with a note
// ("-- strata: possible rename a -> b") so a reviewer sees it.
//
// SQLite: a change ALTER TABLE cannot make (a column's type, nullability,
// default or collation; a constraint added or dropped; a column that cannot
// be dropped in place) is made by rebuilding the table (SQLite's documented
// procedure; Alembic's batch mode): one ChangeKind::rebuild_table change
// whose statements create the new table, copy the rows, drop the old one,
// rename, and recreate its indexes and triggers, with the views that read it
// dropped before and created after. Such a diff has
// Diff::foreign_keys_off set: its SQL must run with foreign keys off (a
// migration file gets "-- strata: foreign-keys off"), because dropping a
// referenced table with foreign keys on would run its ON DELETE actions.
//
// Data: a column that becomes NOT NULL and has a default takes that default
// where it held NULL (COALESCE in a SQLite rebuild, an UPDATE before SET NOT
// NULL on PostgreSQL). A retyped PostgreSQL column converts with
// USING col::type (through text when an enum is involved).
//
// Limits (listed in Diff::unsupported, never emitted as SQL that fails):
// PostgreSQL enum labels removed or reordered, a domain's base type or
// collation, a generated column's expression (only dropping it is made).
// Not detected: a PostgreSQL function whose return type changes (CREATE OR
// REPLACE refuses it), and a LANGUAGE sql function used by a new table's
// default (functions in SQL come after tables, since their bodies must find
// them). A diff that adds an enum label and uses it says so in a note: it
// must be split over two migrations.
#pragma once

#include <string>
#include <vector>

#include "strata/schema/model.hpp"

namespace strata::schema {

enum class ChangeKind {
  create_extension, drop_extension,
  create_enum, drop_enum, alter_enum,
  create_domain, drop_domain, alter_domain,
  create_sequence, drop_sequence, alter_sequence,
  create_table, drop_table, rebuild_table,
  add_column, drop_column, alter_column,
  add_constraint, drop_constraint,  // primary, foreign, unique, check
  create_index, drop_index,
  create_view, drop_view,
  create_trigger, drop_trigger,
  create_function, drop_function, replace_function,
  create_virtual_table, drop_virtual_table,
  set_comment,
};

// "create_table", "add_column", ... (the enumerator's name).
const char* to_string(ChangeKind kind) noexcept;

struct Change {
  ChangeKind kind = ChangeKind::create_table;
  // What it changes, for people and JSON: "table users", "column
  // users.email", "index users_email_idx", "foreign key orders_user_fkey on
  // orders", ...
  std::string object;
  // For alter_* and rebuild_table: what differs, e.g. "type text -> bigint,
  // NOT NULL added". Empty otherwise.
  std::string detail;
  // One or more statements, without a trailing ';', in execution order.
  std::vector<std::string> statements;
  // Loses data when run (drops a table, column, or narrows a type).
  bool destructive = false;
  // Notes printed as comments before the statements, without the leading
  // "-- " (e.g. "strata: possible rename users.mail -> users.email").
  std::vector<std::string> notes;
};

struct DiffOptions {
  // SQLite: make changes ALTER cannot make by rebuilding the table (see
  // above). When false they are reported in Diff::unsupported instead.
  bool rebuild = true;
};

struct Diff {
  Engine engine = Engine::sqlite;
  std::vector<Change> changes;  // in execution order
  // Differences no statement can make (a change the engine cannot express,
  // or a rebuild with DiffOptions::rebuild off), one line each, naming the
  // object. Never silently dropped.
  std::vector<std::string> unsupported;
  // SQLite: a rebuild is part of this diff, or it drops a table another
  // table's foreign key references (with foreign keys on, DROP TABLE would
  // run that key's ON DELETE action); run it with foreign keys off.
  bool foreign_keys_off = false;

  bool empty() const { return changes.empty() && unsupported.empty(); }
  // The whole diff as a script: each change's notes as "-- " comments, then
  // its statements each followed by ";\n", changes separated by a blank
  // line; unsupported differences as "-- strata: cannot ..." comments at the
  // top. Empty for an empty diff.
  std::string sql() const;
};

// REQUIRES: from.engine == to.engine (else Error{ErrorKind::usage}).
// Pure: reads nothing but its arguments.
Diff diff(const Schema& from, const Schema& to, const DiffOptions& options = {});

}  // namespace strata::schema
