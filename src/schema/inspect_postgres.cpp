// schema/inspect_postgres.cpp: reads a PostgreSQL schema into the model.
//
// One CatalogSnapshot (postgres_catalog.hpp): a read-only repeatable-read
// transaction with search_path set to the inspected schema, so the
// deparsers write that schema's names unqualified, followed by the schemas
// holding an extension: an extension's types, functions and operators
// (citext, not public.citext) then read the same whether the schema is
// inspected in the extension's schema or in another one (strata diff loads
// the declared schema into a throwaway schema, while the extension stays
// where it was installed). Limitation: any other object of such a schema
// that no object of the inspected schema shadows reads unqualified too
// (inspecting "app" with citext in public names public.owners "owners"). One query per kind of
// object for the whole schema (never one per table), each row filed under
// its table by oid; every vector is sorted at the end, in C++, byte-wise.
//
// Expressions (defaults, generated columns, checks, index keys and
// predicates, domain defaults and checks) come from the deparsers' pretty
// form (pg_get_expr(..., true), pg_get_indexdef(oid, k, true)), which drops
// redundant parentheses: "age >= 0", not "(age >= 0)" (index keys lose the
// pair it keeps around an operator expression too). Views, triggers and
// functions keep their deparser's usual form.
//
// What the model cannot hold is named in Schema::unsupported: the objects
// dump refuses (partitioned, partition, inheriting, typed and foreign tables,
// row-level security, policies, rules, aggregates, range and base types;
// such tables are not listed as tables), and also composite types, exclusion
// constraints, NO INHERIT checks, INCLUDE columns of a constraint's index,
// storage options (reloptions) of tables, views and indexes, column lists of
// ON DELETE SET NULL/DEFAULT, collations, operators, operator classes,
// statistics objects and text search configurations and dictionaries.
#include <algorithm>
#include <cctype>
#include <map>
#include <string>
#include <tuple>

#include "schema/inspect_detail.hpp"
#include "schema/postgres_catalog.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"

namespace strata::schema::detail {
namespace {

ReferentialAction action(const std::string& code) {
  if (code == "r") return ReferentialAction::restrict;
  if (code == "c") return ReferentialAction::cascade;
  if (code == "n") return ReferentialAction::set_null;
  if (code == "d") return ReferentialAction::set_default;
  return ReferentialAction::no_action;  // 'a'
}

// pg_get_viewdef's text without the blanks around it and its final ';'.
std::string trim_view(std::string def) {
  while (!def.empty() && (def.back() == ';' || std::isspace(static_cast<unsigned char>(def.back())))) def.pop_back();
  std::size_t start = 0;
  while (start < def.size() && std::isspace(static_cast<unsigned char>(def[start]))) ++start;
  return def.substr(start);
}

// An index key expression without the parentheses pg_get_indexdef keeps
// around an operator expression even in its pretty form: "(a + 1)" -> "a + 1",
// while "lower(a)" and "(a) + (b)" stay as they are.
std::string without_outer_parentheses(std::string expr) {
  if (expr.size() < 2 || expr.front() != '(' || expr.back() != ')') return expr;
  int depth = 0;
  char quote = 0;
  for (std::size_t i = 0; i < expr.size(); ++i) {
    const char c = expr[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')' && --depth == 0 && i + 1 < expr.size()) {
      return expr;  // the first group closes before the end
    }
  }
  return expr.substr(1, expr.size() - 2);
}

template <class T>
void sort_by_name(std::vector<T>& items) {
  std::sort(items.begin(), items.end(), [](const T& a, const T& b) { return a.name < b.name; });
}

// SQL: relation `c` is in the schema ($1) and belongs to no extension.
std::string in_schema(std::string_view alias) {
  return std::string(alias) + ".relnamespace = $1::oid AND " +
         not_in_extension("pg_class", std::string(alias) + ".oid");
}

// SQL: the name of pg_class row `alias` as the model writes a reference to
// it: bare in the inspected schema, schema.table (quote_ident) elsewhere.
std::string reference_name(std::string_view alias, std::string_view ns_alias) {
  return "CASE WHEN " + std::string(alias) + ".relnamespace = $1::oid THEN " + std::string(alias) +
         ".relname::text ELSE quote_ident(" + std::string(ns_alias) + ".nspname) || '.' || quote_ident(" +
         std::string(alias) + ".relname) END";
}

// SQL: the comment on `oid_expr` of `catalog` (column `subid_expr`), or
// NULL. A subquery, not obj_description(): a SQL function call per row costs
// more than the whole index lookup.
std::string comment(std::string_view catalog, std::string_view oid_expr, std::string_view subid_expr = "0") {
  return "(SELECT ds.description FROM pg_description ds WHERE ds.objoid = " + std::string(oid_expr) +
         " AND ds.classoid = '" + std::string(catalog) + "'::regclass AND ds.objsubid = " + std::string(subid_expr) +
         ")";
}

// SQL: the name of column `attnum_expr` of relation `relid_expr`.
std::string column_name(std::string_view relid_expr, std::string_view attnum_expr) {
  return "(SELECT at.attname FROM pg_attribute at WHERE at.attrelid = " + std::string(relid_expr) +
         " AND at.attnum = " + std::string(attnum_expr) + ")";
}

class Reader {
 public:
  Reader(Connection& c, const CatalogSnapshot& snapshot, const InspectOptions& options)
      : c_(c), snapshot_(snapshot), options_(options) {}

