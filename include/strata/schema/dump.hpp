// strata/schema/dump.hpp: a deterministic snapshot of a database's schema, as
// SQL that recreates it.
//
// The snapshot is what a fresh database is built from (a Synapse-style
// full_schemas/<V>/full.sql.<engine>): it holds the schema and nothing else,
// in an order that depends only on the objects themselves, never on the order
// they were created in or on the server that holds them. Dumping a database,
// running the dump on an empty one and dumping that gives the same text.
//
// Format:
//   -- strata dump (sqlite)          first line; "(postgres)" on PostgreSQL
//   <blank line>
//   <statement>;                     one per object, each followed by a blank
//   <blank line>                     line (none after the last)
//   ...
// Every statement is one statement of strata::sql::parse_script for the
// engine, byte for byte (checked before the text is returned), so the dump
// runs unchanged as a migration file. Nothing volatile is written: no OIDs,
// owners, privileges, tablespaces, timestamps, server versions, sequence
// positions, SET lines or data.
//
// Order: objects go by kind in this order, by name within a kind (indexes,
// constraints and triggers by table name, then their own name), except that
// an object some other object needs is moved up to just before the first
// object that needs it (a function called by a column default or an index
// expression, a view used by a view, ...):
//   PostgreSQL: extensions, types (enums, domains, composite types),
//   sequences, tables (columns, primary key, unique, check and exclusion
//   constraints), OWNED BY of serial sequences, indexes that back no
//   constraint, views and materialized views, functions and procedures,
//   foreign keys and NOT VALID constraints (ALTER TABLE ... ADD CONSTRAINT),
//   triggers (and their ENABLE/DISABLE state when not the default).
//   SQLite: tables, indexes, views, triggers, each statement exactly as
//   SQLite stores it in sqlite_master (so as written by the migrations, with
//   ALTER TABLE's rewrites) but for a comment after its last token, which a
//   migration would drop too; internal tables (sqlite_sequence,
//   sqlite_stat*), the shadow tables of virtual tables and automatic indexes
//   are left out.
//
// PostgreSQL names: objects of the dumped schema are written unqualified
// (`CREATE TABLE users`, `REFERENCES users(id)`), objects of other schemas
// qualified, exactly as PostgreSQL's deparser writes them with search_path
// set to the dumped schema alone. So the dump restores into whatever schema
// is first on the restoring session's search_path (public, by default), as
// Synapse's snapshots do. Objects of other schemas are referenced, never
// created: they must exist where the dump is restored. Identity columns name their sequence (SEQUENCE
// NAME); serial columns come out as CREATE SEQUENCE, a nextval() default and
// ALTER SEQUENCE ... OWNED BY, which restores the same catalog state.
//
// Not dumped (PostgreSQL): comments, privileges, owners, statistics objects,
// operators, casts, collations, text search objects, publications, event
// triggers, replica identity and CLUSTER marks, column storage and statistics
// targets, column defaults on views. Objects strata cannot reproduce make the
// dump fail instead of being left out silently: partitioned, inherited, typed
// and foreign tables, aggregates, rules (other than views'), row-level
// security and policies, range and base types (Error{ErrorKind::usage}
// naming them). Objects that belong to an extension are left out: the
// extension itself is dumped when it lives in the dumped schema.
#pragma once

#include <string>
#include <vector>

namespace strata {

class Connection;

namespace schema {

struct DumpOptions {
  // PostgreSQL: the schema to dump (an existing one). Ignored on SQLite.
  std::string schema = "public";
  // Tables to leave out, with their indexes, constraints, triggers and owned
  // sequences. Names are matched exactly (case-sensitively).
  std::vector<std::string> exclude_tables;
  // strata's own tables are left out unless this is set: the history table
  // strata_migrations and every other table whose name starts with
  // "strata_". exclude_tables applies either way.
  bool include_strata_tables = false;
};

// Dumps the schema of the database `connection` is open on (see above).
// Reads only; on PostgreSQL it runs in a read-only repeatable-read
// transaction (a savepoint if one is already open), rolled back before
// returning. Throws Error{ErrorKind::sql} for a failed catalog query,
// Error{ErrorKind::usage} for a missing PostgreSQL schema or for objects
// strata cannot dump (see above), naming them.
std::string dump_schema(Connection& connection, const DumpOptions& options = {});

}  // namespace schema
}  // namespace strata
