// up/status/validate for a Synapse-style configuration: every physical
// database of strata.toml in turn, reported per database.
#include <fmt/format.h>

#include "common.hpp"
#include "strata/error.hpp"

namespace strata::cli {
namespace {

SynapseOptions synapse_options(const CommonOptions& o) {
  SynapseOptions s;
  MigratorOptions m = migrator_options(o);
  s.lock = m.lock;
  s.skip_code_deltas = o.skip_code_deltas;
  s.on_warning = m.on_warning;
  return s;
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

// Runs `body` on each physical database; stops at the first error, which is
// rethrown after the JSON of what was done (if any) has been printed.
template <class Body>
void for_each_database(const CommonOptions& o, const char* command, Body body) {
  const SynapseConfig& cfg = *o.synapse;
  nlohmann::json all = nlohmann::json::array();
  for (const auto& db : cfg.databases) {
    DatabaseUrl url = DatabaseUrl::parse(db.url);
    if (!o.json) fmt::print("== {} ({}): {}\n", db.name, url.redacted(), joined(db.logical));
    nlohmann::json j{{"name", db.name}, {"database", url.redacted()}, {"logical", db.logical}};
    try {
      auto connection = connect(url);
      SynapseMigrator migrator(*connection, cfg.layout, db.logical, synapse_options(o));
      body(migrator, j);
    } catch (Error& e) {
      e.context(fmt::format("{} on database {}", command, db.name));
      throw;
    }
    all.push_back(std::move(j));
    if (!o.json) fmt::print("\n");
  }
  if (o.json) {
    print_json({{"layout", "synapse"},
                {"schema_version", cfg.layout.schema_version},
                {"compat_version", cfg.layout.compat_version},
                {"databases", all}});
  }
}

}  // namespace

void run_synapse_up(const CommonOptions& o) {
  for_each_database(o, "up", [&](SynapseMigrator& m, nlohmann::json& j) {
    nlohmann::json applied = nlohmann::json::array();
    auto result = m.up([&](const SynapseStep& s) {
      applied.push_back({{"file", s.file}, {"duration_us", s.duration.count()}});
      if (!o.json) fmt::print("Applied {} ({})\n", s.file, human_duration(s.duration));
    });
    j["applied"] = applied;
    if (!o.json) {
      if (result.applied.empty()) fmt::print("Up to date at schema version {}.\n", o.synapse->layout.schema_version);
      else fmt::print("Now at schema version {}.\n", o.synapse->layout.schema_version);
    }
  });
}

void run_synapse_status(const CommonOptions& o) {
  for_each_database(o, "status", [&](SynapseMigrator& m, nlohmann::json& j) {
    SynapseStatus st = m.status();
    j["fresh"] = st.fresh;
    if (!st.fresh) {
      j["schema_version"] = st.current_version;
      j["upgraded"] = st.upgraded;
    }
    if (st.compat_version) j["compat_version"] = *st.compat_version;
    if (st.base_version) j["base_version"] = *st.base_version;
    nlohmann::json deltas = nlohmann::json::array();
    for (const auto& d : st.deltas) deltas.push_back({{"version", d.version}, {"file", d.file}, {"state", to_string(d.state)}});
    j["deltas"] = deltas;
    j["warnings"] = st.warnings;
    if (o.json) return;
    if (st.fresh) {
      fmt::print("Empty: `strata up` will create it from full_schemas/{}.\n",
                 st.snapshot_version ? std::to_string(*st.snapshot_version) : std::string("(none)"));
    } else {
      fmt::print("Schema version {} ({}), compat version {}; code expects {}.\n", st.current_version,
                 st.upgraded ? "reached by deltas" : "from a snapshot",
                 st.compat_version ? std::to_string(*st.compat_version) : "unset", o.synapse->layout.schema_version);
    }
    for (const auto& d : st.deltas) {
      if (d.state == DeltaState::covered) continue;
      fmt::print("  {:<8} {}\n", to_string(d.state), d.file);
    }
    for (const auto& w : st.warnings) fmt::print(stderr, "warning: {}\n", w);
  });
}

void run_synapse_validate(const CommonOptions& o) {
  for_each_database(o, "validate", [&](SynapseMigrator& m, nlohmann::json& j) {
    ValidationReport r = m.validate();
    j["valid"] = r.ok();
    j["errors"] = r.errors;
    j["warnings"] = r.warnings;
    if (!o.json) {
      for (const auto& w : r.warnings) fmt::print(stderr, "warning: {}\n", w);
    }
    r.throw_if_failed();
    if (!o.json) fmt::print("Valid.\n");
  });
}

}  // namespace strata::cli
