// --history-format sqlx on both engines: a database whose _sqlx_migrations
// was written the way sqlx writes it is up to date for strata, and the rows
// strata adds have sqlx's types, description and checksum (SHA-384 of the
// file's raw bytes: a BOM and CRLF line endings count), so sqlx's own
// validation stays green. Also: a migration that deletes rows of the table
// (as matrix-authentication-service's do), the 32-digit allow-list form, and
// the error for sqlx's table read in strata's format.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <openssl/sha.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "migration/lock.hpp"
#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
using test::RunResult;

std::string sha384_hex(const std::string& bytes) {
  unsigned char d[SHA384_DIGEST_LENGTH];
  SHA384(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), d);
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : d) {
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

class SqlxHistory : public test::MigrationsTest {
 protected:
  RunResult run(std::vector<std::string> args) {
    args.insert(args.begin() + 1, {"-d", db().url(), "--history-format", "sqlx"});
    return test::run_strata(dir(), args);
  }
  bool lite() const { return engine() == Engine::sqlite; }
  // The table and rows exactly as sqlx creates and inserts them.
  void sqlx_applied(Connection& c, Version v, const std::string& description, const std::string& file) {
    const std::string hex = sha384_hex(test::read_file(migrations() / file));
    c.execute("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (" +
              std::to_string(v) + ", '" + description + "', " + (lite() ? "1" : "true") + ", " +
              (lite() ? "X'" + hex + "'" : "'\\x" + hex + "'::bytea") + ", 1234567)");
  }
  std::string stored_checksum(Connection& c, Version v) {
    return c.query(std::string("SELECT ") + (lite() ? "lower(hex(checksum))" : "encode(checksum, 'hex')") +
                   " FROM _sqlx_migrations WHERE version = " + std::to_string(v))
        .rows.at(0)
        .get<std::string>(0);
  }
};

TEST_P(SqlxHistory, ReadsAndWritesSqlxRowsAsSqlxDoes) {
  // A BOM and CRLF: sqlx hashes the raw bytes, strata normalises; both must agree.
  add("20240101000000_create_a.sql", "\xEF\xBB\xBF" "CREATE TABLE a (id INTEGER);\r\n");
  add("20240102000000_create_b.sql", "CREATE TABLE b (id INTEGER);\n");
  {
    auto c = db().connect();
    c->execute(lite() ? "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT "
                        "NOT NULL, installed_on TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, success BOOLEAN NOT "
                        "NULL, checksum BLOB NOT NULL, execution_time BIGINT NOT NULL)"
                      : "CREATE TABLE IF NOT EXISTS _sqlx_migrations (version BIGINT PRIMARY KEY, description TEXT "
                        "NOT NULL, installed_on TIMESTAMPTZ NOT NULL DEFAULT now(), success BOOLEAN NOT NULL, "
                        "checksum BYTEA NOT NULL, execution_time BIGINT NOT NULL)");
    c->execute("CREATE TABLE a (id INTEGER)");
    c->execute("CREATE TABLE b (id INTEGER)");
    sqlx_applied(*c, 20240101000000, "create a", "20240101000000_create_a.sql");
    sqlx_applied(*c, 20240102000000, "create b", "20240102000000_create_b.sql");
  }
  RunResult status = run({"status", "--json"});
  ASSERT_EQ(status.code, 0) << status.err;
  auto j = nlohmann::json::parse(status.out);
  ASSERT_EQ(j["migrations"].size(), 2u);
  for (const auto& m : j["migrations"]) EXPECT_EQ(m["state"], "applied") << status.out;
  RunResult noop = run({"up"});
  ASSERT_EQ(noop.code, 0) << noop.err;
  EXPECT_NE(noop.out.find("up to date"), std::string::npos) << noop.out;

  // A new migration, written back in sqlx's form.
  add("20240103000000_add_c_table.sql", "CREATE TABLE c (id INTEGER);\r\n");
  RunResult up = run({"up"});
  ASSERT_EQ(up.code, 0) << up.err;
  auto c = db().connect();
  EXPECT_EQ(stored_checksum(*c, 20240103000000), sha384_hex(test::read_file(migrations() / "20240103000000_add_c_table.sql")));
  auto row = c->query("SELECT description, execution_time FROM _sqlx_migrations WHERE version = 20240103000000").rows.at(0);
  EXPECT_EQ(row.get<std::string>(0), "add c table");
  EXPECT_GT(row.get<std::int64_t>(1), 1000) << "execution_time is in nanoseconds";
  if (lite()) {
    auto types = c->query("SELECT typeof(checksum), typeof(success), typeof(installed_on) FROM _sqlx_migrations "
                          "WHERE version = 20240103000000").rows.at(0);
    EXPECT_EQ(types.get<std::string>(0), "blob");
    EXPECT_EQ(types.get<std::string>(1), "integer");
    EXPECT_EQ(types.get<std::string>(2), "text");
  } else {
    auto types = c->query("SELECT pg_typeof(checksum)::text, pg_typeof(success)::text, pg_typeof(installed_on)::text "
                          "FROM _sqlx_migrations WHERE version = 20240103000000").rows.at(0);
    EXPECT_EQ(types.get<std::string>(0), "bytea");
    EXPECT_EQ(types.get<std::string>(1), "boolean");
    EXPECT_EQ(types.get<std::string>(2), "timestamp with time zone");
  }
  // strata's own table was never created.
  EXPECT_FALSE(test::table_exists(*c, "strata_migrations"));

  // A migration that deletes rows of _sqlx_migrations (another tool's, here
  // an extra row), as matrix-authentication-service's do.
  c->execute("INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES "
             "(1, 'apalis', " + std::string(lite() ? "1, X'00'" : "true, '\\x00'::bytea") + ", 0)");
  add("20240104000000_drop_apalis.sql", "DELETE FROM _sqlx_migrations WHERE version = 1;\n");
  RunResult deleting = run({"up", "--ignore-missing"});
  ASSERT_EQ(deleting.code, 0) << deleting.err;
  EXPECT_TRUE(c->query("SELECT 1 FROM _sqlx_migrations WHERE version = 1").rows.empty());
  EXPECT_EQ(c->query("SELECT count(*) FROM _sqlx_migrations").rows.at(0).get<std::int64_t>(0), 4);
}

TEST_P(SqlxHistory, AllowListTakesTheFirst32HexDigits) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  ASSERT_EQ(run({"up"}).code, 0);
  std::string recorded;
  {
    auto c = db().connect();
    recorded = stored_checksum(*c, 1);
  }
  add("0001_a.sql", "CREATE TABLE a (id INTEGER); -- edited\n");
  RunResult refused = run({"up"});
  EXPECT_EQ(refused.code, 7) << refused.err;
  EXPECT_NE(refused.err.find("was changed after it was applied"), std::string::npos) << refused.err;
  RunResult allowed = run({"up", "--allow-checksum", "1:" + recorded.substr(0, 32)});
  EXPECT_EQ(allowed.code, 0) << allowed.err;
  EXPECT_NE(allowed.err.find("allow-list"), std::string::npos) << allowed.err;
}

