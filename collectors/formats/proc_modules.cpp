#include "collectors/formats/proc_modules.hpp"

#include <cctype>
#include <cstdint>
#include <string>
#include <unordered_set>

#include "collectors/formats/text_fields.hpp"
#include "collectors/io/bounded_read.hpp"

namespace hostprint::collectors {
namespace {
constexpr std::size_t max_line_bytes = 64 * 1024;

bool valid_module_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  return true;
}
}  // namespace

ModuleEntries parse_proc_modules(std::string_view text) {
  // "name size refcount deps state address [taints]"
  ModuleEntries out;
  std::unordered_set<std::string_view> seen;
  for_each_line(text, max_line_bytes, [&](std::string_view line, bool too_long) {
    if (trim(line).empty()) return;
    if (too_long) {
      ++out.malformed_lines;
      return;
    }
    std::string_view fields[6];
    std::size_t count = 0;
    std::string_view rest = line;
    while (count < 6) {
      rest = trim(rest);
      if (rest.empty()) break;
      auto space = rest.find_first_of(" \t");
      fields[count++] = rest.substr(0, space);
      rest = space == std::string_view::npos ? std::string_view{} : rest.substr(space);
    }
    auto size = count == 6 ? parse_unsigned<std::uint64_t>(fields[1]) : std::nullopt;
    if (count < 6 || !valid_module_name(fields[0]) || !size) {
      ++out.malformed_lines;
      return;
    }
    if (!seen.insert(fields[0]).second) return;
    out.modules.push_back({std::string(fields[0]), *size, std::string(fields[4])});
  });
  return out;
}

}  // namespace hostprint::collectors
