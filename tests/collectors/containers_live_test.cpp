// Processes placed in real cgroups whose paths name a runtime are the container's, not the host's.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "collectors/inventory.hpp"
#include "collectors/processes.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/namespaces.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;

// A v1 hierarchy of this machine to make cgroups in (pids is cheap and always there here).
std::optional<fs::path> cgroup_hierarchy() {
  for (auto candidate : {"/sys/fs/cgroup/pids", "/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    std::error_code ec;
    if (fs::exists(fs::path(candidate) / "cgroup.procs", ec)) return fs::path(candidate);
  }
  return std::nullopt;
}

class Cgroup {
 public:
  Cgroup(const fs::path& hierarchy, const std::string& relative) : path_(hierarchy / relative) {
    fs::create_directories(path_);
  }
  ~Cgroup() {
    // Move anything left back to the root, then remove the folders made (innermost first).
    std::error_code ec;
    for (fs::path p = path_; p.has_relative_path() && p.filename() != "pids" &&
                             p.filename() != "unified" && p != "/sys/fs/cgroup";
         p = p.parent_path())
      if (::rmdir(p.c_str()) != 0) break;
  }
  void add(pid_t pid) const { std::ofstream(path_ / "cgroup.procs") << pid << "\n"; }

 private:
  fs::path path_;
};

TEST(ContainersLive, ProcessesInRuntimeCgroupsAreCountedApart) {
  auto hierarchy = cgroup_hierarchy();
  if (!hierarchy) GTEST_SKIP() << "no writable cgroup hierarchy";
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
        Inventory inventory;
        collector.publish(inventory);
        std::ofstream out(work.path() / "result");
        for (const auto& p : *inventory.processes)
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

TEST(ContainersLive, HostCountsExcludeContainerProcesses) {
  auto hierarchy = cgroup_hierarchy();
  if (!hierarchy) GTEST_SKIP() << "no writable cgroup hierarchy";
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
