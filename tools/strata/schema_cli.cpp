#include "schema_cli.hpp"

#include <fmt/format.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "common.hpp"
#include "strata/error.hpp"

namespace strata::cli {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view foreign_keys_directive = "-- strata: foreign-keys off";

}  // namespace

schema::SchemaSource resolve_source(const std::string& text) {
  std::string path = text;
  std::string physical;
  if (auto hash = text.rfind('#'); hash != std::string::npos && text.substr(0, hash).ends_with(".toml")) {
    path = text.substr(0, hash);
    physical = text.substr(hash + 1);
  }
  if (!path.ends_with(".toml")) return schema::parse_source(text);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw Error(ErrorKind::source, path + ": no such config file");
  CommonOptions o;
  o.config = path;
  apply_config(o);
  if (!o.synapse) {
    if (!physical.empty()) {
      throw Error(ErrorKind::usage, path + " has no Synapse layout, so '#" + physical + "' names nothing");
    }
    return schema::SchemaSource::migrations(o.source);
  }
  std::vector<std::string> logical;
  if (!physical.empty()) {
    std::string names;
    for (const auto& db : o.synapse->databases) {
      names += (names.empty() ? "" : ", ") + db.name;
      if (db.name == physical) logical = db.logical;
    }
    if (logical.empty()) {
      throw Error(ErrorKind::usage, fmt::format("{} has no [databases.{}] (it has: {})", path, physical, names));
    }
  }
  schema::SchemaSource s = schema::SchemaSource::synapse(o.synapse->layout, logical);
  s.label = text;
  return s;
}

std::string default_dev_url() {
  const char* env = std::getenv("STRATA_DEV_URL");
  return env != nullptr ? env : "";
}

schema::LoadOptions comparison_load_options(const std::vector<const schema::SchemaSource*>& sources,
                                            const std::string& history_table, const std::string& pg_schema) {
  schema::LoadOptions o;
  o.inspect.schema = pg_schema;
  o.history_table = history_table;
  o.inspect.exclude_tables.push_back(history_table);
  for (const auto* s : sources) {
    if (s->kind != schema::SourceKind::synapse) continue;
    for (auto& t : schema::synapse_state_tables()) o.inspect.exclude_tables.push_back(std::move(t));
    break;
  }
  o.on_warning = [](std::string_view w) { fmt::print(stderr, "warning: {}\n", w); };
  return o;
}

void warn_unsupported(const std::string& label, const schema::Schema& schema) {
  for (const auto& u : schema.unsupported) {
    fmt::print(stderr, "warning: {}: not compared (the schema model cannot represent it): {}\n", label, u);
  }
}

nlohmann::json to_json(const schema::Change& c) {
  return {{"kind", schema::to_string(c.kind)}, {"object", c.object},           {"detail", c.detail},
          {"statements", c.statements},       {"destructive", c.destructive}, {"notes", c.notes}};
}

nlohmann::json changes_json(const schema::Diff& diff) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& c : diff.changes) out.push_back(to_json(c));
  return out;
}

std::string migration_text(const schema::Diff& diff, const std::string& header) {
  std::string body = diff.sql();
  std::string top;
  if (body.starts_with(foreign_keys_directive)) {
    auto eol = body.find('\n');
    top = body.substr(0, eol == std::string::npos ? body.size() : eol + 1);
    body.erase(0, top.size());
  } else if (diff.foreign_keys_off) {
    top = std::string(foreign_keys_directive) + "\n";
  }
  return top + header + body;
}

}  // namespace strata::cli

