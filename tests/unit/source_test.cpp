// Versioned file names and directory loading.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <chrono>

#include <unistd.h>

#include "strata/error.hpp"
#include "strata/source.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;

TEST(FileName, PlainSequential) {
  std::string why;
  auto n = parse_file_name("0001_create_users.sql", &why);
  ASSERT_TRUE(n) << why;
  EXPECT_EQ(n->version, 1);
  EXPECT_EQ(n->version_text, "0001");
  EXPECT_EQ(n->description, "create_users");
  EXPECT_EQ(n->direction, Direction::up);
  EXPECT_FALSE(n->explicit_direction);
  EXPECT_FALSE(n->engine);
}

TEST(FileName, TimestampVersion) {
  auto n = parse_file_name("20250410120000_add-index.sql", nullptr);
  ASSERT_TRUE(n);
  EXPECT_EQ(n->version, 20250410120000);
  EXPECT_EQ(n->description, "add-index");
}

TEST(FileName, ReversiblePairAndEngines) {
  struct Case {
    const char* name;
    Direction dir;
    std::optional<Engine> engine;
  } cases[] = {
      {"0002_x.up.sql", Direction::up, std::nullopt},
      {"0002_x.down.sql", Direction::down, std::nullopt},
      {"0002_x.sqlite.sql", Direction::up, Engine::sqlite},
      {"0002_x.postgres.sql", Direction::up, Engine::postgres},
      {"0002_x.sql.sqlite", Direction::up, Engine::sqlite},
      {"0002_x.sql.postgres", Direction::up, Engine::postgres},
      {"0002_x.up.postgres.sql", Direction::up, Engine::postgres},
      {"0002_x.down.sql.sqlite", Direction::down, Engine::sqlite},
  };
  for (const auto& c : cases) {
    std::string why;
    auto n = parse_file_name(c.name, &why);
    ASSERT_TRUE(n) << c.name << ": " << why;
    EXPECT_EQ(n->direction, c.dir) << c.name;
    EXPECT_EQ(n->engine, c.engine) << c.name;
    EXPECT_EQ(n->description, "x") << c.name;
  }
}

TEST(FileName, NonMigrationFilesAreIgnoredWithoutError) {
  for (const char* name : {"README.md", ".gitkeep", ".0001_hidden.sql", "0001_x.sql~", "notes.txt"}) {
    std::string why = "unset";
    EXPECT_FALSE(parse_file_name(name, &why)) << name;
    EXPECT_EQ(why, "") << name;
  }
}

TEST(FileName, MalformedSqlNamesExplainWhy) {
  for (const char* name : {"create_users.sql", "0001.sql", "0001_.sql", "0001-x.sql", "0001_a b.sql",
                           "0001_x.mysql.sql", "1234567890123456789_x.sql"}) {
    std::string why;
    EXPECT_FALSE(parse_file_name(name, &why)) << name;
    EXPECT_FALSE(why.empty()) << name;
  }
}

class SourceDir : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("strata_source_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  std::string load_error(Engine engine = Engine::sqlite) {
    try {
      load_directory(dir_, engine);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::source);
      return e.what();
    }
    ADD_FAILURE() << "expected a source error";
    return {};
  }
  fs::path dir_;
};

TEST_F(SourceDir, OrdersNumericallyAndLinksParents) {
  write("10_ten.sql", "SELECT 10;");
  write("9_nine.sql", "SELECT 9;");
  write("0100_hundred.sql", "SELECT 100;");
  write("README.md", "not a migration");
  auto set = load_directory(dir_, Engine::sqlite);
  ASSERT_EQ(set.all().size(), 3u);
  EXPECT_EQ(set.all()[0].version, 9);
  EXPECT_EQ(set.all()[1].version, 10);
  EXPECT_EQ(set.all()[2].version, 100);
  EXPECT_TRUE(set.all()[0].parents.empty());
  EXPECT_EQ(set.all()[1].parents, std::vector<Version>{9});
  EXPECT_EQ(set.all()[2].parents, std::vector<Version>{10});
  EXPECT_EQ(set.all()[1].checksum.size(), 96u);
}

