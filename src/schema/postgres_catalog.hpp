// src/schema/postgres_catalog.hpp (internal): what the two PostgreSQL
// catalog readers share, dump (dump_postgres.cpp) and inspect
// (inspect_postgres.cpp).
//
// Both read the catalogs through PostgreSQL's own deparsers (format_type,
// pg_get_expr, pg_get_indexdef, ...) inside one CatalogSnapshot, with
// search_path set to the read schema alone: the deparsers then write that
// schema's names unqualified and every other schema's qualified, so a schema
// read from "public" and the same one read from a throwaway schema come out
// the same.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "strata/connection.hpp"
#include "strata/transaction.hpp"

namespace strata::schema::detail {

// One read-only, repeatable-read transaction (a savepoint when one is
// already open, whether by a strata::Transaction or by a plain BEGIN the
// caller ran: the isolation level is then the open transaction's) with
// search_path set to `schema` alone, rolled back when the object dies.
// With `extension_schemas`, the schemas holding an extension follow
// `schema` on search_path, so the extensions' types, functions and
// operators come out unqualified (see inspect_postgres.cpp).
// Throws Error{ErrorKind::usage} "cannot <verb> schema "x": it does not
// exist" when `schema` does not exist.
class CatalogSnapshot {
 public:
  CatalogSnapshot(Connection& connection, const std::string& schema, std::string_view verb,
                  bool extension_schemas = false);
  ~CatalogSnapshot();
  CatalogSnapshot(const CatalogSnapshot&) = delete;
  CatalogSnapshot& operator=(const CatalogSnapshot&) = delete;

  // The schema's pg_namespace oid, as text (bind it as $1 and write $1::oid).
  const std::string& namespace_oid() const { return namespace_oid_; }
  // server_version_num, e.g. 150004.
  int server_version() const { return server_version_; }

 private:
  void read(const std::string& schema, std::string_view verb, bool extension_schemas);
  void release() noexcept;  // rolls back and releases the own savepoint

  Connection& connection_;
  bool outermost_;  // no transaction was open: transaction_ began one
  // Never committed. Empty when the engine has a transaction open that no
  // strata::Transaction owns (a plain BEGIN at depth 0): a Transaction would
  // issue a second BEGIN and its ROLLBACK would end the caller's
  // transaction, so the snapshot takes its own savepoint instead.
  std::optional<Transaction> transaction_;
  std::string namespace_oid_;
  int server_version_ = 0;
};

// SQL: "<oid_expr> does not belong to an extension" (no pg_depend row of
// type 'e' from `catalog`).
std::string not_in_extension(std::string_view catalog, std::string_view oid_expr);

// SQL: the name of collation `oid_expr` as the deparsers write it: quoted
// when needed, qualified when not visible on search_path.
std::string collation_name(std::string_view oid_expr);

// Column i of r as text, nullopt for NULL.
std::optional<std::string> text_or_null(const Row& r, std::size_t i);

// Removes the qualifier from the table name after the first " ON " outside
// double quotes ("CREATE INDEX i ON public.t USING ...", "CREATE TRIGGER t
// AFTER UPDATE OF \"a ON b\" ON public.t ..."): pg_get_indexdef and
// pg_get_triggerdef always qualify that one name. `qualified` and `bare` are
// the name as quote_ident writes it, with and without its schema. Throws
// Error{ErrorKind::internal} naming `label` when the text is not shaped so.
std::string unqualify_on(std::string def, std::string_view qualified, std::string_view bare,
                         const std::string& label);

// pg_get_functiondef's text without the qualifier it always writes before
// the function's name (`qualifier` is quote_ident(schema) + ".").
std::string unqualify_function(std::string def, std::string_view qualifier);

// An object of the schema that neither reader can reproduce: partitioned,
// partition, inheriting, typed and foreign tables, row-level security,
// policies, rules (other than views'), aggregates, range and base types.
// Objects belonging to an extension are not listed.
struct UnsupportedObject {
  std::string label;                 // "partitioned table events", "policy p on t"
  std::optional<std::string> table;  // the table it is or belongs to, if any
};
// In label order. REQUIRES: inside `snapshot`, on its connection.
std::vector<UnsupportedObject> unsupported_objects(Connection& connection, const CatalogSnapshot& snapshot);

}  // namespace strata::schema::detail
