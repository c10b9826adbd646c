// The instance host on both engines: one database per plugin instance.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <atomic>
#include <set>
#include <thread>
#include <vector>

#include "strata/error.hpp"
#include "strata/history.hpp"
#include "strata/instance_host.hpp"
#include "support/engine_fixture.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

Migration sql_migration(Version version, std::string description, std::string sql) {
  Migration m;
  m.version = version;
  m.description = std::move(description);
  if (version > 1) m.parents = {version - 1};
  m.path = "test/" + std::to_string(version) + ".sql";
  m.checksum = checksum(sql);
  m.sql = std::move(sql);
  return m;
}

// v1 creates a table, v2 adds a column, v3 backfills it in code.
std::vector<Migration> item_migrations() {
  std::vector<Migration> out;
  out.push_back(sql_migration(1, "items", "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL);"));
  out.push_back(sql_migration(2, "label", "ALTER TABLE items ADD COLUMN label TEXT;"));
  Migration backfill;
  backfill.version = 3;
  backfill.description = "backfill label";
  backfill.parents = {2};
  backfill.kind = MigrationKind::code;
  backfill.checksum = checksum("backfill label v1");
  backfill.up = [](Connection& c, Engine) { c.execute("UPDATE items SET label = upper(name) WHERE label IS NULL"); };
  out.push_back(std::move(backfill));
  return out;
}

MigrationSet items_up_to(Version newest) {
  auto all = item_migrations();
  std::erase_if(all, [&](const Migration& m) { return m.version > newest; });
  return MigrationSet(std::move(all));
}

class InstanceHostTest : public test::EngineTest {
 protected:
  // SQLite: a directory of files; PostgreSQL: the test database.
  std::string location() {
    return engine() == Engine::sqlite ? (db().dir() / "instances").string() : db().url();
  }
  fs::path directory() { return db().dir() / "instances"; }
  InstanceHost make_host(InstanceHostOptions options = {}) { return InstanceHost(location(), std::move(options)); }

  bool schema_exists(const std::string& schema) {
    auto c = db().connect();
    return c->fetch_one("SELECT 1 FROM pg_catalog.pg_namespace WHERE nspname = $1", {schema}).has_value();
  }

  std::vector<std::string> names(const Instance& instance) {
    std::vector<std::string> out;
    for (const auto& row : instance.fetch("SELECT name FROM items ORDER BY name")) out.push_back(row.get<std::string>(0));
    return out;
  }
};

TEST(InstanceId, Rule) {
  EXPECT_TRUE(is_valid_instance_id("a"));
  EXPECT_TRUE(is_valid_instance_id("Echo-Bot_2"));
  EXPECT_TRUE(is_valid_instance_id("0-leading-digit"));
  EXPECT_TRUE(is_valid_instance_id(std::string(48, 'x')));
  EXPECT_FALSE(is_valid_instance_id(""));
  EXPECT_FALSE(is_valid_instance_id(std::string(49, 'x')));
  EXPECT_FALSE(is_valid_instance_id("a.b"));
  EXPECT_FALSE(is_valid_instance_id("a b"));
  EXPECT_FALSE(is_valid_instance_id("a/b"));
  EXPECT_FALSE(is_valid_instance_id("../up"));
  EXPECT_FALSE(is_valid_instance_id("é"));
  EXPECT_FALSE(is_valid_instance_id(std::string("a\0b", 3)));
  EXPECT_FALSE(is_valid_instance_id("x\"; DROP SCHEMA public CASCADE; --"));
  try {
    validate_instance_id("a.b");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("invalid instance id 'a.b'"), std::string::npos) << e.what();
  }
}

