// plugin_host: runs many plugin instances, each with a database of its own.
//
//   plugin_host [LOCATION] [--instances N] [--target VERSION]
//   plugin_host [LOCATION] --remove ID...
//   plugin_host [LOCATION] --list
//
// LOCATION is a directory for one SQLite file per instance (default
// ./plugin_host_data) or a PostgreSQL URL (one schema per instance). Each run
// starts N instances of each plugin type (echo-1..N, karma-1..N) at once, each
// migrated to its plugin's newest version (or VERSION), lets each do a little
// work, and prints what each instance holds. Run it with --target 2, then
// without: the second run upgrades every instance, and the v3 code
// migrations backfill what the first run wrote.
#include <chrono>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "plugins.hpp"
#include "strata/error.hpp"
#include "strata/instance_host.hpp"

namespace {

struct Options {
  std::string location = "plugin_host_data";
  int instances = 4;
  std::optional<strata::Version> target;
  std::vector<std::string> remove;
  bool list = false;
};

[[noreturn]] void usage(const std::string& problem) {
  std::cerr << "plugin_host: " << problem << "\n"
            << "usage: plugin_host [LOCATION] [--instances N] [--target VERSION]\n"
            << "       plugin_host [LOCATION] --remove ID...\n"
            << "       plugin_host [LOCATION] --list\n"
            << "LOCATION: a directory for SQLite files (default ./plugin_host_data) or a PostgreSQL URL\n";
  std::exit(2);
}

long parse_number(const std::string& flag, const char* text) {
  if (text == nullptr) usage(flag + " needs a value");
  char* end = nullptr;
  long n = std::strtol(text, &end, 10);
  if (*text == '\0' || *end != '\0' || n < 1) usage(flag + " needs a positive number, not '" + text + "'");
  return n;
}

Options parse(int argc, char** argv) {
  Options o;
  bool have_location = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--instances") {
      o.instances = static_cast<int>(parse_number(arg, i + 1 < argc ? argv[++i] : nullptr));
    } else if (arg == "--target") {
      o.target = parse_number(arg, i + 1 < argc ? argv[++i] : nullptr);
    } else if (arg == "--remove") {
      while (i + 1 < argc && argv[i + 1][0] != '-') o.remove.emplace_back(argv[++i]);
      if (o.remove.empty()) usage("--remove needs at least one instance id");
    } else if (arg == "--list") {
      o.list = true;
    } else if (arg == "-h" || arg == "--help") {
      usage("runs plugin instances with a database each");
    } else if (!arg.empty() && arg[0] == '-') {
      usage("unknown option " + arg);
    } else if (!have_location) {
      o.location = arg;
      have_location = true;
    } else {
      usage("more than one LOCATION");
    }
  }
  return o;
}

// One line about what an instance holds.
std::string describe(const strata::Instance& db) {
  const std::string type = plugin_host::type_of(db.id());
  if (type == plugin_host::EchoPlugin::kType) {
    auto messages = plugin_host::EchoPlugin(db).messages();
    int without_length = 0;
    for (const auto& m : messages) without_length += !m.length;
    return fmt::format("{} messages, {} without a length", messages.size(), without_length);
  }
  auto entries = plugin_host::KarmaPlugin(db).entries();
  std::string out = fmt::format("{} users:", entries.size());
  for (const auto& e : entries) out += fmt::format(" {}={} ({})", e.user, e.points, e.level.value_or("no level"));
  return out;
}

// Starts one instance and lets its plugin do a little work.
strata::Instance run_instance(strata::InstanceHost& host, const std::string& id,
                              std::optional<strata::Version> target) {
  const strata::UpgradeTable* table = plugin_host::upgrade_table_for(plugin_host::type_of(id));
  strata::StartOptions start;
  start.target = target;
  strata::Instance db = host.start(id, table->migrations(), start);
  const bool current = db.version() >= 3;
  if (plugin_host::type_of(id) == plugin_host::EchoPlugin::kType) {
    plugin_host::EchoPlugin echo(db);
    std::string body = "hello from " + id;
    current ? echo.on_message(body) : echo.insert_raw(body);
  } else {
    plugin_host::KarmaPlugin karma(db);
    current ? karma.bump("alice", 7) : karma.bump_raw("alice", 7);
    current ? karma.bump(id, 1) : karma.bump_raw(id, 1);
  }
  return db;
}

}  // namespace

int main(int argc, char** argv) {
  Options options = parse(argc, argv);
  try {
    strata::InstanceHost host(options.location);
    const char* engine = strata::to_string(host.engine());

    if (options.list) {
      for (const auto& id : host.list()) std::cout << id << "\n";
      return 0;
    }
    if (!options.remove.empty()) {
      for (const auto& id : options.remove) {
        std::cout << (host.remove(id) ? "removed " : "no such instance ") << id << "\n";
      }
      return 0;
    }

    std::vector<std::string> ids;
    for (int i = 1; i <= options.instances; ++i) {
      ids.push_back(fmt::format("echo-{}", i));
      ids.push_back(fmt::format("karma-{}", i));
    }
    const auto started = std::chrono::steady_clock::now();
    std::vector<strata::Instance> instances(ids.size());
    std::vector<std::string> failures;
    std::mutex failures_mutex;
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      threads.emplace_back([&, i] {
        try {
          instances[i] = run_instance(host, ids[i], options.target);
        } catch (const std::exception& e) {
          std::lock_guard lock(failures_mutex);
          failures.push_back(e.what());
        }
      });
    }
    for (auto& t : threads) t.join();
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

    for (const auto& f : failures) std::cerr << "plugin_host: " << f << "\n";
    std::cout << fmt::format("{} instances on {} ({}) in {:.2f} s\n", ids.size(), engine,
                             host.engine() == strata::Engine::sqlite ? options.location : "one schema each", seconds);
    for (const auto& db : instances) {
      if (db) std::cout << fmt::format("  {:<10} v{}  {}\n", db.id(), db.version(), describe(db));
    }
    return failures.empty() ? 0 : 1;
  } catch (const strata::Error& e) {
    std::cerr << "plugin_host: " << e.what() << "\n";
    return 1;
  }
}
