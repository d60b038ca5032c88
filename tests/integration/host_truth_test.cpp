// The counts of this machine against what ps, ss and getent say, read independently.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>
#include <sstream>

#include "tests/integration/agent_harness.hpp"

namespace hostprint::test {
namespace {

std::set<long> pids_from_ps(const std::string& args_text) {
  std::vector<std::string> argv{"ps"};
  std::istringstream in(args_text);
  for (std::string a; in >> a;) argv.push_back(a);
  auto r = run_program(argv);
  std::set<long> out;
  std::istringstream lines(r.out);
  for (long pid; lines >> pid;) out.insert(pid);
  return out;
}

// Every process but kernel threads (kthreadd, pid 2, and its children), as ps lists them.
std::set<long> user_processes() {
  auto all = pids_from_ps("-e -o pid=");
  for (long pid : pids_from_ps("--ppid 2 -p 2 -o pid=")) all.erase(pid);
  return all;
}

boost::json::object query(const std::string& target) {
  auto r = run_program(
      {hostprint_binary(), "query", "--state-dir", "/tmp/hostprint-test-state", target});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return boost::json::parse(r.out).as_object();
}

TEST(HostTruth, ProcessCountMatchesPs) {
  // ps and the agent each see themselves; the machine may be busy, so a round counts only when
  // the set of processes is the same before and after the agent's first scan. ps counts every
  // process, so the comparison is with the host's and the containers' together.
  for (int attempt = 0; attempt < 10; ++attempt) {
    auto before = user_processes();
    Agent agent;
    ASSERT_TRUE(agent.ready()) << agent.log_text();
    auto after = user_processes();
    // Each ps run appears in its own listing only, the agent in the second only.
    std::set<long> stable;
    for (long pid : before)
      if (after.contains(pid)) stable.insert(pid);
    if (before.size() != stable.size() + 1 || after.size() != stable.size() + 2) continue;
    auto count = [&](const char* target) {
      return boost::json::parse(fetch(agent, target).body()).at("process_num").as_int64();
    };
    EXPECT_EQ(count("/v5/p/asset/statistics") + count("/v5/p/asset/statistics?category=container"),
              static_cast<std::int64_t>(stable.size()) + 1)
        << "the agent counts itself";
    return;
  }
  GTEST_SKIP() << "the machine's processes never held still for a comparison";
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
  std::int64_t zombie_count = 0;
  std::istringstream lines(zombies.out);
  for (std::string s; lines >> s;) zombie_count += s[0] == 'Z';
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

std::set<std::string> ss_ports(const std::string& proto_flag, const std::string& family_flag) {
  auto r = run_program({"ss", "-H", "-l", "-n", proto_flag, family_flag});
  std::set<std::string> ports;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream fields(line);
    std::string state, recv_q, send_q, local;
    if (proto_flag == "-u" || proto_flag == "-t") fields >> state >> recv_q >> send_q >> local;
    auto colon = local.rfind(':');
    if (colon != std::string::npos) ports.insert(local.substr(colon + 1));
  }
  return ports;
}

TEST(HostTruth, PortCountMatchesSs) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto count = [] {
      return ss_ports("-t", "-4").size() + ss_ports("-t", "-6").size() +
             ss_ports("-u", "-4").size() + ss_ports("-u", "-6").size();
    };
    auto before = count();
    auto stats = query("/v5/p/asset/statistics");
    if (count() != before) continue;
    EXPECT_EQ(stats.at("port_num").as_int64(), static_cast<std::int64_t>(before));
    return;
  }
  GTEST_SKIP() << "the machine's sockets never held still for a comparison";
}

TEST(HostTruth, AccountCountMatchesGetentOnFiles) {
  // getent reads through NSS; "files" is /etc/passwd, counted by distinct name.
  auto r = run_program({"getent", "-s", "files", "passwd"});
  ASSERT_EQ(r.exit_code, 0);
  std::set<std::string> names;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) names.insert(line.substr(0, line.find(':')));
  EXPECT_EQ(query("/v5/p/asset/statistics").at("account_num").as_int64(),
            static_cast<std::int64_t>(names.size()));
}

TEST(HostTruth, KernelModulesMatchProc) {
  std::int64_t expected = 0;
  std::ifstream in("/proc/modules");
  for (std::string line; std::getline(in, line);) expected += !line.empty();
  auto r = run_program(
      {hostprint_binary(), "query", "--state-dir", "/tmp/hostprint-test-state", "/status"});
  auto status = boost::json::parse(r.out).as_object();
  EXPECT_EQ(query("/v5/p/asset/statistics").at("kernel_module_num").as_int64(), expected);
  for (const auto& c : status.at("collectors").as_array())
    if (c.at("name").as_string() == "kernel_modules") {
      EXPECT_TRUE(c.at("errors").as_array().empty());
      EXPECT_TRUE(c.at("complete").as_bool());
    }
}

}  // namespace
}  // namespace hostprint::test
