#pragma once
// Auto-start items under the root: enabled services, scheduled tasks, preloaded libraries and
// startup folders, read from unit files, links and configuration files (never through D-Bus).
//
// What counts, where assets.md leaves a choice (each follows what the consuming program does):
// - A link in etc/systemd/system/*.{wants,requires,upholds} enables the unit its *name* names,
//   as systemd adds the dependency by name and loads the unit from the search path: a dangling
//   link enables nothing unless a unit of that name is found there; a link to /dev/null or an
//   empty file, a unit masked in the search path, and an entry that is not a symlink enable
//   nothing. An alias (a symlink in the search path to a unit file in the search path) counts
//   as the unit it names. `foo@.service` in a plain target's folder names no instance and is
//   not counted; in an instance's folder (`x@i.service.wants/`) it means `foo@i.service`.
// - Unit search path, first hit wins: etc/systemd/system.control, run/systemd/system.control,
//   run/systemd/transient, etc/systemd/system, etc/systemd/system.attached, run/systemd/system,
//   run/systemd/system.attached, usr/local/lib/systemd/system, lib/systemd/system,
//   usr/lib/systemd/system. Not the generator folders (run/systemd/generator*): they hold what
//   generators made at boot, including the SysV generator's units for the scripts counted here.
// - SysV: an `S<nn><script>` entry in etc/rc[2-5].d whose script (etc/init.d/<script>, with or
//   without `.sh`) is a regular file executable by its owner and has no unit `<script without
//   .sh>.service` (masked counts as present), named by that unit name, as systemd's generator.
// - cron.d and cron.{hourly,daily,weekly,monthly}: only names of letters, digits, '_' and '-'
//   (Debian's run-parts and cron; so no `.placeholder`, `x.dpkg-old`, `x.sh`); the periodic
//   folders count executable regular files. Crontabs writable by group or others are skipped,
//   as both Debian cron and cronie refuse them. Spool files starting with '.' or ending in '~'
//   are skipped; var/spool/cron is read for its regular files only (RHEL), never descending.
//   A crontab that is a symlink is followed inside the root (as cronie does), and its type and
//   mode are checked on the descriptor that is then read, so a table swapped meanwhile is never
//   read under another file's check.
// - ld.so.preload: as glibc reads it; a name listed twice is loaded, and counted, once.
// - XDG autostart: a .desktop file without a [Desktop Entry] group is recorded as an error and
//   not counted; Hidden is a GLib boolean (`true` or `1`).
// - An item's path is the file or link that makes it start, as seen inside the root: the first
//   enabling link (folders and names in byte order), the S link, the crontab, the script.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

// --- Pure parsers and name rules (no I/O) ---

// A system table (etc/crontab, etc/cron.d/*) names the user on each job line; a user's table
// (var/spool/cron/crontabs/<user>) does not.
enum class CronTableKind { system, user };

struct CronJob {
  std::size_t line = 0;  // 1-based line number in the file
  std::string schedule;  // the five time fields as written, or the @keyword
  std::string user;      // system tables only
  std::string command;
};

struct CronTable {
  std::vector<CronJob> jobs;
  std::size_t malformed_lines = 0;  // neither blank, comment, variable nor a well-formed job
  std::size_t overlong_lines = 0;   // longer than max_cron_line_bytes; skipped
};

inline constexpr std::size_t max_cron_line_bytes = 64 * 1024;

// Blank lines, comments and environment assignments (`NAME=value`, `NAME = value`) are skipped;
// a job is five time fields or an @keyword (@reboot, @daily, ...), then the user for a system
// table, then a non-empty command.
CronTable parse_crontab(std::string_view text, CronTableKind kind);

struct PreloadList {
  std::vector<std::string> paths;  // distinct, in file order
  std::size_t overlong_paths = 0;  // longer than PATH_MAX; skipped
};

// etc/ld.so.preload as the dynamic loader reads it: names separated by spaces, tabs, newlines or
// ':'; '#' starts a comment up to the end of its line; nothing after a NUL byte.
PreloadList parse_ld_so_preload(std::string_view text);

struct DesktopEntry {
  bool has_desktop_entry_group = false;
  bool hidden = false;  // Hidden=true (or 1) in the [Desktop Entry] group
};

DesktopEntry parse_desktop_entry(std::string_view text);

// Names that Debian's run-parts and cron accept in etc/cron.d and etc/cron.{hourly,...}:
// only ASCII letters, digits, '_' and '-' (so no dots: `.placeholder`, `x.dpkg-old`).
bool run_parts_name(std::string_view name);

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

// --- The collector ---

class AutoStartCollector final : public ListCollector<AutoStartItem> {
 public:
  static constexpr std::size_t max_entries_per_folder = 100'000;
  static constexpr std::size_t max_entries_total = 1'000'000;
  static constexpr std::size_t max_items = 100'000;
  static constexpr std::size_t max_crontab_bytes = 16 * 1024 * 1024;
  static constexpr std::size_t max_small_file_bytes = 1024 * 1024;  // .desktop, ld.so.preload

  std::string_view name() const override { return "auto_start"; }
  Outcome collect(const ScanContext& context) override;

 private:
};

}  // namespace hostprint::collectors
