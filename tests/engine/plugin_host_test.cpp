// The plugin host example (examples/plugin_host) on both engines: many
// instances of two plugin types, each in a database of its own.
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "plugins.hpp"
#include "strata/error.hpp"
#include "strata/instance_host.hpp"
#include "support/engine_fixture.hpp"
#include "support/process.hpp"

namespace strata {
namespace {
namespace fs = std::filesystem;
using plugin_host::EchoPlugin;
using plugin_host::KarmaPlugin;

class PluginHostTest : public test::EngineTest {
 protected:
  std::string location() {
    return engine() == Engine::sqlite ? (db().dir() / "instances").string() : db().url();
  }

  static MigrationSet migrations_of(const std::string& id, std::optional<Version> newest = std::nullopt) {
    MigrationSet all = plugin_host::upgrade_table_for(plugin_host::type_of(id))->migrations();
    if (!newest) return all;
    std::vector<Migration> some;
    for (const auto& m : all.all()) {
      if (m.version <= *newest) some.push_back(m);
    }
    return MigrationSet(std::move(some));
  }
};

TEST_P(PluginHostTest, FiftyInstancesStartConcurrentlyWithTheirOwnData) {
  InstanceHost host(location());
  constexpr int kInstances = 50;
  std::vector<std::string> ids;
  for (int i = 0; i < kInstances; ++i) ids.push_back((i % 2 == 0 ? "echo-" : "karma-") + std::to_string(i));

  // Every instance starts at once: first as a v2 plugin, which writes rows
  // the v3 code migration must backfill, then upgraded to v3.
  std::vector<Instance> instances(kInstances);
  std::vector<std::thread> threads;
  for (int i = 0; i < kInstances; ++i) {
    threads.emplace_back([&, i] {
      const std::string& id = ids[i];
      try {
        Instance at_v2 = host.start(id, migrations_of(id, 2));
        if (at_v2.version() != 2) ADD_FAILURE() << id << " is at " << at_v2.version();
        if (plugin_host::type_of(id) == "echo") {
          EchoPlugin(at_v2).insert_raw("first words of " + id);
        } else {
          KarmaPlugin(at_v2).bump_raw(id, i);
        }
        instances[i] = host.start(id, migrations_of(id));
        if (plugin_host::type_of(id) == "echo") {
          EchoPlugin(instances[i]).on_message("second words of " + id);
        } else {
          KarmaPlugin(instances[i]).bump("shared-name", 100 + i);
        }
      } catch (const std::exception& e) {
        ADD_FAILURE() << id << ": " << e.what();
      }
    });
  }
  for (auto& t : threads) t.join();

  for (int i = 0; i < kInstances; ++i) {
    const std::string& id = ids[i];
    SCOPED_TRACE(id);
    ASSERT_TRUE(instances[i]);
    EXPECT_EQ(instances[i].version(), 3);
    auto status = instances[i].status(migrations_of(id));
    ASSERT_EQ(status.migrations.size(), 3u);
    for (const auto& m : status.migrations) EXPECT_EQ(m.state, MigrationState::applied);
    if (plugin_host::type_of(id) == "echo") {
      // Its own two rows and nobody else's; the v2 row backfilled by v3.
      auto messages = EchoPlugin(instances[i]).messages();
      ASSERT_EQ(messages.size(), 2u);
      EXPECT_EQ(messages[0].body, "first words of " + id);
      EXPECT_EQ(messages[0].length, static_cast<std::int64_t>(messages[0].body.size()));
      EXPECT_EQ(messages[1].body, "second words of " + id);
      EXPECT_EQ(messages[1].length, static_cast<std::int64_t>(messages[1].body.size()));
    } else {
      // "shared-name" exists in every karma instance, each with its own points.
      auto entries = KarmaPlugin(instances[i]).entries();
      ASSERT_EQ(entries.size(), 2u);
      EXPECT_EQ(entries[0].user, id);
      EXPECT_EQ(entries[0].points, i);
      EXPECT_EQ(entries[0].level, KarmaPlugin::level_for(i));  // computed by the v3 code migration
      EXPECT_EQ(entries[1].user, "shared-name");
      EXPECT_EQ(entries[1].points, 100 + i);
      EXPECT_EQ(entries[1].level, "legend");
    }
  }
  EXPECT_EQ(host.list().size(), static_cast<std::size_t>(kInstances));
}

TEST_P(PluginHostTest, AnInstanceAtV2IsUpgradedLater) {
  InstanceHost host(location());
  Instance old_echo = host.start("echo-old", migrations_of("echo-old", 2));
  Instance new_echo = host.start("echo-new", migrations_of("echo-new"));
  Instance old_karma = host.start("karma-old", migrations_of("karma-old", 2));
  EchoPlugin(old_echo).insert_raw("written by v2 of the plugin");
  KarmaPlugin(old_karma).bump_raw("bob", 12);
  EXPECT_EQ(old_echo.version(), 2);
  EXPECT_EQ(new_echo.version(), 3);
  EXPECT_EQ(EchoPlugin(old_echo).messages().at(0).length, std::nullopt);
  EXPECT_EQ(KarmaPlugin(old_karma).entries().at(0).level, std::nullopt);

  // Later the host is restarted with the new plugin versions.
  old_echo = Instance();
  old_karma = Instance();
  InstanceHost restarted(location());
  Instance echo = restarted.start("echo-old", migrations_of("echo-old"));
  Instance karma = restarted.start("karma-old", migrations_of("karma-old"));
  EXPECT_EQ(echo.version(), 3);
  EXPECT_EQ(karma.version(), 3);
  EXPECT_EQ(EchoPlugin(echo).messages().at(0).length, 27);
  EXPECT_EQ(KarmaPlugin(karma).entries().at(0).level, "regular");
}

TEST_P(PluginHostTest, RemovingAnInstanceLeavesTheOthers) {
  InstanceHost host(location());
  Instance gone = host.start("echo-gone", migrations_of("echo-gone"));
  Instance stays = host.start("echo-stays", migrations_of("echo-stays"));
  EchoPlugin(gone).on_message("bye");
  EchoPlugin(stays).on_message("hi");
  EXPECT_TRUE(host.remove("echo-gone"));
  EXPECT_EQ(host.list(), std::vector<std::string>{"echo-stays"});
  EXPECT_EQ(EchoPlugin(stays).messages().size(), 1u);
  EXPECT_THROW(EchoPlugin(gone).messages(), Error);
  Instance again = host.start("echo-gone", migrations_of("echo-gone"));
  EXPECT_TRUE(EchoPlugin(again).messages().empty());
}

// The example binary, as a user runs it: v2 first, then upgraded, then a removal.
TEST_P(PluginHostTest, BinaryRunsUpgradesAndRemoves) {
  const fs::path binary = STRATA_PLUGIN_HOST_BINARY;
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), location());
    test::Process p(binary, args, db().dir());
    return p.wait();
  };
  auto first = run({"--instances", "3", "--target", "2"});
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_NE(first.out.find("6 instances on " + std::string(to_string(engine()))), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("echo-3     v2  1 messages, 1 without a length"), std::string::npos) << first.out;

  auto second = run({"--instances", "3"});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_NE(second.out.find("echo-3     v3  2 messages, 0 without a length"), std::string::npos) << second.out;
  EXPECT_NE(second.out.find("karma-2    v3  2 users: alice=14 (regular) karma-2=2 (newbie)"), std::string::npos)
      << second.out;

  auto removed = run({"--remove", "echo-2", "no-such"});
  ASSERT_EQ(removed.code, 0) << removed.err;
  EXPECT_EQ(removed.out, "removed echo-2\nno such instance no-such\n");
  auto listed = run({"--list"});
  ASSERT_EQ(listed.code, 0) << listed.err;
  EXPECT_EQ(listed.out, "echo-1\necho-3\nkarma-1\nkarma-2\nkarma-3\n");

  auto hostile = run({"--remove", "x\"; DROP SCHEMA public CASCADE; --"});
  EXPECT_EQ(hostile.code, 1);
  EXPECT_NE(hostile.err.find("invalid instance id"), std::string::npos) << hostile.err;
}

STRATA_INSTANTIATE_ENGINES(PluginHostTest);

}  // namespace
}  // namespace strata