// A large directory is read on two threads: the result, and the order of the
// problems reported, must not depend on which thread read what.
TEST_F(SourceDir, LargeDirectoriesLoadTheSameOnTwoThreads) {
  constexpr int count = 500;
  auto name = [](int v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%04d_m%d.sql", v, v);
    return std::string(buf);
  };
  for (int v = 1; v <= count; ++v) write(name(v), "SELECT " + std::to_string(v) + ";\n");
  for (int round = 0; round < 5; ++round) {
    auto set = load_directory(dir_, Engine::postgres);
    ASSERT_EQ(set.all().size(), static_cast<std::size_t>(count));
    for (int v = 1; v <= count; ++v) {
      const Migration& m = set.all()[static_cast<std::size_t>(v - 1)];
      ASSERT_EQ(m.version, v);
      EXPECT_EQ(m.sql, "SELECT " + std::to_string(v) + ";\n");
      EXPECT_EQ(m.checksum, checksum(m.sql));
      EXPECT_EQ(m.parents, v == 1 ? std::vector<Version>{} : std::vector<Version>{v - 1});
    }
  }
  for (int v : {7, 250, 499}) write(name(v), "SELECT '\xff';\n");
  for (int round = 0; round < 5; ++round) {
    std::string e = load_error();
    auto at7 = e.find(name(7) + ":1:9");
    auto at250 = e.find(name(250) + ":1:9");
    auto at499 = e.find(name(499) + ":1:9");
    ASSERT_NE(at7, std::string::npos) << e;
    ASSERT_NE(at250, std::string::npos) << e;
    ASSERT_NE(at499, std::string::npos) << e;
    EXPECT_LT(at7, at250);
    EXPECT_LT(at250, at499);
    EXPECT_NE(e.find("has 3 problems"), std::string::npos) << e;
  }
}

TEST_F(SourceDir, EngineVariantWinsOverGenericOnItsEngine) {
  write("0001_init.sql", "SELECT 'generic';");
  write("0001_init.postgres.sql", "SELECT 'pg';");
  EXPECT_EQ(load_directory(dir_, Engine::postgres).all().at(0).sql, "SELECT 'pg';");
  EXPECT_EQ(load_directory(dir_, Engine::sqlite).all().at(0).sql, "SELECT 'generic';");
}

TEST_F(SourceDir, EngineOnlyVersionIsAbsentOnTheOtherEngine) {
  write("0001_a.sql", "SELECT 1;");
  write("0002_pg_only.sql.postgres", "SELECT 2;");
  EXPECT_EQ(load_directory(dir_, Engine::sqlite).all().size(), 1u);
  EXPECT_EQ(load_directory(dir_, Engine::postgres).all().size(), 2u);
}

TEST_F(SourceDir, DuplicateVersionNamesBothFiles) {
  write("0001_a.sql", "SELECT 1;");
  write("001_b.sql", "SELECT 1;");
  std::string e = load_error();
  EXPECT_NE(e.find("0001_a.sql"), std::string::npos) << e;
  EXPECT_NE(e.find("001_b.sql"), std::string::npos) << e;
}

TEST_F(SourceDir, SameVersionSpelledTwiceForOneEngine) {
  write("0001_a.postgres.sql", "SELECT 1;");
  write("0001_a.sql.postgres", "SELECT 1;");
  std::string e = load_error(Engine::postgres);
  EXPECT_NE(e.find("claimed twice"), std::string::npos) << e;
}

TEST_F(SourceDir, DescriptionsMustAgreeAcrossEngineVariants) {
  write("0001_a.sql", "SELECT 1;");
  write("0001_b.postgres.sql", "SELECT 1;");
  std::string e = load_error(Engine::sqlite);
  EXPECT_NE(e.find("0001_b.postgres.sql"), std::string::npos) << e;
}

TEST_F(SourceDir, ReversiblePair) {
  write("0001_a.up.sql", "CREATE TABLE a (x INT);");
  write("0001_a.down.sql", "DROP TABLE a;");
  auto set = load_directory(dir_, Engine::sqlite);
  ASSERT_EQ(set.all().size(), 1u);
  EXPECT_TRUE(set.all()[0].reversible());
  EXPECT_TRUE(set.all()[0].down_sql.empty());  // read when a revert needs it
  EXPECT_EQ(down_sql(set.all()[0]), "DROP TABLE a;");
}

