// Processes placed in real cgroups whose paths name a runtime are the container's, not the host's.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <thread>

#include "agent/collector_registry.hpp"
#include "collectors/containers.hpp"
#include "tests/integration/count_lists.hpp"
#include "tests/scan_chain.hpp"
#include "collectors/processes.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/cgroups.hpp"
#include "tests/namespaces.hpp"
#include "tests/live_skip.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using test::Cgroup;
using test::machine_hierarchies;

// Where the tests put their containers' cgroups: all in v2 (a pure v2 host, and a hybrid one's
// unified hierarchy), split between v1 and v2 (hybrid), or all in v1 (a host without v2).
enum class Layout { only_v2, hybrid, only_v1, none };

std::string layout_name(const ::testing::TestParamInfo<Layout>& info) {
  switch (info.param) {
    case Layout::only_v2: return "only_v2";
    case Layout::hybrid: return "hybrid";
    case Layout::only_v1: return "only_v1";
    case Layout::none: break;
  }
  return "no_cgroup_hierarchy";
}

// Every layout this machine can hold; `none` (a test that fails under HOSTPRINT_STRICT_LIVE) when
// it has no cgroup hierarchy at all.
std::vector<Layout> machine_layouts() {
  auto found = machine_hierarchies();
  std::vector<Layout> layouts;
  if (found.v2) layouts.push_back(Layout::only_v2);
  if (found.v1 && found.v2) layouts.push_back(Layout::hybrid);
  if (found.v1 && !found.v2) layouts.push_back(Layout::only_v1);
  if (layouts.empty()) layouts.push_back(Layout::none);
  return layouts;
}

// The hierarchies of a layout: the first for Docker's and LXC's containers, the second for
// Kubernetes' and Podman's.
std::optional<std::pair<fs::path, fs::path>> placement(Layout layout) {
  auto found = machine_hierarchies();
  switch (layout) {
    case Layout::only_v2:
      if (found.v2) return std::pair{*found.v2, *found.v2};
      break;
    case Layout::hybrid:
      if (found.v1 && found.v2) return std::pair{*found.v1, *found.v2};
      break;
    case Layout::only_v1:
      if (found.v1) return std::pair{*found.v1, *found.v1};
      break;
    case Layout::none:
      break;
  }
  return std::nullopt;
}

class ContainersLiveIn : public ::testing::TestWithParam<Layout> {
 protected:
  void SetUp() override {
    auto where = placement(GetParam());
    if (!where) LIVE_SKIP() << "no cgroup hierarchy to make containers in";
    hierarchy_ = where->first;
  }
  fs::path hierarchy_;
};

TEST_P(ContainersLiveIn, ProcessesInRuntimeCgroupsAreCountedApart) {
  const auto* hierarchy = &hierarchy_;
  const std::string id_a(64, 'a');
  const std::string id_b = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  Cgroup docker(*hierarchy, "docker/" + id_a);
  Cgroup pod(*hierarchy, "kubepods/besteffort/pod11112222-3333-4444-5555-666677778888/" + id_b);
  test::TempDir work;

  int rc = test::run_in_namespaces(
      [&]() -> int {
        // Three sleepers: one on the host, one in the docker cgroup, two in the pod's.
        auto start_in = [](const Cgroup* group) {
          pid_t pid = ::fork();
          if (pid == 0) {
            if (group) group->add(::getpid());
            ::execl("/bin/sleep", "sleep", "60", nullptr);
            _exit(127);
          }
          return pid;
        };
        std::vector<pid_t> children{start_in(nullptr), start_in(&docker), start_in(&pod),
                                    start_in(&pod)};
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        ProcessesCollector collector;
        auto outcome = collector.collect(ScanContext{});
        std::ofstream out(work.path() / "result");
        for (const auto& p : *collector.items())
          out << p.pid << " " << p.exe << " [" << p.container_id << "]\n";
        for (pid_t c : children) ::kill(c, SIGKILL);
        for (pid_t c : children) ::waitpid(c, nullptr, 0);
        return outcome.complete ? 0 : 1;
      },
      false);
  ASSERT_EQ(rc, 0);
  std::ifstream in(work.path() / "result");
  std::map<std::string, int> by_container;
  for (std::string line; std::getline(in, line);) {
    auto open = line.find('[');
    by_container[line.substr(open + 1, line.size() - open - 2)]++;
  }
  // The host: pid 1 (this test) and one sleeper.
  EXPECT_EQ(by_container[""], 2);
  EXPECT_EQ(by_container[id_a], 1);
  EXPECT_EQ(by_container[id_b], 2);
  EXPECT_EQ(by_container.size(), 3u);
}

