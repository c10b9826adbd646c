// lint/lint_postgres.cpp: PostgreSQL statements, read from the parse trees
// of PostgreSQL's own parser (libpg_query's pg_query_parse, as JSON).
#include <fmt/format.h>
#include <pg_query.h>

#include <nlohmann/json.hpp>
#include <set>

#include "lint/analyzer.hpp"
#include "strata/connection.hpp"

namespace strata::lint::detail {
namespace {

using nlohmann::json;

// The parse tree of one statement, or the parser's error.
struct Parsed {
  json tree;
  std::string error;
  int error_offset = -1;
};

Parsed parse(const std::string& sql) {
  Parsed out;
  PgQueryParseResult r = pg_query_parse(sql.c_str());
  if (r.error != nullptr) {
    out.error = r.error->message != nullptr ? r.error->message : "syntax error";
    out.error_offset = r.error->cursorpos > 0 ? r.error->cursorpos - 1 : -1;
  } else {
    out.tree = json::parse(r.parse_tree, nullptr, false);
  }
  pg_query_free_parse_result(r);
  return out;
}

const json& field(const json& node, const char* key) {
  static const json null_json;
  if (!node.is_object()) return null_json;
  auto it = node.find(key);
  return it == node.end() ? null_json : *it;
}

std::string text(const json& node, const char* key) {
  const json& v = field(node, key);
  return v.is_string() ? v.get<std::string>() : std::string();
}

bool flag(const json& node, const char* key) {
  const json& v = field(node, key);
  return v.is_boolean() && v.get<bool>();
}

int location(const json& node) {
  const json& v = field(node, "location");
  return v.is_number_integer() ? v.get<int>() : -1;
}

// The last name of a qualified-name list ([{"String":{"sval":"pg_catalog"}}, ...]).
std::string last_name(const json& names) {
  if (!names.is_array() || names.empty()) return {};
  return text(field(names.back(), "String"), "sval");
}

// Functions whose every call gives a new value: as a column default, each
// row gets its own, so PostgreSQL rewrites the table.
const std::set<std::string, std::less<>> kVolatile = {
    "random", "random_normal", "clock_timestamp", "timeofday", "gen_random_uuid", "gen_random_bytes",
    "uuid_generate_v1", "uuid_generate_v1mc", "uuid_generate_v4", "nextval", "txid_current", "setseed"};
const std::set<std::string, std::less<>> kSerial = {"serial", "serial2", "serial4", "serial8",
                                                    "smallserial", "bigserial"};

// The first volatile function called anywhere in `node`, or "".
std::string volatile_call(const json& node) {
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (key == "FuncCall") {
        std::string name = last_name(field(value, "funcname"));
        if (kVolatile.count(name) != 0) return name + "()";
      }
      if (std::string found = volatile_call(value); !found.empty()) return found;
    }
  } else if (node.is_array()) {
    for (const auto& item : node) {
      if (std::string found = volatile_call(item); !found.empty()) return found;
    }
  }
  return {};
}

