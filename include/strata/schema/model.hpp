// strata/schema/model.hpp: what a database's schema is, as plain typed data.
//
// One model for both engines (Atlas's shape: schema -> tables -> columns,
// keys, indexes; engine-specific details as typed fields that the other
// engine leaves at their defaults). A Schema is produced by inspect()
// (strata/schema/inspect.hpp), compared by diff() (strata/schema/diff.hpp),
// and read by everything that needs to know a schema: the SQLite table
// rebuild, lint, port and checked queries.
//
// Text fields hold what the engine reports, never a re-rendering of ours:
//   - SQLite: types, defaults, check and index expressions and predicates are
//     the exact source text from the CREATE statement SQLite keeps in
//     sqlite_master (trimmed of surrounding blanks); views, triggers and
//     virtual tables keep their whole CREATE statement.
//   - PostgreSQL: types from format_type(), expressions from pg_get_expr()
//     and index keys from pg_get_indexdef() in their pretty form ("age >= 0",
//     not "(age >= 0)"; an index key without the parentheses around it),
//     views from pg_get_viewdef(), triggers from pg_get_triggerdef(),
//     functions from pg_get_functiondef() (the qualifier it writes before
//     the function's own name removed), with search_path set to the
//     inspected schema, so names in that schema come out unqualified,
//     followed by the schemas holding an extension, so an extension's
//     types, functions and operators come out unqualified wherever the
//     schema was loaded (citext, not public.citext). Other objects of an
//     extension's schema that no name of the inspected schema shadows read
//     unqualified too: a known limitation.
//     Collation and operator class names are written as those deparsers
//     write them: quoted when needed ("\"C\""), qualified when not found on
//     that search_path.
// Both sides of a comparison therefore come from the same reader on the same
// engine (a declared schema is loaded on a scratch database and inspected,
// as Atlas does with its dev database), and text compares exactly.
//
// Order is deterministic: every vector of named objects is sorted by name
// (byte-wise), except Table::columns (table order) and key column lists
// (key order). Two inspections of the same database give equal Schemas.
//
// Equality (operator==) is exact on every field except: a table's column
// order (PostgreSQL cannot reorder columns without rewriting the table;
// neither Atlas nor migra treats order as a change), Schema::name (a
// declared schema inspected in a throwaway PostgreSQL schema equals the live
// one in "public"), and the fields marked informational below.
// Names are compared exactly; on SQLite, where names are case-insensitive,
// inspect() reports them as stored in sqlite_master.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/url.hpp"

namespace strata::schema {

// A column type reduced to what callers branch on (port's conversions,
// generated query code, lint's rewrite rules). The engine's own spelling is
// ColumnType::raw.
enum class TypeFamily {
  integer,      // SQLite INTEGER affinity; PG smallint, integer, bigint (and serials)
  floating,     // SQLite REAL affinity; PG real, double precision
  numeric,      // SQLite NUMERIC affinity (but see boolean/date/...); PG numeric/decimal, money
  boolean,      // SQLite declared BOOL/BOOLEAN; PG boolean
  text,         // SQLite TEXT affinity; PG text, varchar, char, citext, name
  binary,       // SQLite BLOB affinity or no type; PG bytea
  date,         // SQLite declared DATE; PG date
  time,         // SQLite declared TIME; PG time, timetz
  timestamp,    // SQLite declared DATETIME/TIMESTAMP; PG timestamp without time zone
  timestamptz,  // SQLite declared TIMESTAMPTZ; PG timestamp with time zone
  interval,     // PG interval
  uuid,         // SQLite declared UUID; PG uuid
  json,         // SQLite declared JSON/JSONB; PG json, jsonb (raw tells which)
  array,        // PG arrays (raw ends in "[]")
  enumeration,  // PG enum types (raw names the type; Schema::enums holds it)
  other,        // anything else (PG domains, tsvector, inet, geometric types, ...)
};

// "integer", "floating", ... (the enumerator's name).
const char* to_string(TypeFamily family) noexcept;

struct ColumnType {
  // As the engine spells it. SQLite: the declared type as written, e.g.
  // "VARCHAR(20)", or "" when the column has none (SQLite itself writes the
  // six STRICT type names INT, INTEGER, REAL, TEXT, BLOB and ANY in upper
  // case, however they were written). PG: format_type(), e.g.
  // "character varying(20)", "timestamp with time zone", "integer[]".
  std::string raw;
  TypeFamily family = TypeFamily::other;