  Schema read() {
    schema_.engine = Engine::postgres;
    schema_.name = options_.schema;
    read_unsupported();
    read_tables();
    read_columns();
    read_constraints();
    read_views();
    read_indexes();
    read_triggers();
    read_sequences();
    read_enums();
    read_domains();
    read_functions();
    read_extensions();
    finish();
    return std::move(schema_);
  }

 private:
  ResultSet query(const std::string& sql) { return c_.query(sql, {snapshot_.namespace_oid()}); }
  bool pg15() const { return snapshot_.server_version() >= 150000; }

  Table* table(const std::string& oid) {
    auto it = tables_.find(oid);
    return it == tables_.end() ? nullptr : &schema_.tables[it->second];
  }

  void read_unsupported() {
    std::vector<UnsupportedObject> found = unsupported_objects(c_, snapshot_);
    const std::string rel = in_schema("c");
    auto rows = query(
        "SELECT 'composite type ' || t.typname, NULL FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid"
        " WHERE t.typnamespace = $1::oid AND t.typtype = 'c' AND c.relkind = 'c' AND " +
        not_in_extension("pg_type", "t.oid") +
        " UNION ALL SELECT 'exclusion constraint ' || k.conname || ' on ' || c.relname, c.relname"
        "  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid WHERE " + rel + " AND k.contype = 'x'"
        " UNION ALL SELECT 'NO INHERIT on check ' || k.conname || ' on ' || c.relname, c.relname"
        "  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
        "  WHERE " + rel + " AND k.contype = 'c' AND k.connoinherit"
        " UNION ALL SELECT 'INCLUDE columns of constraint ' || k.conname || ' on ' || c.relname, c.relname"
        "  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_index i ON i.indexrelid = k.conindid"
        "  WHERE " + rel + " AND k.contype IN ('p', 'u') AND i.indnatts > i.indnkeyatts" +
        (pg15() ? " UNION ALL SELECT 'column list of ON DELETE in foreign key ' || k.conname || ' on ' || c.relname,"
                  " c.relname FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
                  " WHERE " + rel + " AND k.contype = 'f' AND k.confdelsetcols IS NOT NULL"
                : std::string()) +
        " UNION ALL SELECT 'options (' || array_to_string(c.reloptions, ', ') || ') on '"
        "  || CASE c.relkind WHEN 'r' THEN 'table ' WHEN 'v' THEN 'view ' WHEN 'm' THEN 'materialized view '"
        "  ELSE 'index ' END || c.relname, COALESCE(tc.relname, c.relname)"
        "  FROM pg_class c LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class tc ON tc.oid = i.indrelid"
        "  WHERE " + rel + " AND c.reloptions IS NOT NULL AND c.relkind IN ('r', 'v', 'm', 'i')"
        " UNION ALL SELECT 'statistics object ' || s.stxname, c.relname FROM pg_statistic_ext s"
        "  JOIN pg_class c ON c.oid = s.stxrelid WHERE s.stxnamespace = $1::oid AND " +
        not_in_extension("pg_statistic_ext", "s.oid") +
        " UNION ALL SELECT 'collation ' || o.collname, NULL FROM pg_collation o"
        "  WHERE o.collnamespace = $1::oid AND " + not_in_extension("pg_collation", "o.oid") +
        " UNION ALL SELECT 'operator ' || o.oprname, NULL FROM pg_operator o"
        "  WHERE o.oprnamespace = $1::oid AND " + not_in_extension("pg_operator", "o.oid") +
        " UNION ALL SELECT 'operator class ' || o.opcname, NULL FROM pg_opclass o"
        "  WHERE o.opcnamespace = $1::oid AND " + not_in_extension("pg_opclass", "o.oid") +
        " UNION ALL SELECT 'text search configuration ' || o.cfgname, NULL FROM pg_ts_config o"
        "  WHERE o.cfgnamespace = $1::oid AND " + not_in_extension("pg_ts_config", "o.oid") +
        " UNION ALL SELECT 'text search dictionary ' || o.dictname, NULL FROM pg_ts_dict o"
        "  WHERE o.dictnamespace = $1::oid AND " + not_in_extension("pg_ts_dict", "o.oid"));
    for (const Row& r : rows.rows) found.push_back(UnsupportedObject{r.get<std::string>(0), text_or_null(r, 1)});
    for (const UnsupportedObject& u : found) {
      if (u.table && excluded_table(*u.table, options_)) continue;
      schema_.unsupported.push_back(u.label);
    }
  }

