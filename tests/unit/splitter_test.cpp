// tests/unit/splitter_test.cpp: strata::sql::parse_script and render.
//
// Most cases are data: tests/data/splitter/NAME.sql is an input script and
// NAME.expected the result on both engines, or NAME.sqlite.expected and
// NAME.postgres.expected when the engines disagree. Expectation format:
//
//   == directives: no-transaction foreign-keys-off breaking compatible-with=N   (only when one is set)
//   == statement LINE:COLUMN
//   the statement's exact text, over as many lines as it takes
//   == error LINE:COLUMN: message
//   == warning LINE:COLUMN: message
//
// Diagnostics follow the statements. A carriage return inside a statement is
// written as "␍" (U+240D) so that expectation files are plain LF text. The
// data files are marked -text in .gitattributes: the CRLF and BOM cases must
// reach the test byte for byte.
//
// Every case also checks invariants the expectation files do not spell out:
// offsets agree with line:column, statements are trimmed, and joining the
// statements with ";\n" and splitting again gives the same statements.
//
// To (re)write the expectations from the current output, run the test with
// STRATA_UPDATE_EXPECTED=1, then read the diff before committing it.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "strata/sql/splitter.hpp"

namespace fs = std::filesystem;
using strata::Engine;
using strata::sql::Diagnostic;
using strata::sql::parse_script;
using strata::sql::render;
using strata::sql::Script;

