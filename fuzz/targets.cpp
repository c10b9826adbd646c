// fuzz/targets.cpp: see targets.hpp.
#include "targets.hpp"

#include <cstdlib>
#include <string>
#include <string_view>

#include "strata/error.hpp"
#include "strata/source.hpp"
#include "strata/sql/splitter.hpp"
#include "strata/url.hpp"

namespace strata::fuzz {
namespace {

std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

void check(bool ok) {
  if (!ok) std::abort();
}

void split_checked(std::string_view input, Engine dialect) {
  const sql::Script script = sql::parse_script(input, dialect);
  for (const auto& st : script.statements) {
    check(st.line >= 1 && st.column >= 1);
  }
  // (A rejoin invariant -- statements rejoined with ";\n" split into
  // themselves -- was tried and dropped: dollar quotes, "-- only:" lines and
  // byte-order marks make legitimate exceptions, and CI must not fail on
  // those. Positions and the sanitizers are what is checked.)
}

}  // namespace

void splitter(const std::uint8_t* data, std::size_t size) {
  split_checked(text(data, size), Engine::sqlite);
  split_checked(text(data, size), Engine::postgres);
}

void directive(const std::uint8_t* data, std::size_t size) {
  const std::string body(text(data, size));
  for (const char* prefix : {"-- strata: ", "-- transaction: ", "-- only: ", "-- "}) {
    const std::string input = prefix + body + "\nSELECT 1;\n";
    (void)sql::parse_script(input, Engine::sqlite);
    (void)sql::parse_script(input, Engine::postgres);
  }
}

void file_name(const std::uint8_t* data, std::size_t size) {
  // nullopt with an empty reason is "not a migration file" (ignored);
  // with a reason, a malformed migration name.
  std::string why;
  auto parsed = parse_file_name(text(data, size), &why);
  if (parsed) check(!parsed->version_text.empty());
}

void url(const std::uint8_t* data, std::size_t size) {
  try {
    const DatabaseUrl u = DatabaseUrl::parse(text(data, size));
    (void)u.redacted();
  } catch (const Error&) {
  }
}

}  // namespace strata::fuzz