  // Ordinary tables; partitions, inheriting and typed tables are unsupported.
  void read_tables() {
    auto rows = query(
        "SELECT c.oid::text, c.relname, c.relpersistence = 'u', " + comment("pg_class", "c.oid") +
        " FROM pg_class c WHERE " + in_schema("c") + " AND c.relkind = 'r' AND NOT c.relispartition"
        " AND c.reloftype = 0 AND NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid)");
    for (const Row& r : rows.rows) {
      Table t;
      t.name = r.get<std::string>(1);
      if (excluded_table(t.name, options_)) continue;
      t.unlogged = r.get<bool>(2);
      t.comment = text_or_null(r, 3);
      tables_[r.get<std::string>(0)] = schema_.tables.size();
      schema_.tables.push_back(std::move(t));
    }
  }

  void read_columns() {
    auto rows = query(
        "SELECT a.attrelid::text, a.attname, format_type(a.atttypid, a.atttypmod), t.typtype = 'e', a.attnotnull,"
        " pg_get_expr(d.adbin, d.adrelid, true), a.attidentity::text, a.attgenerated::text,"
        " CASE WHEN a.attcollation <> t.typcollation THEN " + collation_name("a.attcollation") + " END,"
        " " + comment("pg_class", "a.attrelid", "a.attnum") + ", s.seqstart, s.seqincrement"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " LEFT JOIN pg_depend dep ON a.attidentity <> '' AND dep.classid = 'pg_class'::regclass"
        "  AND dep.refclassid = 'pg_class'::regclass AND dep.refobjid = a.attrelid AND dep.refobjsubid = a.attnum"
        "  AND dep.deptype = 'i'"
        " LEFT JOIN pg_sequence s ON s.seqrelid = dep.objid"
        " WHERE c.relnamespace = $1::oid AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY a.attrelid, a.attnum");
    for (const Row& r : rows.rows) {
      Table* t = table(r.get<std::string>(0));
      if (t == nullptr) continue;
      Column col;
      col.name = r.get<std::string>(1);
      col.type.raw = r.get<std::string>(2);
      col.type.family = postgres_type_family(col.type.raw, r.get<bool>(3));
      col.nullable = !r.get<bool>(4);
      auto expr = text_or_null(r, 5);
      const auto identity = r.get<std::string>(6);
      const auto generated = r.get<std::string>(7);
      if (generated.empty()) {
        col.default_value = expr;
      } else {
        col.generated = generated == "s" ? GeneratedKind::stored : GeneratedKind::virtual_;
        col.generated_expression = expr.value_or("");
      }
      if (!identity.empty()) {
        col.identity = identity == "a" ? IdentityKind::always : IdentityKind::by_default;
        if (auto start = r.get<std::optional<std::int64_t>>(10)) col.identity_start = *start;
        if (auto increment = r.get<std::optional<std::int64_t>>(11)) col.identity_increment = *increment;
      }
      col.collation = text_or_null(r, 8).value_or("");
      col.comment = text_or_null(r, 9);
      t->columns.push_back(std::move(col));
    }
  }

