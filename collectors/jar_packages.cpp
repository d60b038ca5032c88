#include "collectors/jar_packages.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <tuple>
#include <utility>

#include "collectors/io/bounded_read.hpp"
#include "collectors/io/process_files.hpp"
#include "collectors/formats/java_args.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/io/digest.hpp"
#include "collectors/io/root_dir.hpp"
#include "collectors/io/unique_fd.hpp"
#include "collectors/io/root_glob.hpp"
#include "collectors/formats/zip_archive.hpp"

namespace hostprint::collectors {
namespace fs = std::filesystem;

namespace {

bool ends_with_nocase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  auto tail = s.substr(s.size() - suffix.size());
  return std::equal(tail.begin(), tail.end(), suffix.begin(), [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) ==
           std::tolower(static_cast<unsigned char>(b));
  });
}

bool is_jar_name(std::string_view s) {
  return ends_with_nocase(s, ".jar");
}
bool is_war_name(std::string_view s) {
  return ends_with_nocase(s, ".war") || ends_with_nocase(s, ".ear");
}

std::string normal(const std::string& path) {
  std::string out = fs::path(path).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

std::string join(const std::string& dir, std::string_view name) {
  std::string out = dir;
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

using Fd = UniqueFd;

}  // namespace

std::vector<std::string> class_path_jars(const std::vector<std::string>& entries,
                                         const std::string& cwd, const DirLister& list) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](std::string path) {
    if (seen.insert(path).second) out.push_back(std::move(path));
  };
  for (const auto& value : entries) {
    std::string_view rest = value;
    while (true) {
      auto colon = rest.find(':');
      std::string_view entry = rest.substr(0, colon);
      if (!entry.empty()) {
        std::string path(entry);
        if (path[0] != '/') path = join(cwd.empty() ? std::string("/") : cwd, path);
        if (path == "*" || path.ends_with("/*")) {
          std::string dir = normal(path.substr(0, path.size() - 1));
          std::vector<std::string> names = list ? list(dir) : std::vector<std::string>{};
          std::sort(names.begin(), names.end());
          for (const auto& n : names)
            if (is_jar_name(n) && n.find('/') == std::string::npos) add(normal(join(dir, n)));
        } else if (is_jar_name(path)) {
          add(normal(path));
        }
      }
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
  return out;
}

std::string nested_jar_name(std::string_view outer, std::string_view entry) {
  std::string out(outer);
  out += "!/";
  out += entry;
  return out;
}

bool is_nested_library(std::string_view entry) {
  if (entry.find('\0') != std::string_view::npos) return false;
  std::string_view rest;
  if (entry.starts_with("BOOT-INF/lib/"))
    rest = entry.substr(13);
  else if (entry.starts_with("WEB-INF/lib/"))
    rest = entry.substr(12);
  else
    return false;
  if (rest.find('/') != std::string_view::npos || rest == ".jar" || rest.starts_with(".."))
    return false;
  return is_jar_name(rest);
}

const JarScanResult* JarCache::find(const std::string& key, std::uint64_t size,
                                    std::int64_t mtime_ns) {
  auto it = entries_.find(key);
  if (it == entries_.end()) return nullptr;
  if (it->second.size != size || it->second.mtime_ns != mtime_ns) {
    entries_.erase(it);
    return nullptr;
  }
  it->second.seen = true;
  return &it->second.result;
}

void JarCache::store(const std::string& key, std::uint64_t size, std::int64_t mtime_ns,
                     JarScanResult result) {
  auto it = entries_.find(key);
  if (it == entries_.end() && entries_.size() >= max_) return;
  entries_[key] = Entry{size, mtime_ns, true, std::move(result)};
}

void JarCache::sweep() {
  std::erase_if(entries_, [](const auto& kv) { return !kv.second.seen; });
  for (auto& [key, entry] : entries_) entry.seen = false;
}

namespace {

struct Scan {
  Scan(const ScanContext& c, Outcome& o, JarCache& k, std::size_t& opened)
      : context(c), outcome(o), cache(k), archives_opened(opened) {}
  const ScanContext& context;
  Outcome& outcome;
  JarCache& cache;
  std::size_t& archives_opened;
  std::size_t suppressed = 0;
  bool jar_limit_hit = false;
  std::set<std::pair<std::string, std::string>> seen;  // (container id, path)
  // The same file under two names (Debian's Tomcat lib links into /usr/share/java) is one JAR.
  std::set<std::tuple<std::string, dev_t, ino_t>> files;  // (container id, device, inode)
  std::vector<JarPackage> jars;

  void error(std::string message) {
    if (outcome.errors.size() < jar_packages_max_errors)
      outcome.error(std::move(message));
    else
      ++suppressed;
  }

  bool room() {
    if (jars.size() < jar_packages_max_jars) return true;
    if (!jar_limit_hit) {
      jar_limit_hit = true;
      error("more than " + std::to_string(jar_packages_max_jars) +
            " JARs, the rest not listed");
    }
    return false;
  }
};

struct Budget {
  std::size_t nested = 0;
  std::uint64_t inflated = 0;
  bool nested_hit = false;
  bool inflated_hit = false;
};

// The nested libraries of `archive` (named `name` for the records), depth levels down.
void scan_nested(const ZipArchive& archive, const std::string& suffix, int depth, Budget& budget,
                 const ZipLimits& limits, JarScanResult& result, const std::string& display) {
  for (const auto& entry : archive.entries()) {
    if (!is_nested_library(entry.name)) continue;
    if (budget.nested >= jar_packages_max_nested) {
      if (!budget.nested_hit)
        result.errors.push_back(display + ": more than " + std::to_string(jar_packages_max_nested) +
                                " nested JARs, the rest not listed");
      budget.nested_hit = true;
      return;
    }
    ++budget.nested;
    JarRecord record;
    record.suffix = suffix + "!/" + entry.name;
    record.size = entry.uncompressed_size;
    auto [name, version] = name_and_version_from_file_name(entry.name);
    record.name = std::move(name);
    record.version = std::move(version);
    std::uint64_t left = jar_packages_max_inflated - budget.inflated;
    std::string err;
    std::optional<ZipMember> member;
    if (left == 0 || entry.uncompressed_size > left) {
      if (!budget.inflated_hit)
        result.errors.push_back(display + ": nested JARs past " +
                                std::to_string(jar_packages_max_inflated >> 20) +
                                " MiB inflated named by file name only");
      budget.inflated_hit = true;
    } else {
      member = archive.read(entry, left, err);
    }
    if (member) {
      budget.inflated += member->bytes.size();
      if (!member->truncated) record.size = member->bytes.size();
      if (member->truncated) {
        result.errors.push_back(display + record.suffix + ": too large, named by file name only");
      } else if (auto nested = ZipArchive::open_bytes(std::move(member->bytes), limits, err)) {
        JarIdentity id = identify_jar(*nested, entry.name);
        record.name = id.artifact_id;
        record.version = id.version;
        record.group_id = id.group_id;
        if (depth + 1 < jar_packages_max_depth) {
          result.records.push_back(record);
          scan_nested(*nested, record.suffix, depth + 1, budget, limits, result, display);
          continue;
        }
      } else {
        result.errors.push_back(display + record.suffix + ": " + err);
      }
    } else if (!err.empty()) {
      result.errors.push_back(display + record.suffix + ": " + err);
    }
    result.records.push_back(std::move(record));
  }
}

JarScanResult scan_archive(int fd, const std::string& path, const std::string& display) {
  JarScanResult result;
  ZipLimits limits;
  std::string err;
  auto archive = ZipArchive::open_file(fd, limits, err);
  const bool count_outer = !is_war_name(path);
  JarRecord outer;
  auto [name, version] = name_and_version_from_file_name(path);
  outer.name = std::move(name);
  outer.version = std::move(version);
  if (!archive) {
    result.errors.push_back(display + ": " + err);
    if (count_outer) result.records.push_back(std::move(outer));
    return result;
  }
  JarIdentity id = identify_jar(*archive, fs::path(path).filename().string());
  outer.name = id.artifact_id;
  outer.version = id.version;
  outer.group_id = id.group_id;
  if (count_outer) result.records.push_back(std::move(outer));
  if (archive->truncated()) result.errors.push_back(display + ": too many entries, not all read");
  Budget budget;
  JarScanResult nested;
  scan_nested(*archive, "", 0, budget, limits, nested, display);
  result.records.insert(result.records.end(), std::make_move_iterator(nested.records.begin()),
                        std::make_move_iterator(nested.records.end()));
  // The bounds that were hit first, then the members that could not be read, a few of them.
  std::vector<std::string> members;
  for (auto& e : nested.errors) {
    bool bound = e.find(": more than ") != std::string::npos ||
                 e.find(" MiB inflated named") != std::string::npos;
    (bound ? result.errors : members).push_back(std::move(e));
  }
  const std::size_t shown = std::min(members.size(), jar_packages_max_errors);
  result.errors.insert(
      result.errors.end(), std::make_move_iterator(members.begin()),
      std::make_move_iterator(members.begin() + static_cast<std::ptrdiff_t>(shown)));
  if (members.size() > shown)
    result.errors.push_back(display + ": " + std::to_string(members.size() - shown) +
                            " more nested JARs not readable");
  return result;
}

// The JAR paths one JVM uses, in the order found, each once.
// `proc_pid` reaches the JVM's held /proc entry, `root_fd` its held root.
std::vector<std::string> jvm_jars(const ProcessInfo& p, int root_fd, const fs::path& proc_pid,
                                  const ScanContext& context, Scan& scan) {
  std::vector<std::string> out;
  std::set<std::string> seen;  // also the WARs Tomcat runs from their expanded folders
  auto add = [&](std::string path) {
    if (path.empty() || path[0] != '/') return;
    path = normal(path);
    if (seen.insert(path).second) out.push_back(std::move(path));
  };
  const auto& command = context.processes().command(p.pid);
  if (!command.readable) return out;  // gone
  if (command.truncated)
    scan.error(std::to_string(p.pid) + ": cmdline longer than " +
               std::to_string(max_cmdline_bytes) + " bytes, cut");
  const std::vector<std::string>& argv = command.argv;
  if (argv.empty()) return out;
  JavaLaunch launch = parse_java_args(argv);
  std::string cwd = read_link(proc_pid / "cwd").value_or("/");
  auto lister = [&](const std::string& dir) {
    return RootDir::borrow(root_fd).list(dir, jar_packages_max_dir_entries).names;
  };
  auto absolute = [&](const std::string& path) {
    return path.empty() || path[0] == '/' ? path : join(cwd, path);
  };

  if (!launch.jar.empty()) add(absolute(launch.jar));
  std::vector<std::string> class_path = launch.class_path;
  bool has_cp_option = false;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    const auto& a = argv[i];
    if (a == "-cp" || a == "-classpath" || a == "--class-path" || a.starts_with("--class-path="))
      has_cp_option = true;
    if (!a.starts_with("-")) break;  // the main class: the rest are the program's arguments
  }
  if (!has_cp_option && launch.jar.empty()) {
    auto environ = read_bounded(proc_pid / "environ", jar_packages_max_environ);
    if (environ.status == ReadStatus::ok)
      for (const auto& e : split_cmdline(environ.file.text))
        if (e.starts_with("CLASSPATH=")) class_path.push_back(e.substr(10));
  }
  for (auto& path : class_path_jars(class_path, cwd, lister)) add(std::move(path));

  // A Tomcat: its libs (common.loader: the base's lib, then the home's) and its applications.
  const std::string home = java_property(argv, "catalina.home");
  std::string base = java_property(argv, "catalina.base");
  if (base.empty()) base = home;
  if (!base.empty()) {
    base = normal(absolute(base));
    for (const auto& dir : {base, home.empty() ? base : normal(absolute(home))})
      for (const auto& n : lister(dir + "/lib"))
        if (is_jar_name(n)) add(dir + "/lib/" + n);
    std::vector<std::string> app_bases = {base + "/webapps"};
    for (const auto& s : context.input_part<ServedSite>())
        if (s.pid == p.pid && !s.site.document_root.empty())
          app_bases.push_back(normal(s.site.document_root[0] == '/'
                                         ? s.site.document_root
                                         : base + "/" + s.site.document_root));
    std::set<std::string> done;
    for (const auto& app_base : app_bases) {
      if (!done.insert(app_base).second) continue;
      std::size_t apps = 0;
      const auto names = lister(app_base);
      const std::set<std::string> entries(names.begin(), names.end());
      for (const auto& app : names) {
        if (++apps > jar_packages_max_webapps) {
          scan.error(app_base + ": more than " +
                     std::to_string(jar_packages_max_webapps) + " applications, the rest not read");
          break;
        }
        const std::string app_path = app_base + "/" + app;
        if (is_war_name(app)) {
          // Tomcat runs an expanded WAR from the folder of its name: one application, not two.
          if (entries.contains(app.substr(0, app.size() - 4)))
            seen.insert(normal(app_path));
          else
            add(app_path);
          continue;
        }
        for (const auto& n : lister(app_path + "/WEB-INF/lib"))
          if (is_jar_name(n)) add(app_path + "/WEB-INF/lib/" + n);
      }
    }
  }
  // Open and mapped files last: a library opened through a symlink keeps its folder's name.
  const auto& open_files = context.processes().open_files(p.pid);
  if (open_files.truncated)
    scan.error(std::to_string(p.pid) + ": more than " + std::to_string(max_open_files) +
               " open files, the rest not read");
  for (const auto& target : open_files.targets)
    if (is_jar_name(target) || is_war_name(target)) add(target);
  // Mapped files.
  for (const auto& path : context.processes().mapped(p.pid).paths)
    if (is_jar_name(path) || is_war_name(path)) add(path);

  return out;
}

void scan_jvm(const ProcessInfo& p, Scan& scan) {
  const ScanContext& context = scan.context;
  // Its /proc entry and (for a container's) its root, opened once, checked to be the process the
  // table named, and held for all its reading: a pid reused meanwhile cannot redirect the reads.
  const bool contained = !p.container_id.empty();
  auto held = hold_process(context.proc, p.pid, p.start_ticks, contained);
  if (!held) return;  // gone
  Fd host_root;
  if (!contained) {
    host_root = Fd(::open(context.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!host_root.valid()) {
      scan.error(context.root.string() + ": " + std::strerror(errno));
      return;
    }
  }
  const std::string container_id = p.container_id.str();
  const int root_fd = contained ? held->root.get() : host_root.get();
  for (const auto& path : jvm_jars(p, root_fd, held->dir_path(), context, scan)) {
    if (!scan.room() || context.expired()) return;
    if (scan.seen.contains({container_id, path})) continue;
    const std::string display = (container_id.empty() ? "" : container_id + ":") + path;
    Fd fd = RootDir::borrow(root_fd).open(path, O_RDONLY | O_NONBLOCK);
    if (fd.get() < 0) {
      if (errno != ENOENT && errno != ENOTDIR)
        scan.error(display + ": " + std::strerror(errno));
      continue;
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    scan.seen.insert({container_id, path});
    if (!scan.files.emplace(container_id, st.st_dev, st.st_ino).second) continue;
    const std::string key = container_id + '\n' + path + '\n' + std::to_string(st.st_dev) +
                            ':' + std::to_string(st.st_ino);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const std::int64_t mtime =
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    const JarScanResult* result = scan.cache.find(key, size, mtime);
    JarScanResult fresh;
    if (!result) {
      ++scan.archives_opened;
      fresh = scan_archive(fd.get(), path, display);
      if (size <= jar_packages_max_hashed)
        fresh.hash = sha256_of_open_file(fd.get(), jar_packages_max_hashed).value_or("");
      scan.cache.store(key, size, mtime, fresh);
      result = &fresh;
    }
    for (const auto& e : result->errors) scan.error(e);
    for (const auto& r : result->records) {
      if (!scan.room()) return;
      std::string full = path + r.suffix;
      if (!r.suffix.empty() && !scan.seen.insert({container_id, full}).second) continue;
      const bool outer = r.suffix.empty();
      scan.jars.push_back(JarPackage{std::move(full), r.name, r.version, r.group_id, p.pid,
                                     container_id, p.exe.str(), outer ? size : r.size,
                                     outer ? result->hash : std::string()});
    }
  }
}

}  // namespace

Outcome JarPackagesCollector::collect(const ScanContext& context) {
  Outcome outcome;
  Scan scan(context, outcome, cache_, archives_opened_);
  for (const auto& p : context.input_part<ProcessInfo>()) {
    if (!is_jvm_executable(p.exe)) continue;
    if (context.expired()) {
      outcome.deadline_passed();
      return outcome;
    }
    scan_jvm(p, scan);
  }
  if (context.expired()) {
    outcome.deadline_passed();
    return outcome;
  }
  if (scan.suppressed) outcome.error(std::to_string(scan.suppressed) + " more errors not listed");
  cache_.sweep();
  std::sort(scan.jars.begin(), scan.jars.end(), [](const JarPackage& a, const JarPackage& b) {
    return std::tie(a.container_id, a.path) < std::tie(b.container_id, b.path);
  });
  replace(std::move(scan.jars));
  return outcome;
}

}  // namespace hostprint::collectors
