// fuzz/targets.hpp: one function per fuzz target, shared by the libFuzzer
// entry points (fuzz_*.cpp) and the regression replay of tests/data/fuzz.
// Each takes arbitrary bytes, runs them through one of strata's parsers, and
// checks what must hold whatever the input: no crash, no undefined
// behaviour (the sanitizers), and the parser's own invariants (abort()
// when broken). strata::Error is an expected outcome for bad input.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strata::fuzz {

// The splitter, on both dialects: every statement has a valid position.
void splitter(const std::uint8_t* data, std::size_t size);
// The directive reader: the input after "-- strata: " (and after "-- "
// for mautrix's "-- transaction:" and "-- only:" lines).
void directive(const std::uint8_t* data, std::size_t size);
// The migration file-name parser: a parsed name has a version.
void file_name(const std::uint8_t* data, std::size_t size);
// The database URL parser; redacted() never contains the password.
void url(const std::uint8_t* data, std::size_t size);

}  // namespace strata::fuzz