  void read_constraints() {
    auto rows = query(
        "SELECT k.oid::text, k.conrelid::text, k.conname, k.contype::text, k.condeferrable, k.condeferred,"
        " k.convalidated, k.confdeltype::text, k.confupdtype::text,"
        " CASE WHEN k.contype = 'f' THEN " + reference_name("rc", "rn") + " END,"
        " CASE WHEN k.contype = 'c' THEN pg_get_expr(k.conbin, k.conrelid, true) END,"
        " " + comment("pg_constraint", "k.oid") + ", " +
        (pg15() ? "COALESCE(i.indnullsnotdistinct, false)" : "false") +
        " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
        " LEFT JOIN pg_class rc ON rc.oid = k.confrelid LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace"
        " LEFT JOIN pg_index i ON i.indexrelid = k.conindid AND k.contype = 'u'"
        " WHERE c.relnamespace = $1::oid AND k.contype IN ('p', 'u', 'c', 'f')");
    // Key columns, in key order: 'k' the constraint's own, 'r' a foreign
    // key's referenced ones.
    auto keys = query(
        "SELECT k.oid::text, 'k', " + column_name("k.conrelid", "n.attnum") + ", n.i"
        " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
        " CROSS JOIN LATERAL unnest(k.conkey) WITH ORDINALITY n(attnum, i)"
        " WHERE c.relnamespace = $1::oid AND k.contype IN ('p', 'u', 'f')"
        " UNION ALL SELECT k.oid::text, 'r', " + column_name("k.confrelid", "n.attnum") + ", n.i"
        " FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid"
        " CROSS JOIN LATERAL unnest(k.confkey) WITH ORDINALITY n(attnum, i)"
        " WHERE c.relnamespace = $1::oid AND k.contype = 'f'"
        " ORDER BY 1, 2, 4");
    std::map<std::string, std::vector<std::string>> columns, referenced;  // by constraint oid
    for (const Row& r : keys.rows) {
      (r.get<std::string>(1) == "k" ? columns : referenced)[r.get<std::string>(0)].push_back(r.get<std::string>(2));
    }
    for (const Row& r : rows.rows) {
      Table* t = table(r.get<std::string>(1));
      if (t == nullptr) continue;
      const auto oid = r.get<std::string>(0);
      const auto type = r.get<std::string>(3);
      auto name = r.get<std::string>(2);
      auto comment = text_or_null(r, 11);
      if (type == "p") {
        t->primary_key = PrimaryKey{std::move(name), columns[oid], false, std::move(comment)};
      } else if (type == "u") {
        UniqueConstraint u;
        u.name = std::move(name);
        u.columns = columns[oid];
        u.nulls_not_distinct = r.get<bool>(12);
        u.deferrable = r.get<bool>(4);
        u.initially_deferred = r.get<bool>(5);
        u.comment = std::move(comment);
        t->uniques.push_back(std::move(u));
      } else if (type == "c") {
        t->checks.push_back(CheckConstraint{std::move(name), text_or_null(r, 10).value_or(""), !r.get<bool>(6),
                                            std::move(comment)});
      } else {
        ForeignKey f;
        f.name = std::move(name);
        f.columns = columns[oid];
        f.referenced_table = text_or_null(r, 9).value_or("");
        f.referenced_columns = referenced[oid];
        f.on_delete = action(r.get<std::string>(7));
        f.on_update = action(r.get<std::string>(8));
        f.deferrable = r.get<bool>(4);
        f.initially_deferred = r.get<bool>(5);
        f.not_valid = !r.get<bool>(6);
        f.comment = std::move(comment);
        t->foreign_keys.push_back(std::move(f));
      }
    }
  }

