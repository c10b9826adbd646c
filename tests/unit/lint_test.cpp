// strata lint, without a database: the corpus under tests/data/lint and the
// behaviours around it (suppression, new tables, the lock guard, positions).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <sstream>

#include "strata/lint.hpp"

namespace strata::lint {
namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

Migration migration(Version v, std::string sql, std::string path = {}) {
  Migration m;
  m.version = v;
  m.description = "m" + std::to_string(v);
  m.path = path.empty() ? std::to_string(v) + "_m.sql" : std::move(path);
  m.sql = std::move(sql);
  return m;
}

// Lints `files` (versions 1, 2, ...) with the first `applied` of them applied.
std::vector<Finding> run(Engine engine, std::vector<std::string> files, int applied = 0, Options options = {}) {
  std::vector<Migration> ms;
  std::set<Version> done;
  for (std::size_t i = 0; i < files.size(); ++i) {
    ms.push_back(migration(static_cast<Version>(i + 1), files[i]));
    if (static_cast<int>(i) < applied) done.insert(static_cast<Version>(i + 1));
  }
  return lint(MigrationSet(std::move(ms)), engine, done, options);
}

long count(const std::vector<Finding>& findings, std::string_view rule) {
  return std::count_if(findings.begin(), findings.end(), [&](const Finding& f) { return f.rule == rule; });
}

bool fired(const std::vector<Finding>& findings, std::string_view rule) {
  return std::any_of(findings.begin(), findings.end(), [&](const Finding& f) { return f.rule == rule; });
}

std::string describe(const std::vector<Finding>& findings) {
  std::string out;
  for (const auto& f : findings) out += "\n  " + render(f);
  return out.empty() ? " (none)" : out;
}

// ------------------------------------------------------------------ corpus

struct Case {
  int line = 0;          // of its "-- case:" line
  bool good = false;
  std::string rule;      // the rule it breaks (bad) or nearly breaks (good; may be empty)
  std::string sql;
};

std::vector<Case> load_cases(const std::string& file) {
  std::vector<Case> cases;
  std::istringstream in(read(file));
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.rfind("-- case:", 0) == 0) {
      Case c;
      c.line = n;
      std::istringstream words(line.substr(8));
      std::string word;
      words >> word;
      c.good = word == "ok";
      if (c.good) words >> c.rule; else c.rule = word;
      cases.push_back(c);
    } else if (!cases.empty()) {
      cases.back().sql += line + "\n";
    }
  }
  return cases;
}

class LintCorpus : public ::testing::TestWithParam<Engine> {
 protected:
  std::string file() const {
    return std::string(STRATA_TEST_DATA_DIR) + "/lint/" + (GetParam() == Engine::postgres ? "postgres" : "sqlite") +
           ".cases";
  }
};

TEST_P(LintCorpus, EveryCaseGivesItsExpectedFindings) {
  const std::string schema = read(std::string(STRATA_TEST_DATA_DIR) + "/lint/schema.sql");
  const auto cases = load_cases(file());
  ASSERT_GE(cases.size(), 30u);
  for (const Case& c : cases) {
    auto findings = run(GetParam(), {schema, c.sql}, 1);
    if (c.good) {
      EXPECT_TRUE(findings.empty()) << file() << ":" << c.line << ": a known-good case has findings:"
                                    << describe(findings);
    } else {
      EXPECT_TRUE(fired(findings, c.rule)) << file() << ":" << c.line << ": expected " << c.rule << ", got:"
                                           << describe(findings);
    }
  }
}

TEST_P(LintCorpus, EveryRuleFiresAndStaysQuiet) {
  std::map<std::string, int> bad, good;
  for (const Case& c : load_cases(file())) (c.good ? good : bad)[c.rule]++;
  for (const Rule& r : rules()) {
    if (GetParam() == Engine::postgres ? !r.postgres : !r.sqlite) continue;
    EXPECT_GT(bad[std::string(r.id)], 0) << r.id << " has no firing case in " << file();
    EXPECT_GT(good[std::string(r.id)], 0) << r.id << " has no non-firing case in " << file();
  }
}

