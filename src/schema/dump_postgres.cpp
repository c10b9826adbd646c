// schema/dump_postgres.cpp: reads a PostgreSQL schema for dump_schema.
//
// Everything comes from the system catalogs through PostgreSQL's own
// deparsers (format_type, pg_get_expr, pg_get_constraintdef,
// pg_get_indexdef, pg_get_viewdef, pg_get_functiondef, pg_get_triggerdef),
// called with search_path set to the dumped schema alone: they then write
// that schema's names unqualified and every other schema's qualified. Three
// of them always qualify the one name they start with (the function's, the
// indexed or triggered table's); that qualifier is removed here.
//
// Order comes from pg_depend: each object registers the catalog rows it
// stands for ("pg_class:16388", its column defaults, its inline constraints,
// a view's rewrite rule), and every normal or automatic dependency between
// two registered rows becomes a DumpObject dependency.
#include <fmt/format.h>

#include <map>
#include <optional>
#include <string>

#include "schema/dump_objects.hpp"
#include "schema/postgres_catalog.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"

namespace strata::schema::detail {
namespace {

std::string key(std::string_view a, std::string_view b) {
  std::string k(a);
  k += '\0';
  k += b;
  return k;
}

// Sequence options from columns start, increment, min, max, cache, cycle.
std::string sequence_options(const Row& r, std::size_t at) {
  return fmt::format("START WITH {} INCREMENT BY {} MINVALUE {} MAXVALUE {} CACHE {} {}", r.get<std::int64_t>(at),
                     r.get<std::int64_t>(at + 1), r.get<std::int64_t>(at + 2), r.get<std::int64_t>(at + 3),
                     r.get<std::int64_t>(at + 4), r.get<bool>(at + 5) ? "CYCLE" : "NO CYCLE");
}

// "WITH (a='1', b='x')" from pg_options_to_table, or "".
std::string with_options(const std::optional<std::string>& options) {
  return options && !options->empty() ? " WITH (" + *options + ")" : "";
}
constexpr const char* kOptionsSql =
    "(SELECT string_agg(quote_ident(o.option_name) || '=' || quote_literal(o.option_value), ', ' "
    "ORDER BY o.option_name) FROM pg_options_to_table(c.reloptions) o)";

class Reader {
 public:
  Reader(Connection& c, const CatalogSnapshot& snapshot, const DumpOptions& options)
      : c_(c), snapshot_(snapshot), options_(options), ns_(snapshot.namespace_oid()) {}

  std::vector<DumpObject> read() {
    refuse_unsupported();
    read_extensions();
    read_columns();
    read_types();
    read_sequences();
    read_constraints();
    read_relations();
    read_indexes();
    read_functions();
    read_triggers();
    read_dependencies();
    return std::move(objects_);
  }

 private:
  ResultSet query(const std::string& sql) { return c_.query(sql, {ns_}); }

  std::size_t add(DumpKind kind, std::string key, std::string sql, std::string label) {
    DumpObject o;
    o.kind = kind;
    o.key = std::move(key);
    o.sql = std::move(sql);
    o.label = std::move(label);
    objects_.push_back(std::move(o));
    return objects_.size() - 1;
  }
  // Records that catalog row `catalog:oid` is part of object `object`.
  void own(std::string_view catalog, const std::string& oid, std::size_t object) {
    owner_[std::string(catalog) + ":" + oid] = object;
  }

  void refuse_unsupported() {
    std::string found;
    for (const UnsupportedObject& u : unsupported_objects(c_, snapshot_)) {
      if (u.table && excluded_table(*u.table, options_)) continue;
      found += (found.empty() ? "" : ", ") + u.label;
    }
    if (!found.empty()) {
      throw Error(ErrorKind::usage, "cannot dump schema \"" + options_.schema +
                                        "\": strata does not dump these objects yet: " + found);
    }
  }