  void read_views() {
    auto rows = query(
        "SELECT c.oid::text, c.relname, c.relkind = 'm', pg_get_viewdef(c.oid), " + comment("pg_class", "c.oid") +
        " FROM pg_class c WHERE " + in_schema("c") + " AND c.relkind IN ('v', 'm')");
    // Relations of the schema each view's rewrite rule refers to.
    auto depends = query(
        "SELECT DISTINCT r.ev_class::text, rc.relname FROM pg_rewrite r JOIN pg_class v ON v.oid = r.ev_class"
        " JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid"
        "  AND d.refclassid = 'pg_class'::regclass"
        " JOIN pg_class rc ON rc.oid = d.refobjid"
        " WHERE v.relnamespace = $1::oid AND v.relkind IN ('v', 'm') AND rc.oid <> v.oid"
        " AND rc.relnamespace = $1::oid AND rc.relkind IN ('r', 'v', 'm', 'p', 'f')");
    std::map<std::string, std::vector<std::string>> reads;
    for (const Row& r : depends.rows) reads[r.get<std::string>(0)].push_back(r.get<std::string>(1));
    for (const Row& r : rows.rows) {
      View v;
      v.name = r.get<std::string>(1);
      if (excluded_table(v.name, options_)) continue;
      const auto oid = r.get<std::string>(0);
      v.materialized = r.get<bool>(2);
      v.definition = trim_view(text_or_null(r, 3).value_or(""));
      v.depends_on = std::move(reads[oid]);
      std::sort(v.depends_on.begin(), v.depends_on.end());
      v.comment = text_or_null(r, 4);
      views_[oid] = schema_.views.size();
      schema_.views.push_back(std::move(v));
    }
  }

