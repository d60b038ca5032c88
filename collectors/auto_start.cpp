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

#include "collectors/formats/cron.hpp"
#include "collectors/formats/desktop_entry.hpp"
#include "collectors/formats/ld_so_preload.hpp"
#include "collectors/formats/unit_names.hpp"
#include "collectors/io/bounded_read.hpp"
#include "collectors/io/digest.hpp"
#include "collectors/formats/text_fields.hpp"
#include "collectors/io/root_dir.hpp"
#include "collectors/io/unique_fd.hpp"

namespace hostprint::collectors {

// ---------------------------------------------------------------------------------------------
// Root-confined file system access

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.ends_with(suffix);
}

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
  std::string name;      // the unit's own name, aliases followed
  std::string relative;  // the file systemd loads it from
};

// The `/dev/null` a unit is masked with, or an empty file: systemd loads nothing from either.
bool null_or_empty(const struct stat& st) {
  return S_ISCHR(st.st_mode) || (S_ISREG(st.st_mode) && st.st_size == 0);
}

// One run of the collector: the tree, the bounds still left and what was found.
class Scan {
 public:
  Scan(const ScanContext& context, RootDir tree, Outcome& outcome, const DigestCache& known)
      : context_(context), tree_(std::move(tree)), outcome_(outcome), known_(known) {}

  // The digests this scan used, to be the next scan's known ones.
  DigestCache& digests() { return used_; }

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

  // The SHA-256 of the regular file `relative` (symlinks followed inside the root); empty when it
  // cannot be read or is larger than the bound. A file unchanged since the last scan (same
  // identity, size, mtime and ctime) is not read again.
  std::string hash_of(std::string_view relative) {
    if (relative.empty() || stopped()) return {};
    auto file = tree_.open_file(relative);
    if (!file || !S_ISREG(file->st.st_mode)) return {};
    const auto& st = file->st;
    DigestKey key{st.st_dev, st.st_ino, static_cast<std::uint64_t>(st.st_size),
                  st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec};
    if (auto it = used_.find(key); it != used_.end()) return it->second;
    if (auto it = known_.find(key); it != known_.end()) return used_.emplace(key, it->second).first->second;
    auto digest = sha256_of_open_file(file->fd.get(), AutoStartCollector::max_hashed_bytes);
    if (!digest) return {};
    return used_.emplace(key, std::move(*digest)).first->second;
  }

  // What a cron command runs: its first word when that is an absolute path to a file, else the
  // table that holds it (as a unit file holds a service).
  std::string job_hash(std::string_view command, const std::string& table) {
    auto start = command.find_first_not_of(" \t");
    if (start != std::string_view::npos && command[start] == '/') {
      auto word = command.substr(start, command.find_first_of(" \t;&|<>", start) - start);
      if (auto hash = hash_of(word); !hash.empty()) return hash;
    }
    return hash_of(table);
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
        result.relative = relative;
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
        item.hash = hash_of(found.relative);
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
        std::string runnable;
        for (const auto& name : {script, other}) {
          auto file = tree_.stat(join("etc/init.d", name));
          if (runnable.empty() && file && S_ISREG(file->st_mode) && (file->st_mode & S_IXUSR))
            runnable = join("etc/init.d", name);
        }
        if (runnable.empty()) continue;
        if (find_unit(*unit).state != UnitState::missing) continue;  // a native unit exists
        seen.insert(*unit);
        add({AutoStartType::service, *unit, shown(join(folder, link_name)), {}, {},
             hash_of(runnable)});
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
      auto hash = job_hash(job.command, relative);
      add({AutoStartType::scheduled_task, path + ":" + std::to_string(job.line), path,
           std::move(job.user), std::move(job.command), std::move(hash)});
    }
  }

  // Per-user tables: the file name is the user.
  void user_crontabs(std::string_view folder) {
    for (const auto& name : list(folder)) {
      if (stopped()) return;
      // Hidden and editor backup files are skipped as cron does; `crontabs` is Debian's folder.
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
           path, hash_of(relative)});
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
    for (auto& path : list.paths) {
      auto hash = hash_of(path);
      add({AutoStartType::preloaded_library, std::move(path), shown(relative), {}, {},
           std::move(hash)});
    }
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
      add({AutoStartType::startup_folder, name, shown(relative), {}, {}, hash_of(relative)});
    }
  }

  void rc_local() {
    if (stopped()) return;
    auto file = tree_.stat("etc/rc.local");
    if (file && executable(*file))
      add({AutoStartType::startup_folder, "rc.local", "/etc/rc.local", {}, {},
           hash_of("etc/rc.local")});
  }

  const ScanContext& context_;
  RootDir tree_;
  Outcome& outcome_;
  const DigestCache& known_;
  DigestCache used_;
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
  Scan scan(context, std::move(root), outcome, digests_);
  auto items = scan.run();
  if (outcome.complete) {
    replace(std::move(items));
    digests_ = std::move(scan.digests());
  }
  return outcome;
}

}  // namespace hostprint::collectors
