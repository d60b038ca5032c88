#include "collectors/web_apps.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "collectors/io/bounded_read.hpp"
#include "collectors/io/process_files.hpp"
#include "collectors/formats/java_args.hpp"
#include "collectors/rules/process_matcher.hpp"
#include "collectors/formats/proc_net.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/formats/python_dist.hpp"
#include "collectors/formats/version_text.hpp"
#include "collectors/io/root_dir.hpp"
#include "collectors/io/unique_fd.hpp"
#include "collectors/io/root_glob.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;

std::string join(const std::string& dir, std::string_view name) {
  std::string out = dir.empty() || dir == "/" ? std::string("/") : dir + "/";
  out += name;
  return out;
}

struct DirEntry {
  std::string name;
  bool directory = false;
};

// The entries of `dir` (inside `root`), at most `max_entries` read; names starting with '.' are
// skipped. Whether an entry is a folder is asked inside the root (a symlink resolved in it).
std::optional<std::vector<DirEntry>> list_dir(const std::string& root, const std::string& dir,
                                              std::size_t max_entries, bool* truncated,
                                              bool want_kind = true) {
  const RootDir tree(root);
  std::vector<DirEntry> out;
  std::size_t read = 0;
  if (truncated) *truncated = false;
  auto listed = tree.each_entry(dir, [&](std::string_view name, unsigned char type) {
    if (++read > max_entries) {
      if (truncated) *truncated = true;
      return false;
    }
    if (name.front() == '.') return true;
    DirEntry entry{std::string(name), false};
    if (want_kind) {
      if (type == DT_DIR) {
        entry.directory = true;
      } else if (type == DT_LNK || type == DT_UNKNOWN) {
        entry.directory = tree.open(join(dir, entry.name), O_PATH | O_DIRECTORY).valid();
      }
    }
    out.push_back(std::move(entry));
    return true;
  });
  if (listed.status != ReadStatus::ok) return std::nullopt;
  return out;
}