  // Indexes that back no constraint, of tables and materialized views.
  void read_indexes() {
    auto rows = query(
        "SELECT i.indexrelid::text, i.indrelid::text, ic.relname, tc.relname, i.indisunique, am.amname,"
        " pg_get_expr(i.indpred, i.indrelid, true), " +
        std::string(pg15() ? "i.indnullsnotdistinct" : "false") +
        ", " + comment("pg_class", "i.indexrelid") + ", pg_get_indexdef(i.indexrelid),"
        " quote_ident(n.nspname) || '.' || quote_ident(tc.relname), quote_ident(tc.relname), i.indnkeyatts"
        " FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid"
        " JOIN pg_namespace n ON n.oid = tc.relnamespace JOIN pg_am am ON am.oid = ic.relam"
        " WHERE tc.relnamespace = $1::oid AND tc.relkind IN ('r', 'm') AND NOT EXISTS (SELECT 1 FROM pg_constraint k"
        "  WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))");
    // One row per key and INCLUDE column, in order. indoption, indcollation
    // and indclass hold key columns only, and are indexed from 0.
    // A key's collation is reported when it is not the one of its column,
    // or for an expression, the default of the key's type.
    const std::string collation = "i.indcollation[n.i::int - 1]";
    auto keys = query(
        "SELECT i.indexrelid::text, n.i, CASE WHEN n.attnum <> 0 THEN " + column_name("i.indrelid", "n.attnum") +
        " END, CASE WHEN n.attnum = 0 THEN pg_get_indexdef(i.indexrelid, n.i::int, true) END,"
        " i.indoption[n.i::int - 1],"
        " CASE WHEN " + collation + " = 0 OR " + collation + " = CASE WHEN n.attnum <> 0"
        "  THEN (SELECT a.attcollation FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = n.attnum)"
        "  ELSE (SELECT t.typcollation FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
        "   WHERE a.attrelid = i.indexrelid AND a.attnum = n.i) END"
        "  THEN NULL ELSE " + collation_name(collation) + " END,"
        " (SELECT CASE WHEN o.opcdefault THEN NULL WHEN pg_opclass_is_visible(o.oid) THEN quote_ident(o.opcname)"
        "  ELSE quote_ident(ns.nspname) || '.' || quote_ident(o.opcname) END"
        "  FROM pg_opclass o JOIN pg_namespace ns ON ns.oid = o.opcnamespace WHERE o.oid = i.indclass[n.i::int - 1])"
        " FROM pg_index i JOIN pg_class tc ON tc.oid = i.indrelid"
        " CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY n(attnum, i)"
        " WHERE tc.relnamespace = $1::oid AND tc.relkind IN ('r', 'm')"
        " ORDER BY 1, 2");
    std::map<std::string, std::vector<const Row*>> key_rows;
    for (const Row& r : keys.rows) key_rows[r.get<std::string>(0)].push_back(&r);
    for (const Row& r : rows.rows) {
      const auto table_oid = r.get<std::string>(1);
      std::vector<Index>* list = nullptr;
      if (Table* t = table(table_oid)) {
        list = &t->indexes;
      } else if (auto v = views_.find(table_oid); v != views_.end()) {
        list = &schema_.views[v->second].indexes;
      } else {
        continue;  // an excluded or unsupported table's
      }
      Index index;
      index.name = r.get<std::string>(2);
      index.table = r.get<std::string>(3);
      index.unique = r.get<bool>(4);
      index.method = r.get<std::string>(5);
      index.predicate = text_or_null(r, 6);
      index.nulls_not_distinct = r.get<bool>(7);
      index.comment = text_or_null(r, 8);
      index.definition = unqualify_on(r.get<std::string>(9), r.get<std::string>(10), r.get<std::string>(11),
                                      "index " + index.name);
      const auto key_count = r.get<std::int64_t>(12);
      for (const Row* k : key_rows[r.get<std::string>(0)]) {
        auto column = text_or_null(*k, 2);
        if (k->get<std::int64_t>(1) > key_count) {
          index.include.push_back(column.value_or(""));
          continue;
        }
        IndexKey key;
        if (column) {
          key.column = *column;
        } else {
          key.expression = without_outer_parentheses(k->get<std::string>(3));
        }
        const auto option = k->get<std::optional<std::int64_t>>(4).value_or(0);
        const bool desc = (option & 1) != 0;         // INDOPTION_DESC
        const bool nulls_first = (option & 2) != 0;  // INDOPTION_NULLS_FIRST
        key.order = desc ? SortOrder::desc : SortOrder::asc;
        if (nulls_first != desc) key.nulls = nulls_first ? NullsOrder::first : NullsOrder::last;
        key.collation = text_or_null(*k, 5).value_or("");
        key.opclass = text_or_null(*k, 6).value_or("");
        index.keys.push_back(std::move(key));
      }
      list->push_back(std::move(index));
    }
  }

  // Triggers on the listed tables and views; not the internal ones that
  // implement foreign keys.
  void read_triggers() {
    auto rows = query(
        "SELECT tg.tgrelid::text, tg.tgname, tc.relname, pg_get_triggerdef(tg.oid),"
        " quote_ident(n.nspname) || '.' || quote_ident(tc.relname), quote_ident(tc.relname), tg.tgenabled::text,"
        " " + comment("pg_trigger", "tg.oid") +
        " FROM pg_trigger tg JOIN pg_class tc ON tc.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = tc.relnamespace"
        " WHERE tc.relnamespace = $1::oid AND NOT tg.tgisinternal");
    for (const Row& r : rows.rows) {
      const auto relid = r.get<std::string>(0);
      if (!tables_.contains(relid) && !views_.contains(relid)) continue;
      Trigger t;
      t.name = r.get<std::string>(1);
      t.table = r.get<std::string>(2);
      t.definition = unqualify_on(r.get<std::string>(3), r.get<std::string>(4), r.get<std::string>(5),
                                  "trigger " + t.name + " on " + t.table);
      const auto enabled = r.get<std::string>(6);
      t.enabled = enabled.empty() ? 'O' : enabled[0];
      t.comment = text_or_null(r, 7);
      schema_.triggers.push_back(std::move(t));
    }
  }