void collect_relations(const json& node, std::vector<std::string>& out) {
  if (node.is_object()) {
    auto rel = node.find("relname");
    if (rel != node.end() && rel->is_string() && node.contains("relpersistence")) {
      std::string name = Connection::quote_identifier(rel->get<std::string>());
      if (std::string schema = text(node, "schemaname"); !schema.empty()) {
        name = Connection::quote_identifier(schema) + "." + name;
      }
      if (std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
    }
    for (const auto& [key, value] : node.items()) collect_relations(value, out);
  } else if (node.is_array()) {
    for (const auto& item : node) collect_relations(item, out);
  }
}

// ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE (PostgreSQL's
// AlterTableGetLockLevel). ADD CONSTRAINT ... FOREIGN KEY is handled apart.
const std::set<std::string, std::less<>> kLighterAlter = {
    "AT_ValidateConstraint", "AT_SetStatistics",     "AT_ClusterOn",          "AT_DropCluster",
    "AT_AttachPartition",    "AT_EnableTrig",        "AT_DisableTrig",        "AT_EnableAlwaysTrig",
    "AT_EnableReplicaTrig",  "AT_EnableTrigAll",     "AT_DisableTrigAll",     "AT_EnableTrigUser",
    "AT_DisableTrigUser",    "AT_SetRelOptions",     "AT_ResetRelOptions",    "AT_ReplicaIdentity"};

class PostgresAnalyzer final : public Analyzer {
 public:
  explicit PostgresAnalyzer(Options options) : options_(std::move(options)) {}

  void replay(const sql::Script&) override {}  // only pending migrations create "new" tables

  void begin_file(bool transactional) override {
    transactional_ = transactional;
    lock_timeout_set_ = false;
    lock_timeout_reported_ = false;
  }

  std::vector<Hit> check(const sql::Statement& st) override {
    hits_.clear();
    Parsed p = parse(st.text);
    if (!p.error.empty()) {
      hits_.push_back({"syntax-error", "PostgreSQL's parser: " + p.error, p.error_offset});
      return std::move(hits_);
    }
    for (const json& raw : field(p.tree, "stmts")) {
      const json& stmt = field(raw, "stmt");
      if (!stmt.is_object() || stmt.empty()) continue;
      // Not `*stmt.items().begin()`: the proxy items() returns would die
      // before the key bound from it is read (ASan: stack-use-after-scope).
      const auto it = stmt.begin();
      statement(it.key(), it.value());
    }
    return std::move(hits_);
  }

 private:
  bool is_new(const std::string& table) const { return created_.count(table) != 0; }

  void hit(std::string_view rule, std::string message, int offset = -1) {
    hits_.push_back({rule, std::move(message), offset});
  }

  void history_write(const json& rangevar, std::string_view verb) {
    if (text(rangevar, "relname") == options_.history_table) {
      hit("writes-history-table", fmt::format("{} strata's history table {}", verb, options_.history_table),
          location(rangevar));
    }
  }

  // A statement that takes ACCESS EXCLUSIVE on an existing table.
  void access_exclusive(const std::string& table, std::string_view what, int offset) {
    if (options_.lock_guard || lock_timeout_set_ || lock_timeout_reported_ || is_new(table)) return;
    lock_timeout_reported_ = true;
    hit("missing-lock-timeout",
        fmt::format("{} takes an ACCESS EXCLUSIVE lock on {} and no lock_timeout is set before it", what, table),
        offset);
  }

  void no_transaction(std::string_view what) {
    if (!transactional_) return;
    hit("requires-no-transaction", fmt::format("{} cannot run inside the transaction this migration runs in", what));
  }

  void statement(const std::string& type, const json& node) {
    if (type == "CreateStmt") {
      created_.insert(text(field(node, "relation"), "relname"));
    } else if (type == "CreateTableAsStmt") {
      created_.insert(text(field(field(node, "into"), "rel"), "relname"));
    } else if (type == "IndexStmt") {
      index(node);
    } else if (type == "DropStmt") {
      drop(node);
    } else if (type == "AlterTableStmt") {
      alter_table(node);
    } else if (type == "RenameStmt") {
      rename(node);
    } else if (type == "TransactionStmt") {
      static const std::set<std::string, std::less<>> ends = {
          "TRANS_STMT_BEGIN",   "TRANS_STMT_START",          "TRANS_STMT_COMMIT",         "TRANS_STMT_ROLLBACK",
          "TRANS_STMT_PREPARE", "TRANS_STMT_COMMIT_PREPARED", "TRANS_STMT_ROLLBACK_PREPARED"};
      std::string kind = text(node, "kind");
      if (transactional_ && ends.count(kind) != 0) {
        std::string word = kind.substr(std::string_view("TRANS_STMT_").size());
        std::transform(word.begin(), word.end(), word.begin(), [](char c) { return c == '_' ? ' ' : c; });
        hit("transaction-statement", fmt::format("{} inside a migration that strata runs in a transaction", word));
      }
    } else if (type == "VacuumStmt") {
      if (flag(node, "is_vacuumcmd")) no_transaction("VACUUM");
    } else if (type == "CreatedbStmt") {
      no_transaction("CREATE DATABASE");
    } else if (type == "DropdbStmt") {
      no_transaction("DROP DATABASE");
    } else if (type == "AlterSystemStmt") {
      no_transaction("ALTER SYSTEM");
    } else if (type == "ReindexStmt") {
      for (const json& p : field(node, "params")) {
        if (text(field(p, "DefElem"), "defname") == "concurrently") no_transaction("REINDEX CONCURRENTLY");
      }
    } else if (type == "InsertStmt") {
      history_write(field(node, "relation"), "INSERT INTO");
    } else if (type == "UpdateStmt") {
      history_write(field(node, "relation"), "UPDATE of");
    } else if (type == "DeleteStmt") {
      history_write(field(node, "relation"), "DELETE FROM");
    } else if (type == "TruncateStmt") {
      for (const json& r : field(node, "relations")) {
        const json& rv = field(r, "RangeVar");
        history_write(rv, "TRUNCATE of");
        access_exclusive(text(rv, "relname"), "TRUNCATE", location(rv));
      }
    } else if (type == "LockStmt") {
      const json& mode = field(node, "mode");
      if (mode.is_number_integer() && mode.get<int>() == 8) {
        for (const json& r : field(node, "relations")) {
          const json& rv = field(r, "RangeVar");
          access_exclusive(text(rv, "relname"), "LOCK TABLE", location(rv));
        }
      }
    } else if (type == "VariableSetStmt") {
      if (text(node, "name") == "lock_timeout") lock_timeout_set_ = true;
    }
  }

  void index(const json& node) {
    const json& rel = field(node, "relation");
    const std::string table = text(rel, "relname");
    const std::string name = text(node, "idxname");
    if (flag(node, "concurrent")) {
      no_transaction("CREATE INDEX CONCURRENTLY");
    } else if (!is_new(table)) {
      hit("index-not-concurrent",
          fmt::format("CREATE INDEX{} on existing table {} without CONCURRENTLY blocks writes to it while it builds",
                      name.empty() ? "" : " " + name, table),
          location(rel));
    }
    if (!name.empty()) created_indexes_.insert(name);
  }

  void drop(const json& node) {
    const std::string kind = text(node, "removeType");
    for (const json& object : field(node, "objects")) {
      std::string name = last_name(field(field(object, "List"), "items"));
      if (kind == "OBJECT_TABLE") {
        if (name == options_.history_table) hit("writes-history-table", "DROP TABLE of strata's history table");
        if (is_new(name)) {
          created_.erase(name);
          continue;
        }
        hit("drop-table", fmt::format("DROP TABLE {} deletes the table and its data", name));
        access_exclusive(name, "DROP TABLE", -1);
      } else if (kind == "OBJECT_INDEX") {
        if (flag(node, "concurrent")) {
          no_transaction("DROP INDEX CONCURRENTLY");
        } else if (created_indexes_.count(name) == 0) {
          access_exclusive(name, "DROP INDEX (without CONCURRENTLY)", -1);
        }
        created_indexes_.erase(name);
      }
    }
  }

  void rename(const json& node) {
    const std::string kind = text(node, "renameType");
    const json& rel = field(node, "relation");
    const std::string table = text(rel, "relname");
    const std::string to = text(node, "newname");
    if (kind == "OBJECT_TABLE") {
      if (is_new(table)) {
        created_.erase(table);
        created_.insert(to);
        return;
      }
      hit("rename-table", fmt::format("renames table {} to {}", table, to), location(rel));
      access_exclusive(table, "ALTER TABLE ... RENAME", location(rel));
    } else if (kind == "OBJECT_COLUMN" && text(node, "relationType") == "OBJECT_TABLE") {
      if (is_new(table)) return;
      hit("rename-column", fmt::format("renames column {}.{} to {}", table, text(node, "subname"), to),
          location(rel));
      access_exclusive(table, "ALTER TABLE ... RENAME COLUMN", location(rel));
    }
  }

  void alter_table(const json& node) {
    const std::string objtype = text(node, "objtype");
    if (!objtype.empty() && objtype != "OBJECT_TABLE") return;
    const json& rel = field(node, "relation");
    const std::string table = text(rel, "relname");
    history_write(rel, "ALTER TABLE of");
    if (is_new(table)) return;
    bool exclusive = false;
    for (const json& item : field(node, "cmds")) {
      const json& cmd = field(item, "AlterTableCmd");
      const std::string sub = text(cmd, "subtype");
      const json& def = field(cmd, "def");
      if (sub == "AT_DropColumn") {
        hit("drop-column", fmt::format("drops column {}.{} and its data", table, text(cmd, "name")), location(rel));
      } else if (sub == "AT_AlterColumnType") {
        hit("change-column-type", fmt::format("changes the type of {}.{}", table, text(cmd, "name")),
            location(field(def, "ColumnDef")));
      } else if (sub == "AT_AddColumn") {
        add_column(table, field(def, "ColumnDef"));
      } else if (sub == "AT_AddConstraint") {
        const json& c = field(def, "Constraint");
        const std::string contype = text(c, "contype");
        if ((contype == "CONSTR_FOREIGN" || contype == "CONSTR_CHECK") && !flag(c, "skip_validation")) {
          hit("constraint-without-not-valid",
              fmt::format("adds a {} to existing table {} without NOT VALID",
                          contype == "CONSTR_FOREIGN" ? "FOREIGN KEY" : "CHECK", table),
              location(c));
        }
        if (contype == "CONSTR_FOREIGN") continue;  // SHARE ROW EXCLUSIVE
      }
      if (kLighterAlter.count(sub) == 0) exclusive = true;
    }
    if (exclusive) access_exclusive(table, "ALTER TABLE", location(rel));
  }

  void add_column(const std::string& table, const json& column) {
    const std::string name = text(column, "colname");
    bool not_null = false;
    bool has_default = false;
    std::string rewrite;
    for (const json& item : field(column, "constraints")) {
      const json& c = field(item, "Constraint");
      const std::string contype = text(c, "contype");
      if (contype == "CONSTR_NOTNULL" || contype == "CONSTR_PRIMARY") not_null = true;
      if (contype == "CONSTR_DEFAULT") {
        has_default = true;
        if (std::string f = volatile_call(field(c, "raw_expr")); !f.empty()) rewrite = "the volatile default " + f;
      }
      if (contype == "CONSTR_IDENTITY") rewrite = "GENERATED ... AS IDENTITY";
      if (contype == "CONSTR_GENERATED") rewrite = "GENERATED ... STORED";
    }
    const std::string type = last_name(field(field(column, "typeName"), "names"));
    if (kSerial.count(type) != 0) rewrite = "the type " + type + " (a nextval() default)";
    if (!rewrite.empty()) {
      hit("volatile-default",
          fmt::format("adding column {}.{} with {} rewrites the table", table, name, rewrite), location(column));
    } else if (not_null && !has_default) {
      hit("not-null-without-default",
          fmt::format("adds NOT NULL column {}.{} without a default to existing table {}", table, name, table),
          location(column));
    }
  }

  Options options_;
  bool transactional_ = true;
  bool lock_timeout_set_ = false;
  bool lock_timeout_reported_ = false;  // one finding per file is enough
  std::set<std::string, std::less<>> created_;          // tables created by pending migrations so far
  std::set<std::string, std::less<>> created_indexes_;  // indexes likewise
  std::vector<Hit> hits_;
};

}  // namespace

std::unique_ptr<Analyzer> make_postgres_analyzer(const Options& options) {
  return std::make_unique<PostgresAnalyzer>(options);
}

std::vector<std::string> postgres_relations(std::string_view sql) {
  std::vector<std::string> out;
  Parsed p = parse(std::string(sql));
  if (p.error.empty()) collect_relations(p.tree, out);
  return out;
}

}  // namespace strata::lint::detail
