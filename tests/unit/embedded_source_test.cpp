// load_embedded follows load_directory's rules exactly: the same files give
// the same migrations, or the same error message.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "strata/error.hpp"
#include "strata/source.hpp"

namespace strata {
namespace {

namespace fs = std::filesystem;
using Files = std::vector<std::pair<std::string, std::string>>;

// The outcome of a load as comparable text: every field of every migration,
// or the error's kind and message.
std::string outcome(const std::function<MigrationSet()>& load) {
  try {
    std::string out;
    MigrationSet set = load();
    for (const Migration& m : set.all()) {
      out += std::to_string(m.version) + "|" + m.description + "|" + m.path + "|" + m.sql + "|" + m.down_path +
             "|" + down_sql(m) + "|" + m.checksum + "|";
      for (Version p : m.parents) out += std::to_string(p) + ",";
      out += "\n";
    }
    return out;
  } catch (const Error& e) {
    return std::string("error ") + to_string(e.kind()) + ": " + e.what();
  }
}

class EmbeddedSource : public ::testing::TestWithParam<Files> {};

TEST_P(EmbeddedSource, BehavesLikeTheDirectory) {
  fs::path dir = fs::temp_directory_path() / ("strata_embedded_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<SourceFile> files;
  for (const auto& [name, text] : GetParam()) {
    std::ofstream(dir / name, std::ios::binary) << text;
    files.push_back({name, text});
  }
  const std::string dir_text = dir.string();  // EmbeddedMigrations holds a view
  EmbeddedMigrations embedded{dir_text, files};
  for (Engine engine : {Engine::sqlite, Engine::postgres}) {
    std::string from_dir = outcome([&] { return load_directory(dir, engine); });
    std::string from_memory = outcome([&] { return load_embedded(embedded, engine); });
    EXPECT_EQ(from_memory, from_dir) << "engine " << to_string(engine);
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, EmbeddedSource,
    ::testing::Values(
        Files{{"0001_users.sql", "CREATE TABLE users (id INTEGER);"},
              {"10_ten.sql", "SELECT 10;"},
              {"9_nine.sql", "SELECT 9;"},
              {"README.md", "not a migration"},
              {".hidden.sql", "ignored"}},
        Files{{"0003_touch.sqlite.sql", "SELECT 'sqlite';"},
              {"0003_touch.postgres.sql", "SELECT 'postgres';"},
              {"0004_tags.up.sql", "CREATE TABLE tags (id INTEGER);"},
              {"0004_tags.down.sql", "DROP TABLE tags;"},
              {"0005_only_pg.sql.postgres", "SELECT 5;"}},
        Files{{"0001_a.sql", "SELECT 1;"}, {"0001_b.sql", "SELECT 1;"}},             // duplicate version
        Files{{"0002_x.down.sql", "SELECT 2;"}},                                    // down without up
        Files{{"0001_a.sql", "SELECT 1;"}, {"1_bad name.sql", "SELECT 1;"}},        // malformed name
        Files{{"0001_a.sql", std::string("SELECT '\xff';", 11)}},                   // invalid UTF-8
        Files{{"0001_a.sql", "\xEF\xBB\xBFSELECT 1;\r\n"}},                         // BOM and CRLF
        Files{{"README.md", "nothing for either engine"}},                          // empty
        Files{{"0001_pg.postgres.sql", "SELECT 1;"}}));                             // nothing for sqlite

TEST(EmbeddedSourceNames, PathsUseTheEmbeddedDirectory) {
  const SourceFile files[] = {{"0001_create.sql", "CREATE TABLE t (id INTEGER);"}};
  auto set = load_embedded({"examples/notes/migrations", files}, Engine::sqlite);
  ASSERT_EQ(set.all().size(), 1u);
  EXPECT_EQ(set.all()[0].path, "examples/notes/migrations/0001_create.sql");
  EXPECT_EQ(set.all()[0].checksum, checksum("CREATE TABLE t (id INTEGER);"));

  try {
    load_embedded({"examples/notes/migrations", {}}, Engine::sqlite);
    ADD_FAILURE() << "an empty embedded directory loaded";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::source);
    EXPECT_NE(std::string(e.what()).find("'examples/notes/migrations' has 1 problem"), std::string::npos)
        << e.what();
  }
}

}  // namespace
}  // namespace strata