TEST_F(SourceDir, DownWithoutUpIsAnError) {
  write("0001_a.down.sql", "DROP TABLE a;");
  EXPECT_NE(load_error().find("without its up file"), std::string::npos);
}

TEST_F(SourceDir, PlainFileWithDownMustSayUp) {
  write("0001_a.sql", "CREATE TABLE a (x INT);");
  write("0001_a.down.sql", "DROP TABLE a;");
  EXPECT_NE(load_error().find("0001_a.up.sql"), std::string::npos);
}

TEST_F(SourceDir, MalformedNameIsAnErrorListingEveryProblem) {
  write("0001_ok.sql", "SELECT 1;");
  write("create_users.sql", "SELECT 1;");
  write("0002_x.foo.sql", "SELECT 1;");
  std::string e = load_error();
  EXPECT_NE(e.find("create_users.sql"), std::string::npos) << e;
  EXPECT_NE(e.find("0002_x.foo.sql"), std::string::npos) << e;
  EXPECT_NE(e.find("2 problems"), std::string::npos) << e;
}

TEST_F(SourceDir, InvalidUtf8NamesFileLineAndColumn) {
  write("0001_bad.sql", "SELECT 1;\nSELECT '\xff';\n");
  std::string e = load_error();
  EXPECT_NE(e.find("0001_bad.sql:2:9"), std::string::npos) << e;
  EXPECT_NE(e.find("UTF-8"), std::string::npos) << e;
}

TEST_F(SourceDir, MissingDirectory) {
  try {
    load_directory(dir_ / "nope", Engine::sqlite);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::source);
    EXPECT_NE(std::string(e.what()).find("does not exist"), std::string::npos);
  }
}

TEST_F(SourceDir, UnreadableFile) {
  if (::geteuid() == 0) GTEST_SKIP() << "root can read any file";
  write("0001_a.sql", "SELECT 1;");
  fs::permissions(dir_ / "0001_a.sql", fs::perms::none);
  EXPECT_NE(load_error().find("cannot be read"), std::string::npos);
}

TEST_F(SourceDir, EmptyDirectoryIsAnError) {
  write("README.md", "no migrations here");
  EXPECT_NE(load_error().find("no migration files"), std::string::npos);
}

TEST_F(SourceDir, DanglingSymlinkIsUnreadableEvenForRoot) {
  write("0001_a.sql", "SELECT 1;");
  fs::create_symlink(dir_ / "nowhere.sql", dir_ / "0002_b.sql");
  EXPECT_NE(load_error().find("0002_b.sql: cannot be read"), std::string::npos);
}