  // Sequences but identity columns' (part of their column); those owned by
  // an excluded table go with it.
  void read_sequences() {
    auto rows = query(
        "SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,"
        " s.seqcache, s.seqcycle, own.deptype::text, t.relname, a.attname, " + comment("pg_class", "c.oid") +
        " FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid"
        " LEFT JOIN pg_depend own ON own.classid = 'pg_class'::regclass AND own.objid = c.oid"
        "  AND own.refclassid = 'pg_class'::regclass AND own.refobjsubid > 0 AND own.deptype IN ('a', 'i')"
        " LEFT JOIN pg_attribute a ON a.attrelid = own.refobjid AND a.attnum = own.refobjsubid"
        " LEFT JOIN pg_class t ON t.oid = own.refobjid"
        " WHERE " + in_schema("c") + " AND c.relkind = 'S'");
    for (const Row& r : rows.rows) {
      auto deptype = text_or_null(r, 8);
      if (deptype == "i") continue;
      auto owner = text_or_null(r, 9);
      if (owner && excluded_table(*owner, options_)) continue;
      Sequence s;
      s.name = r.get<std::string>(0);
      s.data_type = r.get<std::string>(1);
      s.start = r.get<std::int64_t>(2);
      s.increment = r.get<std::int64_t>(3);
      s.min_value = r.get<std::int64_t>(4);
      s.max_value = r.get<std::int64_t>(5);
      s.cache = r.get<std::int64_t>(6);
      s.cycle = r.get<bool>(7);
      if (owner) s.owned_by = *owner + "." + text_or_null(r, 10).value_or("");
      s.comment = text_or_null(r, 11);
      schema_.sequences.push_back(std::move(s));
    }
  }

  void read_enums() {
    auto rows = query(
        "SELECT t.oid::text, t.typname, e.enumlabel, " + comment("pg_type", "t.oid") +
        " FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid"
        " WHERE t.typnamespace = $1::oid AND t.typtype = 'e' AND " + not_in_extension("pg_type", "t.oid") +
        " ORDER BY t.oid, e.enumsortorder");
    // An enum without labels has no pg_enum row.
    auto empty = query(
        "SELECT t.typname, " + comment("pg_type", "t.oid") + " FROM pg_type t"
        " WHERE t.typnamespace = $1::oid AND t.typtype = 'e' AND " + not_in_extension("pg_type", "t.oid") +
        " AND NOT EXISTS (SELECT 1 FROM pg_enum e WHERE e.enumtypid = t.oid)");
    std::string last;
    for (const Row& r : rows.rows) {
      if (schema_.enums.empty() || r.get<std::string>(0) != last) {
        last = r.get<std::string>(0);
        schema_.enums.push_back(Enum{r.get<std::string>(1), {}, text_or_null(r, 3)});
      }
      schema_.enums.back().labels.push_back(r.get<std::string>(2));
    }
    for (const Row& r : empty.rows) schema_.enums.push_back(Enum{r.get<std::string>(0), {}, text_or_null(r, 1)});
  }

  void read_domains() {
    auto rows = query(
        "SELECT t.oid::text, t.typname, format_type(t.typbasetype, t.typtypmod), t.typnotnull,"
        " pg_get_expr(t.typdefaultbin, 0, true),"
        " CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation THEN " +
        collation_name("t.typcollation") + " END, " + comment("pg_type", "t.oid") +
        " FROM pg_type t JOIN pg_type b ON b.oid = t.typbasetype"
        " WHERE t.typnamespace = $1::oid AND t.typtype = 'd' AND " + not_in_extension("pg_type", "t.oid"));
    auto checks = query(
        "SELECT k.contypid::text, k.conname, pg_get_expr(k.conbin, 0, true), k.convalidated,"
        " " + comment("pg_constraint", "k.oid") +
        " FROM pg_constraint k JOIN pg_type t ON t.oid = k.contypid"
        " WHERE t.typnamespace = $1::oid AND k.contype = 'c'");
    std::map<std::string, std::vector<CheckConstraint>> by_domain;
    for (const Row& r : checks.rows) {
      by_domain[r.get<std::string>(0)].push_back(
          CheckConstraint{r.get<std::string>(1), text_or_null(r, 2).value_or(""), !r.get<bool>(3), text_or_null(r, 4)});
    }
    for (const Row& r : rows.rows) {
      Domain d;
      d.name = r.get<std::string>(1);
      d.base_type = r.get<std::string>(2);
      d.not_null = r.get<bool>(3);
      d.default_value = text_or_null(r, 4);
      d.collation = text_or_null(r, 5).value_or("");
      d.checks = std::move(by_domain[r.get<std::string>(0)]);
      d.comment = text_or_null(r, 6);
      schema_.domains.push_back(std::move(d));
    }
  }