std::string basename_of(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

std::string dirname_of(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::string read_version(const std::string& root, const std::string& folder,
                         const ProductRule& rule) {
  for (const auto& file : rule.version_files) {
    auto r = read_in_root(root, join(folder, file), max_version_file_bytes);
    if (r.status != ReadStatus::ok) continue;
    auto v = version_from_text(r.file.text, rule.version_pattern);
    if (!v.empty()) return v;
  }
  return {};
}

void record(Outcome& outcome, std::size_t& suppressed, std::string message) {
  if (outcome.errors.size() < web_apps_max_errors)
    outcome.error(std::move(message));
  else
    ++suppressed;
}

// Python distributions in one folder whose normalised name is wanted.
void find_python_packages(const std::string& root, const std::string& dir,
                          const std::vector<const ProductRule*>& rules, const std::string& env,
                          const std::string& container_id, std::vector<WebFramework>& out,
                          Outcome& outcome, std::size_t& suppressed) {
  bool truncated = false;
  auto entries = list_dir(root, dir, web_apps_max_site_packages_entries, &truncated, false);
  if (!entries) return;
  if (truncated)
    record(outcome, suppressed,
           dir + ": more than " + std::to_string(web_apps_max_site_packages_entries) +
               " entries; the rest not read");
  for (const auto& e : *entries) {
    auto info = parse_dist_info_name(e.name);
    if (!info) continue;
    const std::string normalized = normalize_python_name(info->name);
    for (const ProductRule* rule : rules) {
      bool wanted = false;
      for (const auto& p : rule->python_packages)
        if (normalize_python_name(p) == normalized) wanted = true;
      if (!wanted) continue;
      std::string version = info->version;
      if (version.empty()) {
        const std::string entry = join(dir, e.name);
        for (const char* meta : {"/METADATA", "/PKG-INFO", ""}) {
          auto r = read_in_root(root, entry + meta, web_apps_max_metadata);
          if (r.status != ReadStatus::ok) continue;
          version = metadata_version(r.file.text);
          if (!version.empty()) break;
        }
      }
      out.push_back(WebFramework{rule->name, "python", dir, env, version, container_id});
      break;
    }
  }
}

std::vector<std::string> python_dirs_matching(const std::string& root, const std::string& lib,
                                              const std::vector<std::string>& leaves) {
  std::vector<std::string> out;
  auto entries = list_dir(root, lib, web_apps_max_dir_entries, nullptr, false);
  if (!entries) return out;
  std::sort(entries->begin(), entries->end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  for (const auto& e : *entries) {
    if (!e.name.starts_with("python3")) continue;
    for (const auto& leaf : leaves) {
      std::string dir = join(join(lib, e.name), leaf);
      if (RootDir(root).open(dir, O_PATH | O_DIRECTORY).valid()) out.push_back(dir);
    }
  }
  return out;
}

}  // namespace

void find_in_folder(const std::string& root, const std::string& folder,
                    const std::vector<const ProductRule*>& apps,
                    const std::vector<const ProductRule*>& frameworks,
                    const std::string& container_id, std::vector<WebApp>& apps_out,
                    std::vector<WebFramework>& frameworks_out) {
  for (const ProductRule* rule : apps) {
    for (const auto& marker : rule->markers) {
      if (!RootDir(root).exists(join(folder, marker))) continue;
      apps_out.push_back(
          WebApp{rule->name, folder, read_version(root, folder, *rule), container_id});
      break;
    }
  }
  for (const ProductRule* rule : frameworks) {
    for (const auto& marker : rule->markers) {
      if (!RootDir(root).exists(join(folder, marker))) continue;
      frameworks_out.push_back(WebFramework{rule->name, "php", folder, folder,
                                            read_version(root, folder, *rule), container_id});
      break;
    }
  }
}

std::vector<std::string> site_folders(const std::string& root, const std::string& document_root,
                                      bool tomcat, Outcome& outcome) {
  std::vector<std::string> out;
  std::string base = document_root;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  if (!tomcat) out.push_back(base);
  bool truncated = false;
  auto entries = list_dir(root, base, web_apps_max_dir_entries, &truncated);
  if (!entries) return out;
  if (truncated)
    outcome.error(base + ": more than " + std::to_string(web_apps_max_dir_entries) +
                  " entries; the rest not checked");
  std::vector<std::string> subs;
  for (const auto& e : *entries)
    if (e.directory) subs.push_back(join(base, e.name));
  std::sort(subs.begin(), subs.end());
  out.insert(out.end(), subs.begin(), subs.end());
  return out;
}

PythonEnvironment python_environment(const std::string& root, const std::string& exe,
                                     const std::string& argv0) {
  PythonEnvironment env;
  // A virtual environment: <venv>/bin/python*, with <venv>/pyvenv.cfg.
  for (const std::string& candidate : {argv0, exe}) {
    if (candidate.empty() || candidate.front() != '/') continue;
    std::string bin = dirname_of(candidate);
    if (basename_of(bin) != "bin") continue;
    std::string venv = dirname_of(bin);
    if (!RootDir(root).exists(join(venv, "pyvenv.cfg"))) continue;
    env.environment = venv;
    env.package_dirs = python_dirs_matching(root, join(venv, "lib"), {"site-packages"});
    return env;
  }
  std::string bin = dirname_of(exe);
  std::string prefix = basename_of(bin) == "bin" ? dirname_of(bin) : bin;
  env.environment = prefix;
  std::vector<std::string> dirs;
  const std::string lib = join(prefix, "lib");
  // In sys.path's order: Debian puts /usr/local/lib/python3.X/dist-packages before
  // /usr/lib/python3/dist-packages (which is among the python3* folders).
  if (prefix == "/usr")
    for (auto& d : python_dirs_matching(root, "/usr/local/lib", {"dist-packages", "site-packages"}))
      dirs.push_back(std::move(d));
  for (auto& d : python_dirs_matching(root, lib, {"dist-packages", "site-packages"}))
    dirs.push_back(std::move(d));
  env.package_dirs = std::move(dirs);
  return env;
}

namespace {

// "gunicorn3" -> "gunicorn", "waitress-serve" stays.
bool is_web_server_name(std::string_view name) {
  while (!name.empty() && ((name.back() >= '0' && name.back() <= '9') || name.back() == '.'))
    name.remove_suffix(1);
  for (std::string_view server : {"gunicorn", "uwsgi", "uvicorn", "hypercorn", "daphne",
                                  "waitress", "waitress-serve", "mod_wsgi-express"})
    if (name == server) return true;
  return false;
}

}  // namespace

bool runs_under_web_server(const std::vector<std::string>& argv) {
  if (argv.empty()) return false;
  std::string_view first = argv[0];
  first = first.substr(0, first.find(' '));
  if (!first.empty() && first.back() == ':') first.remove_suffix(1);
  const std::string program = basename_of(first);
  if (is_web_server_name(program)) return true;
  if (!program.starts_with("python")) return false;
  // The interpreter's options come first; the first other argument is the script.
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    if (a == "-m") return i + 1 < argv.size() && is_web_server_name(argv[i + 1]);
    if (a.starts_with("-m") && a.size() > 2) return is_web_server_name(a.substr(2));
    if (a == "-c" || a.starts_with("-c") || a == "-" || a == "--") return false;
    if (a == "-W" || a == "-X" || a == "--check-hash-based-pycs") {
      ++i;
      continue;
    }
    if (a.starts_with("-")) continue;
    return is_web_server_name(basename_of(a));
  }
  return false;
}

std::set<std::uint64_t> listening_tcp_inodes(std::string_view proc_net_tcp) {
  std::set<std::uint64_t> out;
  for_each_line(proc_net_tcp, 4096, [&](std::string_view line, bool too_long) {
    if (too_long) return;
    auto socket = parse_proc_net_socket(line);
    if (socket && socket->state == socket_state_listen && socket->local_port != 0)
      out.insert(socket->inode);
  });
  return out;
}

WebAppsCollector::WebAppsCollector(std::shared_ptr<const Fingerprints> rules)
    : rules_(std::move(rules)) {}

namespace {

struct ProcessFact {
  int pid = 0;
  int ppid = 0;
  std::string exe;
  std::string container_id;
  std::vector<std::string> argv;
};

enum class PythonHost { none, interpreter, uwsgi, apache };

PythonHost python_host(std::string_view exe_name) {
  if (exe_name.starts_with("python")) return PythonHost::interpreter;
  if (exe_name.starts_with("uwsgi")) return PythonHost::uwsgi;
  if (exe_name == "apache2" || exe_name == "httpd") return PythonHost::apache;
  return PythonHost::none;
}

// The value of a uWSGI option naming the virtual environment (`--home X`, `--home=X`, `-H X`).
std::string uwsgi_home(const std::vector<std::string>& argv) {
  std::string home;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    for (std::string_view option : {"--virtualenv", "--venv", "--home", "--pyhome", "-H"}) {
      if (a == option && i + 1 < argv.size()) {
        home = argv[i + 1];
      } else if (a.size() > option.size() + 1 && a.starts_with(option) &&
                 a[option.size()] == '=') {
        home = std::string(a.substr(option.size() + 1));
      }
    }
  }
  return home;
}

// Whether an Apache process has mod_wsgi mapped; `prefix` gets the prefix of its libpython
// (/usr/lib/x86_64-linux-gnu/libpython3.11.so.1.0 -> /usr).
bool maps_mod_wsgi(const std::vector<std::string>& mapped, std::string* prefix) {
  bool wsgi = false;
  *prefix = "/usr";
  for (const auto& file : mapped) {
    const std::string name = basename_of(file);
    if (name.starts_with("mod_wsgi")) wsgi = true;
    if (name.starts_with("libpython"))
      if (auto lib = file.find("/lib/"); lib != std::string::npos && lib > 0)
        *prefix = file.substr(0, lib);
  }
  return wsgi;
}

}  // namespace

