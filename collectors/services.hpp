#pragma once
// Running web services and databases (assets.md): one instance per master process, with version,
// configuration file and ports. comm is read for non-candidates because a program started through
// a symlink (Debian's redis-server -> redis-check-rdb) shows its real name only there; a package's
// dpkg file list confirms it owns the executable, so a same-named package of another program does
// not lend its version. Nothing is ever run.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collectors/collector.hpp"
#include "collectors/rules/fingerprints.hpp"

namespace hostprint::collectors {

// Bounds.
inline constexpr std::size_t services_max_list_bytes = 16u << 20;  // a dpkg .list file
inline constexpr std::size_t services_max_proc_net_bytes = 64u << 20;
inline constexpr std::size_t services_max_errors = 100;
inline constexpr std::size_t services_max_status_bytes = 64 * 1024;  // /proc/<pid>/status

// What the matcher knows of one candidate process.
struct ProcessFacts {
  int pid = 0;
  int ppid = 0;
  std::string exe;                // path of the executable
  std::vector<std::string> argv;  // from cmdline
  std::string container_id;
};

// The first web_service or database rule (in file order) that recognises the process, or null:
//  - the file name of the executable, or the one argv[0] was started as, is in `executables`;
//  - argv[0]'s file name starts with an `argv0` prefix;
//  - a JVM (executable `java`) whose main class is in `main_classes`, or whose -jar or class path
//    entry's file name is in `jars`;
// and when the rule has `path_contains`, the executable's path holds one of them.
const ProductRule* match_service_rule(const Fingerprints& rules, const ProcessFacts& process);

// One recognised master and the processes of the same product under it (its workers).
struct MatchedService {
  std::size_t master = 0;  // index into the facts
  const ProductRule* rule = nullptr;
  std::vector<std::size_t> members;  // the master and its workers (indexes), master first
};

// Matches every process and groups them: a matching process whose parent matches the same product
// is a worker of that parent's master, not an instance of its own. Ordered by the master's pid.
std::vector<MatchedService> match_services(const Fingerprints& rules,
                                           const std::vector<ProcessFacts>& processes);

// The configuration file a process of `rule` loads, from its command line (nginx -c, httpd -f,
// postgres -D / config_file=, redis' first *.conf argument, Tomcat's -Dcatalina.base). Defaults
// that depend on files existing are not applied here; empty when the command line does not say.
std::string config_from_cmdline(const ProductRule& rule, const std::vector<std::string>& argv);

// Whether a dpkg .list file names `path` (also with or without the /usr prefix of a merged /usr).
bool dpkg_list_has_path(std::string_view list, std::string_view path);

class ServicesCollector final : public ListCollector<ServiceInstance> {
 public:
  explicit ServicesCollector(std::shared_ptr<const Fingerprints> rules);
  std::string_view name() const override { return "services"; }
  // The package that owns an instance's executable gives its version.
  KindSet reads() const override { return kinds<ProcessInfo, SoftwarePackage>(); }
  // Rules reloaded: what was remembered of processes under the old ones is dropped.
  void reconfigure(const CollectorConfig& config) override {
    rules_ = config.rules;
    comm_memo_.clear();
  }
  Outcome collect(const ScanContext& context) override;

 private:
  // Whether a process's comm names a product, remembered per pid while its start time and
  // executable stay the same (comm changes with an exec), so a rescan reads no comm again.
  struct CommMemo {
    int pid = 0;
    std::uint64_t start_ticks = 0;
    std::size_t exe_hash = 0;
    bool names_a_product = false;
  };
  std::vector<CommMemo> comm_memo_;  // sorted by pid: rebuilt each scan without a node per pid
  std::shared_ptr<const Fingerprints> rules_;
};

}  // namespace hostprint::collectors
