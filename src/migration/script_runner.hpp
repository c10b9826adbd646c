// src/migration/script_runner.hpp: running a split SQL script, shared by the
// Migrator and the SynapseMigrator.
#pragma once

#include <string>

#include "strata/connection.hpp"
#include "strata/error.hpp"
#include "strata/sql/splitter.hpp"

namespace strata {

// The file position of byte `offset` inside statement `s` (the engine's error
// offset), or of the statement's start when the engine gave none.
SourcePosition position_of(const std::string& file, const sql::Statement& s, int index, int offset);

// Splits `text` for `engine`; throws Error{source} rendering every error
// diagnostic (file:line:column with a caret), positioned at the first.
sql::Script parse_or_throw(const std::string& file, const std::string& text, Engine engine);

// Runs every statement; on failure rethrows the engine's error with the
// statement's file position (statement number, line and column).
void run_statements(Connection& c, const std::string& file, const sql::Script& script);

}  // namespace strata