  bool operator==(const ColumnType&) const = default;
};

// The family SQLite's affinity rules give a declared type, refined by the
// names applications use for booleans, dates and JSON (BOOL, BOOLEAN, DATE,
// DATETIME, TIMESTAMP, TIMESTAMPTZ, TIME, UUID, JSON, JSONB). Pure.
TypeFamily sqlite_type_family(std::string_view declared);
// The family of a PostgreSQL type as format_type() spells it. `is_enum`
// says the type is an enum (format_type cannot tell). Pure.
TypeFamily postgres_type_family(std::string_view format_type, bool is_enum = false);

enum class IdentityKind {
  none,
  always,      // PG GENERATED ALWAYS AS IDENTITY
  by_default,  // PG GENERATED BY DEFAULT AS IDENTITY
};

enum class GeneratedKind {
  none,
  stored,   // GENERATED ALWAYS AS (...) STORED (both engines)
  virtual_, // SQLite's default for GENERATED ALWAYS AS (...) [VIRTUAL]
};

struct Column {
  std::string name;
  ColumnType type;
  // Whether the column can hold NULL. SQLite: a rowid alias (INTEGER
  // PRIMARY KEY) and the primary key columns of a WITHOUT ROWID table
  // cannot, whether or not NOT NULL was written.
  bool nullable = true;
  // The DEFAULT expression as the engine reports it (see the file comment;
  // SQLite: as written after DEFAULT, parentheses included, e.g. "(1 + 2)");
  // nullopt when there is none. PG serial columns show
  // "nextval('t_id_seq'::regclass)" here, and their sequence is in
  // Schema::sequences with owned_by set.
  std::optional<std::string> default_value;
  IdentityKind identity = IdentityKind::none;  // PostgreSQL only
  // Identity sequence parameters (PostgreSQL, when identity != none).
  std::int64_t identity_start = 1;
  std::int64_t identity_increment = 1;
  GeneratedKind generated = GeneratedKind::none;
  std::string generated_expression;  // when generated != none
  // An explicit COLLATE (SQLite: as written, e.g. "NOCASE"; PG: the
  // collation's name when it is not the type's default). Empty when none.
  std::string collation;
  std::optional<std::string> comment;  // PostgreSQL COMMENT ON COLUMN

  bool operator==(const Column&) const = default;
};

enum class ReferentialAction { no_action, restrict, cascade, set_null, set_default };

// "NO ACTION", "RESTRICT", "CASCADE", "SET NULL", "SET DEFAULT".
const char* to_sql(ReferentialAction action) noexcept;

struct PrimaryKey {
  // PG: the constraint's name. SQLite: the CONSTRAINT name if one was
  // written, else "".
  std::string name;
  std::vector<std::string> columns;  // key order
  // SQLite: INTEGER PRIMARY KEY AUTOINCREMENT (the table uses
  // sqlite_sequence). Always false on PostgreSQL.
  bool autoincrement = false;
  std::optional<std::string> comment;  // PG COMMENT ON CONSTRAINT

  bool operator==(const PrimaryKey&) const = default;
};

struct ForeignKey {
  std::string name;  // PG: always set. SQLite: the CONSTRAINT name, or ""
  std::vector<std::string> columns;
  // The referenced table: unqualified when it is in the inspected schema
  // (or, PG, visible in a schema holding an extension: see above),
  // "schema.table" (as PostgreSQL quotes it) otherwise.
  std::string referenced_table;
  // Referenced columns, in key order. SQLite: empty when the FK names no
  // columns (it then references the primary key).
  std::vector<std::string> referenced_columns;
  ReferentialAction on_delete = ReferentialAction::no_action;
  ReferentialAction on_update = ReferentialAction::no_action;
  bool deferrable = false;
  bool initially_deferred = false;
  bool not_valid = false;  // PostgreSQL: added NOT VALID and not validated since
  std::optional<std::string> comment;

  bool operator==(const ForeignKey&) const = default;
};

// UNIQUE as a constraint. SQLite: a column or table UNIQUE clause (named or
// not); a CREATE UNIQUE INDEX is an Index with unique = true instead.
struct UniqueConstraint {
  std::string name;  // PG: always set. SQLite: the CONSTRAINT name, or ""
  std::vector<std::string> columns;
  bool nulls_not_distinct = false;  // PG 15
  bool deferrable = false;          // PG
  bool initially_deferred = false;  // PG
  std::optional<std::string> comment;

  bool operator==(const UniqueConstraint&) const = default;
};

struct CheckConstraint {
  std::string name;  // PG: always set. SQLite: the CONSTRAINT name, or ""
  // The expression inside CHECK (...), without the parentheses.
  std::string expression;
  bool not_valid = false;  // PostgreSQL
  std::optional<std::string> comment;

  bool operator==(const CheckConstraint&) const = default;
};

enum class SortOrder { asc, desc };
enum class NullsOrder { default_, first, last };

struct IndexKey {
  // Exactly one of column and expression is set: a plain column reference,
  // or an expression key as the engine reports it (without the parentheses
  // SQL needs around it).
  std::string column;
  std::string expression;
  SortOrder order = SortOrder::asc;
  NullsOrder nulls = NullsOrder::default_;  // PostgreSQL
  std::string collation;                    // as written / reported; empty when none
  std::string opclass;                      // PG, when not the type's default

  bool operator==(const IndexKey&) const = default;
};

struct Index {
  std::string name;
  std::string table;
  bool unique = false;
  std::vector<IndexKey> keys;
  std::vector<std::string> include;  // PG INCLUDE columns
  std::optional<std::string> predicate;  // partial index: the WHERE expression
  std::string method = "btree";          // PG access method; "btree" on SQLite
  bool nulls_not_distinct = false;       // PG 15 unique indexes
  std::optional<std::string> comment;
  // The engine's own CREATE INDEX text (sqlite_master.sql,
  // pg_get_indexdef()). Informational: it does not take part in equality,
  // since it spells names the way the creating statement did.
  std::string definition;

