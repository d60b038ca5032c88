#include "collectors/auto_start.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <unordered_set>
#include <utility>

#include "collectors/io/bounded_read.hpp"
#include "collectors/formats/text_fields.hpp"
#include "collectors/io/root_dir.hpp"
#include "collectors/io/unique_fd.hpp"

namespace hostprint::collectors {

// ---------------------------------------------------------------------------------------------
// Name rules

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

struct UnitName {
  std::string_view prefix;
  bool has_at = false;        // foo@.service or foo@bar.service
  std::string_view instance;  // empty for a template
  std::string_view type;      // without the dot
  bool is_template() const { return has_at && instance.empty(); }
  bool is_instance() const { return has_at && !instance.empty(); }
};

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

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

bool valid_unit_name(std::string_view name) {
  return split_unit_name(name).has_value();
}

bool run_parts_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter_or_digit(c) || c == '_' || c == '-'; });
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
  if (ends_with(script, ".sh")) script.remove_suffix(3);
  if (script.empty() || script.size() > 255 - std::string_view(".service").size())
    return std::nullopt;
  // A SysV script becomes a plain unit: no '@', only the characters of a unit name.
  if (!std::all_of(script.begin(), script.end(), unit_name_char)) return std::nullopt;
  return std::string(script) + ".service";
}

// ---------------------------------------------------------------------------------------------
// Parsers

namespace {

constexpr std::string_view cron_blanks = " \t";

// Splits off the first blank-separated word of `rest` (which must not start with a blank).
std::string_view next_word(std::string_view& rest) {
  auto end = rest.find_first_of(cron_blanks);
  std::string_view word = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  auto next = rest.find_first_not_of(cron_blanks);
  rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next);
  return word;
}

// `NAME=value` or `NAME = value`, the name optionally quoted, as cron's environment lines.
bool cron_environment_line(std::string_view line) {
  std::string_view rest;
  if (line.front() == '"' || line.front() == '\'') {
    auto close = line.find(line.front(), 1);
    if (close == std::string_view::npos || close == 1) return false;
    rest = line.substr(close + 1);
  } else {
    auto end = line.find_first_of(" \t=");
    if (end == 0 || end == std::string_view::npos) return false;
    rest = line.substr(end);
  }
  auto next = rest.find_first_not_of(cron_blanks);
  return next != std::string_view::npos && rest[next] == '=';
}

// One time field: numbers, ranges, steps and lists; names only for month and day of week.
bool cron_time_field(std::string_view field, bool names_allowed) {
  if (field.empty()) return false;
  return std::all_of(field.begin(), field.end(), [&](char c) {
    if ((c >= '0' && c <= '9') || c == '*' || c == ',' || c == '-' || c == '/') return true;
    return names_allowed && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
  });
}

constexpr std::array<std::string_view, 8> cron_keywords = {
    "@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"};

}  // namespace

CronTable parse_crontab(std::string_view text, CronTableKind kind) {
  CronTable out;
  std::size_t number = 0;
  for_each_line(text, max_cron_line_bytes, [&](std::string_view line, bool too_long) {
    ++number;
    if (too_long) {
      ++out.overlong_lines;
      return;
    }
    line = trim(line);
    if (line.empty() || line.front() == '#') return;
    if (line.find('\0') != std::string_view::npos) {
      ++out.malformed_lines;
      return;
    }
    if (cron_environment_line(line)) return;
    std::string_view rest = line;
    if (rest.front() == '-') rest.remove_prefix(1);  // cronie: a job whose runs are not logged
    CronJob job;
    job.line = number;
    if (!rest.empty() && rest.front() == '@') {
      auto keyword = next_word(rest);
      if (std::find(cron_keywords.begin(), cron_keywords.end(), keyword) == cron_keywords.end()) {
        ++out.malformed_lines;
        return;
      }
      job.schedule = std::string(keyword);
    } else {
      const std::string_view fields_start = rest;
      for (int i = 0; i < 5; ++i) {
        auto field = next_word(rest);
        if (!cron_time_field(field, i >= 3)) {
          ++out.malformed_lines;
          return;
        }
      }
      auto fields = fields_start.substr(0, fields_start.size() - rest.size());
      job.schedule = std::string(trim(fields));
    }
    if (kind == CronTableKind::system) {
      auto user = next_word(rest);
      if (user.empty()) {
        ++out.malformed_lines;
        return;
      }
      job.user = std::string(user);
    }
    if (rest.empty()) {
      ++out.malformed_lines;
      return;
    }
    job.command = std::string(rest);
    out.jobs.push_back(std::move(job));
  });
  return out;
}

