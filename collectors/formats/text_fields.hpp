#pragma once
// Small helpers shared by the line parsers.
#include <cstdint>
#include <optional>
#include <string_view>

namespace hostprint::collectors {

// Plain decimal digits that fit in T; nothing else (no sign, no space).
template <typename T>
std::optional<T> parse_unsigned(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  T value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    T digit = static_cast<T>(c - '0');
    if (value > (static_cast<T>(~T{0}) - digit) / 10) return std::nullopt;
    value = static_cast<T>(value * 10 + digit);
  }
  return value;
}

inline std::string_view trim(std::string_view s) {
  constexpr std::string_view blanks = " \t\r\v\f";
  auto first = s.find_first_not_of(blanks);
  if (first == std::string_view::npos) return {};
  auto last = s.find_last_not_of(blanks);
  return s.substr(first, last - first + 1);
}

}  // namespace hostprint::collectors
