#include "collectors/services.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "collectors/io/bounded_read.hpp"
#include "collectors/io/process_files.hpp"
#include "collectors/formats/java_args.hpp"
#include "collectors/rules/process_matcher.hpp"
#include "collectors/formats/proc_net.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/formats/version_text.hpp"
#include "collectors/formats/zip_archive.hpp"

namespace hostprint::collectors {
namespace {

std::string_view basename_of(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_service_category(ProductCategory c) {
  return c == ProductCategory::web_service || c == ProductCategory::database;
}

// argv[0] as started: its first space-separated word (a rewritten title keeps it first).
std::string_view argv0_path(const std::vector<std::string>& argv) {
  if (argv.empty()) return {};
  std::string_view a = argv[0];
  auto space = a.find(' ');
  return space == std::string_view::npos ? a : a.substr(0, space);
}

// The files a program was started from: its executable, argv[0], and for a JVM its -jar and
// absolute class path entries (Debian's tomcat10-common owns bootstrap.jar, not java).
std::vector<std::string> program_files(const ProcessFacts& process) {
  std::vector<std::string> out = {process.exe, std::string(argv0_path(process.argv))};
  if (!basename_of(process.exe).starts_with("java")) return out;
  JavaLaunch launch = parse_java_args(process.argv);
  if (launch.jar.starts_with("/")) out.push_back(launch.jar);
  for (const auto& entry : launch.class_path)
    if (entry.starts_with("/") && !entry.ends_with("*")) out.push_back(entry);
  return out;
}

// A JVM product's home from its system properties: catalina.home (else catalina.base),
// jetty.home, jboss.home.dir; empty when none is given.
std::string jvm_home(const std::vector<std::string>& argv) {
  for (std::string_view name : {"catalina.home", "jetty.home", "jboss.home.dir", "catalina.base"})
    if (auto home = java_property(argv, name); !home.empty()) return home;
  return {};
}

// The version in the rule's version files under `home` (inside `root`): a JAR's manifest or
// pom.properties, or a text file read as web applications' version files are.
std::string version_under_home(const std::filesystem::path& root, const std::string& home,
                               const ProductRule& rule) {
  if (home.empty() || home.front() != '/') return {};
  for (const auto& file : rule.version_files) {
    const std::string path = home + "/" + file;
    if (file.ends_with(".jar")) {
      UniqueFd fd = open_in_root(root, path, O_RDONLY);
      if (!fd.valid()) continue;
      std::string error;
      auto jar = ZipArchive::open_file(fd.get(), ZipLimits{}, error);
      if (!jar) continue;
      auto version = identify_jar(*jar, basename_of(file)).version;
      if (!version.empty()) return version;
    } else {
      auto text = read_in_root(root, path, max_version_file_bytes);
      if (text.status != ReadStatus::ok) continue;
      auto version = version_from_text(text.file.text, rule.version_pattern);
      if (!version.empty()) return version;
    }
  }
  return {};
}

// The arguments, with a rewritten one-string title split back into words.
std::vector<std::string> words_of(const std::vector<std::string>& argv) {
  if (argv.size() != 1 || argv[0].find(' ') == std::string::npos) return argv;
  std::vector<std::string> out;
  std::string_view s = argv[0];
  while (!s.empty()) {
    auto start = s.find_first_not_of(' ');
    if (start == std::string_view::npos) break;
    s.remove_prefix(start);
    auto end = s.find(' ');
    out.emplace_back(s.substr(0, end));
    s = end == std::string_view::npos ? std::string_view{} : s.substr(end);
  }
  return out;
}

void add_error(Outcome& outcome, std::size_t& suppressed, std::string message) {
  if (outcome.errors.size() < services_max_errors)
    outcome.error(std::move(message));
  else
    ++suppressed;
}

bool exists_in_root(const std::filesystem::path& root, const std::string& path) {
  return read_in_root(root, path, 1).status == ReadStatus::ok;
}

}  // namespace

namespace {

// The web service and database rules, in file order (narrower rules come first).
std::vector<const ProductRule*> service_rules(const Fingerprints& rules) {
  std::vector<const ProductRule*> out;
  for (const auto& rule : rules.products)
    if (is_service_category(rule.category)) out.push_back(&rule);
  return out;
}

}  // namespace

const ProductRule* match_service_rule(const Fingerprints& rules, const ProcessFacts& process) {
  return match_process(service_rules(rules), process.exe, process.argv).rule;
}

std::vector<MatchedService> match_services(const Fingerprints& rules,
                                           const std::vector<ProcessFacts>& processes) {
  const auto candidates = service_rules(rules);  // once, not per process
  std::vector<const ProductRule*> matched(processes.size(), nullptr);
  std::unordered_map<int, std::size_t> by_pid;
  for (std::size_t i = 0; i < processes.size(); ++i) {
    matched[i] = match_process(candidates, processes[i].exe, processes[i].argv).rule;
    by_pid.emplace(processes[i].pid, i);
  }
  // The master of each matching process: walk up while the parent matches the same product.
  std::vector<std::size_t> master(processes.size());
  for (std::size_t i = 0; i < processes.size(); ++i) {
    if (!matched[i]) continue;
    std::size_t current = i;
    for (std::size_t steps = 0; steps < processes.size(); ++steps) {
      const auto& p = processes[current];
      if (p.ppid == p.pid) break;
      auto parent = by_pid.find(p.ppid);
      if (parent == by_pid.end() || matched[parent->second] != matched[i]) break;
      current = parent->second;
    }
    master[i] = current;
  }
  std::map<int, MatchedService> services;  // by the master's pid
  for (std::size_t i = 0; i < processes.size(); ++i) {
    if (!matched[i] || master[i] != i) continue;
    services[processes[i].pid] = MatchedService{i, matched[i], {i}};
  }
  for (std::size_t i = 0; i < processes.size(); ++i) {
    if (!matched[i] || master[i] == i) continue;
    auto it = services.find(processes[master[i]].pid);
    if (it != services.end()) it->second.members.push_back(i);
  }
  std::vector<MatchedService> out;
  out.reserve(services.size());
  for (auto& [pid, service] : services) out.push_back(std::move(service));
  return out;
}

std::string config_from_cmdline(const ProductRule& rule, const std::vector<std::string>& argv) {
  auto words = words_of(argv);
  auto option_value = [&](std::string_view option) -> std::string {
    for (std::size_t i = 1; i < words.size(); ++i) {
      if (words[i] == option && i + 1 < words.size()) return words[i + 1];
      if (words[i].size() > option.size() && words[i].starts_with(option) && option.size() == 2)
        return words[i].substr(2);  // -cFILE
    }
    return {};
  };
  if (rule.config == "nginx") return option_value("-c");
  if (rule.config == "apache") {
    std::string file = option_value("-f");
    std::string root = option_value("-d");
    if (!file.empty() && file[0] != '/' && !root.empty()) file = root + "/" + file;
    return file;
  }
  if (rule.config == "tomcat") {
    std::string base = java_property(words, "catalina.base");
    if (base.empty()) base = java_property(words, "catalina.home");
    return base.empty() ? std::string{} : base + "/conf/server.xml";
  }
  if (rule.name == "PostgreSQL") {
    for (std::size_t i = 1; i < words.size(); ++i) {
      std::string_view w = words[i];
      if (w == "-c" && i + 1 < words.size() && words[i + 1].starts_with("config_file="))
        return words[i + 1].substr(12);
      for (std::string_view o : {"--config-file=", "--config_file=", "-cconfig_file="})
        if (w.starts_with(o)) return std::string(w.substr(o.size()));
    }
    std::string data = option_value("-D");
    return data.empty() ? std::string{} : data + "/postgresql.conf";
  }
  if (rule.name == "Redis") {
    for (std::size_t i = 1; i < words.size(); ++i) {
      if (words[i].starts_with("-")) break;
      if (words[i].ends_with(".conf")) return words[i];
    }
    return {};
  }
  return {};
}

bool dpkg_list_has_path(std::string_view list, std::string_view path) {
  if (path.empty() || path[0] != '/') return false;
  std::string alternate;
  if (path.starts_with("/usr/"))
    alternate = std::string(path.substr(4));
  else
    alternate = "/usr" + std::string(path);
  bool found = false;
  for_each_line(list, 4096, [&](std::string_view line, bool) {
    if (line == path || line == alternate) found = true;
  });
  return found;
}

ServicesCollector::ServicesCollector(std::shared_ptr<const Fingerprints> rules)
    : rules_(std::move(rules)) {}

namespace {

struct SocketTable {
  std::unordered_map<std::uint64_t, ListeningPort> open;  // by inode
};

// The open sockets of the network namespace that `pid` is in, read from /proc/<pid>/net.
SocketTable read_socket_table(const std::filesystem::path& proc_pid, Outcome& outcome,
                              std::size_t& suppressed) {
  SocketTable table;
  constexpr std::array<std::pair<const char*, PortType>, 4> files = {
      std::pair{"tcp", PortType::tcp}, std::pair{"tcp6", PortType::tcp6},
      std::pair{"udp", PortType::udp}, std::pair{"udp6", PortType::udp6}};
  for (const auto& entry : files) {
    const PortType type = entry.second;
    auto path = proc_pid / "net" / entry.first;
    auto r = read_bounded(path, services_max_proc_net_bytes);
    if (r.status == ReadStatus::missing) continue;
    if (r.status != ReadStatus::ok) {
      add_error(outcome, suppressed, r.error);
      continue;
    }
    if (r.file.truncated)
      add_error(outcome, suppressed, path.string() + ": larger than the bound, rest not read");
    for_each_line(r.file.text, proc_net_max_line, [&](std::string_view line, bool) {
      auto s = parse_proc_net_socket(line);
      if (s && is_open_port(type, s->state, s->local_port))
        table.open.emplace(s->inode, ListeningPort{type, s->local_port});
    });
  }
  return table;
}

// Socket inodes among the open files of a process (read once per scan, shared).
void socket_inodes(const ScanContext& context, int pid, std::vector<std::uint64_t>& out,
                   Outcome& outcome, std::size_t& suppressed) {
  const auto& open_files = context.processes().open_files(pid);
  if (open_files.truncated)
    add_error(outcome, suppressed,
              (context.proc / std::to_string(pid) / "fd").string() + ": more than " +
                  std::to_string(max_open_files) + " open files, the rest not looked at");
  for (const auto& target : open_files.targets)
    if (auto inode = parse_socket_link(target)) out.push_back(*inode);
}

}  // namespace

Outcome ServicesCollector::collect(const ScanContext& context) {
  Outcome outcome;
  if (!rules_) {
    outcome.fail("no product rules");
    return outcome;
  }
  std::size_t suppressed = 0;
  const auto& rules = *rules_;

  // Names that make a process a candidate, from the rules; looked up by string_view, so that the
  // scan of every process builds no string for one that is no candidate.
  struct NameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using NameSet = std::unordered_set<std::string, NameHash, std::equal_to<>>;
  NameSet names{"java"};
  std::vector<std::string> argv0_words;
  for (const auto& rule : rules.products) {
    if (!is_service_category(rule.category)) continue;
    for (const auto& e : rule.executables) names.insert(e);
    for (const auto& prefix : rule.argv0) {
      auto end = prefix.find_first_of("_-");
      auto word = prefix.substr(0, end);
      if (!word.empty()) argv0_words.push_back(word);
    }
  }
  NameSet comm_names;  // what /proc/<pid>/comm shows (15 bytes)
  for (const auto& n : names) comm_names.insert(n.substr(0, 15));

  std::vector<ProcessFacts> facts;
  std::vector<CommMemo> next_memo;
  next_memo.reserve(comm_memo_.size());
  const auto by_pid = [](const CommMemo& m, int pid) { return m.pid < pid; };
  for (const auto& process : context.input_part<ProcessInfo>()) {
    if (context.expired()) {
      outcome.fail("deadline passed while reading processes");
      return outcome;
    }
    const std::string_view name = basename_of(process.exe.view());
    bool candidate = names.contains(name);
    for (const auto& word : argv0_words)
      if (!candidate && !name.empty() && name.starts_with(word)) candidate = true;
    if (!candidate) {
      const std::size_t exe_hash = std::hash<std::string_view>{}(process.exe.view());
      auto known = std::lower_bound(comm_memo_.begin(), comm_memo_.end(), process.pid, by_pid);
      bool names_a_product;
      if (known != comm_memo_.end() && known->pid == process.pid &&
          known->start_ticks == process.start_ticks && known->exe_hash == exe_hash) {
        names_a_product = known->names_a_product;
      } else {
        auto comm = read_bounded(context.proc / std::to_string(process.pid) / "comm", 64);
        if (comm.status != ReadStatus::ok) continue;
        std::string_view c = comm.file.text;
        while (!c.empty() && c.back() == '\n') c.remove_suffix(1);
        names_a_product = comm_names.contains(c);
      }
      next_memo.push_back({process.pid, process.start_ticks, exe_hash, names_a_product});
      if (!names_a_product) continue;
    }
    const auto proc_pid = context.proc / std::to_string(process.pid);
    const auto& command = context.processes().command(process.pid);
    if (!command.readable) continue;  // gone since the process table was read
    if (!command.parent) {
      add_error(outcome, suppressed, (proc_pid / "stat").string() + ": no parent pid in it");
      continue;
    }
    if (!command.error.empty()) add_error(outcome, suppressed, command.error);
    if (command.truncated)
      add_error(outcome, suppressed,
                (proc_pid / "cmdline").string() + ": longer than " +
                    std::to_string(max_cmdline_bytes) + " bytes, the rest not read");
    facts.push_back(
        ProcessFacts{process.pid, *command.parent, process.exe.str(), command.argv,
                     process.container_id.str()});
  }

  auto matched = match_services(rules, facts);
  std::map<std::string, SocketTable> tables;  // by network namespace
  std::vector<ServiceInstance> instances;
  for (const auto& m : matched) {
    if (context.expired()) {
      outcome.fail("deadline passed while reading instances");
      return outcome;
    }
    const auto& master = facts[m.master];
    ServiceInstance instance;
    instance.product = m.rule->name;
    instance.category = m.rule->category;
    instance.pid = master.pid;
    instance.exe = master.exe;
    instance.container_id = master.container_id;

    // Version: the first of the rule's packages that is installed and (for dpkg, where its file
    // list can be read) owns the executable. A container's packages are its own, read inside it.
    const std::filesystem::path instance_root =
        master.container_id.empty() ? context.root
                                    : context.proc / std::to_string(master.pid) / "root";
    const auto& packages = context.input_part<SoftwarePackage>(master.container_id);
    if (!packages.empty()) {
      const auto owned = program_files(master);
      for (const auto& wanted : m.rule->packages) {
        bool done = false;
        for (const auto& pkg : packages) {
          if (pkg.name != wanted) continue;
          if (pkg.manager != "dpkg" && pkg.manager != "rpm" && pkg.manager != "apk") continue;
          if (pkg.manager == "dpkg") {
            std::optional<bool> owns;
            for (const auto& list :
                 {"var/lib/dpkg/info/" + pkg.name + ":" + pkg.architecture + ".list",
                  "var/lib/dpkg/info/" + pkg.name + ".list"}) {
              auto r = read_in_root(instance_root, list, services_max_list_bytes);
              if (r.status != ReadStatus::ok) continue;
              owns = std::any_of(owned.begin(), owned.end(), [&](const std::string& path) {
                return dpkg_list_has_path(r.file.text, path);
              });
              break;
            }
            if (owns && !*owns) continue;  // installed, but another program
          }
          instance.version = pkg.version;
          done = true;
          break;
        }
        if (done) break;
      }
    }

    const std::string home = jvm_home(master.argv);
    if (instance.version.empty() && !m.rule->version_files.empty())
      instance.version = version_under_home(instance_root, home, *m.rule);
    // A JVM's executable is the JDK's; the product lives in its home.
    if (!home.empty() && home.front() == '/')
      instance.install_path = home;
    else if (auto slash = master.exe.rfind('/'); slash != std::string::npos)
      instance.install_path = slash == 0 ? "/" : master.exe.substr(0, slash);
    auto status = read_bounded(context.proc / std::to_string(master.pid) / "status",
                               services_max_status_bytes);
    if (auto owner = status.status == ReadStatus::ok ? parse_status_owner(status.file.text)
                                                     : std::nullopt) {
      instance.uid = owner->uid;
      instance.gid = owner->gid;
    }

    instance.config = m.rule->config;
    instance.config_file = config_from_cmdline(*m.rule, master.argv);
    if (instance.config_file.empty()) {
      // A container's default configuration is its own, not the host's.
      const std::filesystem::path& root = instance_root;
      if (m.rule->config == "nginx") {
        instance.config_file = "/etc/nginx/nginx.conf";
      } else if (m.rule->config == "apache") {
        for (const char* candidate : {"/etc/apache2/apache2.conf", "/etc/httpd/conf/httpd.conf"})
          if (exists_in_root(root, candidate)) {
            instance.config_file = candidate;
            break;
          }
      }
    }

    // Listening ports of the master and its workers.
    auto master_proc = context.proc / std::to_string(master.pid);
    std::vector<std::uint64_t> inodes;
    for (auto member : m.members)
      socket_inodes(context, facts[member].pid, inodes, outcome, suppressed);
    if (!inodes.empty()) {
      std::string ns = read_link(master_proc / "ns" / "net").value_or("");
      auto it = tables.find(ns);
      if (it == tables.end() || ns.empty())
        it = tables.insert_or_assign(ns, read_socket_table(master_proc, outcome, suppressed))
                 .first;
      std::set<ListeningPort> ports;
      for (auto inode : inodes) {
        auto found = it->second.open.find(inode);
        if (found != it->second.open.end()) ports.insert(found->second);
      }
      instance.ports.assign(ports.begin(), ports.end());
    }
    instances.push_back(std::move(instance));
  }
  if (suppressed > 0)
    outcome.error(std::to_string(suppressed) + " more errors not listed");
  replace(std::move(instances));
  const auto pid_order = [](const CommMemo& a, const CommMemo& b) { return a.pid < b.pid; };
  if (!std::is_sorted(next_memo.begin(), next_memo.end(), pid_order))
    std::sort(next_memo.begin(), next_memo.end(), pid_order);
  comm_memo_ = std::move(next_memo);
  return outcome;
}

}  // namespace hostprint::collectors
