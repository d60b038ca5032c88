// CPU cost of hostprint's scan beside the cost of the command-line tools that read the same state.
//
//   scan_bench scan  [--rescans N] [--root DIR] [--proc DIR] [--collectors NAME,NAME...]
//       One full scan (the first scan_once() of this fresh process), then N rescans with nothing
//       changed. CPU time is this process's (user + system), so it is not skewed by other load.
//       --collectors runs only those collectors (bench/scan_floor.c's peer: processes and ports).
//   scan_bench peers [--rounds N]
//       Runs `ps -e -o pid=,args=`, `ss -H -lntup` and `getent passwd` back to back, N rounds, and
//       reports the CPU time each child used (from wait4), output discarded.
//
// Besides a readable report, every figure is printed once as "RESULT key value" for bench/run.sh.
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "agent/collector_registry.hpp"
#include "agent/logging.hpp"
#include "agent/scanner.hpp"

namespace {

using hostprint::Scanner;
using hostprint::ScanSettings;
using hostprint::Snapshot;

double process_cpu_ms() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_nsec) / 1e6;
}

double to_ms(const timeval& t) {
  return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) / 1e3;
}

struct CpuSplit {
  double user_ms = 0;
  double sys_ms = 0;
};

CpuSplit self_usage() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return {to_ms(u.ru_utime), to_ms(u.ru_stime)};
}

double median(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

void result(std::string_view key, double value) {
  std::printf("RESULT %.*s %.3f\n", static_cast<int>(key.size()), key.data(), value);
}

[[noreturn]] void usage(const char* message) {
  std::fprintf(stderr,
               "scan_bench: %s\n"
               "usage: scan_bench scan [--rescans N] [--root DIR] [--proc DIR] [--collectors A,B]\n"
               "       scan_bench peers [--rounds N]\n",
               message);
  std::exit(2);
}

int positive(const char* text) {
  char* end = nullptr;
  long n = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || n < 1 || n > 100000)
    usage("expected a count from 1 to 100000");
  return static_cast<int>(n);
}

std::vector<std::string> split_names(std::string_view list) {
  std::vector<std::string> names;
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto name = list.substr(0, comma);
    if (!name.empty()) names.emplace_back(name);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return names;
}

// The kernel's figure for this process's resident memory now, in KiB (0 when unreadable).
double vm_rss_kib() {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  double kib = 0;
  while (std::fgets(line, sizeof line, f) != nullptr)
    if (std::strncmp(line, "VmRSS:", 6) == 0) kib = std::strtod(line + 6, nullptr);
  std::fclose(f);
  return kib;
}

struct Measured {
  double cpu_ms = 0;
  double wall_ms = 0;
  CpuSplit split;
  std::shared_ptr<const Snapshot> snapshot;
};

Measured measured_scan(Scanner& scanner) {
  Measured m;
  const auto before_split = self_usage();
  const double before = process_cpu_ms();
  const auto wall_start = std::chrono::steady_clock::now();
  m.snapshot = scanner.scan_once();
  const auto wall_end = std::chrono::steady_clock::now();
  m.cpu_ms = process_cpu_ms() - before;
  const auto after_split = self_usage();
  m.split = {after_split.user_ms - before_split.user_ms, after_split.sys_ms - before_split.sys_ms};
  m.wall_ms = std::chrono::duration<double, std::milli>(wall_end - wall_start).count();
  return m;
}

void print_collectors(const Snapshot& snapshot) {
  for (const auto& c : snapshot.collectors) {
    std::printf("    %-16s %9.2f ms  %7zu items  %s", c.name.c_str(), c.duration_ms, c.item_count,
                c.complete ? "complete" : "INCOMPLETE");
    if (!c.errors.empty())
      std::printf(", %zu errors (first: %s)", c.errors.size(), c.errors.front().c_str());
    std::printf("\n");
  }
}