TEST_P(ContainersLiveIn, HostCountsExcludeContainerProcesses) {
  const auto* hierarchy = &hierarchy_;
  const std::string id(64, 'c');
  Cgroup docker(*hierarchy, "system.slice/docker-" + id + ".scope");
  test::TempDir work;
  int rc = test::run_in_namespaces([&]() -> int {
    pid_t child = ::fork();
    if (child == 0) {
      docker.add(::getpid());
      ::execl("/bin/sleep", "sleep", "60", nullptr);
      _exit(127);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    for (auto [name, target] :
         {std::pair{"host", "/v5/p/asset/statistics"},
          std::pair{"container", "/v5/p/asset/statistics?category=container"},
          std::pair{"host-table", "/v5/p/asset/process/statistics"},
          std::pair{"container-table", "/v5/p/asset/process/statistics?category=container"}}) {
      auto r = test::run_program({test::hostprint_binary(), "query", "--state-dir",
                                  (work.path() / "state").string(), target});
      std::ofstream(work.path() / name) << r.out;
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    return 0;
  });
  ASSERT_EQ(rc, 0);
  auto read = [&](const char* name) {
    std::ifstream in(work.path() / name);
    return boost::json::parse(std::string(std::istreambuf_iterator<char>(in), {})).as_object();
  };
  // Host: pid 1 and the query; the container: the sleeper.
  EXPECT_EQ(read("host").at("process_num").as_int64(), 2);
  EXPECT_EQ(read("container").at("process_num").as_int64(), 1);
  auto table = read("container-table");
  ASSERT_EQ(table.at("total_num").as_int64(), 1);
  EXPECT_EQ(table.at("data_list").as_array()[0].at("num").as_int64(), 1);
  EXPECT_NE(std::string(table.at("data_list").as_array()[0].at("path").as_string()).find("sleep"),
            std::string::npos);
  auto host_table = read("host-table");
  for (const auto& e : host_table.at("data_list").as_array())
    EXPECT_EQ(std::string(e.at("path").as_string()).find("sleep"), std::string::npos);
}

}  // namespace
}  // namespace hostprint::collectors

// --- Containers made with the kernel's own tools: their files, ports and processes ---

namespace hostprint::collectors {
namespace {

// A root tree of a container image: busybox (static) as its only executable, and what the test
// writes into it.
class ImageRoot {
 public:
  ImageRoot() {
    fs::create_directories(dir_.path() / "bin");
    fs::copy_file("/bin/busybox", dir_.path() / "bin/busybox");
  }
  const fs::path& path() const { return dir_.path(); }
  void write(const std::string& relative, std::string_view content) const {
    dir_.write(relative, content);
  }
  void write_executable(const std::string& relative, std::string_view content) const {
    fs::permissions(dir_.write(relative, content),
                    fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                        fs::perms::others_read | fs::perms::others_exec);
  }
  void link(const std::string& relative, const std::string& target) const {
    fs::create_directories((dir_.path() / relative).parent_path());
    fs::create_symlink(target, dir_.path() / relative);
  }