  void read_extensions() {
    auto rows = query("SELECT e.oid::text, e.extname, quote_ident(e.extname) FROM pg_extension e "
                      "WHERE e.extnamespace = $1::oid ORDER BY e.extname");
    for (const Row& r : rows.rows) {
      std::size_t o = add(DumpKind::extension, r.get<std::string>(1),
                          "CREATE EXTENSION IF NOT EXISTS " + r.get<std::string>(2),
                          "extension " + r.get<std::string>(1));
      own("pg_extension", r.get<std::string>(0), o);
    }
  }

  // Columns of tables and composite types, rendered, by relation oid.
  void read_columns() {
    auto rows = query(
        "SELECT a.attrelid::text, quote_ident(a.attname), format_type(a.atttypid, a.atttypmod), a.attnotnull,"
        " a.attidentity::text, a.attgenerated::text, pg_get_expr(d.adbin, d.adrelid), d.oid::text,"
        " CASE WHEN a.attcollation <> t.typcollation THEN " + collation_name("a.attcollation") + " END, a.attnum"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        " WHERE c.relnamespace = $1::oid AND c.relkind IN ('r', 'c') AND a.attnum > 0 AND NOT a.attisdropped"
        " ORDER BY a.attrelid, a.attnum");
    for (const Row& r : rows.rows) {
      Column col;
      col.name = r.get<std::string>(1);
      col.text = col.name + " " + r.get<std::string>(2);
      if (auto collation = text_or_null(r, 8)) col.text += " COLLATE " + *collation;
      auto expr = text_or_null(r, 6);
      if (expr && r.get<std::string>(5) == "s") {
        col.text += " GENERATED ALWAYS AS (" + *expr + ") STORED";
      } else if (expr) {
        col.text += " DEFAULT " + *expr;
      }
      col.notnull = r.get<bool>(3);
      col.identity = r.get<std::string>(4);
      col.attnum = r.get<std::int64_t>(9);
      if (auto d = text_or_null(r, 7)) col.default_oid = *d;
      columns_[r.get<std::string>(0)].push_back(std::move(col));
    }
  }

  void read_types() {
    auto rows = query(
        "SELECT t.oid::text, t.typarray::text, t.typname, quote_ident(t.typname), t.typtype::text, t.typrelid::text,"
        " (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e"
        "  WHERE e.enumtypid = t.oid),"
        " format_type(t.typbasetype, t.typtypmod),"
        " CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation THEN " +
        collation_name("t.typcollation") + " END,"
        " pg_get_expr(t.typdefaultbin, 0), t.typnotnull"
        " FROM pg_type t LEFT JOIN pg_type b ON b.oid = t.typbasetype LEFT JOIN pg_class c ON c.oid = t.typrelid"
        " WHERE t.typnamespace = $1::oid AND " + not_in_extension("pg_type", "t.oid") +
        " AND (t.typtype IN ('e', 'd') OR (t.typtype = 'c' AND c.relkind = 'c'))"
        " ORDER BY t.typname");
    auto checks = query(
        "SELECT con.contypid::text, con.oid::text, con.conname, quote_ident(con.conname),"
        " pg_get_constraintdef(con.oid), con.convalidated"
        " FROM pg_constraint con JOIN pg_type t ON t.oid = con.contypid"
        " WHERE t.typnamespace = $1::oid AND con.contype = 'c' ORDER BY con.contypid, con.conname");
    for (const Row& r : rows.rows) {
      const auto oid = r.get<std::string>(0);
      const auto name = r.get<std::string>(2);
      const auto quoted = r.get<std::string>(3);
      const auto typtype = r.get<std::string>(4);
      std::string sql;
      if (typtype == "e") {
        sql = "CREATE TYPE " + quoted + " AS ENUM (" + text_or_null(r, 6).value_or("") + ")";
      } else if (typtype == "c") {
        sql = "CREATE TYPE " + quoted + " AS (" + column_list(r.get<std::string>(5), {}) + ")";
      } else {
        sql = "CREATE DOMAIN " + quoted + " AS " + r.get<std::string>(7);
        if (auto collation = text_or_null(r, 8)) sql += " COLLATE " + *collation;
        if (auto def = text_or_null(r, 9)) sql += " DEFAULT " + *def;
        if (r.get<bool>(10)) sql += " NOT NULL";
      }
      std::size_t o = add(DumpKind::type, name, "", "type " + name);
      for (const Row& k : checks.rows) {
        if (k.get<std::string>(0) != oid) continue;
        std::string def = "CONSTRAINT " + k.get<std::string>(3) + " " + k.get<std::string>(4);
        if (k.get<bool>(5)) {
          sql += " " + def;
          own("pg_constraint", k.get<std::string>(1), o);
        } else {  // NOT VALID stays NOT VALID only when added afterwards
          std::size_t a = add(DumpKind::constraint, key(name, k.get<std::string>(2)),
                              "ALTER DOMAIN " + quoted + " ADD " + def,
                              "constraint " + k.get<std::string>(2) + " on domain " + name);
          own("pg_constraint", k.get<std::string>(1), a);
          objects_[a].depends_on.push_back(o);
        }
      }
      objects_[o].sql = std::move(sql);
      own("pg_type", oid, o);
      own("pg_type", r.get<std::string>(1), o);  // its array type
      if (typtype == "c") own("pg_class", r.get<std::string>(5), o);
    }
  }

