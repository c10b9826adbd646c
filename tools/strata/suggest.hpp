// tools/strata/suggest.hpp: "did you mean ...?" for misspelt commands,
// options and strata.toml keys.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace strata::cli {

// Edit distance (insertions, deletions, substitutions and swaps of two
// neighbouring characters each count 1).
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word`, or "" when none is close enough to be
// what the user meant (distance above a third of the word's length, at
// least 2). Ties go to the first candidate.
std::string closest(std::string_view word, const std::vector<std::string>& candidates);

// " (did you mean X?)" for closest(), or "".
std::string did_you_mean(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace strata::cli
