// lint/lint_sqlite.cpp: SQLite statements, classified by preparing them with
// an authorizer on a scratch in-memory database that follows the migrations.
#include <fmt/format.h>
#include <sqlite3.h>

#include <set>

#include "drivers/sqlite/sqlite_connection.hpp"
#include "lint/analyzer.hpp"
#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/history.hpp"

namespace strata::lint::detail {
namespace {

using strata::detail::AuthorizerCall;
using strata::detail::prepare_authorized;

struct Column {
  std::string name;
  bool not_null = false;
  bool has_default = false;
};

bool starts_with_word(std::string_view text, std::string_view word) {
  return text.size() >= word.size() && iequals(text.substr(0, word.size()), word) &&
         (text.size() == word.size() || !std::isalnum(static_cast<unsigned char>(text[word.size()])));
}

bool is_schema_table(std::string_view name) {
  return iequals(name, "sqlite_master") || iequals(name, "sqlite_temp_master") || iequals(name, "sqlite_schema");
}

class SqliteAnalyzer final : public Analyzer {
 public:
  explicit SqliteAnalyzer(Options options) : options_(std::move(options)), scratch_(connect("sqlite::memory:")) {
    // Migrations that write to the history table must prepare, to be caught.
    History(*scratch_, HistoryOptions{options_.history_table, "main"}).ensure();
  }

  void replay(const sql::Script& script) override {
    for (const sql::Statement& st : script.statements) run(st.text);
  }

  void begin_file(bool transactional) override { transactional_ = transactional; }

