// src/background/tables.hpp: the SQL the queue and the runner share, per
// dialect. Internal.
#pragma once

#include <string>
#include <string_view>

#include "strata/url.hpp"

namespace strata::detail {

// The current time as a column value: now() on PostgreSQL, ISO-8601 text
// with milliseconds on SQLite (as the history table stores it).
std::string_view now_sql(Engine engine);
// A timestamp column read as UTC text "YYYY-MM-DD HH:MM:SS.ffffff" (NULL stays NULL).
std::string timestamp_sql(Engine engine, std::string_view column);
// "FOR UPDATE" on PostgreSQL, nothing on SQLite (whose BEGIN IMMEDIATE
// already serialises writers).
std::string_view for_update_sql(Engine engine);

// Throws Error{ErrorKind::usage} unless `text` is valid JSON; `what` names it.
void require_json(std::string_view text, std::string_view what);

}  // namespace strata::detail
