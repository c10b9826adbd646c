// tools/strata/config_keys.cpp: every key strata.toml may hold, one per
// line, and the check that refuses any other (a misspelt key must not be
// silently ignored). Add a key here when a command starts reading it.
#include <fmt/format.h>

#include <string>
#include <vector>

#include "common.hpp"
#include "config_keys.hpp"
#include "strata/error.hpp"
#include "suggest.hpp"

namespace strata::cli {
namespace {

// "table.key"; "*" matches any name at that level (databases.<name>,
// migrations.allowed_checksums.<version>).
const std::vector<std::string> kConfigKeys = {
    "migrations",
    "migrations.source",
    "migrations.history_table",
    "migrations.history_schema",
    "migrations.background_table",
    "migrations.background_log_table",
    "migrations.lock_mode",
    "migrations.lock_timeout",
    "migrations.group",
    "migrations.lint",
    "migrations.ddl_lock_timeout",
    "migrations.ddl_retries",
    "migrations.allow_missing",
    "migrations.allowed_checksums",
    "migrations.allowed_checksums.*",
    "layout",
    "layout.kind",
    "layout.root",
    "layout.schema_version",
    "layout.compat_version",
    "layout.use_snapshots",
    "databases",
    "databases.*",
    "databases.*.url",
    "databases.*.logical",
};

bool known(const std::string& path) {
  for (const std::string& k : kConfigKeys) {
    // Compare dotted parts, "*" matching any one part.
    std::size_t a = 0, b = 0;
    bool match = true;
    while (match) {
      const std::size_t ae = k.find('.', a), be = path.find('.', b);
      const std::string kp = k.substr(a, ae == std::string::npos ? std::string::npos : ae - a);
      const std::string pp = path.substr(b, be == std::string::npos ? std::string::npos : be - b);
      if (kp != "*" && kp != pp) match = false;
      if ((ae == std::string::npos) != (be == std::string::npos)) match = false;
      if (!match || ae == std::string::npos) break;
      a = ae + 1;
      b = be + 1;
    }
    if (match) return true;
  }
  return false;
}

// The keys valid beside `path` (same parent), for the suggestion.
std::vector<std::string> siblings(const std::string& parent) {
  std::vector<std::string> out;
  for (const std::string& k : kConfigKeys) {
    const std::size_t dot = k.rfind('.');
    const std::string kparent = dot == std::string::npos ? "" : k.substr(0, dot);
    const std::string name = dot == std::string::npos ? k : k.substr(dot + 1);
    if (name == "*") continue;
    // Parents match part by part with "*".
    if (kparent == parent || (kparent.find('*') != std::string::npos && known(parent) &&
                              kparent.size() > 0 && kparent.substr(0, kparent.find('*')) ==
                                                        parent.substr(0, kparent.find('*')))) {
      out.push_back(name);
    }
  }
  return out;
}

void check_table(const std::string& file, const toml::table& table, const std::string& prefix) {
  for (const auto& [key, value] : table) {
    const std::string name(key.str());
    const std::string path = prefix.empty() ? name : prefix + "." + name;
    if (!known(path)) {
      const auto& at = key.source().begin;
      throw Error(ErrorKind::config,
                  fmt::format("{}:{}:{}: unknown key {}{}{}", file, at.line, at.column,
                              prefix.empty() ? name : prefix + "." + name,
                              prefix.empty() ? " (strata.toml has [migrations], [layout] and [databases.NAME])" : "",
                              did_you_mean(name, siblings(prefix))));
    }
    if (const toml::table* t = value.as_table()) check_table(file, *t, path);
  }
}

}  // namespace

void check_config_keys(const std::string& file, const toml::table& root) { check_table(file, root, ""); }

}  // namespace strata::cli