PreloadList parse_ld_so_preload(std::string_view text) {
  PreloadList out;
  text = text.substr(0, text.find('\0'));  // the loader reads a C string
  std::unordered_set<std::string_view> seen;
  bool in_comment = false;
  std::size_t start = 0;
  auto flush = [&](std::size_t end) {
    if (end > start) {
      auto path = text.substr(start, end - start);
      if (path.size() > PATH_MAX)
        ++out.overlong_paths;
      else if (seen.insert(path).second)
        out.paths.emplace_back(path);
    }
    start = end + 1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_comment) {
      if (c == '\n') in_comment = false;
      start = i + 1;
      continue;
    }
    if (c == '#') {
      flush(i);
      in_comment = true;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == ':') {
      flush(i);
    }
  }
  if (!in_comment) flush(text.size());
  return out;
}

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

// ---------------------------------------------------------------------------------------------
// Root-confined file system access

namespace {

std::string join(std::string_view folder, std::string_view name) {
  std::string out(folder);
  out += '/';
  out += name;
  return out;
}

// How an item's path is shown: as seen inside the root.
std::string shown(std::string_view relative) {
  return join("", relative);
}

bool group_or_other_writable(const struct stat& st) {
  return (st.st_mode & (S_IWGRP | S_IWOTH)) != 0;
}
bool executable(const struct stat& st) {
  return S_ISREG(st.st_mode) && (st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)) != 0;
}

// The folders systemd loads system units from, highest priority first (`systemd-analyze
// unit-paths`), without the generator folders: those hold units made at boot from the very
// files read here (SysV scripts, fstab) and exist only under a running system's /run.
constexpr std::array<std::string_view, 10> unit_search_path = {
    "etc/systemd/system.control",  "run/systemd/system.control",   "run/systemd/transient",
    "etc/systemd/system",          "etc/systemd/system.attached",  "run/systemd/system",
    "run/systemd/system.attached", "usr/local/lib/systemd/system", "lib/systemd/system",
    "usr/lib/systemd/system"};

constexpr std::string_view unit_config_folder = "etc/systemd/system";
constexpr std::array<std::string_view, 3> dependency_folder_suffixes = {".wants", ".requires",
                                                                        ".upholds"};
constexpr std::array<std::string_view, 4> periodic_cron_folders = {
    "etc/cron.hourly", "etc/cron.daily", "etc/cron.weekly", "etc/cron.monthly"};
constexpr int max_alias_hops = 8;

enum class UnitState { missing, masked, loadable };

struct UnitFile {
  UnitState state = UnitState::missing;
  std::string name;  // the unit's own name, aliases followed
};

// The `/dev/null` a unit is masked with, or an empty file: systemd loads nothing from either.
bool null_or_empty(const struct stat& st) {
  return S_ISCHR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0);
}

// One run of the collector: the tree, the bounds still left and what was found.
class Scan {
 public:
  Scan(const ScanContext& context, RootDir tree, Outcome& outcome)
      : context_(context), tree_(std::move(tree)), outcome_(outcome) {}

  std::vector<AutoStartItem> run() {
    std::vector<AutoStartItem> timers;
    enabled_units(timers);
    sysv_scripts();
    crontab(std::string("etc/crontab"), CronTableKind::system, {});
    for (const auto& name : list("etc/cron.d"))
      if (run_parts_name(name)) crontab(join("etc/cron.d", name), CronTableKind::system, {});
    user_crontabs("var/spool/cron/crontabs");
    user_crontabs("var/spool/cron");  // RHEL: the files are directly there
    for (auto folder : periodic_cron_folders) periodic_cron(folder);
    for (auto& timer : timers) add(std::move(timer));
    preloaded_libraries();
    xdg_autostart();
    rc_local();
    return std::move(items_);
  }

 private:
  bool stopped() {
    if (!outcome_.complete) return true;
    if (context_.expired()) {
      outcome_.fail("the deadline passed while reading auto-start items");
      return true;
    }
    return false;
  }

  void add(AutoStartItem item) {
    if (items_.size() >= AutoStartCollector::max_items) {
      if (!items_capped_)
        outcome_.error("more than " + std::to_string(AutoStartCollector::max_items) +
                       " auto-start items; the rest were not counted");
      items_capped_ = true;
      return;
    }
    items_.push_back(std::move(item));
  }

