// String helpers shared by readers, validators and the CLI: edit distance, "did you mean", join.
//
//   std::vector<std::string> keys = {"bandwidth", "latency"};
//   std::optional<std::string> m = closest_match("bandwdth", keys);   // "bandwidth"
//   std::string hint = did_you_mean("bandwdth", keys);                // "did you mean 'bandwidth'?"
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace mlsys {

/// Optimal-string-alignment distance: insertions, deletions, substitutions and swaps of two
/// adjacent characters each cost 1. Case-sensitive; byte-wise.
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate nearest to `word` (ignoring ASCII case), if one is close enough to be a plausible
/// typo: distance at most max(1, |word| / 3). Ties go to the earliest candidate.
std::optional<std::string> closest_match(std::string_view word, std::span<const std::string> candidates);

/// "did you mean 'x'?" for the closest match, or "" when nothing is close.
std::string did_you_mean(std::string_view word, std::span<const std::string> candidates);

/// Items joined with `separator`: join({"a","b"}, ", ") == "a, b".
std::string join(std::span<const std::string> items, std::string_view separator);

/// Shortest text that reads back as exactly `value` ("0.1", "1e+20", "5"); "nan"/"inf"/"-inf"
/// for non-finite values.
std::string format_shortest(double value);

/// `text` with leading and trailing spaces and tabs removed.
std::string_view trim_blanks(std::string_view text);

}  // namespace mlsys
