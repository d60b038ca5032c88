#include "collectors/formats/passwd.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <unordered_set>

#include "collectors/formats/text_fields.hpp"
#include "collectors/io/bounded_read.hpp"

namespace hostprint::collectors {
namespace {
constexpr std::size_t max_line_bytes = 64 * 1024;
}

PasswdEntries parse_passwd(std::string_view text) {
  PasswdEntries out;
  std::unordered_set<std::string_view> seen;
  for_each_line(text, max_line_bytes, [&](std::string_view line, bool too_long) {
    if (too_long) {
      ++out.overlong_lines;
      return;
    }
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (trim(line).empty() || line.front() == '#') return;
    if (line.front() == '+' || line.front() == '-') return;  // NIS inclusion, not an account
    if (line.find('\0') != std::string_view::npos) {
      ++out.malformed_lines;
      return;
    }
    std::array<std::string_view, 7> field;
    std::size_t count = 0;
    std::string_view rest = line;
    for (;;) {
      auto colon = rest.find(':');
      if (count < field.size()) field[count] = rest.substr(0, colon);
      ++count;
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
    auto uid = count == 7 ? parse_unsigned<std::uint32_t>(field[2]) : std::nullopt;
    auto gid = count == 7 ? parse_unsigned<std::uint32_t>(field[3]) : std::nullopt;
    if (count != 7 || field[0].empty() || !uid || !gid) {
      ++out.malformed_lines;
      return;
    }
    if (!seen.insert(field[0]).second) return;
    out.accounts.push_back(
        {std::string(field[0]), *uid, *gid, std::string(field[5]), std::string(field[6])});
  });
  return out;
}

}  // namespace hostprint::collectors