  void read_sequences() {
    auto rows = query(
        "SELECT c.oid::text, c.relname, quote_ident(c.relname), format_type(s.seqtypid, NULL),"
        " s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache, s.seqcycle,"
        " own.deptype::text, own.refobjid::text, own.refobjsubid, quote_ident(a.attname), t.relname"
        " FROM pg_class c JOIN pg_sequence s ON s.seqrelid = c.oid"
        " LEFT JOIN pg_depend own ON own.classid = 'pg_class'::regclass AND own.objid = c.oid"
        "  AND own.refclassid = 'pg_class'::regclass AND own.refobjsubid > 0 AND own.deptype IN ('a', 'i')"
        " LEFT JOIN pg_attribute a ON a.attrelid = own.refobjid AND a.attnum = own.refobjsubid"
        " LEFT JOIN pg_class t ON t.oid = own.refobjid"
        " WHERE c.relnamespace = $1::oid AND c.relkind = 'S' AND " + not_in_extension("pg_class", "c.oid") +
        " ORDER BY c.relname");
    for (const Row& r : rows.rows) {
      auto deptype = text_or_null(r, 10);
      if (deptype == "i") {  // an identity column's: part of its table
        identity_[key(r.get<std::string>(11), std::to_string(r.get<std::int64_t>(12)))] =
            IdentitySequence{r.get<std::string>(0), "SEQUENCE NAME " + r.get<std::string>(2) + " " + sequence_options(r, 4)};
        continue;
      }
      // A serial column's sequence goes with its table, excluded or not.
      if (deptype == "a" && excluded_table(r.get<std::string>(14), options_)) continue;
      const auto name = r.get<std::string>(1);
      std::size_t o = add(DumpKind::sequence, name,
                          "CREATE SEQUENCE " + r.get<std::string>(2) + " AS " + r.get<std::string>(3) + " " +
                              sequence_options(r, 4),
                          "sequence " + name);
      own("pg_class", r.get<std::string>(0), o);
      if (deptype == "a") {
        owned_.push_back(OwnedSequence{o, r.get<std::string>(11),
                                       "ALTER SEQUENCE " + r.get<std::string>(2) + " OWNED BY ", r.get<std::string>(13)});
      }
    }
  }