TEST_P(SqlxHistory, SqlxTableReadAsStrataIsAClearError) {
  add("0001_a.sql", "CREATE TABLE a (id INTEGER);\n");
  ASSERT_EQ(run({"up"}).code, 0);
  RunResult r = test::run_strata(dir(), {"status", "-d", db().url(), "--history-table", "_sqlx_migrations"});
  EXPECT_EQ(r.code, 3) << r.err;
  EXPECT_NE(r.err.find("installed_on"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--history-format sqlx"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("SELECT version"), std::string::npos) << "not the failed SELECT alone: " << r.err;
}

// sqlx hashes raw bytes: a file the stat cache vouches for (not read on a
// no-op) must still be compared by its raw form. Files older than a second
// are cached, hence the sleep.
TEST_P(SqlxHistory, StatCacheKeepsRawChecksums) {
  add("20240101000000_create_a.sql", "\xEF\xBB\xBF" "CREATE TABLE a (id INTEGER);\r\n");
  ASSERT_EQ(run({"up"}).code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  for (int i = 0; i < 3; ++i) {  // stores the cache, then reads through it
    RunResult status = run({"validate"});
    EXPECT_EQ(status.code, 0) << "run " << i << ": " << status.err;
  }
  EXPECT_TRUE(std::filesystem::exists(dir() / ".strata-cache"));
}

STRATA_INSTANTIATE_ENGINES(SqlxHistory);

TEST(SqlxLock, KeyIsSqlxs) {
  // Values of 0x3d32ad9e * crc32(name) as sqlx computes them.
  EXPECT_EQ(sqlx_advisory_lock_key("zone"), 2771974297191923538LL);
  EXPECT_EQ(sqlx_advisory_lock_key("zone_test"), 1283835657316171598LL);
}

}  // namespace
}  // namespace strata
