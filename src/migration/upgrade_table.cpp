#include "strata/upgrade_table.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>

#include "strata/error.hpp"

namespace strata {

namespace {

// Where a migration came from, for messages.
std::string describe(const Migration& m) {
  return m.kind == MigrationKind::sql ? m.path
                                      : fmt::format("code migration {} ({})", m.version, m.description);
}

std::vector<Migration> relink(std::vector<Migration> migrations) {
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (std::size_t i = 0; i < migrations.size(); ++i) {
    migrations[i].parents.clear();
    if (i > 0) migrations[i].parents.push_back(migrations[i - 1].version);
  }
  return migrations;
}

}  // namespace

std::string code_checksum(Version version, std::string_view description, std::string_view revision) {
  return checksum(fmt::format("code:{}\n{}\n{}", version, description, revision));
}

UpgradeTable::UpgradeTable(std::string name) : name_(std::move(name)) {}

void UpgradeTable::check_new(Version version, const std::string& description) const {
  if (version < 1) {
    throw Error(ErrorKind::usage, fmt::format("{}: version {} must be 1 or more", name_, version));
  }
  if (description.empty()) {
    throw Error(ErrorKind::usage, fmt::format("{}: version {} needs a description", name_, version));
  }
  for (const auto& m : steps_) {
    if (m.version == version) {
      throw Error(ErrorKind::source, fmt::format("{}: version {} is registered twice: \"{}\" and \"{}\"", name_,
                                                 version, m.description, description));
    }
  }
}

UpgradeTable& UpgradeTable::add(Version version, std::string description, MigrationFunction up,
                                CodeStepOptions options) {
  check_new(version, description);
  if (!up) {
    throw Error(ErrorKind::usage, fmt::format("{}: version {} has no function", name_, version));
  }
  Migration m;
  m.version = version;
  m.kind = MigrationKind::code;
  m.checksum = code_checksum(version, description, options.revision);
  m.description = std::move(description);
  m.up = std::move(up);
  m.down = std::move(options.down);
  m.code_transactional = options.transactional;
  m.code_foreign_keys_off = options.foreign_keys_off;
  m.compat_floor = options.compat_floor;
  steps_.push_back(std::move(m));
  return *this;
}

UpgradeTable& UpgradeTable::add_sql(Version version, std::string description, std::string sql,
                                    SqlStepOptions options) {
  check_new(version, description);
  Migration m;
  m.version = version;
  m.kind = MigrationKind::sql;
  m.description = std::move(description);
  m.path = fmt::format("{}#{}", name_, version);
  m.checksum = checksum(sql);
  m.sql = std::move(sql);
  if (!options.down_sql.empty()) {
    m.down_path = m.path + ".down";
    m.down_sql = std::move(options.down_sql);
  }
  steps_.push_back(std::move(m));
  return *this;
}

MigrationSet UpgradeTable::migrations() const { return MigrationSet(relink(steps_)); }

MigrationSet merge(MigrationSet a, MigrationSet b) {
  std::map<Version, const Migration*> by_version;
  for (const auto& m : a.all()) by_version.emplace(m.version, &m);
  std::vector<std::string> clashes;
  for (const auto& m : b.all()) {
    auto it = by_version.find(m.version);
    if (it != by_version.end()) {
      clashes.push_back(fmt::format("version {} is claimed twice: {} and {}", m.version, describe(*it->second),
                                    describe(m)));
    }
  }
  if (!clashes.empty()) {
    std::string message = fmt::format("the merged migration source has {} {}", clashes.size(),
                                      clashes.size() == 1 ? "problem:" : "problems:");
    for (const auto& c : clashes) message += "\n  " + c;
    throw Error(ErrorKind::source, message);
  }
  std::vector<Migration> all = a.all();
  all.insert(all.end(), b.all().begin(), b.all().end());
  return MigrationSet(relink(std::move(all)));
}

MigrationSet merge(MigrationSet files, const UpgradeTable& table) {
  return merge(std::move(files), table.migrations());
}

}  // namespace strata
