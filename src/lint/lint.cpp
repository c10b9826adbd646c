// lint/lint.cpp: the rule table, the walk over migrations, suppressions and
// positions (see strata/lint.hpp). The engines' readers are in
// lint_postgres.cpp and lint_sqlite.cpp.
#include "strata/source.hpp"
#include "strata/lint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <tuple>

#include "lint/analyzer.hpp"
#include "strata/sql/splitter.hpp"

namespace strata::lint {
namespace {

constexpr Severity E = Severity::error;
constexpr Severity W = Severity::warning;

// The rule table. docs/lint.md shows the same table; keep them together.
//          id                             severity sqlite postgres
constexpr std::array kRules{
    Rule{"drop-table", E, true, true,
         "dropping a table deletes its data, and code still running against it fails",
         "stop using the table in one release, drop it in a later one (add -- strata: lint-ignore drop-table why)"},
    Rule{"drop-column", E, true, true,
         "dropping a column deletes its data, and code still reading or writing it fails",
         "stop using the column in one release, drop it in a later one (add -- strata: lint-ignore drop-column why)"},
    Rule{"rename-table", W, true, true, "code still running under the old name fails as soon as the rename commits",
         "create the new table (or a view under the old name), move the code over, then drop the old one"},
    Rule{"rename-column", W, true, true, "code still running under the old name fails as soon as the rename commits",
         "add the new column, write both, backfill, move reads over, then drop the old column"},
    Rule{"change-column-type", E, false, true,
         "ALTER COLUMN ... TYPE holds an ACCESS EXCLUSIVE lock and may rewrite the table and its indexes",
         "add a column of the new type, backfill it in batches, switch the code, then drop the old column"},
    Rule{"not-null-without-default", E, true, true,
         "adding a NOT NULL column without a default fails on a table that has rows",
         "add the column nullable or with a DEFAULT, backfill it, then add NOT NULL"},
    Rule{"volatile-default", E, false, true,
         "a volatile default (random(), clock_timestamp(), gen_random_uuid(), nextval/serial, identity, "
         "GENERATED ... STORED) rewrites the whole table under an ACCESS EXCLUSIVE lock",
         "add the column without a default (or with a constant or now()), then backfill it in batches"},
    Rule{"index-not-concurrent", W, false, true,
         "CREATE INDEX without CONCURRENTLY blocks every write to the table while the index builds",
         "use CREATE INDEX CONCURRENTLY, in a file of its own marked -- strata: no-transaction"},
    Rule{"requires-no-transaction", E, true, true,
         "CREATE/DROP INDEX CONCURRENTLY and VACUUM cannot run inside a transaction: the migration fails",
         "move the statement to a file of its own marked -- strata: no-transaction"},
    Rule{"transaction-statement", E, true, true,
         "BEGIN/COMMIT/ROLLBACK in a migration fights strata's own transaction around it",
         "remove it (strata runs each migration in a transaction), or mark the file -- strata: no-transaction"},
    Rule{"constraint-without-not-valid", W, false, true,
         "adding a FOREIGN KEY or CHECK checks every row while holding a lock that blocks writes",
         "add it with NOT VALID, then VALIDATE CONSTRAINT in a later migration (which does not block writes)"},
    Rule{"writes-history-table", E, true, true,
         "strata's history table is written by strata only: editing it makes history disagree with the schema",
         "use strata repair, down or up instead of writing to the history table"},
    Rule{"missing-lock-timeout", W, false, true,
         "a statement that needs an ACCESS EXCLUSIVE lock waits behind any long transaction, and every query "
         "on the table queues behind it",
         "start the file with SET lock_timeout = '5s', or run up with --ddl-lock-timeout (the lock guard)"},
    Rule{"syntax-error", E, true, true, "the statement does not parse: the migration fails",
         "fix the statement; the message gives the engine's own error"},
    Rule{"unknown-object", W, true, false,
         "the statement does not prepare on the schema the migrations before it build",
         "check the names it uses (objects created outside migrations are unknown to lint)"},
    Rule{"unknown-lint-ignore", W, true, true, "a lint-ignore comment names a rule that does not exist",
         "use a rule id from `strata lint --help` or docs/lint.md"},
};

bool is_rule_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == ',';
}

// The rule ids of every "-- strata: lint-ignore ID[,ID] reason" comment in
// `region`, with the offset (in region) of each comment.
struct Ignore {
  std::string rule;
  std::size_t offset;  // of its "--" in the region
};

std::vector<Ignore> ignores_in(std::string_view region) {
  std::vector<Ignore> out;
  std::size_t pos = 0;
  while ((pos = region.find("--", pos)) != std::string_view::npos) {
    const std::size_t comment = pos;
    std::size_t i = pos + 2;
    auto blanks = [&] {
      while (i < region.size() && (region[i] == ' ' || region[i] == '\t')) ++i;
    };
    auto word = [&](std::string_view w) {
      if (region.size() - i < w.size() || !detail::iequals(region.substr(i, w.size()), w)) return false;
      i += w.size();
      return true;
    };
    pos += 2;
    blanks();
    if (!word("strata")) continue;
    blanks();
    if (!word(":")) continue;
    blanks();
    if (!word("lint-ignore") && !word("lint_ignore")) continue;
    blanks();
    std::size_t from = i;
    while (i < region.size() && is_rule_char(region[i])) ++i;
    std::string_view ids = region.substr(from, i - from);
    while (!ids.empty()) {
      std::size_t comma = ids.find(',');
      std::string_view id = ids.substr(0, comma);
      if (!id.empty()) out.push_back({std::string(id), comment});
      if (comma == std::string_view::npos) break;
      ids.remove_prefix(comma + 1);
    }
  }
  return out;
}

// The file position of byte `offset` of a statement's text.
std::pair<int, int> position_in(const sql::Statement& st, int offset) {
  if (offset <= 0 || static_cast<std::size_t>(offset) > st.text.size()) return {st.line, st.column};
  int line = st.line;
  int column = st.column;
  for (int i = 0; i < offset; ++i) {
    if (st.text[static_cast<std::size_t>(i)] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace

namespace detail {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace detail

const char* to_string(Severity severity) noexcept { return severity == Severity::error ? "error" : "warning"; }

std::span<const Rule> rules() { return kRules; }

const Rule* find_rule(std::string_view id) {
  for (const Rule& r : kRules) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

std::vector<Finding> lint(const MigrationSet& source, Engine engine, const std::set<Version>& applied,
                          const Options& options) {
  std::unique_ptr<detail::Analyzer> analyzer =
      engine == Engine::postgres ? detail::make_postgres_analyzer(options) : detail::make_sqlite_analyzer(options);
  std::vector<Finding> findings;
  auto add = [&](const Migration& m, const Rule& rule, int line, int column, std::string message) {
    findings.push_back(Finding{std::string(rule.id), rule.severity, m.path, line, column, std::move(message),
                               std::string(rule.hint), m.version});
  };
  for (const Migration& m : source.all()) {
    if (m.kind != MigrationKind::sql) continue;
    const std::string& text = up_sql(m);
    sql::Script script = sql::parse_script(text, engine);
    if (applied.count(m.version) != 0) {
      analyzer->replay(script);
      continue;
    }
    analyzer->begin_file(!script.directives.no_transaction);
    std::size_t region_start = 0;
    for (const sql::Statement& st : script.statements) {
      // This statement's comments: from the end of the previous one's region
      // to the end of the line this one ends on (a trailing "; -- ..." counts).
      std::size_t region_end = std::min(st.offset + st.text.size(), text.size());
      while (region_end < text.size() && text[region_end] != '\n') ++region_end;
      std::vector<Ignore> ignores =
          ignores_in(std::string_view(text).substr(region_start, region_end - std::min(region_start, region_end)));
      region_start = region_end;
      for (detail::Hit& hit : analyzer->check(st)) {
        const Rule* rule = find_rule(hit.rule);
        if (rule == nullptr) continue;  // an analyzer bug; never reported as a rule nobody documented
        if (std::any_of(ignores.begin(), ignores.end(), [&](const Ignore& ig) { return ig.rule == rule->id; })) {
          continue;
        }
        auto [line, column] = position_in(st, hit.offset);
        add(m, *rule, line, column, std::move(hit.message));
      }
      for (const Ignore& ig : ignores) {
        if (find_rule(ig.rule) != nullptr) continue;
        add(m, *find_rule("unknown-lint-ignore"), st.line, st.column,
            fmt::format("lint-ignore names '{}', which is not a rule", ig.rule));
      }
    }
  }
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.version, a.line, a.column) < std::tie(b.version, b.line, b.column);
  });
  return findings;
}

std::string render(const Finding& f) {
  return fmt::format("{}:{}:{}: {}[{}]: {}\n  hint: {}", f.file, f.line, f.column, to_string(f.severity), f.rule,
                     f.message, f.hint);
}

}  // namespace strata::lint
