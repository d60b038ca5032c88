#pragma once
// The text of the state folder's line records (item-times, change-history): fields separated by
// tabs, with backslash, tab and newline escaped inside a field.
#include <charconv>
#include <string>
#include <string_view>
#include <system_error>

namespace hostprint::record_text {

inline void escape_into(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\t')
      out += "\\t";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
}

// False for an escape that escape_into never writes (a corrupt record).
inline bool unescape(std::string_view text, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) return false;
    if (text[i] == '\\')
      out += '\\';
    else if (text[i] == 't')
      out += '\t';
    else if (text[i] == 'n')
      out += '\n';
    else
      return false;
  }
  return true;
}

// The whole of `text` as a number, else false.
template <class T>
bool number(std::string_view text, T& value, int base = 10) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, base);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace hostprint::record_text