  bool operator==(const Index& other) const;
};

struct Table {
  std::string name;
  std::vector<Column> columns;  // table order
  std::optional<PrimaryKey> primary_key;
  std::vector<ForeignKey> foreign_keys;        // by name, then by columns
  std::vector<UniqueConstraint> uniques;       // by name, then by columns
  std::vector<CheckConstraint> checks;         // by name, then by expression
  std::vector<Index> indexes;                  // by name; not those backing a constraint
  bool without_rowid = false;  // SQLite WITHOUT ROWID
  bool strict = false;         // SQLite STRICT
  bool unlogged = false;       // PostgreSQL UNLOGGED
  std::optional<std::string> comment;
  // SQLite: the CREATE TABLE statement as stored in sqlite_master.
  // PostgreSQL: empty. Informational, not compared.
  std::string definition;

  const Column* find_column(std::string_view name) const;
  // Column order does not take part (see the file comment).
  bool operator==(const Table& other) const;
};

struct View {
  std::string name;
  // SQLite: the whole CREATE VIEW statement as stored. PG: the query,
  // pg_get_viewdef() without surrounding blanks and final ';', which a
  // CREATE VIEW name AS <definition> restores.
  std::string definition;
  bool materialized = false;  // PG
  // Tables and views the view reads, by name, sorted (on PG: those of the
  // inspected schema its rewrite rule depends on, from pg_depend;
  // from the statement's words that name a table or view on SQLite). Used to
  // order drops and creates; informational, not compared.
  std::vector<std::string> depends_on;
  std::vector<Index> indexes;  // PG materialized views
  std::optional<std::string> comment;

  bool operator==(const View& other) const;
};

struct Trigger {
  std::string name;
  std::string table;  // the table or view it fires on
  // SQLite: the whole CREATE TRIGGER statement as stored. PG:
  // pg_get_triggerdef(). Both restore the trigger as they are.
  std::string definition;
  // PG: 'O' (enabled, the default), 'D' disabled, 'R' replica, 'A' always.
  char enabled = 'O';
  std::optional<std::string> comment;

  bool operator==(const Trigger&) const = default;
};

struct Sequence {  // PostgreSQL; identity columns' sequences are not listed
  std::string name;
  std::string data_type = "bigint";  // format_type of seqtypid
  std::int64_t start = 1;
  std::int64_t increment = 1;
  std::int64_t min_value = 1;
  std::int64_t max_value = INT64_MAX;
  std::int64_t cache = 1;
  bool cycle = false;
  // "table.column" of OWNED BY (serial columns), or "" when not owned.
  std::string owned_by;
  std::optional<std::string> comment;

  bool operator==(const Sequence&) const = default;
};

struct Enum {  // PostgreSQL
  std::string name;
  std::vector<std::string> labels;  // in sort order
  std::optional<std::string> comment;

  bool operator==(const Enum&) const = default;
};

struct Domain {  // PostgreSQL
  std::string name;
  std::string base_type;  // format_type()
  bool not_null = false;
  std::optional<std::string> default_value;
  std::string collation;
  std::vector<CheckConstraint> checks;  // by name
  std::optional<std::string> comment;

  bool operator==(const Domain&) const = default;
};

struct Function {  // PostgreSQL functions and procedures, as opaque definitions
  std::string name;
  std::string arguments;   // pg_get_function_identity_arguments(): the overload's identity
  bool procedure = false;
  std::string definition;  // pg_get_functiondef(): CREATE OR REPLACE ...
  std::optional<std::string> comment;

  bool operator==(const Function&) const = default;
};

struct Extension {  // PostgreSQL extensions installed in the inspected schema
  std::string name;
  bool operator==(const Extension&) const = default;
};

struct VirtualTable {  // SQLite virtual tables (FTS, R*Tree, ...), opaque
  std::string name;
  std::string definition;  // the whole CREATE VIRTUAL TABLE statement as stored
  bool operator==(const VirtualTable&) const = default;
};

struct Schema {
  Engine engine = Engine::sqlite;
  std::string name;  // PG: the inspected schema ("public"); SQLite: "main"

  std::vector<Table> tables;
  std::vector<View> views;
  std::vector<Trigger> triggers;     // by table, then name
  std::vector<Sequence> sequences;
  std::vector<Enum> enums;
  std::vector<Domain> domains;
  std::vector<Function> functions;   // by name, then arguments
  std::vector<Extension> extensions;
  std::vector<VirtualTable> virtual_tables;

  // Objects the model cannot represent, one per object ("rule r on t",
  // "policy p on t", "partitioned table events"): inspect() names them here
  // instead of dropping them silently; callers show them as warnings.
  // Not compared.
  std::vector<std::string> unsupported;

  const Table* find_table(std::string_view name) const;
  const View* find_view(std::string_view name) const;

  bool operator==(const Schema& other) const;
};

}  // namespace strata::schema
