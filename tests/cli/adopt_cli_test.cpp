// strata adopt on both engines: alembic, mautrix, dbmate, golang-migrate and
// flyway tables written as those tools write them; strata records the same
// migrations (running nothing), --dry-run writes nothing, and bad input
// (an unknown revision, a changed Flyway checksum, a dirty row, a history
// that already has rows) is refused with nothing written.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "strata/adopt.hpp"
#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
using test::RunResult;

class AdoptCli : public test::MigrationsTest {
 protected:
  RunResult run(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"-d", db().url()});
    return test::run_strata(dir(), args);
  }
  std::vector<Version> recorded_versions() {
    auto c = db().connect();
    return recorded(*c);
  }
  void sql(const std::string& text) { db().connect()->execute(text); }
  std::string boolean(bool v) const { return engine() == Engine::sqlite ? (v ? "1" : "0") : (v ? "true" : "false"); }
  // Three files; the tables of the first two exist, as another tool left them.
  void three(const std::string& a = "", const std::string& b = "", const std::string& c = "") {
    add("0001_a.sql", a + "CREATE TABLE a (id INTEGER);\n");
    add("0002_b.sql", b + "CREATE TABLE b (id INTEGER);\r\n-- two\r\n");
    add("0003_c.sql", c + "CREATE TABLE c (id INTEGER);\n");
    sql("CREATE TABLE a (id INTEGER)");
    sql("CREATE TABLE b (id INTEGER)");
  }
  // adopt, then up applies only 3.
  void expect_adopted(const std::string& tool, const std::vector<Version>& expected) {
    RunResult dry = run({"adopt", tool, "--dry-run", "--json"});
    ASSERT_EQ(dry.code, 0) << dry.err;
    EXPECT_EQ(nlohmann::json::parse(dry.out)["recorded"], nlohmann::json(expected)) << dry.out;
    EXPECT_TRUE(recorded_versions().empty()) << "--dry-run wrote";
    RunResult r = run({"adopt", tool});
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_EQ(recorded_versions(), expected);
    RunResult again = run({"adopt", tool});
    EXPECT_EQ(again.code, 2) << "a second adoption must refuse: " << again.err;
    EXPECT_NE(again.err.find("already records"), std::string::npos) << again.err;
    RunResult up = run({"up", "--json"});
    ASSERT_EQ(up.code, 0) << up.err;
    EXPECT_EQ(nlohmann::json::parse(up.out)["applied"].size(), 3 - expected.size()) << up.out;
  }
};

TEST_P(AdoptCli, Alembic) {
  three("-- strata: alembic-revision ae1027a6acf\n", "-- strata: alembic-revision 27c6a30d7c24\n",
        "-- strata: alembic-revision 3cb9c1e54b5f\n");
  sql("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY "
      "(version_num))");
  sql("INSERT INTO alembic_version (version_num) VALUES ('feedbeef')");
  RunResult unknown = run({"adopt", "alembic"});
  EXPECT_EQ(unknown.code, 7) << unknown.err;
  EXPECT_NE(unknown.err.find("revision feedbeef, which no migration carries"), std::string::npos) << unknown.err;
  EXPECT_TRUE(recorded_versions().empty());
  sql("UPDATE alembic_version SET version_num = '27c6a30d7c24'");
  expect_adopted("alembic", {1, 2});
  // Alembic revisions are targets too (a unique prefix).
  EXPECT_EQ(run({"history", "-r", "27c6:3cb9"}).out.find("0001"), std::string::npos);
}

TEST_P(AdoptCli, Mautrix) {
  three();
  sql("CREATE TABLE version (version INTEGER, compat INTEGER)");
  sql("INSERT INTO version (version, compat) VALUES (2, 1)");
  expect_adopted("mautrix", {1, 2});
}

TEST_P(AdoptCli, Dbmate) {
  three();
  sql("CREATE TABLE schema_migrations (version VARCHAR(128) PRIMARY KEY)");
  sql("INSERT INTO schema_migrations (version) VALUES ('0002'), ('0001')");
  expect_adopted("dbmate", {1, 2});
}

TEST_P(AdoptCli, GolangMigrate) {
  three();
  sql("CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, dirty BOOLEAN NOT NULL)");
  sql("INSERT INTO schema_migrations (version, dirty) VALUES (2, " + boolean(true) + ")");
  RunResult dirty = run({"adopt", "golang-migrate"});
  EXPECT_EQ(dirty.code, 9) << dirty.err;
  EXPECT_NE(dirty.err.find("dirty"), std::string::npos) << dirty.err;
  EXPECT_TRUE(recorded_versions().empty());
  sql("UPDATE schema_migrations SET dirty = " + boolean(false));
  expect_adopted("golang-migrate", {1, 2});
}

TEST_P(AdoptCli, FlywayChecksumsAreChecked) {
  three();
  // Flyway's checksums of the two files (CRC-32 of the lines without their
  // breaks, signed), computed independently.
  EXPECT_EQ(flyway_checksum(test::read_file(migrations() / "0001_a.sql")), -59897099);
  EXPECT_EQ(flyway_checksum(test::read_file(migrations() / "0002_b.sql")), 1859041496);
  sql("CREATE TABLE flyway_schema_history (installed_rank INT NOT NULL PRIMARY KEY, version VARCHAR(50), "
      "description VARCHAR(200) NOT NULL, type VARCHAR(20) NOT NULL, script VARCHAR(1000) NOT NULL, checksum INT, "
      "installed_by VARCHAR(100) NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, "
      "execution_time INT NOT NULL, success BOOLEAN NOT NULL)");
  sql("INSERT INTO flyway_schema_history (installed_rank, version, description, type, script, checksum, "
      "installed_by, execution_time, success) VALUES (1, '1', 'a', 'SQL', 'V1__a.sql', -59897099, 'app', 3, " +
      boolean(true) + "), (2, '2', 'b', 'SQL', 'V2__b.sql', 12345, 'app', 3, " + boolean(true) + ")");
  RunResult changed = run({"adopt", "flyway"});
  EXPECT_EQ(changed.code, 7) << changed.err;
  EXPECT_NE(changed.err.find("0002_b.sql: Flyway recorded checksum 12345"), std::string::npos) << changed.err;
  EXPECT_TRUE(recorded_versions().empty());
  sql("UPDATE flyway_schema_history SET checksum = 1859041496 WHERE version = '2'");
  expect_adopted("flyway", {1, 2});
}

TEST_P(AdoptCli, MissingTableIsAClearError) {
  three();
  RunResult r = run({"adopt", "flyway"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("no flyway table"), std::string::npos) << r.err;
}

STRATA_INSTANTIATE_ENGINES(AdoptCli);

TEST(FlywayChecksum, BomAndLineBreaks) {
  EXPECT_EQ(flyway_checksum("\xEF\xBB\xBF" "CREATE TABLE a (id INTEGER);\n"), -59897099);
  EXPECT_EQ(flyway_checksum("CREATE TABLE a (id INTEGER);\r\n"), -59897099);
  EXPECT_EQ(flyway_checksum("CREATE TABLE a (id INTEGER);"), -59897099);
}

}  // namespace
}  // namespace strata