  void read_constraints() {
    auto rows = query(
        "SELECT con.oid::text, con.conrelid::text, con.conname, quote_ident(con.conname), con.contype::text,"
        " pg_get_constraintdef(con.oid), con.convalidated, con.conindid::text"
        " FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid"
        " WHERE c.relnamespace = $1::oid AND con.contype IN ('p', 'u', 'c', 'x', 'f')"
        " ORDER BY con.conrelid, con.contype <> 'p', con.conname");
    for (const Row& r : rows.rows) {
      Constraint k;
      k.oid = r.get<std::string>(0);
      k.name = r.get<std::string>(2);
      k.text = "CONSTRAINT " + r.get<std::string>(3) + " " + r.get<std::string>(5);
      k.index_oid = r.get<std::string>(7);
      // Foreign keys come after every table, so tables can go in name order;
      // a NOT VALID constraint stays NOT VALID only when added afterwards.
      k.inline_ = r.get<std::string>(4) != "f" && r.get<bool>(6);
      constraints_[r.get<std::string>(1)].push_back(std::move(k));
    }
  }

  // Columns (and, for tables, inline constraints) inside CREATE TABLE/TYPE's
  // parentheses, one per line.
  std::string column_list(const std::string& relid, const std::vector<std::string>& constraints) {
    std::vector<std::string> items;
    if (auto it = columns_.find(relid); it != columns_.end()) {
      for (const Column& col : it->second) items.push_back(col.text);
    }
    items.insert(items.end(), constraints.begin(), constraints.end());
    if (items.empty()) return "";
    std::string out = "\n";
    for (std::size_t i = 0; i < items.size(); ++i) out += "    " + items[i] + (i + 1 < items.size() ? ",\n" : "\n");
    return out;
  }

  void read_relations() {
    auto rows = query(
        "SELECT c.oid::text, c.relname, quote_ident(c.relname), c.relkind::text, c.relpersistence::text,"
        " " + std::string(kOptionsSql) + ", c.reltype::text,"
        " CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,"
        " (SELECT r.oid::text FROM pg_rewrite r WHERE r.ev_class = c.oid AND r.rulename = '_RETURN')"
        " FROM pg_class c WHERE c.relnamespace = $1::oid AND c.relkind IN ('r', 'v', 'm') AND " +
        not_in_extension("pg_class", "c.oid") + " ORDER BY c.relname");
    for (const Row& r : rows.rows) {
      const auto oid = r.get<std::string>(0);
      const auto name = r.get<std::string>(1);
      const auto quoted = r.get<std::string>(2);
      const auto relkind = r.get<std::string>(3);
      const auto options = with_options(text_or_null(r, 5));
      std::size_t o = 0;
      if (relkind == "r") {
        if (excluded_table(name, options_)) continue;
        o = add(DumpKind::table, name, "", "table " + name);
        std::vector<std::string> inline_constraints;
        for (Constraint& k : constraints_[oid]) {
          if (k.inline_) {
            inline_constraints.push_back(k.text);
            own("pg_constraint", k.oid, o);
            if (k.index_oid != "0") own("pg_class", k.index_oid, o);
          } else {
            std::size_t a = add(DumpKind::constraint, key(name, k.name), "ALTER TABLE " + quoted + " ADD " + k.text,
                                "constraint " + k.name + " on table " + name);
            own("pg_constraint", k.oid, a);
            objects_[a].depends_on.push_back(o);
          }
        }
        for (Column& col : columns_[oid]) {
          if (!col.identity.empty()) {
            auto seq = identity_.find(key(oid, std::to_string(col.attnum)));
            if (seq == identity_.end()) {
              throw Error(ErrorKind::internal, "no sequence found for identity column " + col.name + " of " + name);
            }
            col.text += std::string(col.identity == "a" ? " GENERATED ALWAYS" : " GENERATED BY DEFAULT") +
                        " AS IDENTITY (" + seq->second.options + ")";
            own("pg_class", seq->second.oid, o);
          }
          if (col.notnull) col.text += " NOT NULL";
          if (col.default_oid) own("pg_attrdef", *col.default_oid, o);
        }
        objects_[o].sql = std::string("CREATE ") + (r.get<std::string>(4) == "u" ? "UNLOGGED " : "") + "TABLE " +
                          quoted + " (" + column_list(oid, inline_constraints) + ")" + options;
        tables_[oid] = Table{o, quoted};
      } else {
        std::string def = text_or_null(r, 7).value_or("");
        while (!def.empty() && (def.back() == ';' || def.back() == ' ' || def.back() == '\n')) def.pop_back();
        bool materialized = relkind == "m";
        o = add(DumpKind::view, name,
                std::string(materialized ? "CREATE MATERIALIZED VIEW " : "CREATE VIEW ") + quoted + options + " AS\n" + def,
                (materialized ? "materialized view " : "view ") + name);
        if (auto rule = text_or_null(r, 8)) own("pg_rewrite", *rule, o);
        if (materialized) tables_[oid] = Table{o, quoted};  // it can have indexes
      }
      own("pg_class", oid, o);
      own("pg_type", r.get<std::string>(6), o);
    }
    for (const OwnedSequence& s : owned_) {
      auto table = tables_.find(s.table_oid);
      if (table == tables_.end()) continue;
      std::size_t o = add(DumpKind::sequence_owner, objects_[s.sequence].key,
                          s.alter + table->second.quoted + "." + s.column,
                          "ownership of " + objects_[s.sequence].label);
      objects_[o].depends_on = {s.sequence, table->second.object};
    }
  }

