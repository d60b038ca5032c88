#include "collectors/formats/unit_names.hpp"

#include <algorithm>
#include <array>

namespace hostprint::collectors {
namespace {

bool is_letter_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// The characters systemd allows in a unit name's prefix and instance (besides '@').
bool unit_name_char(char c) {
  return is_letter_or_digit(c) || c == ':' || c == '-' || c == '_' || c == '.' || c == '\\';
}

constexpr std::array<std::string_view, 11> unit_types = {"service", "socket",    "target", "device",
                                                         "mount",   "automount", "swap",   "timer",
                                                         "path",    "slice",     "scope"};

}  // namespace

std::optional<UnitName> split_unit_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return std::nullopt;
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  UnitName out;
  out.type = name.substr(dot + 1);
  if (std::find(unit_types.begin(), unit_types.end(), out.type) == unit_types.end())
    return std::nullopt;
  std::string_view stem = name.substr(0, dot);
  for (char c : stem)
    if (!unit_name_char(c) && c != '@') return std::nullopt;
  auto at = stem.find('@');
  if (at == 0) return std::nullopt;
  if (at == std::string_view::npos) {
    out.prefix = stem;
  } else {
    out.prefix = stem.substr(0, at);
    out.has_at = true;
    out.instance = stem.substr(at + 1);
  }
  return out;
}

std::string join_unit_name(std::string_view prefix, std::string_view instance,
                           std::string_view type) {
  std::string out(prefix);
  out += '@';
  out += instance;
  out += '.';
  out += type;
  return out;
}

bool valid_unit_name(std::string_view name) {
  return split_unit_name(name).has_value();
}

bool hidden_or_backup_name(std::string_view name) {
  if (name.empty() || name.front() == '.' || name.back() == '~') return true;
  if (name == "lost+found" || name == "aquota.user" || name == "aquota.group") return true;
  auto dot = name.rfind('.');
  if (dot == std::string_view::npos) return false;
  constexpr std::array<std::string_view, 17> leftovers = {
      "rpmnew",    "rpmsave",  "rpmorig",     "dpkg-old",    "dpkg-new", "dpkg-tmp",
      "dpkg-dist", "dpkg-bak", "dpkg-backup", "dpkg-remove", "ucf-new",  "ucf-old",
      "ucf-dist",  "swp",      "bak",         "old",         "new"};
  auto ext = name.substr(dot + 1);
  return std::find(leftovers.begin(), leftovers.end(), ext) != leftovers.end();
}

std::optional<std::string> sysv_start_link_unit(std::string_view link_name) {
  if (link_name.size() < 4 || link_name[0] != 'S') return std::nullopt;
  if (link_name[1] < '0' || link_name[1] > '9' || link_name[2] < '0' || link_name[2] > '9')
    return std::nullopt;
  std::string_view script = link_name.substr(3);
  if (hidden_or_backup_name(script)) return std::nullopt;
  if (script.ends_with(".sh")) script.remove_suffix(3);
  if (script.empty() || script.size() > 255 - std::string_view(".service").size())
    return std::nullopt;
  // A SysV script becomes a plain unit: no '@', only the characters of a unit name.
  if (!std::all_of(script.begin(), script.end(), unit_name_char)) return std::nullopt;
  return std::string(script) + ".service";
}

}  // namespace hostprint::collectors