  std::string on_host(std::string_view relative) const {
    return (context_.root / std::filesystem::path(relative)).string();
  }

  // The text of `relative` when `accept` approves what it is: the check and the read go through
  // one descriptor. Nothing when it cannot be opened, is refused, or fails to read (recorded).
  template <typename Accept>
  std::optional<FileText> read_checked(const std::string& relative, std::size_t max_bytes,
                                       Accept&& accept) {
    auto file = tree_.open_file(relative);
    if (!file || !accept(file->st)) return std::nullopt;
    auto read = read_open_file(file->fd.get(), on_host(relative), max_bytes);
    if (read.status != ReadStatus::ok) {
      outcome_.error(read.error);
      return std::nullopt;
    }
    return std::move(read.file);
  }

  // A folder's entry names, within the per-folder and total bounds; missing is empty.
  std::vector<std::string> list(std::string_view relative) {
    if (stopped()) return {};
    const bool total_binds = entries_left_ < AutoStartCollector::max_entries_per_folder;
    const std::size_t cap =
        total_binds ? entries_left_ : AutoStartCollector::max_entries_per_folder;
    auto listing = tree_.list(std::string(relative), cap);
    if (listing.status == ReadStatus::error) outcome_.error(listing.error);
    entries_left_ -= listing.names.size();
    if (listing.truncated && !total_binds) {
      outcome_.error(on_host(relative) + ": more than " + std::to_string(cap) +
                     " entries; the rest were not read");
    } else if (listing.truncated && !total_capped_) {
      outcome_.error("more than " + std::to_string(AutoStartCollector::max_entries_total) +
                     " folder entries in all; the rest were not read");
      total_capped_ = true;
    }
    return std::move(listing.names);
  }

  // --- systemd ---

  // Where a unit name leads in the search path: the first folder holding an entry of that name
  // decides (an instance falls back to its template). A symlink into the search path is an
  // alias and the unit takes the target's name; one to /dev/null masks the unit; any other
  // symlink is a linked unit file that must resolve inside the root.
  UnitFile find_unit(const std::string& name, int hops = 0) {
    UnitFile result;
    auto parsed = split_unit_name(name);
    if (!parsed || hops > max_alias_hops) return result;
    std::vector<std::string> candidates{name};
    if (parsed->is_instance())
      candidates.push_back(join_unit_name(parsed->prefix, {}, parsed->type));
    for (const auto& candidate : candidates) {
      for (auto folder : unit_search_path) {
        std::string relative = join(folder, candidate);
        auto entry = tree_.entry(relative);
        if (!entry) continue;
        if (const auto& target = entry->target) {
          if (*target == "/dev/null") {
            result.state = UnitState::masked;
            return result;
          }
          if (auto alias = alias_name(folder, *target, *parsed); alias && *alias != name)
            return find_unit(*alias, hops + 1);
        }
        auto file = tree_.stat(relative);
        if (!file || !(S_ISREG(file->st_mode) || S_ISCHR(file->st_mode))) return result;
        result.state = null_or_empty(*file) ? UnitState::masked : UnitState::loadable;
        result.name = name;
        return result;
      }
    }
    return result;
  }

  // The unit a symlink in `folder` aliases, when its target is a unit file in the search path.
  static std::optional<std::string> alias_name(std::string_view folder, std::string_view target,
                                               const UnitName& requested) {
    std::filesystem::path path(target);
    if (path.is_relative()) path = std::filesystem::path("/") / folder / path;
    path = path.lexically_normal();
    auto parent = path.parent_path().string();
    bool in_search_path = std::any_of(unit_search_path.begin(), unit_search_path.end(),
                                      [&](std::string_view f) { return parent == join("", f); });
    if (!in_search_path) return std::nullopt;
    auto target_name = path.filename().string();
    auto aliased = split_unit_name(target_name);
    if (!aliased || aliased->type != requested.type) return std::nullopt;
    if (aliased->is_template()) {
      if (!requested.has_at) return std::nullopt;
      if (requested.is_template()) return target_name;
      return join_unit_name(aliased->prefix, requested.instance, aliased->type);
    }
    if (requested.has_at && !aliased->has_at) return std::nullopt;
    return target_name;
  }