  std::vector<Hit> check(const sql::Statement& st) override {
    std::vector<Hit> hits;
    auto hit = [&](std::string_view rule, std::string message) { hits.push_back({rule, std::move(message), -1}); };
    if (starts_with_word(st.text, "VACUUM")) {  // the authorizer is not asked about VACUUM
      if (transactional_) hit("requires-no-transaction", "VACUUM cannot run inside the transaction this migration runs in");
      return hits;
    }
    std::vector<AuthorizerCall> calls;
    std::string error = prepare_authorized(*scratch_, st.text, calls);
    if (!error.empty()) {
      bool syntax = error.find("syntax error") != std::string::npos || error.find("incomplete input") != std::string::npos ||
                    error.find("unrecognized token") != std::string::npos;
      hit(syntax ? "syntax-error" : "unknown-object", "SQLite: " + error);
      return hits;
    }
    std::string altered;
    bool transaction_control = false;
    for (const AuthorizerCall& c : calls) {
      if (!c.inner.empty()) continue;
      switch (c.action) {
        case SQLITE_CREATE_TABLE:
        case SQLITE_CREATE_TEMP_TABLE:
          created_.insert(lower(c.arg1));
          break;
        case SQLITE_DROP_TABLE:
        case SQLITE_DROP_TEMP_TABLE:
          if (is_history(c.arg1)) hit("writes-history-table", "DROP TABLE of strata's history table");
          if (created_.erase(lower(c.arg1)) == 0) hit("drop-table", fmt::format("DROP TABLE {} deletes the table and its data", c.arg1));
          break;
        case SQLITE_ALTER_TABLE:
          altered = c.arg2;
          if (is_history(altered)) hit("writes-history-table", "ALTER TABLE of strata's history table");
          break;
        case SQLITE_TRANSACTION:
          transaction_control = true;
          if (transactional_) {
            hit("transaction-statement", fmt::format("{} inside a migration that strata runs in a transaction", c.arg1));
          }
          break;
        case SQLITE_INSERT:
        case SQLITE_UPDATE:
        case SQLITE_DELETE:
          if (is_history(c.arg1) && !is_schema_table(c.arg1)) {
            hit("writes-history-table", fmt::format("{} strata's history table {}",
                                                    c.action == SQLITE_INSERT   ? "INSERT INTO"
                                                    : c.action == SQLITE_UPDATE ? "UPDATE of"
                                                                                : "DELETE FROM",
                                                    options_.history_table));
          }
          break;
        default:
          break;
      }
    }
    // An INSERT's authorizer call is repeated for DROP TABLE's row deletion
    // and the like; report each rule once per statement.
    std::vector<Hit> unique;
    for (Hit& h : hits) {
      if (std::none_of(unique.begin(), unique.end(), [&](const Hit& u) { return u.rule == h.rule; })) {
        unique.push_back(std::move(h));
      }
    }
    hits = std::move(unique);
    if (transaction_control) return hits;  // never opened on the scratch database
    if (altered.empty()) {
      run(st.text);
      return hits;
    }
    // ALTER TABLE: which kind it was shows in the columns before and after.
    const bool is_new = created_.count(lower(altered)) != 0;
    std::vector<Column> before = columns(altered);
    // A renamed table keeps its root page: that finds its new name.
    const Value root = scratch_->fetch_value("SELECT coalesce(max(rootpage), 0) FROM sqlite_master WHERE type = 'table' "
                                             "AND name = $1 COLLATE NOCASE",
                                             {Value(altered)});
    run(st.text);
    std::vector<Column> after = columns(altered);
    if (after.empty()) {  // RENAME TO
      std::string to;
      if (auto row = scratch_->fetch_one("SELECT name FROM sqlite_master WHERE type = 'table' AND rootpage = $1",
                                         {root})) {
        to = (*row)[0].as<std::string>();
      }
      if (is_new) {
        created_.erase(lower(altered));
        created_.insert(lower(to));
      } else {
        hit("rename-table", fmt::format("renames table {} to {}", altered, to));
      }
      return hits;
    }
    if (is_new) return hits;
    auto has = [](const std::vector<Column>& cols, const std::string& name) {
      return std::any_of(cols.begin(), cols.end(), [&](const Column& c) { return iequals(c.name, name); });
    };
    if (after.size() < before.size()) {
      for (const Column& c : before) {
        if (!has(after, c.name)) hit("drop-column", fmt::format("drops column {}.{} and its data", altered, c.name));
      }
    } else if (after.size() == before.size()) {
      for (std::size_t i = 0; i < before.size(); ++i) {
        if (!iequals(before[i].name, after[i].name)) {
          hit("rename-column", fmt::format("renames column {}.{} to {}", altered, before[i].name, after[i].name));
        }
      }
    } else {
      for (const Column& c : after) {
        if (!has(before, c.name) && c.not_null && !c.has_default) {
          hit("not-null-without-default",
              fmt::format("adds NOT NULL column {}.{} without a default to existing table {}", altered, c.name, altered));
        }
      }
    }
    return hits;
  }

 private:
  static std::string lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  }

  bool is_history(std::string_view table) const { return iequals(table, options_.history_table); }

  // Runs a statement on the scratch database; a failure only means the next
  // statements see less (it is not a finding: prepare already passed).
  void run(const std::string& sql) {
    try {
      scratch_->execute(sql);
    } catch (const Error&) {
    }
  }

  std::vector<Column> columns(const std::string& table) {
    std::vector<Column> out;
    for (const Row& r : scratch_->fetch("SELECT name, \"notnull\", dflt_value IS NOT NULL FROM pragma_table_info($1)",
                                        {Value(table)})) {
      out.push_back({r[0].as<std::string>(), r[1].as<std::int64_t>() != 0, r[2].as<std::int64_t>() != 0});
    }
    return out;
  }

  Options options_;
  std::unique_ptr<Connection> scratch_;
  bool transactional_ = true;
  std::set<std::string> created_;  // tables created by pending migrations so far (lower case)
};

}  // namespace

std::unique_ptr<Analyzer> make_sqlite_analyzer(const Options& options) {
  return std::make_unique<SqliteAnalyzer>(options);
}

}  // namespace strata::lint::detail
