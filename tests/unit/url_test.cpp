#include <gtest/gtest.h>

#include "strata/error.hpp"
#include "strata/url.hpp"
#include "strata/value.hpp"

namespace strata {
namespace {

::testing::AssertionResult contains(const std::string& text, std::string_view part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" is not in \"" << text << "\"";
}

::testing::AssertionResult lacks(const std::string& text, std::string_view part) {
  if (text.find(part) == std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << part << "\" is in \"" << text << "\"";
}

ErrorKind kind_of(std::string_view url) {
  try {
    DatabaseUrl::parse(url);
  } catch (const Error& e) {
    return e.kind();
  }
  ADD_FAILURE() << "no error for " << url;
  return ErrorKind::internal;
}

std::string message_of(std::string_view url) {
  try {
    DatabaseUrl::parse(url);
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for " << url;
  return {};
}

TEST(DatabaseUrl, SqliteRelative) {
  auto u = DatabaseUrl::parse("sqlite:data/app.db");
  EXPECT_EQ(u.engine, Engine::sqlite);
  EXPECT_EQ(u.sqlite_path, "data/app.db");
  EXPECT_EQ(u.text, "sqlite:data/app.db");
  EXPECT_FALSE(u.is_memory());
}

TEST(DatabaseUrl, SqliteAbsolute) {
  EXPECT_EQ(DatabaseUrl::parse("sqlite:/var/lib/app.db").sqlite_path, "/var/lib/app.db");
}

TEST(DatabaseUrl, SqliteUrlStyleAbsolute) {
  EXPECT_EQ(DatabaseUrl::parse("sqlite:///var/lib/app.db").sqlite_path, "/var/lib/app.db");
}

TEST(DatabaseUrl, SqliteDoubleSlashIsRelative) {
  EXPECT_EQ(DatabaseUrl::parse("sqlite://app.db").sqlite_path, "app.db");
  EXPECT_EQ(DatabaseUrl::parse("sqlite://dir/app.db").sqlite_path, "dir/app.db");
}

TEST(DatabaseUrl, SqliteMemory) {
  auto u = DatabaseUrl::parse("sqlite::memory:");
  EXPECT_EQ(u.engine, Engine::sqlite);
  EXPECT_TRUE(u.is_memory());
  EXPECT_TRUE(DatabaseUrl::parse("sqlite://:memory:").is_memory());
}

TEST(DatabaseUrl, SchemeIsCaseInsensitiveAndWhitespaceIgnored) {
  EXPECT_EQ(DatabaseUrl::parse("  SQLite:app.db\n").sqlite_path, "app.db");
  EXPECT_EQ(DatabaseUrl::parse("PostgreSQL://h/db").engine, Engine::postgres);
}

TEST(DatabaseUrl, SqlitePathsAreLiteral) {
  EXPECT_EQ(DatabaseUrl::parse("sqlite:my%20file.db").sqlite_path, "my%20file.db");
  EXPECT_EQ(DatabaseUrl::parse("sqlite:with space.db").sqlite_path, "with space.db");
}

TEST(DatabaseUrl, SqliteQueryStringIsAnError) {
  EXPECT_EQ(kind_of("sqlite:app.db?mode=ro"), ErrorKind::config);
  EXPECT_TRUE(contains(message_of("sqlite:app.db?mode=ro"), "query string"));
}

TEST(DatabaseUrl, SqliteWithoutPathIsAnError) {
  EXPECT_EQ(kind_of("sqlite:"), ErrorKind::config);
  EXPECT_EQ(kind_of("sqlite://"), ErrorKind::config);
  EXPECT_EQ(kind_of("sqlite:///"), ErrorKind::config);
  EXPECT_EQ(kind_of("sqlite:dir/"), ErrorKind::config);
}

TEST(DatabaseUrl, PostgresUrlsAreKeptAsGiven) {
  for (const char* text : {"postgres://u@localhost/db", "postgresql://u:pw@h:5433/db?sslmode=disable",
                           "postgresql:///db?host=/var/run/postgresql", "postgresql://h1:5432,h2:5432/db"}) {
    auto u = DatabaseUrl::parse(text);
    EXPECT_EQ(u.engine, Engine::postgres) << text;
    EXPECT_EQ(u.text, text);
    EXPECT_TRUE(u.sqlite_path.empty());
  }
}

TEST(DatabaseUrl, PostgresSchemeNeedsDoubleSlash) {
  EXPECT_EQ(kind_of("postgres:db"), ErrorKind::config);
}

TEST(DatabaseUrl, ConninfoStringsArePostgres) {
  auto u = DatabaseUrl::parse("host=localhost dbname=app user=me");
  EXPECT_EQ(u.engine, Engine::postgres);
  EXPECT_EQ(u.text, "host=localhost dbname=app user=me");
  EXPECT_EQ(DatabaseUrl::parse("dbname = app").engine, Engine::postgres);
}

TEST(DatabaseUrl, UnknownSchemesAreConfigErrorsListingTheAccepted) {
  EXPECT_EQ(kind_of("mysql://root:pw@localhost/db"), ErrorKind::config);
  EXPECT_EQ(kind_of("app.db"), ErrorKind::config);
  EXPECT_EQ(kind_of("/tmp/app.db"), ErrorKind::config);
  EXPECT_EQ(kind_of(""), ErrorKind::config);
  std::string m = message_of("mysql://root:pw@localhost/db");
  EXPECT_TRUE(contains(m, "sqlite:"));
  EXPECT_TRUE(contains(m, "postgresql://"));
  EXPECT_TRUE(contains(m, "mysql://root:***@localhost/db"));
  EXPECT_TRUE(lacks(m, ":pw@"));
}

TEST(DatabaseUrl, ErrorsNeverShowThePassword) {
  EXPECT_TRUE(lacks(message_of("mysql://u:hunter2@h/db"), "hunter2"));
  EXPECT_TRUE(lacks(message_of("foo:bar password=hunter2"), "hunter2"));
}

TEST(DatabaseUrl, Redacted) {
  EXPECT_EQ(DatabaseUrl::parse("postgresql://user:secret@host/db").redacted(), "postgresql://user:***@host/db");
  EXPECT_EQ(DatabaseUrl::parse("postgres://user@host/db").redacted(), "postgres://user@host/db");
  EXPECT_EQ(DatabaseUrl::parse("sqlite:app.db").redacted(), "sqlite:app.db");
  EXPECT_EQ(DatabaseUrl::parse("host=h password=secret dbname=d").redacted(), "host=h password=*** dbname=d");
}

TEST(RedactPasswords, UrlUserinfo) {
  EXPECT_EQ(redact_passwords("postgresql://user:secret@host:5432/db"), "postgresql://user:***@host:5432/db");
  EXPECT_EQ(redact_passwords("postgresql://:secret@host/db"), "postgresql://:***@host/db");
  EXPECT_EQ(redact_passwords("postgresql://user:@host/db"), "postgresql://user:***@host/db");
  EXPECT_EQ(redact_passwords("postgresql://user@host/db"), "postgresql://user@host/db");
  EXPECT_EQ(redact_passwords("postgresql://host:5432/db"), "postgresql://host:5432/db");
  EXPECT_EQ(redact_passwords("postgresql://u:p@h1:1,h2:2/db"), "postgresql://u:***@h1:1,h2:2/db");
  EXPECT_EQ(redact_passwords("postgresql://u:p@[::1]:5432/db"), "postgresql://u:***@[::1]:5432/db");
}

TEST(RedactPasswords, UnencodedSpecialCharactersInThePassword) {
  EXPECT_EQ(redact_passwords("postgresql://u:p@ss@host/db"), "postgresql://u:***@host/db");
  EXPECT_EQ(redact_passwords("postgresql://u:pa/ss@host/db"), "postgresql://u:***@host/db");
  EXPECT_EQ(redact_passwords("postgresql://u:pa?ss@host/db"), "postgresql://u:***@host/db");
  EXPECT_EQ(redact_passwords("postgresql://u:pa%40ss@host/db"), "postgresql://u:***@host/db");
}

TEST(RedactPasswords, UrlsInsideText) {
  EXPECT_EQ(redact_passwords("cannot connect to postgresql://a:b@h/d: refused; also \"postgres://c:d@h\""),
            "cannot connect to postgresql://a:***@h/d: refused; also \"postgres://c:***@h\"");
}

TEST(RedactPasswords, QueryParameters) {
  EXPECT_EQ(redact_passwords("postgresql://h/db?password=secret"), "postgresql://h/db?password=***");
  EXPECT_EQ(redact_passwords("postgresql://h/db?sslmode=disable&password=secret&user=u"),
            "postgresql://h/db?sslmode=disable&password=***&user=u");
  EXPECT_EQ(redact_passwords("postgresql://u:a@h/db?password=b"), "postgresql://u:***@h/db?password=***");
}

TEST(RedactPasswords, ConninfoPairs) {
  EXPECT_EQ(redact_passwords("host=h password=secret user=u"), "host=h password=*** user=u");
  EXPECT_EQ(redact_passwords("password=secret"), "password=***");
  EXPECT_EQ(redact_passwords("host=h password = secret"), "host=h password = ***");
  EXPECT_EQ(redact_passwords("host=h password='se cr\\'et' user=u"), "host=h password=*** user=u");
  EXPECT_EQ(redact_passwords("PASSWORD=secret"), "PASSWORD=***");
  EXPECT_EQ(redact_passwords("sslpassword=secret"), "sslpassword=***");
}

TEST(RedactPasswords, LeavesOtherTextAlone) {
  EXPECT_EQ(redact_passwords(""), "");
  EXPECT_EQ(redact_passwords("no secrets here"), "no secrets here");
  EXPECT_EQ(redact_passwords("the password is required"), "the password is required");
  EXPECT_EQ(redact_passwords("sqlite:/tmp/app.db"), "sqlite:/tmp/app.db");
  EXPECT_EQ(redact_passwords("password="), "password=");
}

TEST(EngineNames, ToString) {
  EXPECT_STREQ(to_string(Engine::sqlite), "sqlite");
  EXPECT_STREQ(to_string(Engine::postgres), "postgres");
}

// Error and Value are tested here too: they are pure.
TEST(ErrorText, SqlErrorsNameTheCodeAndMessage) {
  Error e(ErrorKind::sql, "syntax error at or near \"SELEC\"", "42601", "SELEC 1");
  EXPECT_STREQ(e.what(), "SQL error 42601: syntax error at or near \"SELEC\"");
  EXPECT_EQ(e.sql_offset(), -1);
  e.set_sql_offset(0);
  EXPECT_EQ(std::string(e.what()), "SQL error 42601: syntax error at or near \"SELEC\"\n  1 | SELEC 1\n    | ^");
}

TEST(ErrorText, PositionAndContext) {
  Error e(ErrorKind::sql, "boom\nDETAIL: more", "SQLITE_ERROR (1)", "CREATE TABLE t (\n  a INT,\n  b BOGUS(\n)");
  e.set_sql_offset(35);  // the "(" after BOGUS
  e.at({"migrations/0001_init.sql", 7, 7, 2});
  e.context("migration 1 (0001_init.sql) failed");
  EXPECT_EQ(std::string(e.what()),
            "migration 1 (0001_init.sql) failed: migrations/0001_init.sql:7:7: SQL error SQLITE_ERROR (1): boom\n"
            "DETAIL: more\n"
            "  7 |   b BOGUS(\n"
            "    |          ^");
  e.context("up");
  EXPECT_EQ(std::string(e.what()).rfind("up: migration 1 (0001_init.sql) failed: ", 0), 0u);
  EXPECT_EQ(e.engine_message(), "boom\nDETAIL: more");
  EXPECT_EQ(e.position().line, 7);
}

TEST(ErrorText, OtherKinds) {
  EXPECT_STREQ(Error(ErrorKind::config, "bad").what(), "bad");
  EXPECT_STREQ(Error(ErrorKind::connection, "cannot connect", "28P01").what(), "cannot connect [28P01]");
  EXPECT_STREQ(to_string(ErrorKind::lock_timeout), "lock_timeout");
  EXPECT_STREQ(to_string(ErrorKind::sql), "sql");
}

TEST(ErrorText, CaretCountsCharactersNotBytes) {
  Error e(ErrorKind::sql, "m", "X", "SELECT 'é', \tbad");
  e.set_sql_offset(14);  // "bad": é is two bytes
  EXPECT_EQ(std::string(e.what()), "SQL error X: m\n  1 | SELECT 'é', \tbad\n    |             \t^");
}

TEST(ValueConversion, Basics) {
  EXPECT_EQ(Value(42).as<std::int64_t>(), 42);
  EXPECT_EQ(Value(42).as<int>(), 42);
  EXPECT_EQ(Value(42).as<double>(), 42.0);
  EXPECT_TRUE(Value(1).as<bool>());
  EXPECT_FALSE(Value(0).as<bool>());
  EXPECT_THROW(Value(2).as<bool>(), Error);
  EXPECT_THROW(Value("12").as<std::int64_t>(), Error);
  EXPECT_THROW(Value(Null{}).as<std::string>(), Error);
  EXPECT_EQ(Value(Null{}).as<std::optional<std::string>>(), std::nullopt);
  EXPECT_EQ(Value("x").as<std::optional<std::string>>(), "x");
  EXPECT_THROW(Value(std::int64_t{1} << 40).as<int>(), Error);
  EXPECT_EQ(Value(3.0).as<std::int64_t>(), 3);
  EXPECT_THROW(Value(3.5).as<std::int64_t>(), Error);
  EXPECT_EQ(Value("ab").as<Blob>(), (Blob{std::byte{'a'}, std::byte{'b'}}));
}

TEST(ValueConversion, ToString) {
  EXPECT_EQ(Value().to_string(), "NULL");
  EXPECT_EQ(Value(-5).to_string(), "-5");
  EXPECT_EQ(Value(0.1).to_string(), "0.1");
  EXPECT_EQ(Value("hi").to_string(), "hi");
  EXPECT_EQ(Value(Blob{std::byte{0}, std::byte{0xff}}).to_string(), "x'00ff'");
  EXPECT_EQ(Value(true).to_string(), "true");
}

TEST(Timestamps, FormatAndParse) {
  using namespace std::chrono;
  Timestamp t = sys_days{2025y / 4 / 10} + 12h + 3min + 4s + 567890us;
  EXPECT_EQ(format_timestamp(t), "2025-04-10 12:03:04.567890");
  EXPECT_EQ(parse_timestamp("2025-04-10 12:03:04.567890"), t);
  EXPECT_EQ(parse_timestamp("2025-04-10T12:03:04.567890Z"), t);
  EXPECT_EQ(parse_timestamp("2025-04-10 12:03:04.56789+00"), t);
  EXPECT_EQ(parse_timestamp("2025-04-10 14:03:04.56789+02"), t);
  EXPECT_EQ(parse_timestamp("2025-04-10 06:33:04.56789-05:30"), t);
  EXPECT_EQ(parse_timestamp("2025-04-10 12:03:04.5678901234"), t);
  EXPECT_EQ(parse_timestamp("2025-04-10 12:03:04"), t - 567890us);
  EXPECT_EQ(parse_timestamp("2025-04-10"), Timestamp(sys_days{2025y / 4 / 10}));
  EXPECT_EQ(parse_timestamp("1969-12-31 23:59:59.5"), Timestamp(-500000us));
  EXPECT_EQ(format_timestamp(Timestamp(-500000us)), "1969-12-31 23:59:59.500000");
  EXPECT_EQ(parse_timestamp("2025-02-30 00:00:00"), std::nullopt);
  EXPECT_EQ(parse_timestamp("yesterday"), std::nullopt);
  EXPECT_EQ(parse_timestamp("2025-04-10 12:03:04 junk"), std::nullopt);
  EXPECT_EQ(Value("2025-04-10 12:03:04.567890+00").as<Timestamp>(), t);
  EXPECT_EQ(Value(t).as<std::string>(), "2025-04-10 12:03:04.567890");
}

}  // namespace
}  // namespace strata
