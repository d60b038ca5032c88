#include "collectors/rasp.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>

#include "collectors/io/bounded_read.hpp"
#include "collectors/io/process_files.hpp"
#include "collectors/formats/java_args.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/io/root_files.hpp"
#include "collectors/io/root_glob.hpp"

namespace hostprint::collectors {
namespace fs = std::filesystem;

namespace {

std::string_view file_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view folder_of(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  return slash == 0 ? std::string_view("/") : path.substr(0, slash);
}

std::int64_t seconds_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Hash of the first `length` bytes of an open file; nothing when they cannot all be read.
std::optional<std::uint64_t> head_hash(int fd, std::uint64_t length) {
  std::string head(static_cast<std::size_t>(length), '\0');
  std::size_t got = 0;
  while (got < head.size()) {
    ssize_t n = ::pread(fd, head.data() + got, head.size() - got, static_cast<off_t>(got));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return std::nullopt;
    got += static_cast<std::size_t>(n);
  }
  return alarm_event_id(head);
}

// The first bytes of a log that tell it from another file that took its inode.
constexpr std::uint64_t head_bytes = 256;

}  // namespace

RaspAgentFiles rasp_agent_files(const Fingerprints* rules, const std::vector<std::string>& jars) {
  RaspAgentFiles out;
  if (rules) {
    for (const auto* rule : rules->in_category(ProductCategory::rasp_agent)) {
      for (const auto& jar : rule->jars) out.jars.emplace(jar, rule->name);
      for (const auto& library : rule->executables) out.libraries.emplace(library, rule->name);
    }
  }
  for (const auto& jar : jars) {
    auto name = file_name(jar);
    if (!name.empty()) out.jars.emplace(std::string(name), std::string(name));
  }
  return out;
}

bool is_php_host(std::string_view exe) {
  auto name = file_name(strip_deleted_suffix(exe));
  return name.starts_with("php") || name.starts_with("lsphp") || name == "apache2" ||
         name == "httpd";
}

std::string rasp_home(std::string_view agent_file, bool folder_has_logs, bool parent_has_logs) {
  std::string_view folder = folder_of(agent_file);
  if (!folder_has_logs && parent_has_logs) return std::string(folder_of(folder));
  return std::string(folder);
}

struct RaspCollector::Pass {
  Pass(const ScanContext& c, Outcome& o) : context(c), outcome(o) {}
  const ScanContext& context;
  Outcome& outcome;
  std::int64_t now = seconds_now();
  RaspFindings findings;
  std::set<FileIdentity> visited;
  std::map<std::pair<fs::path, std::string>, std::set<FileIdentity>> home_logs;  // (root, home)
  std::uint64_t read_budget = rasp_max_read_per_scan;
  bool cut = false;  // not every log was read to its end
  std::size_t errors = 0;

