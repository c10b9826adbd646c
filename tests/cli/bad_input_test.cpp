// The bad-input catalogue: hostile and careless input through the real
// binary, each case on both engines (CTest lists every one). A case sets up
// files (and the database), runs strata, and checks the exit code, a part
// of the message, and that nothing was lost: the history holds exactly the
// versions the case expects, their tables exist, and on SQLite
// `PRAGMA integrity_check` is ok.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

#include "strata/url.hpp"
#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using test::RunResult;
using test::write_file;

struct Env {
  test::TestDatabase& db;
  fs::path dir;
  fs::path migrations() const { return dir / "migrations"; }
  void add(const std::string& name, const std::string& text) const { write_file(migrations() / name, text); }
  RunResult run(std::vector<std::string> args, bool with_db = true) const {
    if (with_db) {
      args.push_back("-d");
      args.push_back(db.url());
    }
    return test::run_strata(dir, args);
  }
};

struct Case {
  std::string name;
  // Prepares files and the database; may GTEST_SKIP with a reason. Returns
  // the arguments to run (without -d, added unless `no_db`).
  std::function<std::vector<std::string>(const Env&)> setup;
  int code;
  std::string message;                 // must appear in stderr
  std::vector<Version> history;        // the versions recorded afterwards
  bool no_db = false;
  std::function<void(const Env&)> after;  // extra checks
  // Runs the case instead of `strata ARGS -d URL` (a case with a server of its own).
  std::function<RunResult(const Env&)> run_instead;
};

// The other migrator of LockHeldByAnotherMigrator, stopped by its check.
std::unique_ptr<test::Process> g_holder;

// GTEST_SKIP() for a setup lambda (which must return its arguments).
std::vector<std::string> skip(const std::string& why) {
  [&] { GTEST_SKIP() << why; }();
  return {};
}

const char* kA = "CREATE TABLE a (id INTEGER PRIMARY KEY);\n";
const char* kB = "CREATE TABLE b (id INTEGER PRIMARY KEY);\n";

// The file of a sqlite: URL.
std::string url_path(const std::string& url) { return DatabaseUrl::parse(url).sqlite_path; }

// Applies 0001 (table a) so a case starts from a database with history.
void applied_a(const Env& e) {
  e.add("0001_a.sql", kA);
  RunResult r = e.run({"up"});
  ASSERT_EQ(r.code, 0) << r.err;
}

