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

// The colon-separated fields of a line, at most N; the count of fields there were.
template <std::size_t N>
std::size_t split_colons(std::string_view line, std::array<std::string_view, N>& field) {
  std::size_t count = 0;
  for (;;) {
    auto colon = line.find(':');
    if (count < N) field[count] = line.substr(0, colon);
    ++count;
    if (colon == std::string_view::npos) return count;
    line.remove_prefix(colon + 1);
  }
}

// A line worth reading: not blank, a comment, a NIS inclusion or cut short.
bool is_entry(std::string_view& line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return !trim(line).empty() && line.front() != '#' && line.front() != '+' && line.front() != '-';
}

}  // namespace

GroupNames parse_group(std::string_view text) {
  GroupNames out;
  for_each_line(text, max_line_bytes, [&](std::string_view line, bool too_long) {
    if (too_long || !is_entry(line)) return;
    std::array<std::string_view, 4> field;
    const auto count = split_colons(line, field);
    auto gid = count == 4 ? parse_unsigned<std::uint32_t>(field[2]) : std::nullopt;
    if (!gid || field[0].empty() || line.find('\0') != std::string_view::npos) {
      ++out.malformed_lines;
      return;
    }
    out.by_gid.try_emplace(*gid, field[0]);
  });
  return out;
}

PasswdEntries parse_passwd(std::string_view text) {
  PasswdEntries out;
  std::unordered_set<std::string_view> seen;
  for_each_line(text, max_line_bytes, [&](std::string_view line, bool too_long) {
    if (too_long) {
      ++out.overlong_lines;
      return;
    }
    if (!is_entry(line)) return;
    if (line.find('\0') != std::string_view::npos) {
      ++out.malformed_lines;
      return;
    }
    std::array<std::string_view, 7> field;
    const auto count = split_colons(line, field);
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