 private:
  test::TempDir dir_;
};

enum class Network { own, host, joined };

struct ContainerSpec {
  const ImageRoot* root = nullptr;
  const Cgroup* cgroup = nullptr;
  Network network = Network::own;
  pid_t join = 0;  // for Network::joined: a process whose network namespace it joins
  std::vector<std::uint16_t> tcp_ports{};  // listening in its network namespace
  std::vector<std::uint16_t> udp_ports{};  // bound, unconnected
};

int bound_socket(int type, std::uint16_t port) {
  int fd = ::socket(AF_INET, type, 0);  // no CLOEXEC: the container's program keeps it open
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return -1;
  if (type == SOCK_STREAM && ::listen(fd, 16) != 0) return -1;
  return fd;
}

// A process as a runtime starts one: pid 1 of new PID and mount namespaces, in a network
// namespace of its own (or the host's, or another container's), chrooted into its image's root,
// running the image's own executable, placed in the container's cgroup.
class TestContainer {
 public:
  explicit TestContainer(const ContainerSpec& spec) {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return;
    int join_fd = -1;
    if (spec.network == Network::joined)
      join_fd =
          ::open(("/proc/" + std::to_string(spec.join) + "/ns/net").c_str(), O_RDONLY | O_CLOEXEC);
    long flags = CLONE_NEWPID | CLONE_NEWNS | (spec.network == Network::own ? CLONE_NEWNET : 0);
    // clone() without a new stack is fork() into new namespaces: no process in between.
    pid_ = static_cast<pid_t>(
        ::syscall(SYS_clone, flags | SIGCHLD, nullptr, nullptr, nullptr, nullptr));
    if (pid_ == 0) {
      if (join_fd >= 0 && ::setns(join_fd, CLONE_NEWNET) != 0) _exit(120);
      if (spec.network == Network::own && !test::bring_loopback_up()) _exit(121);
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) _exit(122);
      for (auto port : spec.tcp_ports)
        if (bound_socket(SOCK_STREAM, port) < 0) _exit(123);
      for (auto port : spec.udp_ports)
        if (bound_socket(SOCK_DGRAM, port) < 0) _exit(124);
      if (::chroot(spec.root->path().c_str()) != 0 || ::chdir("/") != 0) _exit(125);
      if (::write(ready[1], "r", 1) != 1) _exit(126);
      ::execl("/bin/busybox", "sleep", "600", nullptr);
      _exit(127);
    }
    ::close(ready[1]);
    if (join_fd >= 0) ::close(join_fd);
    char byte = 0;
    ready_ = pid_ > 0 && ::read(ready[0], &byte, 1) == 1;
    ::close(ready[0]);
    if (ready_) spec.cgroup->add(pid_);
  }
  ~TestContainer() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  TestContainer(const TestContainer&) = delete;
  TestContainer& operator=(const TestContainer&) = delete;

  bool ready() const { return ready_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  bool ready_ = false;
};

const std::string passwd_three =
    "root:x:0:0:root:/root:/bin/sh\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "app:x:1000:1000::/home/app:/bin/sh\n";
const std::string dpkg_two_installed =
    "Package: alpha\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n\n"
    "Package: beta\nStatus: install ok installed\nArchitecture: all\nVersion: 2.0\n\n"
    "Package: gamma\nStatus: deinstall ok config-files\nArchitecture: amd64\nVersion: 3.0\n";
const std::string apk_three =
    "P:musl\nV:1.2.4-r2\nA:x86_64\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\n\n"
    "P:alpine-baselayout\nV:3.4.3-r1\nA:x86_64\n";
// passwd-shaped, so that reading it as etc/passwd would count its entries.
const std::string container_shadow =
    "ci-one:x:1001:1001::/home/one:/bin/sh\nci-two:x:1002:1002::/home/two:/bin/sh\n";
const std::string host_decoy_shadow =
    "h1:x:1:1::/:/bin/sh\nh2:x:2:2::/:/bin/sh\nh3:x:3:3::/:/bin/sh\nh4:x:4:4::/:/bin/sh\n"
    "h5:x:5:5::/:/bin/sh\n";

std::string dpkg_packages(int count) {
  std::string text;
  for (int i = 0; i < count; ++i)
    text += "Package: decoy" + std::to_string(i) +
            "\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1\n\n";
  return text;
}

// Image A (Debian-like): 3 accounts, 2 dpkg packages (its status a relative link that climbs past
// the root), 2 crontab jobs and a daily script.
void fill_debian_like(const ImageRoot& a) {
  a.write("etc/passwd", passwd_three);
  a.write("srv/dpkg-status", dpkg_two_installed);
  a.link("var/lib/dpkg/status", "../../../../../../../../../../../../srv/dpkg-status");
  a.write("etc/crontab",
          "SHELL=/bin/sh\n17 * * * * root cd / && run-parts /etc/cron.hourly\n"
          "25 6 * * * root /usr/local/bin/backup\n");
  a.write_executable("etc/cron.daily/logrotate", "#!/bin/sh\nexit 0\n");
}

// Image B (Alpine-like): etc/passwd an absolute link to /etc/shadow (2 entries of its own), 3 apk
// packages, one job in root's crontab.
void fill_alpine_like(const ImageRoot& b) {
  b.write("etc/shadow", container_shadow);
  b.link("etc/passwd", "/etc/shadow");
  b.write("lib/apk/db/installed", apk_three);
  b.write("var/spool/cron/crontabs/root", "*/5 * * * * /usr/bin/check\n");
}

// In the test's own mount namespace: what a link escaping a container's root would find on the
// host. Reading either would change the counts.
bool plant_host_decoys(const test::TempDir& work) {
  auto shadow = work.write("decoy-shadow", host_decoy_shadow);
  if (::mount(shadow.c_str(), "/etc/shadow", nullptr, MS_BIND, nullptr) != 0) return false;
  if (::mount("tmpfs", "/srv", "tmpfs", 0, nullptr) != 0) return false;
  std::ofstream("/srv/dpkg-status") << dpkg_packages(6);
  return true;
}

struct Cgroups {
  std::string id_a = std::string(63, 'a') + "1";
  std::string id_b = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  std::string id_c = "1123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  std::string id_d = std::string(64, 'd');
  // A: Docker's cgroupfs driver and D: its systemd driver, in the layout's first hierarchy (v1 on
  // a hybrid host); B and C: two containers of one Kubernetes pod, in its second.
  Cgroup a, b, c, d;
  Cgroups(const fs::path& v1, const fs::path& v2)
      : a(v1, "docker/" + id_a),
        b(v2,
          "kubepods.slice/kubepods-besteffort.slice/"
          "kubepods-besteffort-pod1f2e3d4c_5b6a_7980_1a2b_3c4d5e6f7a8b.slice/"
          "cri-containerd-" +
              id_b + ".scope"),
        c(v2, "kubepods/besteffort/pod1f2e3d4c-5b6a-7980-1a2b-3c4d5e6f7a8b/" + id_c),
        d(v1, "system.slice/docker-" + id_d + ".scope") {}
};

}  // namespace
}  // namespace hostprint::collectors