TEST_P(InstanceHostTest, StartsAndMigratesAnInstance) {
  auto host = make_host();
  EXPECT_EQ(host.engine(), engine());
  std::vector<Version> applied;
  StartOptions options;
  options.on_applied = [&](const AppliedStep& s) { applied.push_back(s.version); };
  Instance bot = host.start("bot", items_up_to(3), options);
  EXPECT_EQ(applied, (std::vector<Version>{1, 2, 3}));
  EXPECT_EQ(bot.id(), "bot");
  EXPECT_EQ(bot.version(), 3);
  bot.execute("INSERT INTO items (id, name) VALUES ($1, $2)", {1, "one"});
  EXPECT_EQ(bot.fetch_value<std::int64_t>("SELECT count(*) FROM items"), 1);

  if (engine() == Engine::sqlite) {
    EXPECT_EQ(bot.path(), directory() / "bot.db");
    struct stat st {};
    ASSERT_EQ(::stat(bot.path().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    ASSERT_EQ(::stat(directory().c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    EXPECT_TRUE(bot.schema().empty());
  } else {
    EXPECT_EQ(bot.schema(), "inst_bot");
    // The tables and the history live in the instance's schema, not public.
    auto c = db().connect();
    EXPECT_EQ(c->fetch_value<std::int64_t>(
                  "SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'inst_bot' "
                  "AND tablename IN ('items', 'strata_migrations')"),
              2);
    EXPECT_EQ(c->fetch_value<std::int64_t>("SELECT count(*) FROM pg_catalog.pg_tables WHERE schemaname = 'public'"),
              0);
  }

  // Started again with the same set: the same instance, nothing applied.
  applied.clear();
  Instance again = host.start("bot", items_up_to(3), options);
  EXPECT_TRUE(applied.empty());
  EXPECT_EQ(again.fetch_value<std::int64_t>("SELECT count(*) FROM items"), 1);
  EXPECT_EQ(host.list(), std::vector<std::string>{"bot"});
  EXPECT_TRUE(host.exists("bot"));
  EXPECT_FALSE(host.exists("other"));
}

TEST_P(InstanceHostTest, HostileIdIsRejectedEverywhere) {
  auto host = make_host();
  const std::string hostile = "x\"; DROP SCHEMA public CASCADE; --";
  for (auto call : {0, 1, 2}) {
    try {
      if (call == 0) host.start(hostile, items_up_to(3));
      if (call == 1) host.remove(hostile);
      if (call == 2) host.exists(hostile);
      ADD_FAILURE() << "call " << call << " accepted a hostile id";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::usage) << e.what();
    }
  }
  EXPECT_TRUE(host.list().empty());
  if (engine() == Engine::postgres) {
    EXPECT_TRUE(schema_exists("public"));
  } else {
    EXPECT_TRUE(fs::is_empty(directory()));
  }
}

TEST_P(InstanceHostTest, IdThatNeedsQuotingKeepsItsCase) {
  auto host = make_host();
  Instance upper = host.start("Mixed-Case_1", items_up_to(3));
  Instance lower = host.start("mixed-case_1", items_up_to(3));
  upper.execute("INSERT INTO items (id, name) VALUES (1, 'upper')");
  lower.execute("INSERT INTO items (id, name) VALUES (1, 'lower')");
  EXPECT_EQ(names(upper), std::vector<std::string>{"upper"});
  EXPECT_EQ(names(lower), std::vector<std::string>{"lower"});
  EXPECT_EQ(upper.version(), 3);
  EXPECT_EQ(host.list(), (std::vector<std::string>{"Mixed-Case_1", "mixed-case_1"}));
  if (engine() == Engine::postgres) {
    EXPECT_EQ(upper.schema(), "inst_Mixed-Case_1");
    EXPECT_TRUE(schema_exists("inst_Mixed-Case_1"));
    EXPECT_TRUE(schema_exists("inst_mixed-case_1"));
    auto c = upper.acquire();
    EXPECT_EQ(c->fetch_value<std::string>("SHOW search_path"), "\"inst_Mixed-Case_1\"");
    EXPECT_EQ(c->fetch_value<std::string>("SELECT current_schema()"), "inst_Mixed-Case_1");
  } else {
    EXPECT_TRUE(fs::exists(directory() / "Mixed-Case_1.db"));
  }
}

TEST_P(InstanceHostTest, InstancesAreIsolated) {
  auto host = make_host();
  Instance a = host.start("a", items_up_to(3));
  Instance b = host.start("b", items_up_to(3));
  a.execute("INSERT INTO items (id, name) VALUES (1, 'only in a')");
  EXPECT_EQ(b.fetch_value<std::int64_t>("SELECT count(*) FROM items"), 0);
  b.execute("CREATE TABLE b_only (x INTEGER)");
  try {
    a.execute("SELECT * FROM b_only");
    ADD_FAILURE() << "instance a sees instance b's table";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::sql);
  }
}

TEST_P(InstanceHostTest, ConcurrentStartsOfOneIdMigrateOnce) {
  auto host = make_host();
  auto set = items_up_to(3);
  std::atomic<int> applied{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      try {
        StartOptions options;
        options.on_applied = [&](const AppliedStep&) { ++applied; };
        Instance x = host.start("same", set, options);
        if (x.version() != 3) ++failures;
      } catch (const std::exception& e) {
        ADD_FAILURE() << e.what();
        ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures, 0);
  EXPECT_EQ(applied, 3);
}

TEST_P(InstanceHostTest, ManyInstancesStartConcurrently) {
  InstanceHostOptions options;
  options.max_connections = 6;
  options.connect.application_name = "strata-instance-test";
  auto host = make_host(options);
  auto set = items_up_to(3);
  constexpr int kInstances = 24;
  std::vector<Instance> instances(kInstances);
  std::vector<std::thread> threads;
  for (int i = 0; i < kInstances; ++i) {
    threads.emplace_back([&, i] {
      try {
        instances[i] = host.start("i-" + std::to_string(i), set);
        instances[i].execute("INSERT INTO items (id, name) VALUES ($1, $2)", {i, "row of " + std::to_string(i)});
      } catch (const std::exception& e) {
        ADD_FAILURE() << "instance " << i << ": " << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kInstances; ++i) {
    ASSERT_TRUE(instances[i]);
    EXPECT_EQ(instances[i].version(), 3);
    EXPECT_EQ(names(instances[i]), std::vector<std::string>{"row of " + std::to_string(i)});
  }
  EXPECT_EQ(host.list().size(), static_cast<std::size_t>(kInstances));
  if (engine() == Engine::postgres) {
    // The shared pool never opened more than max_connections.
    auto c = db().connect();
    EXPECT_LE(c->fetch_value<std::int64_t>(
                  "SELECT count(*) FROM pg_catalog.pg_stat_activity WHERE application_name = 'strata-instance-test'"),
              6);
  }
}

TEST_P(InstanceHostTest, EachInstanceHasItsOwnVersion) {
  auto host = make_host();
  Instance old_bot = host.start("old", items_up_to(2));
  Instance new_bot = host.start("new", items_up_to(3));
  StartOptions to_v1;
  to_v1.target = 1;
  Instance oldest = host.start("oldest", items_up_to(3), to_v1);
  EXPECT_EQ(old_bot.version(), 2);
  EXPECT_EQ(new_bot.version(), 3);
  EXPECT_EQ(oldest.version(), 1);

  old_bot.execute("INSERT INTO items (id, name) VALUES (1, 'written at v2')");
  EXPECT_TRUE(old_bot.fetch_value("SELECT label FROM items").is_null());
  auto pending = old_bot.status(items_up_to(3));
  ASSERT_EQ(pending.migrations.size(), 3u);
  EXPECT_EQ(pending.migrations[2].state, MigrationState::pending);

  // The plugin is upgraded: the v3 code migration backfills the v2 row.
  Instance upgraded = host.start("old", items_up_to(3));
  EXPECT_EQ(upgraded.version(), 3);
  EXPECT_EQ(old_bot.version(), 3);  // the same instance
  EXPECT_EQ(old_bot.fetch_value<std::string>("SELECT label FROM items"), "WRITTEN AT V2");
  EXPECT_EQ(oldest.version(), 1);
}

TEST_P(InstanceHostTest, RemoveDeletesTheDatabase) {
  auto host = make_host();
  Instance doomed = host.start("doomed", items_up_to(3));
  Instance kept = host.start("kept", items_up_to(3));
  doomed.execute("INSERT INTO items (id, name) VALUES (1, 'gone')");
  kept.execute("INSERT INTO items (id, name) VALUES (1, 'kept')");

  EXPECT_TRUE(host.remove("doomed"));
  EXPECT_FALSE(host.exists("doomed"));
  EXPECT_EQ(host.list(), std::vector<std::string>{"kept"});
  EXPECT_EQ(names(kept), std::vector<std::string>{"kept"});
  try {
    doomed.acquire();
    ADD_FAILURE() << "a removed instance still lends connections";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::usage);
    EXPECT_NE(std::string(e.what()).find("removed"), std::string::npos) << e.what();
  }

  if (engine() == Engine::postgres) {
    EXPECT_FALSE(schema_exists("inst_doomed"));
    EXPECT_TRUE(schema_exists("inst_kept"));
  } else {
    // Moved aside, not unlinked: the data is still there.
    EXPECT_FALSE(fs::exists(directory() / "doomed.db"));
    EXPECT_FALSE(fs::exists(directory() / "doomed.db-wal"));
    EXPECT_FALSE(fs::exists(directory() / "doomed.db.strata-lock"));
    std::vector<fs::path> moved;
    for (const auto& e : fs::directory_iterator(directory() / "deleted")) moved.push_back(e.path());
    ASSERT_EQ(moved.size(), 1u);
    const std::string name = moved[0].filename().string();
    EXPECT_EQ(name.rfind("doomed.", 0), 0u) << name;
    EXPECT_EQ(name.size(), std::string("doomed.20250410T120000Z.db").size()) << name;
    auto c = connect("sqlite:" + moved[0].string());
    EXPECT_EQ(c->fetch_value<std::string>("SELECT name FROM items"), "gone");
  }

  // The id can be used again, for a fresh database.
  Instance reborn = host.start("doomed", items_up_to(3));
  EXPECT_EQ(reborn.version(), 3);
  EXPECT_EQ(reborn.fetch_value<std::int64_t>("SELECT count(*) FROM items"), 0);
  EXPECT_TRUE(host.remove("doomed"));
  EXPECT_FALSE(host.remove("doomed"));
  EXPECT_FALSE(host.remove("never-was"));
  if (engine() == Engine::sqlite) {
    // Two removals in one second get distinct names.
    std::set<std::string> moved;
    for (const auto& e : fs::directory_iterator(directory() / "deleted")) moved.insert(e.path().filename().string());
    EXPECT_EQ(moved.size(), 2u);
  }
}

TEST_P(InstanceHostTest, RemoveWaitsForLeasesAndGivesUp) {
  InstanceHostOptions options;
  options.acquire_timeout = 300ms;
  auto host = make_host(options);
  Instance busy = host.start("busy", items_up_to(3));
  {
    auto lease = busy.acquire();
    try {
      host.remove("busy");
      ADD_FAILURE() << "removed an instance with a lease out";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::lock_timeout) << e.what();
    }
    // Nothing was deleted, and the instance lends again.
    EXPECT_TRUE(host.exists("busy"));
    lease->execute("INSERT INTO items (id, name) VALUES (1, 'still here')");
  }
  EXPECT_EQ(names(busy), std::vector<std::string>{"still here"});

  // A lease given back while remove() waits lets it proceed.
  auto lease = busy.acquire();
  std::thread giver([&] {
    std::this_thread::sleep_for(50ms);
    lease = InstanceConnection();
  });
  EXPECT_TRUE(host.remove("busy"));
  giver.join();
  EXPECT_FALSE(host.exists("busy"));
}

TEST_P(InstanceHostTest, PerInstanceCap) {
  InstanceHostOptions options;
  options.max_connections = 4;
  options.max_connections_per_instance = 2;
  options.acquire_timeout = 200ms;
  auto host = make_host(options);
  Instance a = host.start("a", items_up_to(1));
  Instance b = host.start("b", items_up_to(1));
  auto first = a.acquire();
  auto second = a.acquire();
  try {
    auto third = a.acquire();
    ADD_FAILURE() << "a third connection for one instance";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::connection);
    EXPECT_NE(std::string(e.what()).find("instance 'a'"), std::string::npos) << e.what();
  }
  // Another instance is not starved.
  EXPECT_EQ(b.fetch_value<std::int64_t>("SELECT count(*) FROM items"), 0);
  second.release();
  EXPECT_TRUE(static_cast<bool>(a.acquire()));
}

TEST_P(InstanceHostTest, BrokenLeaseIsNotReused) {
  InstanceHostOptions options;
  options.max_connections = 1;
  options.max_connections_per_instance = 1;
  auto host = make_host(options);
  Instance a = host.start("a", items_up_to(1));
  Instance b = host.start("b", items_up_to(1));
  {
    // Left inside a failed transaction: the pool must not reuse it as is.
    auto c = a.acquire();
    c->execute("BEGIN");
    EXPECT_THROW(c->execute("SELECT * FROM no_such_table"), Error);
  }
  EXPECT_EQ(b.fetch_value<std::int64_t>("SELECT count(*) FROM items"), 0);
  if (engine() == Engine::postgres) {
    auto c = b.acquire();
    EXPECT_EQ(c->fetch_value<std::string>("SHOW search_path"), "\"inst_b\"");
    // A search_path changed by the user does not leak into the next lease.
    c->execute("SET search_path = public");
    c.release();
    EXPECT_EQ(a.acquire()->fetch_value<std::string>("SHOW search_path"), "\"inst_a\"");
  }
}

TEST_P(InstanceHostTest, RejectsBadOptions) {
  InstanceHostOptions zero_cap;
  zero_cap.max_connections_per_instance = 0;
  EXPECT_THROW(make_host(zero_cap), Error);
  if (engine() == Engine::postgres) {
    for (std::string prefix : {"", "1abc", "has space", "x\"y", "sixteen_bytes_xx"}) {
      InstanceHostOptions bad;
      bad.schema_prefix = prefix;
      try {
        make_host(bad);
        ADD_FAILURE() << "accepted prefix '" << prefix << "'";
      } catch (const Error& e) {
        EXPECT_EQ(e.kind(), ErrorKind::usage) << e.what();
      }
    }
    InstanceHostOptions over;
    over.max_connections = 2;
    over.max_connections_per_instance = 3;
    EXPECT_THROW(make_host(over), Error);
  } else {
    test::write_file(db().dir() / "a-file", "x");
    EXPECT_THROW(InstanceHost((db().dir() / "a-file").string()), Error);
    EXPECT_THROW(InstanceHost("sqlite::memory:"), Error);
    // "sqlite:<dir>/" names a directory too.
    InstanceHost by_url("sqlite:" + (db().dir() / "by-url").string() + "/");
    by_url.start("x", items_up_to(1));
    EXPECT_TRUE(fs::exists(db().dir() / "by-url" / "x.db"));
  }
}

TEST_P(InstanceHostTest, CustomSchemaPrefix) {
  if (engine() != Engine::postgres) GTEST_SKIP() << "schemas are PostgreSQL's";
  InstanceHostOptions options;
  options.schema_prefix = "plug_";
  auto host = make_host(options);
  host.start("one", items_up_to(1));
  EXPECT_TRUE(schema_exists("plug_one"));
  // "inst_x" does not count: list() matches the prefix literally ('_' is no wildcard).
  db().connect()->execute("CREATE SCHEMA \"plugXtwo\"");
  EXPECT_EQ(host.list(), std::vector<std::string>{"one"});
}

STRATA_INSTANTIATE_ENGINES(InstanceHostTest);

}  // namespace
}  // namespace strata