std::string java_application(const JarPackage& jar) {
  if (auto nested = jar.path.find("!/"); nested != std::string::npos)
    return jar.path.substr(0, nested);
  if (auto lib = jar.path.rfind("/WEB-INF/lib/"); lib != std::string::npos && lib > 0)
    return jar.path.substr(0, lib);
  return "pid " + std::to_string(jar.pid);
}

std::vector<WebFramework> java_frameworks(const std::vector<JarPackage>& jars,
                                          const std::vector<const ProductRule*>& rules) {
  // (container, product, application) -> the item and the rank of the artifact that named it.
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<WebFramework, std::size_t>>
      found;
  for (const auto& jar : jars) {
    for (const ProductRule* rule : rules) {
      const auto& artifacts = rule->jar_artifacts;
      auto it = std::find(artifacts.begin(), artifacts.end(), jar.name);
      if (it == artifacts.end()) continue;
      const auto rank = static_cast<std::size_t>(it - artifacts.begin());
      std::string application = java_application(jar);
      WebFramework item{rule->name,      "java",         jar.path, application, jar.version,
                        jar.container_id, jar.pid, jar.exe};
      auto [slot, inserted] = found.try_emplace(
          {jar.container_id, rule->name, std::move(application)}, std::move(item), rank);
      if (!inserted && rank < slot->second.second) slot->second = {std::move(item), rank};
      break;  // the first rule that names an artifact wins, as for processes
    }
  }
  std::vector<WebFramework> out;
  out.reserve(found.size());
  for (auto& [key, value] : found) out.push_back(std::move(value.first));
  return out;
}