int run_scan(int argc, char** argv) {
  int rescans = 20;
  ScanSettings settings;
  std::vector<std::string> only;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (i + 1 >= argc) usage("a flag is missing its value");
    if (arg == "--rescans")
      rescans = positive(argv[++i]);
    else if (arg == "--root")
      settings.root = argv[++i];
    else if (arg == "--proc")
      settings.proc = argv[++i];
    else if (arg == "--collectors")
      only = split_names(argv[++i]);
    else
      usage("unknown flag");
  }
  hostprint::set_log_level(hostprint::LogLevel::error);

  std::vector<std::unique_ptr<hostprint::collectors::Collector>> chosen;
  for (const auto& name : only) {
    try {
      chosen.push_back(hostprint::make_collector(name, hostprint::collectors::CollectorConfig{}));
    } catch (const std::invalid_argument&) {
      usage("unknown collector name");
    }
  }
  Scanner scanner(settings, std::move(chosen));
  const auto full = measured_scan(scanner);
  const auto& counts = full.snapshot->host.counts;
  std::printf(
      "full scan (first in this process): cpu %.2f ms (user %.2f, sys %.2f), wall %.2f ms\n",
      full.cpu_ms, full.split.user_ms, full.split.sys_ms, full.wall_ms);
  std::printf("  found %lld processes, %lld ports, %lld accounts, %lld kernel modules\n",
              static_cast<long long>(counts.process_num), static_cast<long long>(counts.port_num),
              static_cast<long long>(counts.account_num),
              static_cast<long long>(counts.kernel_module_num));
  print_collectors(*full.snapshot);

  std::vector<double> cpu, wall, user, sys;
  std::map<std::string, std::vector<double>> per_collector;
  std::shared_ptr<const Snapshot> last;
  for (int i = 0; i < rescans; ++i) {
    auto m = measured_scan(scanner);
    cpu.push_back(m.cpu_ms);
    wall.push_back(m.wall_ms);
    user.push_back(m.split.user_ms);
    sys.push_back(m.split.sys_ms);
    for (const auto& c : m.snapshot->collectors) per_collector[c.name].push_back(c.duration_ms);
    last = std::move(m.snapshot);
  }
  std::printf(
      "rescan, nothing changed (median of %d): cpu %.2f ms (user %.2f, sys %.2f), wall %.2f ms,"
      " min cpu %.2f, max cpu %.2f\n",
      rescans, median(cpu), median(user), median(sys), median(wall),
      *std::min_element(cpu.begin(), cpu.end()), *std::max_element(cpu.begin(), cpu.end()));
  std::printf("  per collector, median of the rescans:\n");
  for (const auto& c : last->collectors)
    std::printf("    %-16s %9.2f ms  %7zu items  %s\n", c.name.c_str(),
                median(per_collector[c.name]), c.item_count,
                c.complete ? "complete" : "INCOMPLETE");

  result("full_cpu_ms", full.cpu_ms);
  result("full_user_ms", full.split.user_ms);
  result("full_sys_ms", full.split.sys_ms);
  result("full_wall_ms", full.wall_ms);
  result("rescan_cpu_ms", median(cpu));
  result("rescan_wall_ms", median(wall));
  result("process_num", static_cast<double>(counts.process_num));
  result("port_num", static_cast<double>(counts.port_num));
  result("jar_package_num", static_cast<double>(counts.jar_package_num));
  result("rss_kib", vm_rss_kib());
  for (const auto& c : full.snapshot->collectors)
    result("full_collector_ms." + c.name, c.duration_ms);
  for (const auto& c : last->collectors)
    result("rescan_collector_ms." + c.name, median(per_collector[c.name]));
  return 0;
}

struct Peer {
  const char* label;
  std::vector<const char*> argv;
};

// Runs one command with its output discarded; returns the user and system time it used.
CpuSplit run_child(const Peer& peer) {
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid == 0) {
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
    std::vector<char*> args;
    for (const char* a : peer.argv) args.push_back(const_cast<char*>(a));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int status = 0;
  rusage usage{};
  if (wait4(pid, &status, 0, &usage) != pid) {
    std::perror("wait4");
    std::exit(1);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::fprintf(stderr, "scan_bench: peer '%s' failed (status %d)\n", peer.label, status);
    std::exit(1);
  }
  return {to_ms(usage.ru_utime), to_ms(usage.ru_stime)};
}

int run_peers(int argc, char** argv) {
  int rounds = 5;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--rounds" && i + 1 < argc)
      rounds = positive(argv[++i]);
    else
      usage("unknown flag");
  }
  const std::vector<Peer> peers = {
      {"ps", {"ps", "-e", "-o", "pid=,args="}},
      {"ss", {"ss", "-H", "-lntup"}},
      {"getent", {"getent", "passwd"}},
  };
  std::map<std::string, std::vector<double>> each;
  std::vector<double> sums;
  for (int r = 0; r < rounds; ++r) {
    double sum = 0;
    for (const auto& peer : peers) {
      auto u = run_child(peer);
      each[peer.label].push_back(u.user_ms + u.sys_ms);
      sum += u.user_ms + u.sys_ms;
    }
    sums.push_back(sum);
  }
  std::printf("peers, cpu (user + sys) median of %d rounds:", rounds);
  for (const auto& peer : peers) std::printf(" %s %.2f ms,", peer.label, median(each[peer.label]));
  std::printf(" sum %.2f ms\n", median(sums));
  for (const auto& peer : peers)
    result(std::string("peer_cpu_ms.") + peer.label, median(each[peer.label]));
  result("peers_cpu_ms", median(sums));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) usage("a mode is required");
  std::string_view mode = argv[1];
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  if (mode == "scan") return run_scan(argc - 2, argv + 2);
  if (mode == "peers") return run_peers(argc - 2, argv + 2);
  usage("unknown mode");
}