  // Services and timers linked in etc/systemd/system/*.{wants,requires,upholds}.
  void enabled_units(std::vector<AutoStartItem>& timers) {
    std::unordered_set<std::string> seen;
    for (const auto& folder_name : list(unit_config_folder)) {
      if (stopped()) return;
      std::string_view owner = folder_name;
      auto suffix =
          std::find_if(dependency_folder_suffixes.begin(), dependency_folder_suffixes.end(),
                       [&](std::string_view s) { return ends_with(owner, s); });
      if (suffix == dependency_folder_suffixes.end()) continue;
      owner.remove_suffix(suffix->size());
      // A template's link in an instance's folder (foo@x.service.wants/bar@.service) means
      // that instance of the template (bar@x.service).
      auto owner_name = split_unit_name(owner);
      std::string_view owner_instance = owner_name ? owner_name->instance : std::string_view{};
      std::string folder = join(unit_config_folder, folder_name);
      for (const auto& link_name : list(folder)) {
        if (stopped()) return;
        std::string relative = join(folder, link_name);
        auto entry = tree_.entry(relative);
        if (!entry || !S_ISLNK(entry->st.st_mode)) continue;  // systemd ignores anything else
        auto parsed = split_unit_name(link_name);
        if (!parsed || (parsed->type != "service" && parsed->type != "timer")) continue;
        std::string unit = link_name;
        if (parsed->is_template()) {
          if (owner_instance.empty()) continue;  // a template alone names no unit to start
          unit = join_unit_name(parsed->prefix, owner_instance, parsed->type);
        }
        const auto& target = entry->target;
        if (!target || *target == "/dev/null") continue;
        if (auto file = tree_.stat(relative); file && null_or_empty(*file)) continue;
        // systemd starts the unit by the link's name and loads it from the search path: a
        // dangling link enables what its name finds there, or nothing.
        auto found = find_unit(unit);
        if (found.state != UnitState::loadable || !seen.insert(found.name).second) continue;
        AutoStartItem item;
        item.type =
            parsed->type == "timer" ? AutoStartType::scheduled_task : AutoStartType::service;
        item.name = std::move(found.name);
        item.path = shown(relative);
        if (item.type == AutoStartType::service)
          add(std::move(item));
        else
          timers.push_back(std::move(item));
      }
    }
  }

  // SysV scripts started in runlevels 2 to 5 that no systemd unit replaces, as systemd's SysV
  // generator reads them: the S link's name names the script in etc/init.d.
  void sysv_scripts() {
    std::unordered_set<std::string> seen;
    for (char level = '2'; level <= '5'; ++level) {
      std::string folder = std::string("etc/rc") + level + ".d";
      for (const auto& link_name : list(folder)) {
        if (stopped()) return;
        auto unit = sysv_start_link_unit(link_name);
        if (!unit || seen.contains(*unit)) continue;
        std::string script = link_name.substr(3);
        std::string other =
            ends_with(script, ".sh") ? script.substr(0, script.size() - 3) : script + ".sh";
        bool runnable = false;
        for (const auto& name : {script, other}) {
          auto file = tree_.stat(join("etc/init.d", name));
          if (file && S_ISREG(file->st_mode) && (file->st_mode & S_IXUSR)) runnable = true;
        }
        if (!runnable) continue;
        if (find_unit(*unit).state != UnitState::missing) continue;  // a native unit exists
        seen.insert(*unit);
        add({AutoStartType::service, *unit, shown(join(folder, link_name)), {}, {}});
      }
    }
  }

  // --- cron ---

  void crontab(const std::string& relative, CronTableKind kind, const std::string& owner) {
    if (stopped()) return;
    // cron refuses a table writable by group or others.
    auto read = read_checked(relative, AutoStartCollector::max_crontab_bytes,
                             [](const struct stat& st) {
                               return S_ISREG(st.st_mode) && !group_or_other_writable(st);
                             });
    if (!read) return;
    std::string_view text = read->text;
    if (read->truncated) {
      outcome_.error(on_host(relative) + " is larger than " +
                     std::to_string(AutoStartCollector::max_crontab_bytes >> 20) +
                     " MiB; only its beginning was read");
      text = text.substr(0, text.rfind('\n') + 1);
    }
    auto table = parse_crontab(text, kind);
    if (table.overlong_lines > 0)
      outcome_.error(on_host(relative) + ": " + std::to_string(table.overlong_lines) +
                     " lines longer than 64 KiB skipped");
    if (table.malformed_lines > 0)
      outcome_.error(on_host(relative) + ": " + std::to_string(table.malformed_lines) +
                     " malformed lines skipped");
    const std::string path = shown(relative);
    for (auto& job : table.jobs) {
      if (kind == CronTableKind::user) job.user = owner;
      add({AutoStartType::scheduled_task, path + ":" + std::to_string(job.line), path,
           std::move(job.user), std::move(job.command)});
    }
  }