  void error(std::string message) {
    if (++errors <= rasp_max_errors)
      outcome.error(std::move(message));
    else if (errors == rasp_max_errors + 1)
      outcome.error("more errors not listed");
  }
};

RaspCollector::RaspCollector(RaspSettings settings) : settings_(std::move(settings)) {
  agent_files_ = rasp_agent_files(settings_.rules.get(), settings_.agent_jars);
}

void RaspCollector::reconfigure(std::shared_ptr<const Fingerprints> rules,
                                std::vector<std::string> agent_jars,
                                std::vector<std::string> alarm_logs) {
  if (rules) settings_.rules = std::move(rules);
  settings_.agent_jars = std::move(agent_jars);
  settings_.alarm_logs = std::move(alarm_logs);
  agent_files_ = rasp_agent_files(settings_.rules.get(), settings_.agent_jars);
}

void RaspCollector::find_protected(const ScanContext& context, Pass& pass) {
  for (const auto& p : context.input_part<ProcessInfo>()) {
    const bool jvm = is_jvm_executable(p.exe);
    if (!jvm && !is_php_host(p.exe)) continue;
    if (context.expired()) return;
    const fs::path proc_pid = context.proc / std::to_string(p.pid);
    const fs::path root = p.container_id.empty() ? context.root : proc_pid / "root";
    std::optional<std::pair<std::string, std::string>> agent;  // product, file
    auto consider = [&](std::string path, bool as_jar) {
      if (agent) return;
      path = std::string(strip_deleted_suffix(path));
      const auto& names = as_jar ? agent_files_.jars : agent_files_.libraries;
      auto it = names.find(file_name(path));
      if (it != names.end()) agent.emplace(it->second, std::move(path));
    };
    if (jvm) {
      const auto& command = context.processes().command(p.pid);
      if (!command.readable || command.argv.empty()) continue;  // gone, or not ours to read
      for (auto jar : parse_java_args(command.argv).agents) {
        if (!jar.starts_with('/'))
          jar = (fs::path(read_link(proc_pid / "cwd").value_or("/")) / jar).lexically_normal();
        consider(std::move(jar), true);
      }
    }
    // An attached agent jar stays open; a PHP extension is mapped, never held open.
    if (!agent && jvm) {
      const auto& open_files = context.processes().open_files(p.pid);
      if (open_files.truncated)
        pass.error(std::to_string(p.pid) + ": more than " + std::to_string(max_open_files) +
                   " open files, the rest not read");
      for (const auto& target : open_files.targets)
        if (target.starts_with('/')) consider(target, true);
    }
    if (!agent) {
      const auto& maps = context.processes().mapped(p.pid);
      if (maps.truncated)
        pass.error(std::to_string(p.pid) + ": maps longer than " +
                   std::to_string(max_maps_bytes >> 20) + " MiB, the rest not read");
      for (const auto& path : maps.paths) {
        consider(path, false);
        if (jvm) consider(path, true);
      }
    }
    if (!agent) continue;
    auto has_logs = [&](std::string_view folder) {
      return open_in_root(root, std::string(folder) + "/logs", OpenKind::directory).status ==
             ReadStatus::ok;
    };
    const std::string_view folder = folder_of(agent->second);
    pass.findings.protected_processes.push_back(
        {p.pid, p.container_id.str(), agent->first, agent->second,
         rasp_home(agent->second, has_logs(folder), has_logs(folder_of(folder))), p.exe.str(),
         jvm ? "java" : "php"});
  }
}

void RaspCollector::read_log(const fs::path& root, const std::string& path, Pass& pass,
                            std::set<FileIdentity>* logs) {
  if (pass.context.expired()) {
    pass.cut = true;
    return;
  }
  auto opened = open_in_root(root, path, OpenKind::regular_file);
  if (opened.status == ReadStatus::missing) return;
  if (opened.status != ReadStatus::ok) {
    pass.error(opened.error);
    return;
  }
  const FileIdentity identity{static_cast<std::uint64_t>(opened.device),
                              static_cast<std::uint64_t>(opened.inode)};
  // Its home's count takes the events already in the window even when it is not read now.
  if (logs) logs->insert(identity);
  if (pass.read_budget == 0) {
    pass.cut = true;
    return;
  }
  if (!pass.visited.insert(identity).second) return;  // the same log by another name
  struct stat st {};
  if (::fstat(opened.fd.get(), &st) != 0) return;
  // Nothing written for a whole window: every event in it is older than the window.
  if (st.st_mtim.tv_sec <= pass.now - rasp_window_seconds) {
    pass.visited.erase(identity);
    return;
  }
  auto& cursors = window_.cursors();
  auto known = cursors.find(identity);
  if (known == cursors.end() && cursors.size() >= rasp_window_max_logs) {
    pass.error("more than " + std::to_string(rasp_window_max_logs) +
               " alarm logs, the rest not read");
    return;
  }
  AlarmLogCursor cursor = known != cursors.end() ? known->second : AlarmLogCursor{};
  const int fd = opened.fd.get();
  const auto size = static_cast<std::uint64_t>(st.st_size);
  // Shorter than where reading stopped (truncated), or other first bytes (an inode used again).
  if (cursor.offset > size ||
      (cursor.head_length > 0 && head_hash(fd, cursor.head_length) != cursor.head_hash))
    cursor = AlarmLogCursor{};

  const std::string display = (root == pass.context.root ? "" : root.string() + ":") + path;
  std::uint64_t malformed = 0, full = 0;
  AlarmLineSplitter splitter(cursor.in_long_line);
  auto on_line = [&](std::string_view line) {
    auto record = parse_alarm_line(line);
    if (!record) {
      ++malformed;
      return;
    }
    if (!record->blocked) return;
    switch (window_.add(alarm_event_id(line), record->event_time, pass.now, identity)) {
      case RaspEventWindow::Added::counted:
        unsaved_ = true;
        break;
      case RaspEventWindow::Added::full:
        ++full;
        break;
      default:
        break;
    }
  };
  auto on_long_line = [&] { ++malformed; };
  buffer_.resize(1u << 20);
  std::uint64_t position = cursor.offset;
  for (;;) {
    if (pass.read_budget == 0 || pass.context.expired()) {
      pass.cut = true;
      break;
    }
    const auto want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size(), pass.read_budget));
    ssize_t n = ::pread(fd, buffer_.data(), want, static_cast<off_t>(position));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      pass.error(display + ": " + std::strerror(errno));
      break;
    }
    if (n == 0) break;
    position += static_cast<std::uint64_t>(n);
    pass.read_budget -= static_cast<std::uint64_t>(n);
    splitter.feed(std::string_view(buffer_.data(), static_cast<std::size_t>(n)), on_line,
                  on_long_line);
  }
  AlarmLogCursor next = cursor;
  next.offset = cursor.offset + splitter.consumed();
  next.in_long_line = splitter.in_long_line();
  if (next.head_length < head_bytes) {
    next.head_length = std::min(position, head_bytes);
    next.head_hash = head_hash(fd, next.head_length).value_or(0);
  }
  if (known == cursors.end() || known->second != next) {
    cursors[identity] = next;
    unsaved_ = true;
  }
  if (malformed > 0) {
    parse_errors_ += malformed;
    pass.error(display + ": " + std::to_string(malformed) +
               " malformed or overlong lines skipped");
  }
  if (full > 0)
    pass.error("more than " + std::to_string(rasp_window_max_events) +
               " blocked attacks in the window; " + std::to_string(full) + " not counted");
}

