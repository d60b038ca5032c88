// This machine's processes, ports, accounts and modules against what ps, ss, getent and /proc say,
// read independently: item by item (pids, paths, ports, names), each category apart, with
// something of the test's own in each list so that a collector that reads nothing cannot pass.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "collectors/kernel_modules.hpp"
#include "tests/cgroups.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/live_skip.hpp"

namespace hostprint::test {
namespace {

using Entries = std::vector<boost::json::object>;

// Every entry of a list of a running agent, paged through 200 at a time.
Entries all_entries(const Agent& agent, const std::string& target) {
  Entries out;
  const char joint = target.find('?') == std::string::npos ? '?' : '&';
  for (int offset = 0;; offset += 200) {
    auto response = fetch(agent, target + joint + "limit=200&offset=" + std::to_string(offset));
    EXPECT_EQ(response.result_int(), 200u) << target << ": " << response.body();
    if (response.result_int() != 200) break;
    const auto page = boost::json::parse(response.body()).at("data_list").as_array();
    for (const auto& e : page) out.push_back(e.as_object());
    if (page.size() < 200) break;
  }
  return out;
}

std::string text(const boost::json::object& o, const char* key) {
  return std::string(o.at(key).as_string());
}

std::set<long> pids_in(const std::string& out) {
  std::set<long> pids;
  std::istringstream lines(out);
  for (long pid; lines >> pid;) pids.insert(pid);
  return pids;
}

// Every process but kernel threads (kthreadd, pid 2, and its children), as ps lists them; empty
// with `error` set when ps failed.
std::set<long> user_processes(std::string& error) {
  auto all = run_program({"ps", "-e", "-o", "pid="});
  auto kernel = run_program({"ps", "--ppid", "2", "-p", "2", "-o", "pid="});
  if (all.exit_code != 0 || all.out.empty()) error = "ps -e: " + all.err;
  // ps exits 1 when no process matches: a machine without kthreadd's children (a container).
  if (kernel.exit_code > 1) error = "ps --ppid 2: " + kernel.err;
  auto pids = pids_in(all.out);
  for (long pid : pids_in(kernel.out)) pids.erase(pid);
  return pids;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A `sleep` of the test's own, in a cgroup when given one.
class Sleeper {
 public:
  explicit Sleeper(const Cgroup* group = nullptr) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execl("/bin/sleep", "sleep", "300", nullptr);
      _exit(127);
    }
    if (group) group->add(pid_);
  }
  ~Sleeper() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Sleeper(const Sleeper&) = delete;
  Sleeper& operator=(const Sleeper&) = delete;
  long pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

std::map<long, boost::json::object> by_pid(const Entries& entries) {
  std::map<long, boost::json::object> out;
  for (const auto& e : entries) out[static_cast<long>(e.at("process_pid").as_int64())] = e;
  return out;
}

TEST(HostTruth, ProcessesAreWhatPsSeesEachCategoryApart) {
  // One process of the test's own in each category: a host sleeper and one in a cgroup named as
  // Docker names its containers'.
  auto hierarchies = machine_hierarchies();
  auto hierarchy = hierarchies.v2 ? hierarchies.v2 : hierarchies.v1;
  if (!hierarchy) LIVE_SKIP() << "no cgroup hierarchy";
  Cgroup docker(*hierarchy, "docker/" + std::string(64, 'e'));
  Sleeper on_host, in_container(&docker);

  std::string error;
  const auto looked = now_ms();
  const auto before = user_processes(error);
  ASSERT_TRUE(error.empty()) << error;
  Agent agent({.args = {"--scan-interval", "86400"}});
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  const auto after = user_processes(error);
  ASSERT_TRUE(error.empty()) << error;
  const auto host = by_pid(all_entries(agent, "/v5/p/asset/processes/detail?category=host"));
  const auto container =
      by_pid(all_entries(agent, "/v5/p/asset/processes/detail?category=container"));

  // The controls, each in its own category only.
  ASSERT_TRUE(host.contains(on_host.pid()));
  EXPECT_FALSE(container.contains(on_host.pid()));
  ASSERT_TRUE(container.contains(in_container.pid()));
  EXPECT_FALSE(host.contains(in_container.pid()));
  const auto sleep_path = std::filesystem::canonical("/bin/sleep").string();
  EXPECT_EQ(text(host.at(on_host.pid()), "process_path"), sleep_path);
  EXPECT_EQ(text(container.at(in_container.pid()), "process_path"), sleep_path);
  EXPECT_TRUE(host.contains(agent.pid()));
  for (const auto& [pid, e] : container) EXPECT_FALSE(host.contains(pid)) << pid;

  // Every process ps saw before and after the scan is listed, under its executable's path.
  for (long pid : before) {
    if (!after.contains(pid)) continue;
    const auto* entry = host.contains(pid) ? &host.at(pid)
                        : container.contains(pid) ? &container.at(pid)
                                                  : nullptr;
    if (!entry) {
      ADD_FAILURE() << "pid " << pid << " is not listed";
      continue;
    }
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec);
    if (!ec && !exe.string().ends_with(" (deleted)")) {
      EXPECT_EQ(text(*entry, "process_path"), exe.string()) << pid;
    }
  }
  // Every process listed was seen by ps, or started after ps first looked (the launch time has
  // the kernel's boot time to the second).
  for (const auto* list : {&host, &container})
    for (const auto& [pid, e] : *list)
      if (!before.contains(pid) && !after.contains(pid)) {
        EXPECT_GE(e.at("launch_time").as_int64(), looked - 2000)
            << "pid " << pid << " (" << text(e, "process_path") << ") was never seen by ps";
      }
}

TEST(HostTruth, ProcessStatisticsAddUp) {
  // Both answers from one snapshot of a running agent.
  Agent agent;
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  auto stats = boost::json::parse(fetch(agent, "/v5/p/asset/statistics").body()).as_object();
  auto table = boost::json::parse(fetch(agent, "/v5/p/asset/process/statistics?limit=200").body())
                   .as_object();
  std::int64_t sum = 0;
  for (const auto& e : table.at("data_list").as_array()) sum += e.at("num").as_int64();
  // As root every executable resolves except those of zombies.
  auto zombies = run_program({"ps", "-e", "-o", "stat="});
  ASSERT_EQ(zombies.exit_code, 0) << zombies.err;
  std::int64_t zombie_count = 0;
  std::istringstream lines(zombies.out);
  for (std::string s; lines >> s;) zombie_count += s[0] == 'Z';
  ASSERT_GT(stats.at("process_num").as_int64(), 0);
  if (table.at("total_num").as_int64() <= 200) {
    EXPECT_LE(sum, stats.at("process_num").as_int64());
    EXPECT_GE(sum + zombie_count + 1, stats.at("process_num").as_int64());
  }
  // The test program itself is an entry under its own path.
  auto self = std::filesystem::read_symlink("/proc/self/exe").string();
  auto mine = boost::json::parse(fetch(agent, "/v5/p/asset/process/statistics?path=" + self).body())
                  .as_object();
  ASSERT_GE(mine.at("data_list").as_array().size(), 1u);
  EXPECT_EQ(mine.at("data_list").as_array()[0].at("path").as_string(), self);
}

// Listening TCP and bound UDP sockets of this network namespace as ss shows them: "TYPE:port" ->
// the lowest pid owning such a socket (0 when ss names none). `error` set when ss failed.
std::map<std::string, long> ss_items(std::string& error) {
  std::map<std::string, long> items;
  const std::regex pid_field("pid=([0-9]+)");
  for (auto [type, proto, family] : {std::tuple{"TCP", "-t", "-4"}, std::tuple{"TCP6", "-t", "-6"},
                                      std::tuple{"UDP", "-u", "-4"},
                                      std::tuple{"UDP6", "-u", "-6"}}) {
    auto r = run_program({"ss", "-H", "-l", "-n", "-p", proto, family});
    if (r.exit_code != 0) {
      error = std::string("ss ") + proto + " " + family + ": " + r.err;
      return {};
    }
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      std::istringstream fields(line);
      std::string state, recv_q, send_q, local;
      fields >> state >> recv_q >> send_q >> local;
      const auto port_text = local.substr(local.rfind(':') + 1);
      if (port_text.empty() || port_text.find_first_not_of("0123456789") != std::string::npos)
        continue;
      const auto key = std::string(type) + ":" + port_text;
      if (std::stol(port_text) == 0) continue;
      long lowest = 0;
      for (std::sregex_iterator m(line.begin(), line.end(), pid_field), end; m != end; ++m) {
        long pid = std::stol((*m)[1]);
        if (lowest == 0 || pid < lowest) lowest = pid;
      }
      auto [it, added] = items.emplace(key, lowest);
      if (!added && lowest != 0 && (it->second == 0 || lowest < it->second)) it->second = lowest;
    }
  }
  return items;
}

