#pragma once
// XDG .desktop files, as far as autostart reads them.
#include <string_view>

namespace hostprint::collectors {

struct DesktopEntry {
  bool has_desktop_entry_group = false;
  bool hidden = false;  // Hidden=true (or 1) in the [Desktop Entry] group
};

// Hidden is read as GLib reads a boolean. A file without the group is not a desktop entry: the
// collector reports it and does not count it.
DesktopEntry parse_desktop_entry(std::string_view text);

}  // namespace hostprint::collectors
