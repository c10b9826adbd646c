// Deterministic SQL inputs for the micro-benchmarks, generated in memory so
// the benchmarks need no data files.
#pragma once

#include <cstddef>
#include <string>

namespace strata::bench {

// About `bytes` of a realistic PostgreSQL migration script: CREATE TABLE with
// comments and defaults, CREATE INDEX, multi-row INSERTs with quoted strings
// (doubled quotes, E'' escapes, semicolons inside strings), UPDATE/ALTER,
// block and line comments, and PL/pgSQL functions with $$ and $fn$ bodies.
std::string realistic_script(std::size_t bytes);

// One CREATE FUNCTION whose $body$ ... $body$ is about `bytes` long: the
// splitter's worst case (one statement, a single long quoted run full of
// semicolons, quotes and dollar signs that must not end it).
std::string huge_dollar_body(std::size_t bytes);

}  // namespace strata::bench