// A socket of the test's own on an ephemeral port: "TYPE:port", or "" when the kernel refused it.
std::string own_socket(int family, int type, std::vector<int>& fds) {
  int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  fds.push_back(fd);
  sockaddr_storage address{};
  socklen_t length = 0;
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&address);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    length = sizeof *a;
  } else {
    int one = 1;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    auto* a = reinterpret_cast<sockaddr_in6*>(&address);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_loopback;
    length = sizeof *a;
  }
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), length) != 0) return "";
  if (type == SOCK_STREAM && ::listen(fd, 4) != 0) return "";
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "";
  const int port = family == AF_INET ? ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port)
                                     : ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  return std::string(type == SOCK_STREAM ? "TCP" : "UDP") + (family == AF_INET6 ? "6" : "") + ":" +
         std::to_string(port);
}

TEST(HostTruth, PortsAreWhatSsSeesEachCategoryApart) {
  // Listeners of the test's own, one of each type, opened before anything is read.
  std::vector<int> fds;
  std::vector<std::string> own;
  for (auto [family, type] : {std::pair{AF_INET, SOCK_STREAM}, std::pair{AF_INET6, SOCK_STREAM},
                              std::pair{AF_INET, SOCK_DGRAM}, std::pair{AF_INET6, SOCK_DGRAM}})
    own.push_back(own_socket(family, type, fds));
  struct Closer {
    std::vector<int>& fds;
    ~Closer() {
      for (int fd : fds) ::close(fd);
    }
  } closer{fds};
  for (const auto& item : own)
    if (item.empty()) LIVE_SKIP() << "a loopback socket of each type (IPv4 and IPv6) is needed";

  for (int attempt = 0; attempt < 5; ++attempt) {
    std::string error;
    auto before = ss_items(error);
    ASSERT_TRUE(error.empty()) << error;
    Agent agent({.args = {"--scan-interval", "86400"}});
    ASSERT_TRUE(agent.ready()) << agent.log_text();
    auto after = ss_items(error);
    ASSERT_TRUE(error.empty()) << error;
    // The agent's own port opens before its first scan is published: that scan lists it.
    const std::string agent_port = "TCP:" + std::to_string(agent.port());
    ASSERT_TRUE(after.contains(agent_port)) << "ss does not show the agent's port";
    before[agent_port] = agent.pid();
    if (before != after) continue;

    // Item by item: the same (type, port) pairs; an owner the agent names is the lowest pid ss
    // names (it may name none: lists.md allows 0 for "not known").
    std::map<std::string, long> host;
    for (const auto& e : all_entries(agent, "/v5/p/asset/ports?category=host"))
      host[text(e, "type") + ":" + std::to_string(e.at("port").as_int64())] =
          static_cast<long>(e.at("pid").as_int64());
    std::set<std::string> listed_items, ss_items_seen;
    for (const auto& [item, pid] : host) listed_items.insert(item);
    for (const auto& [item, pid] : before) ss_items_seen.insert(item);
    EXPECT_EQ(listed_items, ss_items_seen);
    for (const auto& item : own) EXPECT_TRUE(host.contains(item)) << item;
    ASSERT_TRUE(host.contains(agent_port)) << "the first scan does not list the agent's own port";
    EXPECT_EQ(host.at(agent_port), agent.pid());
    for (const auto& [item, pid] : host)
      if (pid != 0 && before.contains(item)) {
        EXPECT_EQ(pid, before.at(item)) << item;
      }
    auto count = boost::json::parse(fetch(agent, "/v5/p/asset/statistics?category=host").body());
    EXPECT_EQ(count.at("port_num").as_int64(), static_cast<std::int64_t>(host.size()));
    EXPECT_EQ(count.at("port_num").as_int64(), static_cast<std::int64_t>(after.size()));

    // Containers' ports are not in ss's view (their own network namespaces): each is owned by a
    // process of the container category, and none is one of the test's own.
    std::set<long> container_pids;
    for (const auto& e : all_entries(agent, "/v5/p/asset/processes/detail?category=container"))
      container_pids.insert(static_cast<long>(e.at("process_pid").as_int64()));
    for (const auto& e : all_entries(agent, "/v5/p/asset/ports?category=container")) {
      const long pid = static_cast<long>(e.at("pid").as_int64());
      EXPECT_TRUE(pid == 0 || container_pids.contains(pid)) << boost::json::serialize(e);
      EXPECT_NE(pid, ::getpid());
    }
    return;
  }
  LIVE_SKIP() << "the machine's sockets never held still for a comparison";
}

