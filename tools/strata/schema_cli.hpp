// tools/strata/schema_cli.hpp: what strata diff, strata drift and strata new
// --autogenerate share: reading a source argument, the dev database option,
// warnings, and the JSON of a diff.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "strata/schema/diff.hpp"
#include "strata/schema/load.hpp"

namespace strata::cli {

// A source as the command line gives it: schema::parse_source's rules, plus
// a config file (a path ending in ".toml", optionally "#NAME" to pick the
// physical database NAME of a Synapse layout): a Synapse layout is replayed
// (every logical database of the tree, or NAME's), a versioned config stands
// for its [migrations] source directory.
schema::SchemaSource resolve_source(const std::string& text);

// --dev-url's default: $STRATA_DEV_URL, else "" (SQLite in memory).
std::string default_dev_url();

// The exclusions and options every load of one comparison shares: strata's
// history table (`history_table`), Synapse's state tables when a Synapse
// tree takes part, warnings to stderr.
schema::LoadOptions comparison_load_options(const std::vector<const schema::SchemaSource*>& sources,
                                            const std::string& history_table, const std::string& pg_schema);

// Names each object the model could not represent on stderr:
// "warning: <label>: not compared: <object>".
void warn_unsupported(const std::string& label, const schema::Schema& schema);

// {"kind", "object", "detail", "statements", "destructive", "notes"}.
nlohmann::json to_json(const schema::Change& change);
// [change, ...] of to_json(Change).
nlohmann::json changes_json(const schema::Diff& diff);

// The migration-file text of a diff: its sql(), with the foreign-keys
// directive first when the diff needs it, then `header` (comment lines).
std::string migration_text(const schema::Diff& diff, const std::string& header);

}  // namespace strata::cli