std::vector<Case> catalogue() {
  using V = std::vector<std::string>;
  std::vector<Case> c;
  auto broken_second = [](std::string name, std::string text, std::string message, int code = 4) {
    return Case{std::move(name),
                [text](const Env& e) {
                  e.add("0001_a.sql", kA);
                  e.add("0002_b.sql", text);
                  return V{"up"};
                },
                code, std::move(message), {}};
  };
  c.push_back(broken_second("InvalidUtf8", "CREATE TABLE b (note TEXT DEFAULT '\xC3\x28');\n", "not valid UTF-8"));
  c.push_back(broken_second("NulByte", std::string("SELECT 1\0;\n", 11), "a NUL byte"));
  c.push_back(broken_second("MalformedDirective", "-- transaction: bogus\nSELECT 1;\n", "invalid value 'bogus'"));
  c.push_back(broken_second("UnterminatedQuote", "SELECT 'abc;\n", "unterminated string literal"));
  c.push_back(broken_second("UnterminatedBlockComment", "SELECT 1; /* never closed\n", "unterminated"));
  c.push_back(broken_second("BeginInTransactionalFile", "BEGIN;\nSELECT 1;\nCOMMIT;\n", "hint: remove it"));
  c.push_back(broken_second("RollbackInTransactionalFile", "SELECT 1;\nROLLBACK;\n", "ROLLBACK in a migration"));
  c.push_back(broken_second("EmptyDirective", "-- strata:\nSELECT 1;\n", "empty directive"));
  c.push_back(Case{"VersionPast64Bits",
                   [](const Env& e) {
                     e.add("99999999999999999999_x.sql", kA);
                     return V{"up"};
                   },
                   4, "99999999999999999999_x.sql: the version has more than 18 digits", {}});
  c.push_back(Case{"DuplicateVersion",
                   [](const Env& e) {
                     e.add("0001_a.sql", kA);
                     e.add("0001_b.sql", kB);
                     return V{"up"};
                   },
                   4, "claimed twice", {}});
  c.push_back(Case{"DownWithoutUp",
                   [](const Env& e) {
                     e.add("0001_a.sql", kA);
                     e.add("0002_b.down.sql", "DROP TABLE b;\n");
                     return V{"up"};
                   },
                   4, "a down migration without its up file", {}});
  c.push_back(Case{"EmptySourceDirectory",
                   [](const Env& e) {
                     fs::create_directories(e.migrations());
                     return V{"up"};
                   },
                   4, "no migration files", {}});
  c.push_back(Case{"MissingSourceDirectory", [](const Env&) { return V{"up", "-s", "nowhere"}; }, 4,
                   "'nowhere' does not exist", {}});
  c.push_back(Case{"SymlinkOutOfTheDirectory",
                   [](const Env& e) {
                     e.add("0001_a.sql", kA);
                     fs::create_symlink("/etc/passwd", e.migrations() / "0002_b.sql");
                     return V{"up"};
                   },
                   4, "outside the migration directory", {}});
  c.push_back(Case{"DanglingSymlink",
                   [](const Env& e) {
                     e.add("0001_a.sql", kA);
                     fs::create_symlink("gone.sql", e.migrations() / "0002_b.sql");
                     return V{"up"};
                   },
                   4, "not a regular file", {}});
  c.push_back(Case{"FiftyMegabyteFile",
                   [](const Env& e) {
                     std::string big(50u << 20, ' ');
                     for (std::size_t i = 0; i + 80 < big.size(); i += 80) big.replace(i, 3, "-- ");
                     for (std::size_t i = 79; i < big.size(); i += 80) big[i] = '\n';
                     e.add("0001_a.sql", big + "\n" + kA);
                     return V{"up"};
                   },
                   0, "", {1}});
  c.push_back(Case{"FailingStatementNamesFileAndLine",
                   [](const Env& e) {
                     applied_a(e);
                     e.add("0002_b.sql", std::string(kB) + "INSERT INTO nowhere VALUES (1);\n");
                     return V{"up"};
                   },
                   6, "0002_b.sql:2:", {1}, false,
                   [](const Env& e) {
                     auto conn = e.db.connect();
                     EXPECT_FALSE(test::table_exists(*conn, "b")) << "the failed migration was not rolled back";
                   }});
  c.push_back(Case{"EditedAppliedMigration",
                   [](const Env& e) {
                     applied_a(e);
                     e.add("0001_a.sql", std::string(kA) + "-- edited\n");
                     e.add("0002_b.sql", kB);
                     return V{"up"};
                   },
                   7, "changed", {1}});
  c.push_back(Case{"MissingAppliedMigration",
                   [](const Env& e) {
                     applied_a(e);
                     fs::remove(e.migrations() / "0001_a.sql");
                     e.add("0002_b.sql", kB);
                     return V{"up"};
                   },
                   7, "missing", {1}});
  c.push_back(Case{"DirtyNoTransactionMigration",
                   [](const Env& e) {
                     applied_a(e);
                     e.add("0002_b.sql", std::string("-- strata: no-transaction\n") + kB +
                                             "INSERT INTO nowhere VALUES (1);\n");
                     RunResult first = e.run({"up"});
                     EXPECT_EQ(first.code, 6) << first.err;
                     return V{"up"};
                   },
                   9, "repair", {1}});
  c.push_back(Case{"UnknownConfigKey",
                   [](const Env& e) {
                     e.add("0001_a.sql", kA);
                     write_file(e.dir / "strata.toml", "[migrations]\nhistroy_table = \"x\"\n");
                     return V{"up"};
                   },
                   3, "did you mean history_table?", {}});
  c.push_back(Case{"ConfigSyntaxError",
                   [](const Env& e) {
                     e.add("0001_a.sql", kA);
                     write_file(e.dir / "strata.toml", "[migrations\nsource = \"m\"\n");
                     return V{"up"};
                   },
                   3, "strata.toml:1:", {}});
  c.push_back(Case{"InjectionInHistoryTableOption",
                   [](const Env& e) {
                     applied_a(e);
                     return V{"up", "--history-table", "x\"; DROP TABLE a; --"};
                   },
                   3, "history table", {1}});
  c.push_back(Case{"InjectionInHistorySchemaOption",
                   [](const Env& e) -> V {
                     if (e.db.engine() == Engine::sqlite) return skip("SQLite has no schemas: the history schema is not used");
                     applied_a(e);
                     return V{"up", "--history-schema", "public; DROP TABLE a"};
                   },
                   3, "schema", {1}});
  c.push_back(Case{"InjectionInBackgroundTableOption",
                   [](const Env& e) {
                     applied_a(e);
                     return V{"bg", "status", "--bg-table", "q'); DROP TABLE a; --"};
                   },
                   3, "", {1}});
  c.push_back(Case{"InjectionInConfigHistoryTable",
                   [](const Env& e) {
                     applied_a(e);
                     write_file(e.dir / "strata.toml", "[migrations]\nhistory_table = \"h; DROP TABLE a\"\n");
                     return V{"up"};
                   },
                   3, "history table", {1}});
  c.push_back(Case{"InjectionInConfigHistorySchema",
                   [](const Env& e) -> V {
                     if (e.db.engine() == Engine::sqlite) return skip("SQLite has no schemas: the history schema is not used");
                     applied_a(e);
                     write_file(e.dir / "strata.toml", "[migrations]\nhistory_schema = \"s\\\"; DROP TABLE a; --\"\n");
                     return V{"up"};
                   },
                   3, "schema", {1}});
  c.push_back(Case{"AnotherToolsTableWithTheHistorysName",
                   [](const Env& e) {
                     e.add("0001_a.sql", kA);
                     auto conn = e.db.connect();
                     conn->execute("CREATE TABLE strata_migrations (id integer, name text)");
                     return V{"up"};
                   },
                   3, "columns found: id, name", {}, false, [](const Env& e) {
                     auto conn = e.db.connect();
                     EXPECT_FALSE(test::table_exists(*conn, "a"));
                   }});
  c.push_back(Case{"MisspeltCommand", [](const Env&) { return V{"upp"}; }, 2, "did you mean up?", {}, true});
  c.push_back(Case{"MisspeltOption", [](const Env&) { return V{"up", "--dryrun"}; }, 2, "did you mean --dry-run?", {}});
  c.push_back(Case{"BadTarget", [](const Env& e) {
                     e.add("0001_a.sql", kA);
                     return V{"up", "--target", "abc"};
                   }, 2, "", {}});
  c.push_back(Case{"UnsupportedUrlScheme", [](const Env&) { return V{"status", "-d", "mysql://u@h/db"}; }, 3,
                   "mysql", {}, true});
  c.push_back(Case{"CorruptedDatabase",
                   [](const Env& e) -> V {
                     e.add("0001_a.sql", kA);
                     if (e.db.engine() == Engine::postgres) {
                       return V{"up", "-d", test::postgres_url_for("strata_no_such_database_here")};
                     }
                     const std::string path = DatabaseUrl::parse(e.db.url()).sqlite_path;
                     fs::remove(path);
                     write_file(path, std::string(8192, 'x'));
                     return V{"up", "-d", e.db.url()};
                   },
                   5, "", {}, true,
                   [](const Env& e) {
                     if (e.db.engine() != Engine::sqlite) return;
                     EXPECT_EQ(test::read_file(DatabaseUrl::parse(e.db.url()).sqlite_path), std::string(8192, 'x'))
                         << "the corrupted file was written to";
                   }});
  c.push_back(Case{"UnreachableServerOrDirectory",
                   [](const Env& e) -> V {
                     e.add("0001_a.sql", kA);
                     if (e.db.engine() == Engine::postgres) return V{"up", "-d", "postgresql://u:hunter2@127.0.0.1:1/x"};
                     return V{"up", "-d", "sqlite:" + (e.dir / "no" / "such" / "dir" / "x.db").string()};
                   },
                   5, "", {}, true,
                   [](const Env&) {}});
  c.push_back(Case{"WrongPassword",
                   [](const Env& e) -> V {
                     if (e.db.engine() == Engine::sqlite) return skip("SQLite has no passwords");
                     const char* url = std::getenv("STRATA_TEST_POSTGRES_PASSWORD_URL");
                     if (url == nullptr) {
                       ADD_FAILURE() << "STRATA_TEST_POSTGRES_PASSWORD_URL is not set (scripts/with-postgres sets it)";
                       return V{};
                     }
                     std::string wrong = url;
                     wrong.replace(wrong.find("strata_pw_test"), 14, "not_the_password");
                     e.add("0001_a.sql", kA);
                     return V{"up", "-d", wrong};
                   },
                   5, "password authentication failed", {}, true,
                   [](const Env&) {}});
  c.push_back(Case{"DotEnvWithABadUrl",
                   [](const Env& e) {
                     e.add("0001_a.sql", kA);
                     write_file(e.dir / ".env", "DATABASE_URL=mysql://nope\n");
                     return V{"up"};
                   },
                   3, "mysql", {}, true});
  c.push_back(Case{"CrlfAndBomFileApplies",
                   [](const Env& e) {
                     e.add("0001_a.sql", "\xEF\xBB\xBF" "CREATE TABLE a (id INTEGER PRIMARY KEY);\r\n-- done\r\n");
                     return V{"up"};
                   },
                   0, "", {1}});
  c.push_back(Case{"InvalidUtf8DownFileFoundWhenReverting",
                   [](const Env& e) {
                     e.add("0001_a.up.sql", kA);
                     e.add("0001_a.down.sql", "DROP TABLE a; -- \xFF\n");
                     RunResult up = e.run({"up"});
                     EXPECT_EQ(up.code, 0) << up.err;
                     return V{"down"};
                   },
                   4, "not valid UTF-8", {1}});
  c.push_back(Case{"DownWithoutADownFile",
                   [](const Env& e) {
                     applied_a(e);
                     return V{"down"};
                   },
                   2, "has no down migration", {1}});
  c.push_back(Case{"StatementThatCannotRunInATransaction",
                   [](const Env& e) {
                     applied_a(e);
                     e.add("0002_b.sql", e.db.engine() == Engine::sqlite ? "VACUUM;\n"
                                                                         : "CREATE INDEX CONCURRENTLY a_i ON a (id);\n");
                     return V{"up", "--lint", "off"};
                   },
                   6, "hint: this statement cannot run inside a transaction", {1}});
  c.push_back(Case{"LockHeldByAnotherMigrator",
                   [](const Env& e) -> V {
                     applied_a(e);
                     e.add("0002_b.sql", e.db.engine() == Engine::sqlite
                                             ? "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE "
                                               "i < 2000000000) SELECT count(*) FROM c;\n"
                                             : "SELECT pg_sleep(60);\n");
                     // Another migrator holds the lock while it runs 0002.
                     g_holder = std::make_unique<test::Process>(STRATA_BINARY, V{"up", "-d", e.db.url()}, e.dir);
                     std::this_thread::sleep_for(std::chrono::milliseconds(700));
                     return V{"up", "--lock-timeout", "0.5"};
                   },
                   10, "lock", {1}, false, [](const Env&) {
                     g_holder->kill(SIGKILL);
                     g_holder->wait();
                     g_holder.reset();
                   }});
  c.push_back(Case{"TerminatedBackendMidMigration",
                   [](const Env& e) -> V {
                     if (e.db.engine() == Engine::sqlite) return skip("pg_terminate_backend is PostgreSQL's");
                     applied_a(e);
                     e.add("0002_b.sql", std::string(kB) + "SELECT pg_sleep(30);\n");
                     std::thread([url = e.db.url()] {
                       auto c = connect(url);
                       for (int i = 0; i < 200; ++i) {
                         if (c->fetch_value<std::int64_t>(
                                 "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                 "WHERE query LIKE 'SELECT pg_sleep(30)%' AND pid <> pg_backend_pid()") > 0) {
                           return;
                         }
                         std::this_thread::sleep_for(std::chrono::milliseconds(50));
                       }
                     }).detach();
                     return V{"up"};
                   },
                   5, "server closed the connection", {1}, false,
                   [](const Env& e) {
                     auto conn = e.db.connect();
                     EXPECT_FALSE(test::table_exists(*conn, "b"));
                   }});
  c.push_back(Case{"DiskFullOnATinyFilesystem",
                   [](const Env& e) -> V {
                     if (e.db.engine() == Engine::postgres) return skip("the server's disk is not the test's to fill");
                     if (::geteuid() != 0) return skip("mounting a tmpfs needs root");
                     const fs::path mnt = e.dir / "tiny";
                     fs::create_directories(mnt);
                     if (::mount("tmpfs", mnt.c_str(), "tmpfs", 0, "size=512k") != 0) {
                       return skip(std::string("cannot mount a tmpfs here: ") + std::strerror(errno));
                     }
                     e.add("0001_a.sql", kA);
                     e.add("0002_b.sql", "CREATE TABLE big (x BLOB);\nWITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT "
                                         "i + 1 FROM c WHERE i < 2000) INSERT INTO big SELECT randomblob(4096) FROM c;\n");
                     return V{"up", "-d", "sqlite:" + (mnt / "full.db").string()};
                   },
                   6, "full", {}, true,
                   [](const Env& e) {
                     if (e.db.engine() != Engine::sqlite) return;
                     const fs::path mnt = e.dir / "tiny";
                     {
                       auto conn = connect("sqlite:" + (mnt / "full.db").string());
                       EXPECT_EQ(conn->fetch_value<std::string>("PRAGMA integrity_check"), "ok");
                       EXPECT_EQ(conn->fetch_value<std::int64_t>("SELECT max(version) FROM strata_migrations"), 1);
                       EXPECT_FALSE(test::table_exists(*conn, "big"));
                     }
                     ::umount(mnt.c_str());
                   }});
  c.push_back(Case{"ServerStoppedMidRun",
                   [](const Env& e) -> V {
                     if (e.db.engine() == Engine::sqlite) return skip("SQLite has no server");
                     e.add("0001_a.sql", kA);
                     e.add("0002_b.sql", "CREATE TABLE b (id INTEGER PRIMARY KEY);\nSELECT pg_sleep(30);\n");
                     return {};
                   },
                   5, "connection", {}, true,
                   [](const Env& e) {
                     // The nested cluster's state after its restart.
                     EXPECT_EQ(test::read_file(e.dir / "history"), "1\n") << "history after the restart";
                     EXPECT_EQ(test::read_file(e.dir / "tables"), "true,false\n") << "a kept, b rolled back";
                   },
                   [](const Env& e) {
                     // A cluster of its own: the suite's shared server must keep running.
                     const fs::path root = fs::path(STRATA_TEST_DATA_DIR).parent_path().parent_path();
                     test::Process p(root / "scripts" / "with-postgres",
                                     {(root / "tests" / "support" / "server_stopped_mid_run.sh").string(), STRATA_BINARY,
                                      e.dir.string()},
                                     e.dir);
                     RunResult wrapper = p.wait();
                     EXPECT_EQ(wrapper.code, 0) << wrapper.err;
                     RunResult r;
                     r.code = std::stoi(test::read_file(e.dir / "strata.code"));
                     r.out = test::read_file(e.dir / "strata.out");
                     r.err = test::read_file(e.dir / "strata.err");
                     return r;
                   }});
  // Read-only databases: a SQLite file (bind-mounted read-only over itself:
  // root ignores file modes) or a PostgreSQL database whose transactions are
  // read-only (a standby, or default_transaction_read_only).
  c.push_back(Case{"ReadOnlyDatabase",
                   [](const Env& e) -> V {
                     applied_a(e);
                     e.add("0002_b.sql", kB);
                     if (e.db.engine() == Engine::postgres) {
                       auto conn = e.db.connect();
                       conn->execute("SET default_transaction_read_only = off");
                       const std::string name = conn->fetch_value<std::string>("SELECT current_database()");
                       conn->execute("ALTER DATABASE \"" + name + "\" SET default_transaction_read_only = on");
                       return V{"up"};
                     }
                     if (::geteuid() != 0) return skip("a read-only bind mount needs root");
                     const std::string file = url_path(e.db.url());
                     if (::mount(file.c_str(), file.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
                         ::mount(nullptr, file.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
                       return skip(std::string("cannot bind-mount read-only here: ") + std::strerror(errno));
                     }
                     return V{"up"};
                   },
                   6, "read", {1}, false,
                   [](const Env& e) {
                     if (e.db.engine() == Engine::postgres) {
                       auto conn = e.db.connect();
                       conn->execute("SET default_transaction_read_only = off");
                       const std::string name = conn->fetch_value<std::string>("SELECT current_database()");
                       conn->execute("ALTER DATABASE \"" + name + "\" RESET default_transaction_read_only");
                     } else {
                       ::umount(url_path(e.db.url()).c_str());
                     }
                     EXPECT_FALSE(test::table_exists(*e.db.connect(), "b"));
                   }});
  c.push_back(Case{"ReadOnlyDatabaseDirectory",
                   [](const Env& e) -> V {
                     if (e.db.engine() == Engine::postgres) return skip("a PostgreSQL database has no directory");
                     if (::geteuid() != 0) return skip("a read-only bind mount needs root");
                     const fs::path ro = e.dir / "ro";
                     fs::create_directories(ro);
                     e.add("0001_a.sql", kA);
                     RunResult first = e.run({"up", "-d", "sqlite:" + (ro / "app.db").string()}, false);
                     EXPECT_EQ(first.code, 0) << first.err;
                     e.add("0002_b.sql", kB);
                     if (::mount(ro.c_str(), ro.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
                         ::mount(nullptr, ro.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0) {
                       return skip(std::string("cannot bind-mount read-only here: ") + std::strerror(errno));
                     }
                     return V{"up", "-d", "sqlite:" + (ro / "app.db").string()};
                   },
                   5, "is not writable", {}, true,
                   [](const Env& e) {
                     if (e.db.engine() != Engine::sqlite) return;
                     const fs::path ro = e.dir / "ro";
                     ::umount(ro.c_str());
                     auto conn = connect("sqlite:" + (ro / "app.db").string());
                     EXPECT_EQ(conn->fetch_value<std::string>("PRAGMA integrity_check"), "ok");
                     EXPECT_EQ(conn->fetch_value<std::int64_t>("SELECT max(version) FROM strata_migrations"), 1);
                     EXPECT_FALSE(test::table_exists(*conn, "b"));
                   }});
  return c;
}

class BadInput : public ::testing::TestWithParam<std::tuple<Engine, int>> {};

TEST_P(BadInput, ExitCodeMessageAndNothingLost) {
  const auto [engine, index] = GetParam();
  const std::vector<Case> all = catalogue();
  const Case& c = all.at(static_cast<std::size_t>(index));
  test::TestDatabase db(engine);
  Env env{db, db.dir()};
  const std::vector<std::string> args = c.setup(env);
  if (::testing::Test::IsSkipped() || ::testing::Test::HasFailure()) return;
  RunResult r = c.run_instead ? c.run_instead(env) : env.run(args, !c.no_db);
  EXPECT_EQ(r.code, c.code) << r.out << r.err;
  if (!c.message.empty()) EXPECT_NE(r.err.find(c.message), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("hunter2"), std::string::npos) << "a password in the output";
  if (c.after) c.after(env);
  // Nothing lost: the history holds what the case expects, and its tables exist.
  if (!c.no_db) {
    auto conn = db.connect();
    std::vector<Version> recorded;
    if (test::table_exists(*conn, "strata_migrations")) {
      try {
        for (const Row& row : conn->fetch("SELECT version FROM strata_migrations WHERE success ORDER BY version")) {
          recorded.push_back(row[0].as<std::int64_t>());
        }
      } catch (const Error&) {  // another tool's table of that name: no strata history
      }
    }
    EXPECT_EQ(recorded, c.history);
    if (!c.history.empty()) EXPECT_TRUE(test::table_exists(*conn, "a")) << "table a was lost";
    if (engine == Engine::sqlite) EXPECT_EQ(conn->fetch_value<std::string>("PRAGMA integrity_check"), "ok");
  }
}

INSTANTIATE_TEST_SUITE_P(
    Catalogue, BadInput,
    ::testing::Combine(::testing::Values(Engine::sqlite, Engine::postgres),
                       ::testing::Range(0, static_cast<int>(catalogue().size()))),
    [](const ::testing::TestParamInfo<std::tuple<Engine, int>>& info) {
      return catalogue().at(static_cast<std::size_t>(std::get<1>(info.param))).name + "_" +
             to_string(std::get<0>(info.param));
    });

}  // namespace
}  // namespace strata