TEST(HostTruth, AccountsAreWhatGetentSaysOnFiles) {
  // getent reads through NSS; "files" is /etc/passwd, by distinct name.
  auto r = run_program({"getent", "-s", "files", "passwd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> names;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) names.insert(line.substr(0, line.find(':')));
  ASSERT_TRUE(names.contains("root")) << r.out;
  Agent agent({.args = {"--scan-interval", "86400"}});
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  std::set<std::string> listed;
  for (const auto& e : all_entries(agent, "/v5/p/asset/users?category=host"))
    listed.insert(text(e, "user_name"));
  EXPECT_EQ(listed, names);
  auto count = boost::json::parse(fetch(agent, "/v5/p/asset/statistics?category=host").body());
  EXPECT_EQ(count.at("account_num").as_int64(), static_cast<std::int64_t>(names.size()));
}

TEST(HostTruth, KernelModulesAreWhatProcModulesSays) {
  // The control: the collector the agent runs finds what a proc of the test's own holds.
  TempDir fake_proc;
  fake_proc.write("modules",
                  "ext4 1015808 1 - Live 0x0000000000000000\n"
                  "loop 36864 0 - Live 0x0000000000000000\n");
  collectors::KernelModulesCollector control;
  collectors::ScanContext context;
  context.proc = fake_proc.path();
  ASSERT_TRUE(control.collect(context).complete);
  std::set<std::string> control_names;
  for (const auto& m : *control.items()) control_names.insert(m.name);
  ASSERT_EQ(control_names, (std::set<std::string>{"ext4", "loop"}));

  // This machine: every line of /proc/modules by name; a kernel without module support has no
  // /proc/modules and no module, and that is no error.
  std::set<std::string> expected;
  std::ifstream in("/proc/modules");
  const bool modular = in.is_open();
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) expected.insert(line.substr(0, line.find(' ')));
  Agent agent({.args = {"--scan-interval", "86400"}});
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  const auto host = text(all_entries(agent, "/v5/p/asset/users").at(0), "host_id");
  std::set<std::string> listed;
  for (const auto& m : all_entries(agent, "/v5/p/asset/" + host + "/kernel-module"))
    listed.insert(text(m, "name"));
  EXPECT_EQ(listed, expected) << (modular ? "" : "no /proc/modules here");
  auto count = boost::json::parse(fetch(agent, "/v5/p/asset/statistics").body());
  EXPECT_EQ(count.at("kernel_module_num").as_int64(), static_cast<std::int64_t>(expected.size()));
  auto status = boost::json::parse(fetch(agent, "/status").body()).as_object();
  bool reported = false;
  for (const auto& c : status.at("collectors").as_array())
    if (c.at("name").as_string() == "kernel_modules") {
      reported = true;
      EXPECT_TRUE(c.at("errors").as_array().empty()) << boost::json::serialize(c);
      EXPECT_TRUE(c.at("complete").as_bool());
    }
  EXPECT_TRUE(reported);
}

}  // namespace
}  // namespace hostprint::test