namespace hostprint::collectors {
namespace {

using namespace std::chrono_literals;

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::size_t lines_of(const fs::path& path) {
  std::ifstream in(path);
  std::size_t n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// Four containers (see Cgroups) and a host root, in namespaces of the test's own: `ask` runs
// beside them and reports through files in `work`.

int with_four_containers(const Cgroups& groups, const ImageRoot& a, const ImageRoot& b,
                         const ImageRoot& d, const test::TempDir& work,
                         const std::function<void()>& ask) {
  return test::run_in_namespaces([&]() -> int {
    if (!plant_host_decoys(work)) return 10;
    int host_listener = bound_socket(SOCK_STREAM, 9090);  // the host's own open port
    if (host_listener < 0) return 11;
    TestContainer ca({.root = &a, .cgroup = &groups.a, .tcp_ports = {8080}, .udp_ports = {5353}});
    TestContainer cb({.root = &b, .cgroup = &groups.b, .tcp_ports = {8080}});
    std::this_thread::sleep_for(50ms);  // C starts ticks after B, its pod's sandbox
    TestContainer cc({.root = &b,
                      .cgroup = &groups.c,
                      .network = Network::joined,
                      .join = cb.pid(),
                      .tcp_ports = {8081}});
    TestContainer cd(
        {.root = &d, .cgroup = &groups.d, .network = Network::host, .tcp_ports = {7070}});
    if (!ca.ready() || !cb.ready() || !cc.ready() || !cd.ready()) return 12;
    ask();
    ::close(host_listener);
    return 0;
  });
}

boost::json::object json_file(const fs::path& path) {
  return boost::json::parse(slurp(path)).as_object();
}

void expect_counts(const boost::json::object& counts,
                   const std::map<std::string, std::int64_t>& expected, const char* scope) {
  ASSERT_EQ(counts.size(), 12u) << scope;
  for (const auto& [field, value] : counts) {
    auto it = expected.find(std::string(field));
    std::int64_t want = it == expected.end() ? 0 : it->second;
    EXPECT_EQ(value.as_int64(), want) << scope << " " << field;
  }
}

// What both scopes must count, given what the test made (see fill_* and with_four_containers).
void expect_scopes(const boost::json::object& host, const boost::json::object& container,
                   std::int64_t host_processes, std::int64_t host_ports) {
  // The host: its root's 4 accounts and 1 package, its own listeners (9090, and 7070 of the
  // container that shares its network), its processes only, the kernel's modules.
  expect_counts(host,
                {{"account_num", 4},
                 {"app_num", 1},
                 {"port_num", host_ports},
                 {"process_num", host_processes},
                 {"kernel_module_num", static_cast<std::int64_t>(lines_of("/proc/modules"))}},
                "host");
  // Containers: A 3 + B 2 + C 2 (B's image) accounts; A 2 + B 3 + C 3 packages; A 3 + B 1 + C 1
  // auto-start items; ports: A's TCP 8080 and UDP 5353, B's pod namespace TCP 8080 and 8081 once
  // (C shares it, D the host's); one process each.
  expect_counts(container,
                {{"account_num", 7},
                 {"app_num", 8},
                 {"auto_launch_num", 5},
                 {"port_num", 4},
                 {"process_num", 4}},
                "container");
}

// The four containers and a host root of 4 accounts and 1 package, for `hostprint` to count.
class FourContainers : public ::testing::TestWithParam<Layout> {
 protected:
  void SetUp() override {
    auto where = placement(GetParam());
    if (!where) LIVE_SKIP() << "no cgroup hierarchy to make containers in";
    if (!fs::exists("/bin/busybox")) LIVE_SKIP() << "busybox-static is not installed";
    groups_.emplace(where->first, where->second);
    fill_debian_like(a_);
    fill_alpine_like(b_);
    host_root_.write("etc/passwd", passwd_three + "host:x:1001:1001::/home/host:/bin/sh\n");
    host_root_.write("var/lib/dpkg/status", dpkg_packages(1));
  }
  int run(const std::function<void()>& ask) {
    return with_four_containers(*groups_, a_, b_, d_, work_, ask);
  }

  std::optional<Cgroups> groups_;
  ImageRoot a_, b_, d_;
  test::TempDir host_root_, work_;
};

TEST_P(FourContainers, QueryCountsHostAndContainersApart) {
  int rc = run([&] {
    for (auto [name, target] :
         {std::pair{"host", "/v5/p/asset/statistics?category=host"},
          std::pair{"container", "/v5/p/asset/statistics?category=container"},
          std::pair{"host-table", "/v5/p/asset/process/statistics?limit=200"},
          std::pair{"container-table", "/v5/p/asset/process/statistics?category=container"}}) {
      auto r = test::run_program({test::hostprint_binary(), "query", "--root",
                                  host_root_.path().string(), "--state-dir",
                                  (work_.path() / "state").string(), target});
      std::ofstream(work_.path() / name) << r.out;
      std::ofstream(work_.path() / (std::string(name) + ".err")) << r.err;
    }
  });
  ASSERT_EQ(rc, 0);
  SCOPED_TRACE(slurp(work_.path() / "container.err"));
  // The host: pid 1 of the test's namespace and the query.
  expect_scopes(json_file(work_.path() / "host"), json_file(work_.path() / "container"), 2, 2);

  // Each container's processes run its image's own executable; B and C share one image.
  auto table = json_file(work_.path() / "container-table");
  std::map<std::string, std::int64_t> by_path;
  for (const auto& e : table.at("data_list").as_array())
    by_path[std::string(e.at("path").as_string())] = e.at("num").as_int64();
  EXPECT_EQ(table.at("total_num").as_int64(), 3);
  EXPECT_EQ(by_path,
            (std::map<std::string, std::int64_t>{{(a_.path() / "bin/busybox").string(), 1},
                                                 {(b_.path() / "bin/busybox").string(), 2},
                                                 {(d_.path() / "bin/busybox").string(), 1}}));
  auto host_table = json_file(work_.path() / "host-table");
  EXPECT_EQ(host_table.at("total_num").as_int64(), 2);  // this test's program and hostprint
  for (const auto& e : host_table.at("data_list").as_array())
    EXPECT_EQ(std::string(e.at("path").as_string()).find("busybox"), std::string::npos);
}

TEST_P(FourContainers, ServeCountsHostAndContainersApart) {
  int rc = run([&] {
    test::Agent agent({.args = {"--root", host_root_.path().string()}});
    std::ofstream(work_.path() / "ready") << agent.ready();
    for (auto [name, target] :
         {std::pair{"host", "/v5/p/asset/statistics"},
          std::pair{"container", "/v5/p/asset/statistics?category=container"}}) {
      auto r = test::fetch(agent, target);
      std::ofstream(work_.path() / name) << r.body();
    }
    agent.stop();
    std::ofstream(work_.path() / "log") << agent.log_text();
  });
  ASSERT_EQ(rc, 0);
  SCOPED_TRACE(slurp(work_.path() / "log"));
  ASSERT_EQ(slurp(work_.path() / "ready"), "1");
  // The host: pid 1 and the agent, whose own port is in its first scan.
  expect_scopes(json_file(work_.path() / "host"), json_file(work_.path() / "container"), 2, 3);
}

// The sum rule (lists.md) in containers: each count of category=container is its list's total_num
// and the sum of its statistics' num, all from one scan of the four containers.
TEST_P(FourContainers, EveryContainerCountIsItsListAndItsStatistics) {
  host_root_.write("etc/machine-id", "5b1e0c6a2f3d4e5f8a9b0c1d2e3f4a5b\n");  // the lists' {host_id}
  int rc = run([&] {
    test::Agent agent({.args = {"--root", host_root_.path().string()}});
    std::ofstream out(work_.path() / "sums");
    if (!agent.ready()) {
      out << "not-ready " << agent.log_text();
      return;
    }
    auto get = [&](const std::string& target) {
      return boost::json::parse(test::fetch(agent, target).body()).as_object();
    };
    try {
    const auto counts = get("/v5/p/asset/statistics?category=container");
    const auto users = get("/v5/p/asset/users?category=container&limit=1");
    const std::string host(users.at("data_list").as_array().at(0).at("host_id").as_string());
    for (const auto& pair : test::count_lists()) {
      auto path = [&](std::string p) {
        if (auto at = p.find("HOST"); at != std::string::npos) p.replace(at, 4, host);
        return "/v5/p" + p + (p.find('?') == std::string::npos ? "?" : "&") + "category=container";
      };
      const auto list = get(path(pair.items) + "&limit=1");
      std::int64_t summed = 0;
      for (int offset = 0;; offset += 200) {
        const auto page = get(path(pair.statistics) + "&limit=200&offset=" + std::to_string(offset));
        for (const auto& e : page.at("data_list").as_array()) summed += e.at("num").as_int64();
        if (page.at("data_list").as_array().size() < 200) break;
      }
      out << pair.count << ' ' << counts.at(pair.count).as_int64() << ' '
          << list.at("total_num").as_int64() << ' ' << summed << '\n';
    }
    } catch (const std::exception& e) {
      out << "exception " << e.what() << '\n';
    }
  });
  ASSERT_EQ(rc, 0) << slurp(work_.path() / "sums");
  std::ifstream in(work_.path() / "sums");
  std::map<std::string, std::int64_t> counted;
  std::string name;
  for (std::int64_t count, listed, summed; in >> name >> count >> listed >> summed;) {
    EXPECT_EQ(listed, count) << name;
    EXPECT_EQ(summed, count) << name;
    counted[name] = count;
  }
  ASSERT_EQ(counted.size(), test::count_lists().size()) << slurp(work_.path() / "sums");
  // What the containers hold (see expect_scopes), so the rule is not 0 = 0.
  EXPECT_EQ(counted["account_num"], 7);
  EXPECT_EQ(counted["app_num"], 8);
  EXPECT_EQ(counted["port_num"], 4);
}

// container_name as each runtime's own files give it: Docker's config.v2.json (A), containerd's
// task bundle annotations (B), containers/storage's containers.json (C); D has no runtime file.
TEST_P(FourContainers, ListsNameEachContainerAsItsRuntimeDoes) {
  const auto& g = *groups_;
  host_root_.write("var/lib/docker/containers/" + g.id_a + "/config.v2.json",
                   R"({"ID":")" + g.id_a + R"(","Name":"/web-a","State":{"Running":true}})");
  host_root_.write("run/containerd/io.containerd.runtime.v2.task/k8s.io/" + g.id_b +
                       "/config.json",
                   R"({"ociVersion":"1.0.2","annotations":{"io.kubernetes.cri.container-name":)"
                   R"("nginx","io.kubernetes.cri.sandbox-name":"pod-1"}})");
  host_root_.write("var/lib/containers/storage/overlay-containers/containers.json",
                   R"([{"id":")" + g.id_c + R"(","names":["sidecar-c"],"image":"x"}])");
  int rc = run([&] {
    auto r = test::run_program({test::hostprint_binary(), "query", "--root",
                                host_root_.path().string(), "--state-dir",
                                (work_.path() / "state").string(),
                                "/v5/p/asset/processes/detail?category=container&limit=200"});
    std::ofstream(work_.path() / "processes") << r.out;
    std::ofstream(work_.path() / "processes.err") << r.err;
  });
  ASSERT_EQ(rc, 0);
  SCOPED_TRACE(slurp(work_.path() / "processes.err"));
  std::map<std::string, std::string> names;
  const auto answer = json_file(work_.path() / "processes");
  for (const auto& e : answer.at("data_list").as_array())
    names[std::string(e.at("container_id").as_string())] =
        std::string(e.at("container_name").as_string());
  EXPECT_EQ(names, (std::map<std::string, std::string>{{g.id_a, "web-a"},
                                                       {g.id_b, "nginx"},
                                                       {g.id_c, "sidecar-c"},
                                                       {g.id_d, ""}}));
}

// The same counts from an agent that may not join other network namespaces (no CAP_SYS_ADMIN,
// as under the packaged unit): the containers' ports come from their processes' /proc/<pid>/net.
TEST_P(FourContainers, PortsWithoutJoiningNamespaces) {
  if (!fs::exists("/usr/bin/setpriv")) LIVE_SKIP() << "setpriv (util-linux) is not installed";
  int rc = run([&] {
    for (auto [name, target] :
         {std::pair{"host", "/v5/p/asset/statistics?category=host"},
          std::pair{"container", "/v5/p/asset/statistics?category=container"}}) {
      auto r = test::run_program({"/usr/bin/setpriv", "--bounding-set", "-sys_admin", "--inh-caps",
                                  "-sys_admin", test::hostprint_binary(), "query", "--root",
                                  host_root_.path().string(), "--state-dir",
                                  (work_.path() / "state").string(), target});
      std::ofstream(work_.path() / name) << r.out;
      std::ofstream(work_.path() / (std::string(name) + ".err")) << r.err;
    }
    // The kernel refuses setns() to such a process: the fallback is what is being tested.
    auto probe =
        test::run_program({"/usr/bin/setpriv", "--bounding-set", "-sys_admin", "--inh-caps",
                           "-sys_admin", "/usr/bin/grep", "^CapEff", "/proc/self/status"});
    std::ofstream(work_.path() / "caps") << probe.out;
  });
  ASSERT_EQ(rc, 0);
  SCOPED_TRACE(slurp(work_.path() / "container.err"));
  const std::string caps = slurp(work_.path() / "caps");
  ASSERT_FALSE(caps.empty());
  const auto effective =
      std::stoull(caps.substr(caps.find_first_of("0123456789abcdef", 7)), nullptr, 16);
  ASSERT_EQ(effective & (1ull << 21), 0u) << "CAP_SYS_ADMIN (21) was not dropped: " << caps;
  for (const char* name : {"host", "container"})
    ASSERT_FALSE(slurp(work_.path() / name).empty())
        << name << ": " << slurp(work_.path() / (std::string(name) + ".err"));
  expect_scopes(json_file(work_.path() / "host"), json_file(work_.path() / "container"), 2, 2);
}

// The collector itself: what each container's files hold (never the host's, whatever their links
// say), its ports, a container that is gone by the time its files are read, and one whose oldest
// process has exited (read through the next).
TEST_P(ContainersLiveIn, ReadsInsideEachContainerThroughALiveProcess) {
  if (!fs::exists("/bin/busybox")) LIVE_SKIP() << "busybox-static is not installed";
  auto where = *placement(GetParam());
  Cgroups groups(where.first, where.second);
  Cgroup lxc(where.first, "lxc/short-lived");
  const std::string id_f(64, 'f');
  Cgroup podman(where.second, "machine.slice/libpod-" + id_f + ".scope");
  ImageRoot a, b, e;
  fill_debian_like(a);
  fill_alpine_like(b);
  e.write("etc/passwd", passwd_three);
  test::TempDir work;

  int rc = test::run_in_namespaces([&]() -> int {
    if (!plant_host_decoys(work)) return 10;
    TestContainer ca({.root = &a, .cgroup = &groups.a, .tcp_ports = {8080}, .udp_ports = {5353}});
    TestContainer cb({.root = &b, .cgroup = &groups.b, .tcp_ports = {8443}});
    std::optional<TestContainer> ce(std::in_place, ContainerSpec{.root = &e, .cgroup = &lxc});
    TestContainer cf1({.root = &e, .cgroup = &podman, .tcp_ports = {9442}});
    std::this_thread::sleep_for(50ms);  // a later start time: the second to be entered
    TestContainer cf2({.root = &e, .cgroup = &podman, .tcp_ports = {9443}});
    if (!ca.ready() || !cb.ready() || !ce->ready() || !cf1.ready() || !cf2.ready()) return 11;

    ProcessesCollector processes;
    if (!processes.collect(ScanContext{}).complete) return 12;
    auto table = std::make_shared<std::vector<ProcessInfo>>(*processes.items());
    // A stale row naming a live host process (this one) with another start time: a reused pid.
    auto self = std::find_if(table->begin(), table->end(), [](auto& p) { return p.pid == 1; });
    if (self == table->end()) return 13;
    table->push_back({1, self->start_ticks + 1, self->exe, "reused-pid"});
    proto::AssetSet inventory;
    inventory.add<ProcessInfo>(table);
    ce.reset();  // the LXC container exits after the process table was read
    // The Podman container's oldest process exits too, and stays a zombie (not reaped yet).
    ::kill(cf1.pid(), SIGKILL);
    siginfo_t exited{};
    if (::waitid(P_PID, static_cast<id_t>(cf1.pid()), &exited, WEXITED | WNOWAIT) != 0) return 14;

    auto made = make_collector("containers", {});
    auto& collector = static_cast<ContainersCollector&>(*made);
    ScanContext context;
    context.found = &inventory;
    context.readable.set();  // every kind, as the test arranges them
    auto outcome = collector.collect(context);
    std::ofstream out(work.path() / "result");
    out << "complete " << outcome.complete << "\n";
    for (const auto& error : outcome.errors) out << "error " << error << "\n";
    for (const auto& c : *collector.containers()) {
      out << c.id << " accounts";
      for (const auto& account : c.items<Account>()) out << " " << account.name;
      out << "\n" << c.id << " software";
      for (const auto& p : c.items<SoftwarePackage>()) out << " " << p.manager << ":" << p.name;
      out << "\n" << c.id << " auto_start";
      std::vector<std::string> names;
      for (const auto& i : c.items<AutoStartItem>()) names.push_back(i.name);
      std::sort(names.begin(), names.end());
      for (const auto& name : names) out << " " << name;
      out << "\n" << c.id << " ports";
      for (const auto& p : c.items<ListeningPort>()) out << " " << to_string(p.type) << ":" << p.port;
      out << "\n";
    }
    return 0;
  });
  ASSERT_EQ(rc, 0);
  const auto& a_id = groups.id_a;
  const auto& b_id = groups.id_b;
  std::string expected = "complete 1\n";  // no error; then each container by id, B's first
  for (const auto& line :
       {b_id + " accounts ci-one ci-two",
        b_id + " software apk:alpine-baselayout apk:busybox apk:musl",
        b_id + " auto_start /var/spool/cron/crontabs/root:1", b_id + " ports TCP:8443",
        a_id + " accounts root daemon app", a_id + " software dpkg:alpha dpkg:beta",
        a_id + " auto_start /etc/crontab:2 /etc/crontab:3 cron.daily/logrotate",
        a_id + " ports TCP:8080 UDP:5353", id_f + " accounts root daemon app", id_f + " software",
        id_f + " auto_start", id_f + " ports TCP:9443"})
    expected += line + "\n";
  EXPECT_EQ(slurp(work.path() / "result"), expected);
}

INSTANTIATE_TEST_SUITE_P(Layouts, ContainersLiveIn, ::testing::ValuesIn(machine_layouts()),
                         layout_name);
INSTANTIATE_TEST_SUITE_P(Layouts, FourContainers, ::testing::ValuesIn(machine_layouts()),
                         layout_name);

}  // namespace
}  // namespace hostprint::collectors