  void read_indexes() {
    auto rows = query(
        "SELECT i.indexrelid::text, i.indrelid::text, ic.relname, tc.relname, pg_get_indexdef(i.indexrelid),"
        " quote_ident(n.nspname) || '.' || quote_ident(tc.relname), quote_ident(tc.relname)"
        " FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class tc ON tc.oid = i.indrelid"
        " JOIN pg_namespace n ON n.oid = tc.relnamespace"
        " WHERE tc.relnamespace = $1::oid AND tc.relkind IN ('r', 'm') AND NOT EXISTS (SELECT 1 FROM pg_constraint k"
        "  WHERE k.conindid = i.indexrelid AND k.conrelid = i.indrelid AND k.contype IN ('p', 'u', 'x'))"
        " ORDER BY tc.relname, ic.relname");
    for (const Row& r : rows.rows) {
      if (!tables_.contains(r.get<std::string>(1))) continue;
      const auto name = r.get<std::string>(2);
      const std::string label = "index " + name;
      std::size_t o = add(DumpKind::index, key(r.get<std::string>(3), name),
                          unqualify_on(r.get<std::string>(4), r.get<std::string>(5), r.get<std::string>(6), label),
                          label);
      own("pg_class", r.get<std::string>(0), o);
    }
  }

  void read_functions() {
    auto rows = query(
        "SELECT p.oid::text, p.proname, pg_get_function_identity_arguments(p.oid), pg_get_functiondef(p.oid),"
        " quote_ident(n.nspname) || '.'"
        " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE p.pronamespace = $1::oid AND p.prokind IN ('f', 'p', 'w') AND " + not_in_extension("pg_proc", "p.oid") +
        " ORDER BY p.proname, 3");
    for (const Row& r : rows.rows) {
      const auto name = r.get<std::string>(1);
      const auto args = r.get<std::string>(2);
      std::string def = unqualify_function(r.get<std::string>(3), r.get<std::string>(4));
      std::size_t o = add(DumpKind::function, key(name, args), std::move(def), "function " + name + "(" + args + ")");
      own("pg_proc", r.get<std::string>(0), o);
    }
  }