  // Per-user tables: the file name is the user.
  void user_crontabs(std::string_view folder) {
    for (const auto& name : list(folder)) {
      if (stopped()) return;
      if (name.front() == '.' || name.back() == '~' || name == "crontabs") continue;
      crontab(join(folder, name), CronTableKind::user, name);
    }
  }

  // What run-parts runs from etc/cron.{hourly,...}: executable regular files, run-parts names.
  void periodic_cron(std::string_view folder) {
    for (const auto& name : list(folder)) {
      if (stopped()) return;
      if (!run_parts_name(name)) continue;
      std::string relative = join(folder, name);
      auto file = tree_.stat(relative);
      if (!file || !executable(*file)) continue;
      std::string path = shown(relative);
      add({AutoStartType::scheduled_task, std::string(folder.substr(4)) + "/" + name, path, "root",
           path});
    }
  }

  // --- the rest ---

  void preloaded_libraries() {
    if (stopped()) return;
    const std::string relative = "etc/ld.so.preload";
    auto read = tree_.read(relative, AutoStartCollector::max_small_file_bytes);
    if (read.status == ReadStatus::missing) return;
    if (read.status == ReadStatus::error) {
      outcome_.error(read.error);
      return;
    }
    std::string_view text = read.file.text;
    if (read.file.truncated) {
      outcome_.error(on_host(relative) + " is larger than " +
                     std::to_string(AutoStartCollector::max_small_file_bytes >> 10) +
                     " KiB; only its beginning was read");
      text = text.substr(0, text.find_last_of(" \t\n:") + 1);  // the cut name is incomplete
    }
    auto list = parse_ld_so_preload(text);
    if (list.overlong_paths > 0)
      outcome_.error(on_host(relative) + ": " + std::to_string(list.overlong_paths) +
                     " names longer than PATH_MAX skipped");
    for (auto& path : list.paths)
      add({AutoStartType::preloaded_library, std::move(path), shown(relative), {}, {}});
  }

  void xdg_autostart() {
    constexpr std::string_view folder = "etc/xdg/autostart";
    for (const auto& name : list(folder)) {
      if (stopped()) return;
      if (name.size() <= 8 || !ends_with(name, ".desktop")) continue;
      std::string relative = join(folder, name);
      auto read = read_checked(relative, AutoStartCollector::max_small_file_bytes,
                               [](const struct stat& st) { return S_ISREG(st.st_mode); });
      if (!read) continue;
      if (read->truncated)
        outcome_.error(on_host(relative) + " is larger than " +
                       std::to_string(AutoStartCollector::max_small_file_bytes >> 10) +
                       " KiB; only its beginning was read");
      auto entry = parse_desktop_entry(read->text);
      if (!entry.has_desktop_entry_group) {
        outcome_.error(on_host(relative) + ": no [Desktop Entry] group; not counted");
        continue;
      }
      if (entry.hidden) continue;
      add({AutoStartType::startup_folder, name, shown(relative), {}, {}});
    }
  }

  void rc_local() {
    if (stopped()) return;
    auto file = tree_.stat("etc/rc.local");
    if (file && executable(*file))
      add({AutoStartType::startup_folder, "rc.local", "/etc/rc.local", {}, {}});
  }

  const ScanContext& context_;
  RootDir tree_;
  Outcome& outcome_;
  std::vector<AutoStartItem> items_;
  std::size_t entries_left_ = AutoStartCollector::max_entries_total;
  bool total_capped_ = false;
  bool items_capped_ = false;
};

}  // namespace

Outcome AutoStartCollector::collect(const ScanContext& context) {
  Outcome outcome;
  RootDir root(context.root);
  if (!root.valid()) {
    outcome.fail(context.root.string() + ": " + std::strerror(root.root_errno()));
    return outcome;
  }
  Scan scan(context, std::move(root), outcome);
  auto items = scan.run();
  if (outcome.complete) replace(std::move(items));
  return outcome;
}

}  // namespace hostprint::collectors
