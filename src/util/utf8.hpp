// src/util/utf8.hpp: UTF-8 validation for migration files.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace strata::util {

struct Utf8Error {
  std::size_t offset = 0;  // byte offset of the first invalid byte
  int line = 1;            // 1-based
  int column = 1;          // 1-based, in bytes
};

// The position of the first byte that is not part of well-formed UTF-8
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::optional<Utf8Error> find_invalid_utf8(std::string_view text) noexcept;

}  // namespace strata::util