namespace {

const Engine kEngines[] = {Engine::sqlite, Engine::postgres};
const char* engine_name(Engine e) { return e == Engine::postgres ? "postgres" : "sqlite"; }

fs::path data_dir() { return fs::path(STRATA_TEST_DATA_DIR) / "splitter"; }

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_file(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

std::string show_cr(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\r') out += "\u240D";
    else out += c;
  }
  return out;
}

// The expectation-file form of a script.
std::string serialize(const Script& s) {
  std::string out;
  const auto& d = s.directives;
  if (d.no_transaction || d.foreign_keys_off || d.breaking || d.compatible_with) {
    out += "== directives:";
    if (d.no_transaction) out += " no-transaction";
    if (d.foreign_keys_off) out += " foreign-keys-off";
    if (d.breaking) out += " breaking";
    if (d.compatible_with) out += " compatible-with=" + std::to_string(*d.compatible_with);
    out += '\n';
  }
  for (const auto& st : s.statements) {
    out += "== statement " + std::to_string(st.line) + ":" + std::to_string(st.column) + "\n";
    out += show_cr(st.text);
    out += '\n';
  }
  for (const auto& diag : s.diagnostics) {
    out += diag.severity == Diagnostic::Severity::error ? "== error " : "== warning ";
    out += std::to_string(diag.line) + ":" + std::to_string(diag.column) + ": " + diag.message + "\n";
  }
  return out;
}

std::vector<std::string> lines_of(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// A line diff (longest common subsequence; the files are small).
std::string diff(const std::string& expected, const std::string& actual) {
  const auto a = lines_of(expected);
  const auto b = lines_of(actual);
  std::vector<std::vector<int>> lcs(a.size() + 1, std::vector<int>(b.size() + 1, 0));
  for (std::size_t i = a.size(); i-- > 0;) {
    for (std::size_t j = b.size(); j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  std::string out;
  std::size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (i < a.size() && j < b.size() && a[i] == b[j]) {
      out += "  " + a[i] + "\n";
      ++i, ++j;
    } else if (j < b.size() && (i == a.size() || lcs[i][j + 1] >= lcs[i + 1][j])) {
      out += "+ " + b[j++] + "\n";
    } else {
      out += "- " + a[i++] + "\n";
    }
  }
  return out;
}

// 1-based line and byte column of `offset` in `text`, with line 1 starting
// after a BOM (computed independently of the splitter).
std::pair<int, int> position_of(std::string_view text, std::size_t offset) {
  std::size_t line_start = text.substr(0, 3) == "\xEF\xBB\xBF" ? 3 : 0;
  int line = 1;
  for (std::size_t i = line_start; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  return {line, static_cast<int>(offset - line_start) + 1};
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::vector<std::string> texts_of(const Script& s) {
  std::vector<std::string> out;
  for (const auto& st : s.statements) out.push_back(st.text);
  return out;
}

// Invariants that hold for every input. `exact` says statement texts are
// verbatim slices of the input (no "-- only:" line or placeholder changed them).
void check_invariants(std::string_view input, const Script& s, Engine e, bool exact) {
  SCOPED_TRACE(engine_name(e));
  std::size_t previous_end = 0;
  for (const auto& st : s.statements) {
    SCOPED_TRACE("statement at " + std::to_string(st.line) + ":" + std::to_string(st.column));
    ASSERT_FALSE(st.text.empty());
    EXPECT_FALSE(is_blank(st.text.front()));
    EXPECT_FALSE(is_blank(st.text.back()));
    ASSERT_LT(st.offset, input.size());
    EXPECT_GE(st.offset, previous_end);
    EXPECT_EQ(input[st.offset], st.text.front());
    EXPECT_EQ(position_of(input, st.offset), std::make_pair(st.line, st.column));
    if (exact) {
      EXPECT_EQ(input.substr(st.offset, st.text.size()), st.text);
      previous_end = st.offset + st.text.size();
    } else {
      previous_end = st.offset + 1;
    }
  }
  for (const auto& d : s.diagnostics) {
    EXPECT_GE(d.line, 1) << d.message;
    EXPECT_GE(d.column, 1) << d.message;
    EXPECT_FALSE(d.message.empty());
  }
}

// Splitting "s1;\ns2;\n..." again gives s1, s2, ...
void check_resplit(const Script& s, Engine e) {
  if (!s.ok()) return;
  std::string joined;
  for (const auto& st : s.statements) joined += st.text + ";\n";
  const Script again = parse_script(joined, e);
  EXPECT_TRUE(again.ok()) << engine_name(e) << ": re-split of\n" << joined;
  EXPECT_EQ(texts_of(again), texts_of(s)) << engine_name(e) << ": re-split of\n" << joined;
}

bool update_mode() {
  const char* v = std::getenv("STRATA_UPDATE_EXPECTED");
  return v && *v && std::string(v) != "0";
}

// ------------------------------------------------------------- data-driven cases

TEST(Splitter, DataCases) {
  std::vector<fs::path> cases;
  for (const auto& entry : fs::directory_iterator(data_dir())) {
    if (entry.path().extension() == ".sql") cases.push_back(entry.path());
  }
  std::sort(cases.begin(), cases.end());
  ASSERT_GE(cases.size(), 30u) << "splitter cases missing from " << data_dir();

  for (const auto& sql_path : cases) {
    const std::string name = sql_path.stem().string();
    SCOPED_TRACE("case " + name);
    const std::string input = read_file(sql_path);
    const bool exact = input.find("-- only") == std::string::npos &&
                       input.find("$%AUTO_INCREMENT_PRIMARY_KEY%$") == std::string::npos;

    std::string actual[2];
    for (int k = 0; k < 2; ++k) {
      const Engine e = kEngines[k];
      Script s;
      ASSERT_NO_THROW(s = parse_script(input, e));
      actual[k] = serialize(s);
      check_invariants(input, s, e, exact);
      check_resplit(s, e);
    }

    const fs::path both = data_dir() / (name + ".expected");
    const fs::path per[2] = {data_dir() / (name + ".sqlite.expected"),
                             data_dir() / (name + ".postgres.expected")};
    if (update_mode()) {
      if (actual[0] == actual[1]) {
        write_file(both, actual[0]);
        fs::remove(per[0]);
        fs::remove(per[1]);
      } else {
        write_file(per[0], actual[0]);
        write_file(per[1], actual[1]);
        fs::remove(both);
      }
      continue;
    }
    for (int k = 0; k < 2; ++k) {
      const fs::path& path = fs::exists(per[k]) ? per[k] : both;
      if (!fs::exists(path)) {
        ADD_FAILURE() << "no expectation file for " << name << " on " << engine_name(kEngines[k])
                      << " (run with STRATA_UPDATE_EXPECTED=1 to write one). Actual:\n"
                      << actual[k];
        continue;
      }
      const std::string expected = read_file(path);
      EXPECT_EQ(expected, actual[k]) << name << " on " << engine_name(kEngines[k]) << ": "
                                     << path.filename().string() << " (-) vs actual (+):\n"
                                     << diff(expected, actual[k]);
    }
  }
}

// ------------------------------------------------------------- focused tests

TEST(Splitter, EmptyInputHasNoStatements) {
  for (Engine e : kEngines) {
    const Script s = parse_script("", e);
    EXPECT_TRUE(s.statements.empty());
    EXPECT_TRUE(s.diagnostics.empty());
    EXPECT_TRUE(s.ok());
    EXPECT_TRUE(parse_script("\xEF\xBB\xBF", e).statements.empty());
    EXPECT_TRUE(parse_script(" \r\n\t;; ;\n-- x\n/* y */", e).statements.empty());
  }
}

TEST(Splitter, PositionConventionPointsAtTheFirstToken) {
  const std::string text = "-- leading comment\n/* block */  SELECT 1 /* kept */ + 2 -- dropped\n;";
  for (Engine e : kEngines) {
    const Script s = parse_script(text, e);
    ASSERT_EQ(s.statements.size(), 1u);
    EXPECT_EQ(s.statements[0].text, "SELECT 1 /* kept */ + 2");
    EXPECT_EQ(s.statements[0].line, 2);
    EXPECT_EQ(s.statements[0].column, 14);
    EXPECT_EQ(s.statements[0].offset, text.find("SELECT"));
  }
}

TEST(Splitter, BomIsSkippedButCountsInOffsets) {
  const std::string text = "\xEF\xBB\xBF" "SELECT 1;\nSELECT 2";
  const Script s = parse_script(text, Engine::sqlite);
  ASSERT_EQ(s.statements.size(), 2u);
  EXPECT_EQ(s.statements[0].line, 1);
  EXPECT_EQ(s.statements[0].column, 1);
  EXPECT_EQ(s.statements[0].offset, 3u);
  EXPECT_EQ(s.statements[1].offset, text.find("SELECT 2"));
}

TEST(Splitter, OnlyLinesKeepOffsetsPointingIntoTheInput) {
  const std::string text =
      "-- only: postgres\nCREATE EXTENSION pg_trgm;\nCREATE TABLE t (\n  -- only: sqlite\n"
      "  id INTEGER PRIMARY KEY,\n  -- only: postgres\n  id BIGSERIAL PRIMARY KEY,\n  v TEXT\n);\n";
  const Script lite = parse_script(text, Engine::sqlite);
  ASSERT_EQ(lite.statements.size(), 1u);
  EXPECT_EQ(lite.statements[0].text, "CREATE TABLE t (\n\n  id INTEGER PRIMARY KEY,\n\n\n  v TEXT\n)");
  EXPECT_EQ(lite.statements[0].offset, text.find("CREATE TABLE"));
  EXPECT_EQ(lite.statements[0].line, 3);

  const Script pg = parse_script(text, Engine::postgres);
  ASSERT_EQ(pg.statements.size(), 2u);
  EXPECT_EQ(pg.statements[0].text, "CREATE EXTENSION pg_trgm");
  EXPECT_EQ(pg.statements[0].line, 2);
  EXPECT_EQ(pg.statements[0].offset, text.find("CREATE EXTENSION"));
  EXPECT_EQ(pg.statements[1].text, "CREATE TABLE t (\n\n\n\n  id BIGSERIAL PRIMARY KEY,\n  v TEXT\n)");
  EXPECT_EQ(pg.statements[1].offset, text.find("CREATE TABLE"));
}

TEST(Splitter, AutoIncrementPlaceholderFollowsSynapse) {
  const std::string text = "CREATE TABLE t (id $%AUTO_INCREMENT_PRIMARY_KEY%$, v TEXT)";
  EXPECT_EQ(parse_script(text, Engine::sqlite).statements.at(0).text,
            "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT)");
  EXPECT_EQ(parse_script(text, Engine::postgres).statements.at(0).text,
            "CREATE TABLE t (id BIGINT PRIMARY KEY GENERATED ALWAYS AS IDENTITY, v TEXT)");
}

TEST(Splitter, OkIgnoresWarnings) {
  const Script s = parse_script("SELECT 1;\n-- strata: breaking\nSELECT 2;", Engine::sqlite);
  ASSERT_EQ(s.diagnostics.size(), 1u);
  EXPECT_EQ(s.diagnostics[0].severity, Diagnostic::Severity::warning);
  EXPECT_TRUE(s.ok());
  EXPECT_FALSE(s.directives.breaking);
  EXPECT_FALSE(parse_script("SELECT 'oops", Engine::sqlite).ok());
}

TEST(Splitter, RenderShowsTheLineAndACaret) {
  const std::string text = "SELECT 1;\r\n\tSELECT 'é', $fn$ body;\r\n";
  const Script s = parse_script(text, Engine::postgres);
  ASSERT_EQ(s.diagnostics.size(), 1u);
  EXPECT_EQ(render(s.diagnostics[0], "db/0001_init.sql", text),
            "db/0001_init.sql:2:15: error: unterminated dollar-quoted string $fn$ (opened here)\n"
            "\tSELECT 'é', $fn$ body;\n"
            "\t            ^");
}

TEST(Splitter, RenderEdgeCases) {
  Diagnostic d{Diagnostic::Severity::warning, 1, 3, "look"};
  // Line 1 of a file with a BOM is shown without it; columns count from after it.
  EXPECT_EQ(render(d, "f.sql", "\xEF\xBB\xBF" "abcd\n"), "f.sql:1:3: warning: look\nabcd\n  ^");
  // A column past the end of the line puts the caret just after it.
  d.column = 40;
  EXPECT_EQ(render(d, "f.sql", "ab"), "f.sql:1:40: warning: look\nab\n  ^");
  // A line that does not exist: the message alone.
  d.line = 7;
  EXPECT_EQ(render(d, "f.sql", "ab\n"), "f.sql:7:40: warning: look");
  // No position at all.
  d.line = 0;
  EXPECT_EQ(render(d, "f.sql", "ab"), "f.sql: warning: look");
  EXPECT_EQ(render(d, "", "ab"), "warning: look");
}

TEST(Splitter, HugeDollarQuotedBody) {
  std::string body;
  body.reserve(8 << 20);
  while (body.size() < (8u << 20)) body += "x := x + 1; -- 'quote' \"dq\" /* c */ $other$ $$\n";
  const std::string text = "CREATE FUNCTION f() RETURNS void AS $fn$\n" + body + "$fn$ LANGUAGE plpgsql;\nSELECT 1;";
  const Script s = parse_script(text, Engine::postgres);
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s.statements.size(), 2u);
  EXPECT_EQ(s.statements[0].text.size(), text.find(";\nSELECT 1;"));
  EXPECT_EQ(s.statements[1].line, 3 + static_cast<int>(std::count(body.begin(), body.end(), '\n')));
}

// ------------------------------------------------------------- properties

// Random bytes: never crashes, never throws, and the invariants hold.
TEST(Splitter, RandomBytesAreHandled) {
  std::mt19937 rng(20250410);
  const std::string alphabet = "ab$E'\"`[];-/*\n\r\t 1_\xC3\xA9";
  for (int round = 0; round < 3000; ++round) {
    std::string text(rng() % 64, '\0');
    for (char& c : text) {
      c = round % 2 ? static_cast<char>(rng() & 0xFF) : alphabet[rng() % alphabet.size()];
    }
    for (Engine e : kEngines) {
      Script s;
      ASSERT_NO_THROW(s = parse_script(text, e));
      const bool exact = text.find("-- only") == std::string::npos;
      check_invariants(text, s, e, exact);
      for (const auto& d : s.diagnostics) (void)render(d, "f.sql", text);
      if (HasFailure()) {
        FAIL() << "input: " << testing::PrintToString(text);
      }
    }
  }
}

// Random scripts from SQL fragments: the statements re-split to themselves.
TEST(Splitter, RandomScriptsResplitToThemselves) {
  const std::vector<std::string> pieces = {
      "SELECT", " 1", " a$b$", " $1", "'x;y'", "''''", "\"q;\"\"\"", " E'\\';'", " $$;'$$", " $t$ $$ ; $t$",
      " /* ; */", " /* /* ; */ */", " -- ;\n", ";", ";", "\n", " CASE WHEN 1 THEN 2 END", " BEGIN", " END",
      " CREATE", " TRIGGER", " TEMP", " FUNCTION", " ATOMIC", " OR REPLACE", "[a;b]", "`a;b`", " é",
      "\r\n", " x", "(", ")", " -1", " 4/2",
  };
  std::mt19937 rng(7);
  int checked = 0;
  for (int round = 0; round < 2000; ++round) {
    std::string text;
    const int n = 1 + static_cast<int>(rng() % 24);
    for (int k = 0; k < n; ++k) text += pieces[rng() % pieces.size()];
    for (Engine e : kEngines) {
      const Script s = parse_script(text, e);
      check_invariants(text, s, e, true);
      if (s.ok()) ++checked;
      check_resplit(s, e);
      if (HasFailure()) FAIL() << "input: " << testing::PrintToString(text);
    }
  }
  EXPECT_GT(checked, 1000);
}

// Not run by default: prints throughput on a large realistic script.
TEST(Splitter, DISABLED_Throughput) {
  std::string unit =
      "-- Add the users table.\n"
      "CREATE TABLE users (\n  id BIGINT PRIMARY KEY,\n  name TEXT NOT NULL, -- display name\n"
      "  email TEXT UNIQUE\n);\n"
      "INSERT INTO users (id, name, email) VALUES (1, 'O''Brien; Jr.', 'ob@example.com'), "
      "(2, 'Zoë', \"x\");\n"
      "/* A block comment; with a semicolon. */\n"
      "CREATE INDEX users_name ON users (lower(name));\n"
      "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  NEW.updated := now();\n"
      "  RETURN NEW;\nEND;\n$$;\n"
      "UPDATE users SET name = CASE WHEN id = 1 THEN 'a' ELSE 'b' END WHERE id < $1;\n";
  std::string text;
  while (text.size() < (64u << 20)) text += unit;
  for (Engine e : kEngines) {
    const auto t0 = std::chrono::steady_clock::now();
    const Script s = parse_script(text, e);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%s: %zu statements, %.0f MB/s\n", engine_name(e), s.statements.size(),
                static_cast<double>(text.size()) / 1e6 / secs);
  }
  std::string body;
  while (body.size() < (64u << 20)) body += "x := x + 1; -- 'quote' /* c */ $other$ $$\n";
  const std::string fn = "CREATE FUNCTION f() RETURNS void AS $fn$\n" + body + "$fn$ LANGUAGE plpgsql;";
  const auto t0 = std::chrono::steady_clock::now();
  const Script s = parse_script(fn, Engine::postgres);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("dollar body: %zu statements, %.0f MB/s\n", s.statements.size(),
              static_cast<double>(fn.size()) / 1e6 / secs);
}

}  // namespace

TEST(SplitterGraphDirectives, ParentsDependsOnBranchAndAlembicRevision) {
  using strata::sql::read_header_directives;
  std::vector<strata::sql::Diagnostic> diags;
  auto d = read_header_directives(
      "\xEF\xBB\xBF-- strata: parents 3, v4\n\n-- strata: depends-on 2\n-- strata: branch feature-x\n"
      "-- strata: alembic-revision ae1027a6acf\nCREATE TABLE t (id INT);\n-- strata: parents 9\n",
      &diags);
  EXPECT_TRUE(diags.empty());
  ASSERT_TRUE(d.parents);
  EXPECT_EQ(*d.parents, (std::vector<long long>{3, 4}));
  EXPECT_EQ(d.depends_on, (std::vector<long long>{2}));
  EXPECT_EQ(d.branch, "feature-x");
  EXPECT_EQ(d.alembic_revision, "ae1027a6acf");

  d = read_header_directives("-- strata: parents base\nSELECT 1;\n", &diags);
  ASSERT_TRUE(d.parents);
  EXPECT_TRUE(d.parents->empty());

  // The same directives through the full splitter; malformed ones are errors.
  auto script = strata::sql::parse_script("-- strata: parents\n-- strata: branch\nSELECT 1;\n", strata::Engine::sqlite);
  ASSERT_EQ(script.diagnostics.size(), 2u);
  EXPECT_EQ(script.diagnostics[0].line, 1);
  EXPECT_NE(script.diagnostics[0].message.find("needs version numbers"), std::string::npos);
  EXPECT_NE(script.diagnostics[1].message.find("needs one name"), std::string::npos);
  diags.clear();
  read_header_directives("-- strata: parents 1\n-- strata: parents 2\n-- strata: parents base 3\n", &diags);
  ASSERT_EQ(diags.size(), 2u);
  EXPECT_EQ(diags[0].line, 2);
  EXPECT_NE(diags[0].message.find("repeats"), std::string::npos);
  EXPECT_EQ(diags[1].line, 3);
}
