#include "collectors/formats/desktop_entry.hpp"

#include "collectors/formats/text_fields.hpp"
#include "collectors/io/bounded_read.hpp"

namespace hostprint::collectors {

DesktopEntry parse_desktop_entry(std::string_view text) {
  constexpr std::size_t max_line_bytes = 64 * 1024;  // longer lines are skipped
  DesktopEntry out;
  bool in_group = false;
  bool group_seen = false;
  for_each_line(text, max_line_bytes, [&](std::string_view line, bool too_long) {
    if (too_long) return;
    line = trim(line);
    if (line.empty() || line.front() == '#') return;
    if (line.front() == '[') {
      // Only the first [Desktop Entry] group counts; a repeated one is not a valid file's.
      in_group = !group_seen && line == "[Desktop Entry]";
      if (in_group) group_seen = out.has_desktop_entry_group = true;
      return;
    }
    if (!in_group) return;
    auto eq = line.find('=');
    if (eq == std::string_view::npos) return;
    if (trim(line.substr(0, eq)) != "Hidden") return;
    auto value = trim(line.substr(eq + 1));
    out.hidden = value == "true" || value == "1";  // as GLib reads a boolean; the last one wins
  });
  return out;
}

}  // namespace hostprint::collectors