TEST(Checksum, LineEndingsAndBomDoNotCount) {
  std::string lf = "CREATE TABLE a (x INT);\nINSERT INTO a VALUES (1);\n";
  std::string crlf = "CREATE TABLE a (x INT);\r\nINSERT INTO a VALUES (1);\r\n";
  std::string bom = "\xEF\xBB\xBF" + crlf;
  EXPECT_EQ(checksum(lf), checksum(crlf));
  EXPECT_EQ(checksum(lf), checksum(bom));
  EXPECT_NE(checksum(lf), checksum(lf + " "));
  EXPECT_NE(checksum("a\rb"), checksum("a\nb"));  // a lone CR is content
  // SHA-384 of the empty string.
  EXPECT_EQ(checksum(""),
            "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b");
  // FIPS 180-4's "abc" vector, and a CRLF hashed as the LF it stands for
  // (sha384sum of "a\nb"): recorded checksums must never change.
  EXPECT_EQ(checksum("abc"),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(checksum("a\r\nb"),
            "ced84cf901a39ae41d42dad2ab7b0f23990aeace44ae812052d96053083f693989fc05a8ae60f406e49deaf20a347c46");
}


// The stat cache (SourceOptions::cache_dir). Files must be older than a
// second to be stored (git's racy rule), hence the one sleep.
class SourceCacheTest : public SourceDir {
 protected:
  SourceOptions cached() {
    SourceOptions o;
    o.cache_dir = dir_ / "cache";
    return o;
  }
  fs::path migrations() { return dir_ / "m"; }
  void put(const std::string& name, const std::string& text) {
    fs::create_directories(migrations());
    std::ofstream(migrations() / name, std::ios::binary) << text;
  }
  static std::size_t deferred(const MigrationSet& set) {
    std::size_t n = 0;
    for (const auto& m : set.all()) n += m.sql_deferred;
    return n;
  }
};

TEST_F(SourceCacheTest, UnchangedFilesAreNotReadAgain) {
  put("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  put("0002_b.sql", "CREATE TABLE b (id INTEGER);\n");
  put("0003_c.sql", "-- strata: parents 1\n-- strata: branch side\nCREATE TABLE c (id INTEGER);\n");
  const MigrationSet fresh = load_directory(migrations(), Engine::sqlite, cached());
  EXPECT_EQ(deferred(fresh), 0u);
  EXPECT_FALSE(fs::exists(dir_ / "cache")) << "files modified within the last second were stored";

  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const MigrationSet first = load_directory(migrations(), Engine::sqlite, cached());
  EXPECT_EQ(deferred(first), 0u);
  ASSERT_TRUE(fs::exists(dir_ / "cache"));
  EXPECT_EQ(fs::status(dir_ / "cache").permissions() & fs::perms::all, fs::perms::owner_all);
  for (const auto& e : fs::directory_iterator(dir_ / "cache")) {
    EXPECT_EQ(e.status().permissions() & fs::perms::all, fs::perms::owner_read | fs::perms::owner_write);
  }

  const MigrationSet second = load_directory(migrations(), Engine::sqlite, cached());
  EXPECT_EQ(deferred(second), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const Migration& a = first.all()[i];
    const Migration& b = second.all()[i];
    EXPECT_EQ(a.checksum, b.checksum);
    EXPECT_EQ(a.parents, b.parents);  // the header's directives, from the cache
    EXPECT_EQ(a.branch, b.branch);
    EXPECT_EQ(up_sql(b), a.sql);
    EXPECT_FALSE(b.sql_deferred);
  }
  EXPECT_EQ(second.find(3)->branch, "side");

  // An edit of the same size is a miss (ctime and mtime moved).
  put("0002_b.sql", "CREATE TABLE B (id INTEGER);\n");
  const MigrationSet third = load_directory(migrations(), Engine::sqlite, cached());
  EXPECT_FALSE(third.find(2)->sql_deferred);
  EXPECT_NE(third.find(2)->checksum, first.find(2)->checksum);
  EXPECT_TRUE(third.find(1)->sql_deferred);
}

TEST_F(SourceCacheTest, AFileEditedAfterLoadingIsRefusedWhenRead) {
  put("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  load_directory(migrations(), Engine::sqlite, cached());
  const MigrationSet set = load_directory(migrations(), Engine::sqlite, cached());
  ASSERT_TRUE(set.find(1)->sql_deferred);
  put("0001_a.sql", "DROP TABLE everything;\n");
  try {
    up_sql(*set.find(1));
    ADD_FAILURE() << "an edited file was taken";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::source);
    EXPECT_NE(std::string(e.what()).find("changed while strata was running"), std::string::npos) << e.what();
  }
}

TEST_F(SourceCacheTest, ABrokenOrUnwritableCacheIsIgnored) {
  put("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  load_directory(migrations(), Engine::sqlite, cached());
  for (const auto& e : fs::directory_iterator(dir_ / "cache")) {
    std::ofstream(e.path(), std::ios::binary) << "garbage\tnot a cache\n";
  }
  const MigrationSet set = load_directory(migrations(), Engine::sqlite, cached());
  EXPECT_EQ(deferred(set), 0u);
  EXPECT_EQ(up_sql(*set.find(1)), "CREATE TABLE a (id INTEGER);\n");

  SourceOptions blocked;
  blocked.cache_dir = migrations() / "0001_a.sql" / "cache";  // under a file: cannot be created
  EXPECT_EQ(deferred(load_directory(migrations(), Engine::sqlite, blocked)), 0u);
}

}  // namespace
}  // namespace strata