namespace {

// The process that serves what was appended to `apps` and `frameworks` past the given sizes.
void set_server(const fs::path& proc, int pid, const std::string& exe, std::vector<WebApp>& apps,
                std::size_t apps_from, std::vector<WebFramework>& frameworks,
                std::size_t frameworks_from) {
  if (apps.size() == apps_from && frameworks.size() == frameworks_from) return;
  std::optional<ProcessOwner> owner;
  if (apps.size() > apps_from && pid > 0) {
    auto status = read_bounded(proc / std::to_string(pid) / "status", web_apps_max_status);
    if (status.status == ReadStatus::ok) owner = parse_status_owner(status.file.text);
  }
  for (auto i = apps_from; i < apps.size(); ++i) {
    apps[i].pid = pid;
    apps[i].exe = exe;
    if (owner) {
      apps[i].uid = owner->uid;
      apps[i].gid = owner->gid;
    }
  }
  for (auto i = frameworks_from; i < frameworks.size(); ++i) {
    frameworks[i].pid = pid;
    frameworks[i].exe = exe;
  }
}

}  // namespace

Outcome WebAppsCollector::collect(const ScanContext& context) {
  Outcome outcome;
  std::size_t suppressed = 0;
  auto apps = std::make_shared<std::vector<WebApp>>();
  auto frameworks = std::make_shared<std::vector<WebFramework>>();
  if (!rules_) {
    outcome.fail("no product rules");
    return outcome;
  }
  const auto app_rules = rules_->in_category(ProductCategory::web_app);
  std::vector<const ProductRule*> php_rules, python_rules, java_rules;
  for (const ProductRule* r : rules_->in_category(ProductCategory::web_framework)) {
    if (!r->markers.empty()) php_rules.push_back(r);
    if (!r->python_packages.empty()) python_rules.push_back(r);
    if (!r->jar_artifacts.empty()) java_rules.push_back(r);
  }
  {
    auto java = java_frameworks(context.input_part<JarPackage>(), java_rules);
    frameworks->insert(frameworks->end(), std::make_move_iterator(java.begin()),
                       std::make_move_iterator(java.end()));
  }

  auto& processes = context.processes();
  // A container process's root, held while its files are read, checked to be the process the
  // table named (see hold_process); nothing when it is gone.
  auto hold_root = [&](int pid) {
    const auto ticks = processes.start_ticks(pid);
    return hold_process(context.proc, pid, ticks, true);
  };

  // Document roots of the sites.
  {
    std::set<std::tuple<std::string, std::string, bool>> done;  // (container, root, tomcat)
    for (const auto& s : context.input_part<ServedSite>()) {
      if (context.expired()) {
        outcome.deadline_passed();
        return outcome;
      }
      if (s.site.document_root.empty()) continue;
      const bool tomcat = s.site.server == "tomcat";
      std::string docroot = s.site.document_root;
      if (docroot.front() != '/') docroot.insert(0, "/");
      if (!done.emplace(s.container_id, docroot, tomcat).second) continue;
      std::optional<HeldProcess> held;
      if (!s.container_id.empty() && !(held = hold_root(s.pid))) continue;
      const std::string root = held ? held->root_path().string() : context.root.string();
      auto folders = site_folders(root, docroot, tomcat, outcome);
      const auto apps_from = apps->size(), frameworks_from = frameworks->size();
      for (const auto& folder : folders)
        find_in_folder(root, folder, app_rules, php_rules, s.container_id, *apps, *frameworks);
      set_server(context.proc, s.pid, s.exe, *apps, apps_from, *frameworks, frameworks_from);
    }
  }

  // Processes.
  {
    const bool want_python = !python_rules.empty();
    std::set<std::string> app_exe_names;
    for (const ProductRule* r : app_rules)
      for (const auto& e : r->executables) app_exe_names.insert(e);
    std::vector<ProcessFact> candidates;
    for (const auto& p : context.input_part<ProcessInfo>()) {
      if (p.exe.empty()) continue;
      const std::string name = basename_of(p.exe);
      const bool python = want_python && python_host(name) != PythonHost::none;
      if (!(name == "java" || python || app_exe_names.count(name))) continue;
      // Read once per scan, through its held /proc entry (a reused pid reads as gone).
      const auto& command = context.processes().command(p.pid);
      if (!command.readable || command.argv.empty()) continue;  // gone, or not ours to read
      candidates.push_back(
          ProcessFact{p.pid, command.parent.value_or(0), p.exe.str(), p.container_id.str(),
                      command.argv});
    }
    std::map<int, const ProductRule*> matched;  // pid -> rule
    std::map<int, std::string> paths;
    for (const auto& c : candidates) {
      std::string path;
      auto match = match_process(app_rules, c.exe, c.argv);
      if (const ProductRule* r = match.rule) {
        path = std::move(match.path);
        matched[c.pid] = r;
        paths[c.pid] = path;
      }
    }

    // The Python processes that serve the web, and the interpreter (and argv[0]) that names
    // each one's environment.
    struct Interpreter {
      std::string exe, argv0;
    };
    std::map<int, Interpreter> serving;
    std::set<int> apaches;
    for (const auto& c : candidates)
      if (python_host(basename_of(c.exe)) == PythonHost::apache) apaches.insert(c.pid);
    std::map<std::string, std::set<std::uint64_t>> listening;  // network namespace -> inodes
    auto listens = [&](int pid, const fs::path& dir) {
      std::vector<std::uint64_t> sockets;
      for (const auto& target : processes.open_files(pid).targets)
        if (auto inode = parse_socket_link(target)) sockets.push_back(*inode);
      if (sockets.empty()) return false;
      const std::string ns = read_link(dir / "ns" / "net").value_or("");
      auto it = listening.find(ns);
      if (it == listening.end() || ns.empty()) {
        std::set<std::uint64_t> inodes;
        for (const char* table : {"tcp", "tcp6"}) {
          auto text = read_bounded(dir / "net" / table, web_apps_max_proc_net);
          if (text.status != ReadStatus::ok) continue;
          inodes.merge(listening_tcp_inodes(text.file.text));
        }
        it = listening.insert_or_assign(ns, std::move(inodes)).first;
      }
      return std::any_of(sockets.begin(), sockets.end(),
                         [&](std::uint64_t inode) { return it->second.contains(inode); });
    };
    for (const auto& c : candidates) {
      if (!want_python) break;
      if (context.expired()) {
        outcome.deadline_passed();
        return outcome;
      }
      const auto ticks = processes.start_ticks(c.pid);
      auto held = hold_process(context.proc, c.pid, ticks, false);
      if (!held) continue;  // gone
      const fs::path dir = held->dir_path();
      const std::string argv0 = c.argv.empty() ? std::string() : c.argv[0];
      switch (python_host(basename_of(c.exe))) {
        case PythonHost::none:
          break;
        case PythonHost::interpreter:
          if (runs_under_web_server(c.argv) || listens(c.pid, dir)) serving[c.pid] = {c.exe, argv0};
          break;
        case PythonHost::uwsgi:
          // A venv given on the command line (an ini file's is not read); else its own prefix.
          if (auto home = uwsgi_home(c.argv); !home.empty() && home.front() == '/')
            serving[c.pid] = {home + "/bin/python", home + "/bin/python"};
          else
            serving[c.pid] = {c.exe, {}};
          break;
        case PythonHost::apache: {
          if (apaches.contains(c.ppid)) break;  // a worker maps what its master loaded
          std::string prefix;
          if (maps_mod_wsgi(processes.mapped(c.pid).paths, &prefix))
            serving[c.pid] = {prefix + "/bin/python3", {}};
          break;
        }
      }
    }
    // A worker its server started afresh (uvicorn --workers, through multiprocessing's spawn).
    for (const auto& c : candidates)
      if (python_host(basename_of(c.exe)) == PythonHost::interpreter &&
          !serving.contains(c.pid) && serving.contains(c.ppid))
        serving[c.pid] = {c.exe, c.argv.empty() ? std::string() : c.argv[0]};

    std::map<std::string, std::string> host_packages;  // dpkg/rpm/apk name -> version
    for (const auto& pkg : context.input_part<SoftwarePackage>())
      host_packages.emplace(pkg.name, pkg.version);
    std::set<std::pair<std::string, std::string>> seen_envs;
    for (const auto& c : candidates) {
      if (context.expired()) {
        outcome.deadline_passed();
        return outcome;
      }
      if (auto it = matched.find(c.pid); it != matched.end()) {
        auto parent = matched.find(c.ppid);
        if (parent == matched.end() || parent->second != it->second) {
          std::string version;
          if (c.container_id.empty())
            for (const auto& pkg : it->second->packages)
              if (auto v = host_packages.find(pkg); v != host_packages.end()) {
                version = v->second;
                break;
              }
          apps->push_back(WebApp{it->second->name, paths[c.pid], version, c.container_id});
          set_server(context.proc, c.pid, c.exe, *apps, apps->size() - 1, *frameworks,
                     frameworks->size());
        }
      }
      auto interpreter = serving.find(c.pid);
      if (interpreter == serving.end()) continue;
      std::optional<HeldProcess> held;
      if (!c.container_id.empty() && !(held = hold_root(c.pid))) continue;
      const std::string root = held ? held->root_path().string() : context.root.string();
      auto env = python_environment(root, interpreter->second.exe, interpreter->second.argv0);
      if (!seen_envs.emplace(c.container_id, env.environment).second) continue;
      const auto frameworks_from = frameworks->size();
      for (const auto& dir : env.package_dirs)
        find_python_packages(root, dir, python_rules, env.environment, c.container_id,
                             *frameworks, outcome, suppressed);
      set_server(context.proc, c.pid, c.exe, *apps, apps->size(), *frameworks, frameworks_from);
    }
  }

  // Distinct and sorted.
  std::sort(apps->begin(), apps->end(), [](const WebApp& a, const WebApp& b) {
    return std::tie(a.container_id, a.product, a.path, a.version) <
           std::tie(b.container_id, b.product, b.path, b.version);
  });
  apps->erase(std::unique(apps->begin(), apps->end(),
                          [](const WebApp& a, const WebApp& b) {
                            return a.container_id == b.container_id && a.product == b.product &&
                                   a.path == b.path;
                          }),
              apps->end());
  // One per (product, environment, container): for Python the first folder found.
  std::stable_sort(frameworks->begin(), frameworks->end(),
                   [](const WebFramework& a, const WebFramework& b) {
                     return std::tie(a.container_id, a.product, a.language, a.environment) <
                            std::tie(b.container_id, b.product, b.language, b.environment);
                   });
  frameworks->erase(std::unique(frameworks->begin(), frameworks->end(),
                                [](const WebFramework& a, const WebFramework& b) {
                                  return a.container_id == b.container_id &&
                                         a.product == b.product && a.language == b.language &&
                                         a.environment == b.environment;
                                }),
                    frameworks->end());
  if (suppressed) outcome.error(std::to_string(suppressed) + " more errors not listed");
  apps_ = std::move(apps);
  frameworks_ = std::move(frameworks);
  return outcome;
}

void WebAppsCollector::publish(proto::AssetSet& found) const {
  found.add(apps_);
  found.add(frameworks_);
}

}  // namespace hostprint::collectors
