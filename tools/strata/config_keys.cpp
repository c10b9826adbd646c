// tools/strata/config_keys.cpp: every key strata.toml may hold, one per
// line, and the check that refuses any other (a misspelt key must not be
// silently ignored). Add a key here when a command starts reading it.
#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <string_view>
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
    "migrations.graph",
    "migrations.history_format",
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

// Whether dotted `path` matches `pattern` part by part, "*" matching any one part.
bool matches(std::string_view pattern, std::string_view path) {
  for (;;) {
    const auto pe = pattern.find('.'), te = path.find('.');
    const std::string_view pp = pattern.substr(0, pe), tp = path.substr(0, te);
    if (pp != "*" && pp != tp) return false;
    if (pe == std::string_view::npos || te == std::string_view::npos) return pe == te;
    pattern.remove_prefix(pe + 1);
    path.remove_prefix(te + 1);
  }
}

bool known(const std::string& path) {
  return std::any_of(kConfigKeys.begin(), kConfigKeys.end(), [&](const std::string& k) { return matches(k, path); });
}

// The names valid under `parent` ("" for the top level), for the suggestion.
std::vector<std::string> siblings(const std::string& parent) {
  std::vector<std::string> out;
  for (const std::string& k : kConfigKeys) {
    const std::size_t dot = k.rfind('.');
    const std::string kparent = dot == std::string::npos ? "" : k.substr(0, dot);
    const std::string name = dot == std::string::npos ? k : k.substr(dot + 1);
    if (name == "*") continue;
    if (kparent.empty() ? parent.empty() : !parent.empty() && matches(kparent, parent)) out.push_back(name);
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
