#pragma once
// Versions read from files: a product's version file, a distribution's metadata.
#include <cstddef>
#include <string>
#include <string_view>

namespace hostprint::collectors {

inline constexpr std::size_t max_version_file_bytes = 1u << 20;
inline constexpr std::size_t max_version_bytes = 64;

// Not empty, at most max_version_bytes, no blanks or control characters.
bool plausible_version(std::string_view v);

// The version in a version file's text: after `pattern` (spaces and an opening quote skipped) up to
// the next quote, space, ';' or ')'; without a pattern, the first line trimmed. Empty when absent
// or not a plausible version (longer than max_version_bytes, or holding control characters).
std::string version_from_text(std::string_view text, std::string_view pattern);

}  // namespace hostprint::collectors
