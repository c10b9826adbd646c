// schema/postgres_catalog.cpp: the catalog helpers dump and inspect share.
#include "schema/postgres_catalog.hpp"

#include <fmt/format.h>

#include "strata/error.hpp"

namespace strata::schema::detail {

namespace {
constexpr const char* kSavepoint = "strata_catalog_snapshot";
}

CatalogSnapshot::CatalogSnapshot(Connection& connection, const std::string& schema, std::string_view verb,
                                 bool extension_schemas)
    : connection_(connection), outermost_(connection.transaction_depth() == 0 && !connection.in_transaction()) {
  if (connection.transaction_depth() == 0 && connection.in_transaction()) {
    connection.execute(std::string("SAVEPOINT ") + kSavepoint);
  } else {
    transaction_.emplace(connection);
  }
  try {
    // Only a transaction begun here can still choose its isolation level.
    if (outermost_) {
      connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    }
    read(schema, verb, extension_schemas);
  } catch (...) {
    if (!transaction_) release();
    throw;
  }
}

CatalogSnapshot::~CatalogSnapshot() {
  if (!transaction_) release();
}

void CatalogSnapshot::release() noexcept {
  // Undoes the search_path set_config(..., true) with the rest; the caller's
  // transaction stays open. Swallowed on failure, as Transaction does.
  try {
    if (connection_.in_transaction()) {
      connection_.execute(std::string("ROLLBACK TO SAVEPOINT ") + kSavepoint);
      connection_.execute(std::string("RELEASE SAVEPOINT ") + kSavepoint);
    }
  } catch (...) {
  }
}

void CatalogSnapshot::read(const std::string& schema, std::string_view verb, bool extension_schemas) {
  Connection& connection = connection_;
  if (extension_schemas) {
    // The inspected schema first, so its own names win; then each schema
    // holding an extension, in name order.
    connection.query(
        "SELECT set_config('search_path', string_agg(quote_ident(s), ', ' ORDER BY o, s COLLATE \"C\"), true) FROM ("
        " SELECT $1::text AS s, 0 AS o"
        " UNION SELECT n.nspname::text, 1 FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace"
        "  WHERE n.nspname NOT IN ($1, 'pg_catalog')) p",
        {schema});
  } else {
    connection.query("SELECT set_config('search_path', quote_ident($1), true)", {schema});
  }
  auto row = connection.fetch_one(
      "SELECT (SELECT oid::text FROM pg_namespace WHERE nspname = $1), current_setting('server_version_num')::int",
      {schema});
  auto oid = text_or_null(*row, 0);
  if (!oid) {
    throw Error(ErrorKind::usage, fmt::format("cannot {} schema \"{}\": it does not exist", verb, schema));
  }
  namespace_oid_ = *oid;
  server_version_ = static_cast<int>(row->get<std::int64_t>(1));
}

std::string not_in_extension(std::string_view catalog, std::string_view oid_expr) {
  return fmt::format(
      "NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '{}'::regclass AND x.objid = {} AND x.deptype = 'e')",
      catalog, oid_expr);
}

std::string collation_name(std::string_view oid_expr) {
  return fmt::format(
      "(SELECT CASE WHEN pg_collation_is_visible(co.oid) THEN quote_ident(co.collname) "
      "ELSE quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END "
      "FROM pg_collation co JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = {})",
      oid_expr);
}

std::optional<std::string> text_or_null(const Row& r, std::size_t i) { return r.get<std::optional<std::string>>(i); }

std::string unqualify_on(std::string def, std::string_view qualified, std::string_view bare, const std::string& label) {
  bool quoted = false;
  for (std::size_t i = 0; i < def.size(); ++i) {
    if (def[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && def.compare(i, 4, " ON ") == 0) {
      std::size_t at = i + 4;
      if (def.compare(at, 5, "ONLY ") == 0) at += 5;
      if (def.compare(at, qualified.size(), qualified) != 0) break;
      def.replace(at, qualified.size(), bare);
      return def;
    }
  }
  throw Error(ErrorKind::internal, "unexpected PostgreSQL definition of " + label + ": " + def);
}

std::string unqualify_function(std::string def, std::string_view qualifier) {
  for (std::string_view head : {"CREATE OR REPLACE FUNCTION ", "CREATE OR REPLACE PROCEDURE "}) {
    if (def.starts_with(head) && def.compare(head.size(), qualifier.size(), qualifier) == 0) {
      def.erase(head.size(), qualifier.size());
    }
  }
  return def;
}

std::vector<UnsupportedObject> unsupported_objects(Connection& connection, const CatalogSnapshot& snapshot) {
  const std::string rel = "c.relnamespace = $1::oid AND " + not_in_extension("pg_class", "c.oid");
  auto rows = connection.query(
      "SELECT what, rel FROM ("
      " SELECT 'partitioned table ' || c.relname AS what, c.relname AS rel FROM pg_class c"
      "  WHERE " + rel + " AND c.relkind = 'p'"
      " UNION ALL SELECT 'table partition ' || c.relname, c.relname FROM pg_class c"
      "  WHERE " + rel + " AND c.relispartition"
      " UNION ALL SELECT 'inheriting table ' || c.relname, c.relname FROM pg_inherits i"
      "  JOIN pg_class c ON c.oid = i.inhrelid WHERE " + rel + " AND NOT c.relispartition"
      " UNION ALL SELECT 'typed table ' || c.relname, c.relname FROM pg_class c"
      "  WHERE " + rel + " AND c.relkind = 'r' AND c.reloftype <> 0"
      " UNION ALL SELECT 'foreign table ' || c.relname, c.relname FROM pg_class c"
      "  WHERE " + rel + " AND c.relkind = 'f'"
      " UNION ALL SELECT 'row-level security on ' || c.relname, c.relname FROM pg_class c"
      "  WHERE " + rel + " AND c.relrowsecurity"
      " UNION ALL SELECT 'policy ' || p.polname || ' on ' || c.relname, c.relname FROM pg_policy p"
      "  JOIN pg_class c ON c.oid = p.polrelid WHERE " + rel +
      " UNION ALL SELECT 'rule ' || r.rulename || ' on ' || c.relname, c.relname FROM pg_rewrite r"
      "  JOIN pg_class c ON c.oid = r.ev_class WHERE " + rel + " AND r.rulename <> '_RETURN'"
      " UNION ALL SELECT 'aggregate ' || p.proname, NULL FROM pg_proc p"
      "  WHERE p.pronamespace = $1::oid AND p.prokind = 'a' AND " + not_in_extension("pg_proc", "p.oid") +
      " UNION ALL SELECT 'range type ' || t.typname, NULL FROM pg_type t"
      "  WHERE t.typnamespace = $1::oid AND t.typtype = 'r' AND " + not_in_extension("pg_type", "t.oid") +
      // Not an array type (every table has one): an anti-join, not a
      // subquery per type.
      " UNION ALL SELECT 'base type ' || t.typname, NULL FROM pg_type t"
      "  WHERE t.typnamespace = $1::oid AND t.typtype = 'b' AND " + not_in_extension("pg_type", "t.oid") +
      "  AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)"
      ") u ORDER BY what COLLATE \"C\"",
      {snapshot.namespace_oid()});
  std::vector<UnsupportedObject> out;
  for (const Row& r : rows.rows) out.push_back(UnsupportedObject{r.get<std::string>(0), text_or_null(r, 1)});
  return out;
}

}  // namespace strata::schema::detail