  void read_triggers() {
    auto rows = query(
        "SELECT tg.oid::text, tg.tgrelid::text, tg.tgname, tc.relname, pg_get_triggerdef(tg.oid),"
        " quote_ident(n.nspname) || '.' || quote_ident(tc.relname), quote_ident(tc.relname), quote_ident(tg.tgname),"
        " tg.tgenabled::text"
        " FROM pg_trigger tg JOIN pg_class tc ON tc.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = tc.relnamespace"
        " WHERE tc.relnamespace = $1::oid AND NOT tg.tgisinternal ORDER BY tc.relname, tg.tgname");
    for (const Row& r : rows.rows) {
      const auto relid = r.get<std::string>(1);
      // Triggers on views (INSTEAD OF) have their view registered as pg_class.
      auto owner = owner_.find("pg_class:" + relid);
      if (owner == owner_.end()) continue;  // on an excluded table
      const auto name = r.get<std::string>(2);
      const auto table = r.get<std::string>(3);
      const std::string label = "trigger " + name + " on " + table;
      std::size_t o = add(DumpKind::trigger, key(table, name),
                          unqualify_on(r.get<std::string>(4), r.get<std::string>(5), r.get<std::string>(6), label),
                          label);
      own("pg_trigger", r.get<std::string>(0), o);
      const auto enabled = r.get<std::string>(8);
      if (enabled != "O") {
        const char* state = enabled == "D" ? "DISABLE" : enabled == "R" ? "ENABLE REPLICA" : "ENABLE ALWAYS";
        std::size_t s = add(DumpKind::trigger, key(key(table, name), "state"),
                            fmt::format("ALTER TABLE {} {} TRIGGER {}", r.get<std::string>(6), state,
                                        r.get<std::string>(7)),
                            "state of " + label);
        objects_[s].depends_on.push_back(o);
      }
    }
  }

  void read_dependencies() {
    // Only objects created after initdb (OID >= FirstNormalObjectId) matter.
    auto rows = c_.query(
        "SELECT d.classid::regclass::text || ':' || d.objid, d.refclassid::regclass::text || ':' || d.refobjid"
        " FROM pg_depend d WHERE d.deptype IN ('n', 'a') AND d.objid >= 16384 AND d.refobjid >= 16384");
    for (const Row& r : rows.rows) {
      auto from = owner_.find(r.get<std::string>(0));
      auto to = owner_.find(r.get<std::string>(1));
      if (from == owner_.end() || to == owner_.end() || from->second == to->second) continue;
      // A serial sequence depends on its table (OWNED BY) while the table's
      // default depends on the sequence: the ALTER SEQUENCE object orders that.
      if (objects_[from->second].kind == DumpKind::sequence) continue;
      objects_[from->second].depends_on.push_back(to->second);
    }
  }

  struct Column {
    std::string name;  // quoted
    std::string text;  // everything but identity and NOT NULL, added by read_relations
    bool notnull = false;
    std::string identity;  // "", "a" (ALWAYS) or "d" (BY DEFAULT)
    std::int64_t attnum = 0;
    std::optional<std::string> default_oid;
  };
  struct Constraint {
    std::string oid, name, text, index_oid;
    bool inline_ = false;
  };
  struct IdentitySequence {
    std::string oid, options;
  };
  struct OwnedSequence {
    std::size_t sequence;
    std::string table_oid, alter, column;
  };
  struct Table {
    std::size_t object;
    std::string quoted;
  };

  Connection& c_;
  const CatalogSnapshot& snapshot_;
  const DumpOptions& options_;
  std::string ns_;
  std::vector<DumpObject> objects_;
  std::map<std::string, std::size_t> owner_;
  std::map<std::string, std::vector<Column>> columns_;             // by table or composite type oid
  std::map<std::string, std::vector<Constraint>> constraints_;     // by table oid
  std::map<std::string, IdentitySequence> identity_;               // by key(table oid, attnum)
  std::vector<OwnedSequence> owned_;
  std::map<std::string, Table> tables_;  // emitted tables and materialized views, by oid
};

}  // namespace

std::vector<DumpObject> read_postgres_schema(Connection& connection, const DumpOptions& options) {
  CatalogSnapshot snapshot(connection, options.schema, "dump");
  return Reader(connection, snapshot, options).read();
}

}  // namespace strata::schema::detail
