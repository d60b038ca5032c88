#pragma once
// systemd unit names, and the file names systemd and its SysV generator skip or translate.
#include <optional>
#include <string>
#include <string_view>

namespace hostprint::collectors {

// `prefix[@instance].type`, split; the parts point into the name.
struct UnitName {
  std::string_view prefix;
  bool has_at = false;        // foo@.service or foo@bar.service
  std::string_view instance;  // empty for a template
  std::string_view type;      // without the dot
  bool is_template() const { return has_at && instance.empty(); }
  bool is_instance() const { return has_at && !instance.empty(); }
};

// Nothing for a name that is no valid unit name (see valid_unit_name).
std::optional<UnitName> split_unit_name(std::string_view name);

// `prefix@instance.type`; an empty instance makes a template's name.
std::string join_unit_name(std::string_view prefix, std::string_view instance,
                           std::string_view type);

// A valid systemd unit name: `prefix[@instance].suffix`, at most 255 bytes, of the characters
// systemd allows. A template (`foo@.service`) is valid.
bool valid_unit_name(std::string_view name);

// The unit that systemd's SysV generator makes for an rc link `S<2 digits><script>`:
// `<script without .sh>.service`. nullopt for a link that does not start a script or names a
// backup or hidden file (`S01foo.dpkg-old`, `S01.foo`) or makes no valid unit name.
std::optional<std::string> sysv_start_link_unit(std::string_view link_name);

// Backup, hidden and package-manager leftovers that systemd skips (`.x`, `x~`, `x.rpmnew`,
// `x.dpkg-old`, `x.swp`, ...).
bool hidden_or_backup_name(std::string_view name);

}  // namespace hostprint::collectors