  void read_functions() {
    auto rows = query(
        "SELECT p.proname, pg_get_function_identity_arguments(p.oid), p.prokind = 'p', pg_get_functiondef(p.oid),"
        " quote_ident(n.nspname) || '.', " + comment("pg_proc", "p.oid") +
        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE p.pronamespace = $1::oid AND p.prokind IN ('f', 'p', 'w') AND " + not_in_extension("pg_proc", "p.oid"));
    for (const Row& r : rows.rows) {
      schema_.functions.push_back(Function{r.get<std::string>(0), r.get<std::string>(1), r.get<bool>(2),
                                           unqualify_function(r.get<std::string>(3), r.get<std::string>(4)),
                                           text_or_null(r, 5)});
    }
  }

  void read_extensions() {
    auto rows = query("SELECT e.extname FROM pg_extension e WHERE e.extnamespace = $1::oid");
    for (const Row& r : rows.rows) schema_.extensions.push_back(Extension{r.get<std::string>(0)});
  }

  // The order model.hpp promises.
  void finish() {
    for (Table& t : schema_.tables) {
      std::sort(t.foreign_keys.begin(), t.foreign_keys.end(), [](const ForeignKey& a, const ForeignKey& b) {
        return std::tie(a.name, a.columns) < std::tie(b.name, b.columns);
      });
      std::sort(t.uniques.begin(), t.uniques.end(), [](const UniqueConstraint& a, const UniqueConstraint& b) {
        return std::tie(a.name, a.columns) < std::tie(b.name, b.columns);
      });
      std::sort(t.checks.begin(), t.checks.end(), [](const CheckConstraint& a, const CheckConstraint& b) {
        return std::tie(a.name, a.expression) < std::tie(b.name, b.expression);
      });
      sort_by_name(t.indexes);
    }
    for (View& v : schema_.views) sort_by_name(v.indexes);
    for (Domain& d : schema_.domains) sort_by_name(d.checks);
    sort_by_name(schema_.tables);
    sort_by_name(schema_.views);
    std::sort(schema_.triggers.begin(), schema_.triggers.end(), [](const Trigger& a, const Trigger& b) {
      return std::tie(a.table, a.name) < std::tie(b.table, b.name);
    });
    sort_by_name(schema_.sequences);
    sort_by_name(schema_.enums);
    sort_by_name(schema_.domains);
    std::sort(schema_.functions.begin(), schema_.functions.end(), [](const Function& a, const Function& b) {
      return std::tie(a.name, a.arguments) < std::tie(b.name, b.arguments);
    });
    sort_by_name(schema_.extensions);
    std::sort(schema_.unsupported.begin(), schema_.unsupported.end());
  }

  Connection& c_;
  const CatalogSnapshot& snapshot_;
  const InspectOptions& options_;
  Schema schema_;
  std::map<std::string, std::size_t> tables_;  // listed tables: oid -> index in schema_.tables
  std::map<std::string, std::size_t> views_;   // listed views: oid -> index in schema_.views
};

}  // namespace

Schema inspect_postgres(Connection& connection, const InspectOptions& options) {
  CatalogSnapshot snapshot(connection, options.schema, "inspect", /*extension_schemas=*/true);
  return Reader(connection, snapshot, options).read();
}

}  // namespace strata::schema::detail