void RaspCollector::read_logs(const ScanContext& context, Pass& pass) {
  // The logs under each protected process's RASP home, inside that process's root.
  std::set<std::pair<fs::path, std::string>> homes;
  for (const auto& p : pass.findings.protected_processes)
    homes.emplace(
        p.container_id.empty() ? context.root : context.proc / std::to_string(p.pid) / "root",
        p.home);
  for (const auto& [root, home] : homes) {
    const std::string folder = (home == "/" ? "" : home) + "/logs/alarm";
    auto listed = list_folder_in_root(root, folder, rasp_max_folder_entries);
    if (listed.status == ReadStatus::error) pass.error(listed.error);
    if (listed.truncated)
      pass.error(folder + ": more than " + std::to_string(rasp_max_folder_entries) +
                 " entries, the rest not read");
    std::sort(listed.names.begin(), listed.names.end());
    auto& logs = pass.home_logs[{root, home}];
    for (const auto& name : listed.names)
      if (is_alarm_log_name(name)) read_log(root, folder + "/" + name, pass, &logs);
  }
  for (const auto& pattern : settings_.alarm_logs) {
    auto matches = glob_in_root(context.root, pattern, rasp_max_logs_per_glob + 1);
    if (matches.size() > rasp_max_logs_per_glob) {
      pass.error(pattern + ": more than " + std::to_string(rasp_max_logs_per_glob) +
                 " files, the rest not read");
      matches.resize(rasp_max_logs_per_glob);
    }
    for (const auto& path : matches) read_log(context.root, path, pass);
  }
}

Outcome RaspCollector::collect(const ScanContext& context) {
  Outcome outcome;
  Pass pass(context, outcome);
  if (!loaded_) {
    loaded_ = true;
    if (settings_.state) {
      std::string error;
      auto record = settings_.state->load(rasp_state_record, rasp_window_max_record, error);
      if (record) {
        auto parsed = parse_window(*record);
        if (parsed.window)
          window_ = std::move(*parsed.window);
        else
          error = settings_.state->where(rasp_state_record) + ": " + parsed.error;
      }
      if (!error.empty()) {
        outcome.error(error + "; rebuilt from the logs");
        unsaved_ = true;
      }
    }
  }
  find_protected(context, pass);
  if (context.expired()) {
    outcome.deadline_passed();
    return outcome;
  }
  read_logs(context, pass);
  if (pass.cut)
    pass.error(
        "the scan's read budget or deadline was reached; the rest of the alarm "
        "logs is read at the next scan");
  else if (std::erase_if(window_.cursors(),
                         [&](const auto& c) { return !pass.visited.contains(c.first); }) > 0)
    unsaved_ = true;  // logs deleted, or untouched for a whole window
  if (window_.expire(pass.now)) unsaved_ = true;
  if (unsaved_ && settings_.state) {
    auto failure = settings_.state->save(rasp_state_record, serialize_window(window_));
    // Said at every scan that cannot save: /status shows the latest scan's errors only.
    if (failure.empty())
      unsaved_ = false;
    else
      outcome.error("cannot save the event window (" + failure + "); it is kept in memory");
  }
  std::sort(pass.findings.protected_processes.begin(), pass.findings.protected_processes.end(),
            [](const auto& a, const auto& b) { return a.pid < b.pid; });
  pass.findings.blocked_attacks = static_cast<std::int64_t>(window_.count(pass.now));
  for (auto& p : pass.findings.protected_processes) {
    const fs::path root =
        p.container_id.empty() ? context.root : context.proc / std::to_string(p.pid) / "root";
    if (auto logs = pass.home_logs.find({root, p.home}); logs != pass.home_logs.end())
      p.blocked_attacks = static_cast<std::int64_t>(window_.count(pass.now, logs->second));
  }
  pass.findings.parse_errors = parse_errors_;
  findings_ = std::make_shared<const RaspFindings>(std::move(pass.findings));
  return outcome;
}

void RaspCollector::publish(proto::AssetSet& found) const {
  found.add(std::shared_ptr<const std::vector<ProtectedProcess>>(findings_,
                                                                 &findings_->protected_processes));
  found.blocked_attacks = findings_->blocked_attacks;
}

}  // namespace hostprint::collectors