INSTANTIATE_TEST_SUITE_P(Engines, LintCorpus, ::testing::Values(Engine::sqlite, Engine::postgres),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(LintCorpus, HoldsThirtyKnownBadAndThirtyKnownGoodCases) {
  int bad = 0, good = 0;
  for (const char* engine : {"postgres", "sqlite"}) {
    for (const Case& c : load_cases(std::string(STRATA_TEST_DATA_DIR) + "/lint/" + engine + ".cases")) {
      (c.good ? good : bad)++;
    }
  }
  EXPECT_GE(bad, 30);
  EXPECT_GE(good, 30);
}

// ------------------------------------------------------------------ behaviours

class Lint : public ::testing::TestWithParam<Engine> {};

const char* kUsers = "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);\n";

TEST_P(Lint, TablesCreatedEarlierInThePendingSetAreNew) {
  // Created by an earlier pending migration: new, so nothing fires.
  auto pending = run(GetParam(), {kUsers, "DROP TABLE users;\n"}, 0);
  EXPECT_FALSE(fired(pending, "drop-table")) << describe(pending);
  // Created by an applied migration: existing.
  auto applied = run(GetParam(), {kUsers, "DROP TABLE users;\n"}, 1);
  EXPECT_TRUE(fired(applied, "drop-table")) << describe(applied);
}

TEST_P(Lint, SuppressionBeforeInsideOrAfterTheStatement) {
  for (const char* sql : {"-- strata: lint-ignore drop-table no longer used since v3\nDROP TABLE users;\n",
                          "DROP /* x */ -- strata: lint-ignore drop-table,missing-lock-timeout gone\n TABLE users;\n",
                          "DROP TABLE users; -- strata: lint-ignore drop-table gone\n"}) {
    auto findings = run(GetParam(), {kUsers, sql}, 1);
    EXPECT_FALSE(fired(findings, "drop-table")) << sql << describe(findings);
  }
  // Only the statement it belongs to.
  auto findings = run(GetParam(),
                      {kUsers + std::string("CREATE TABLE other (a INTEGER);\n"),
                       "-- strata: lint-ignore drop-table gone\nDROP TABLE users;\nDROP TABLE other;\n"},
                      1);
  ASSERT_TRUE(fired(findings, "drop-table")) << describe(findings);
  for (const auto& f : findings) {
    if (f.rule == "drop-table") EXPECT_EQ(f.line, 3);
  }
}

TEST_P(Lint, FindingsPointAtTheFileLineAndColumn) {
  auto findings = run(GetParam(), {kUsers, "-- a comment\n\n  DROP TABLE users;\n"}, 1);
  ASSERT_TRUE(fired(findings, "drop-table")) << describe(findings);
  const Finding& f = *std::find_if(findings.begin(), findings.end(), [](const auto& x) { return x.rule == "drop-table"; });
  EXPECT_EQ(f.file, "2_m.sql");
  EXPECT_EQ(f.line, 3);
  EXPECT_EQ(f.column, 3);
  EXPECT_EQ(f.severity, Severity::error);
  EXPECT_FALSE(f.hint.empty());
  EXPECT_EQ(f.version, 2);
}

TEST_P(Lint, AppliedMigrationsAreNotLinted) {
  auto findings = run(GetParam(), {std::string(kUsers) + "DROP TABLE users;\n"}, 1);
  EXPECT_TRUE(findings.empty()) << describe(findings);
}

INSTANTIATE_TEST_SUITE_P(Engines, Lint, ::testing::Values(Engine::sqlite, Engine::postgres),
                         [](const auto& info) { return std::string(to_string(info.param)); });

TEST(LintPostgres, IndexRuleDoesNotFireForATableCreatedEarlierInThePendingSet) {
  auto findings = run(Engine::postgres, {"CREATE TABLE events (id bigint, at timestamptz);\n",
                                         "CREATE INDEX events_at ON events (at);\n"});
  EXPECT_FALSE(fired(findings, "index-not-concurrent")) << describe(findings);
  auto existing = run(Engine::postgres, {"CREATE TABLE events (id bigint, at timestamptz);\n",
                                         "CREATE INDEX events_at ON events (at);\n"},
                      1);
  EXPECT_TRUE(fired(existing, "index-not-concurrent")) << describe(existing);
}

TEST(LintPostgres, TheLockGuardTurnsMissingLockTimeoutOff) {
  Options guarded;
  guarded.lock_guard = true;
  const std::string alter = "ALTER TABLE users ADD COLUMN bio text;\n";
  EXPECT_TRUE(fired(run(Engine::postgres, {kUsers, alter}, 1), "missing-lock-timeout"));
  EXPECT_FALSE(fired(run(Engine::postgres, {kUsers, alter}, 1, guarded), "missing-lock-timeout"));
}

TEST(LintPostgres, MissingLockTimeoutIsReportedOncePerFile) {
  auto findings = run(Engine::postgres, {kUsers, "ALTER TABLE users ADD COLUMN a text;\nALTER TABLE users ADD COLUMN b text;\n"}, 1);
  EXPECT_EQ(count(findings, "missing-lock-timeout"), 1)
      << describe(findings);
}

TEST(LintPostgres, AHistoryTableOfAnotherNameIsWatched) {
  Options options;
  options.history_table = "schema_history";
  auto findings = run(Engine::postgres, {"DELETE FROM schema_history;\nDELETE FROM strata_migrations;\n"}, 0, options);
  ASSERT_EQ(count(findings, "writes-history-table"), 1)
      << describe(findings);
  EXPECT_EQ(findings[0].line, 1);
}

TEST(LintPostgres, SyntaxErrorsPointIntoTheStatement) {
  auto findings = run(Engine::postgres, {"SELECT 1;\nSELECT 1 FROM WHERE;\n"});
  ASSERT_EQ(findings.size(), 1u) << describe(findings);
  EXPECT_EQ(findings[0].rule, "syntax-error");
  EXPECT_EQ(findings[0].line, 2);
  EXPECT_GT(findings[0].column, 1);
}

TEST(LintRules, EveryRuleHasAnIdAReasonAndAHint) {
  std::set<std::string_view> ids;
  for (const Rule& r : rules()) {
    EXPECT_TRUE(ids.insert(r.id).second) << r.id;
    EXPECT_FALSE(r.reason.empty()) << r.id;
    EXPECT_FALSE(r.hint.empty()) << r.id;
    EXPECT_TRUE(r.sqlite || r.postgres) << r.id;
    EXPECT_EQ(find_rule(r.id), &r);
  }
  EXPECT_EQ(find_rule("no-such-rule"), nullptr);
}

}  // namespace
}  // namespace strata::lint
