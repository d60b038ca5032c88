// The lists of this machine against what getent, dpkg-query, ss and /proc say, read
// independently, and the sum rule (lists.md) on a live agent for every kind and category.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <map>
#include <set>
#include <sstream>

#include "collectors/kernel_modules.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/integration/count_lists.hpp"

namespace hostprint::test {
namespace {

// A listener of the test's own, open before the agent's one scan: its port list is never empty.
int own_listener() {
  static int fd = [] {
    int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(s, 4) != 0)
      return -1;
    return s;
  }();
  return fd;
}

std::int64_t own_port() {
  sockaddr_in a{};
  socklen_t length = sizeof a;
  if (::getsockname(own_listener(), reinterpret_cast<sockaddr*>(&a), &length) != 0) return -1;
  return ntohs(a.sin_port);
}

// One scan for the whole file (no rescan in between), so every list and count is of it.
Agent& live_agent() {
  own_listener();
  static Agent agent([] {
    AgentOptions options;
    options.args = {"--scan-interval", "86400"};
    return options;
  }());
  return agent;
}

// Every entry of a list, paged through 200 at a time; total_num checked on each page.
std::vector<boost::json::object> all_entries(const std::string& target) {
  std::vector<boost::json::object> out;
  const char joint = target.find('?') == std::string::npos ? '?' : '&';
  std::int64_t total = -1;
  for (int offset = 0;; offset += 200) {
    auto response = fetch(live_agent(), target + joint + "limit=200&offset=" +
                                            std::to_string(offset));
    EXPECT_EQ(response.result_int(), 200u) << target << ": " << response.body();
    auto body = boost::json::parse(response.body()).as_object();
    if (total >= 0) {
      EXPECT_EQ(body.at("total_num").as_int64(), total) << target;
    }
    total = body.at("total_num").as_int64();
    const auto& page = body.at("data_list").as_array();
    for (const auto& e : page) out.push_back(e.as_object());
    if (page.size() < 200) break;
  }
  EXPECT_EQ(static_cast<std::int64_t>(out.size()), total) << target;
  return out;
}

std::string text(const boost::json::object& o, const char* key) {
  return std::string(o.at(key).as_string());
}

TEST(ListsTruth, EveryCountIsItsListAndItsStatisticsOnThisHost) {
  ASSERT_TRUE(live_agent().ready()) << live_agent().log_text();
  const auto& pairs = count_lists();
  const std::string host = text(
      all_entries("/v5/p/asset/users").front(), "host_id");  // the agent's own id
  auto with_host = [&](std::string path) {
    auto at = path.find("HOST");
    if (at != std::string::npos) path.replace(at, 4, host);
    return "/v5/p" + path;
  };
  // Something in the host's lists (a list of nothing matches a count of nothing): this machine's
  // accounts and packages, and the test's own listener.
  auto host_counts =
      boost::json::parse(fetch(live_agent(), "/v5/p/asset/statistics?category=host").body());
  EXPECT_GT(host_counts.at("account_num").as_int64(), 0);
  EXPECT_GT(host_counts.at("app_num").as_int64(), 0);
  ASSERT_GT(own_port(), 0);
  bool own_listed = false;
  for (const auto& e : all_entries("/v5/p/asset/ports?category=host&type=TCP"))
    if (e.at("port").as_int64() == own_port()) {
      own_listed = true;
      // Its owner, when the agent names one (0: not known, as lists.md allows).
      if (e.at("pid").as_int64() != 0) {
        EXPECT_EQ(e.at("pid").as_int64(), static_cast<std::int64_t>(::getpid()));
      }
    }
  EXPECT_TRUE(own_listed) << "TCP " << own_port();
  // The scan answering the lists is the one answering the counts (no rescan in between).
  for (const char* category : {"host", "container"}) {
    auto counts = boost::json::parse(fetch(live_agent(), std::string("/v5/p/asset/statistics?category=") +
                                                             category)
                                         .body())
                      .as_object();
    for (const auto& p : pairs) {
      const std::string c = std::string(std::string(p.items).find('?') == std::string::npos
                                            ? "?"
                                            : "&") +
                            "category=" + category;
      auto items = all_entries(with_host(p.items) + c);
      EXPECT_EQ(static_cast<std::int64_t>(items.size()), counts.at(p.count).as_int64())
          << p.items << c;
      const std::string sc = std::string(std::string(p.statistics).find('?') == std::string::npos
                                             ? "?"
                                             : "&") +
                             "category=" + category;
      std::int64_t sum = 0;
      for (const auto& e : all_entries(with_host(p.statistics) + sc)) sum += e.at("num").as_int64();
      EXPECT_EQ(sum, counts.at(p.count).as_int64()) << p.statistics << sc;
    }
  }
  auto modules = all_entries("/v5/p/asset/" + host + "/kernel-module");
  std::int64_t lines = 0;
  std::ifstream in("/proc/modules");
  for (std::string line; std::getline(in, line);) lines += !line.empty();
  EXPECT_EQ(static_cast<std::int64_t>(modules.size()), lines);
  EXPECT_EQ(lines, host_counts.at("kernel_module_num").as_int64());
}

TEST(ListsTruth, UsersAreWhatGetentSays) {
  ASSERT_TRUE(live_agent().ready()) << live_agent().log_text();
  std::map<std::string, std::string> group_names;
  {
    auto r = run_program({"getent", "-s", "files", "group"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      std::vector<std::string> f;
      std::istringstream fields(line);
      for (std::string x; std::getline(fields, x, ':');) f.push_back(x);
      if (f.size() >= 3) group_names.try_emplace(f[2], f[0]);
    }
  }
  std::map<std::string, std::vector<std::string>> expected;
  auto r = run_program({"getent", "-s", "files", "passwd"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> f;
    std::istringstream fields(line);
    for (std::string x; std::getline(fields, x, ':');) f.push_back(x);
    if (f.size() == 6) f.push_back("");  // an empty shell
    if (f.size() == 7) expected.try_emplace(f[0], f);
  }
  ASSERT_TRUE(expected.contains("root")) << r.out;
  auto users = all_entries("/v5/p/asset/users");
  ASSERT_EQ(users.size(), expected.size());
  std::string previous;
  for (const auto& u : users) {
    const auto name = text(u, "user_name");
    EXPECT_LT(previous, name) << "ordered by name";
    previous = name;
    ASSERT_TRUE(expected.count(name)) << name;
    const auto& f = expected.at(name);
    EXPECT_EQ(text(u, "user_home_dir"), f[5]) << name;
    EXPECT_EQ(text(u, "shell"), f[6]) << name;
    EXPECT_EQ(u.at("root_permission").as_bool(), f[2] == "0") << name;
    const auto shell = f[6].substr(f[6].rfind('/') + 1);
    EXPECT_EQ(u.at("login_permission").as_bool(),
              !f[6].empty() && shell != "nologin" && shell != "false")
        << name;
    EXPECT_EQ(text(u, "user_group_name"), group_names.count(f[3]) ? group_names.at(f[3]) : "")
        << name;
    EXPECT_GT(u.at("first_scan_time").as_int64(), 0) << name;
    // The agent's first scan: every account was first seen by it.
    EXPECT_EQ(u.at("recent_scan_time").as_int64(), u.at("first_scan_time").as_int64()) << name;
  }
}

TEST(ListsTruth, AppsAreWhatDpkgQuerySays) {
  ASSERT_TRUE(live_agent().ready()) << live_agent().log_text();
  auto r = run_program({"dpkg-query", "-W", "-f",
                        "${db:Status-Status} ${Package} ${Architecture} ${Version}\n"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> expected;
  std::istringstream lines(r.out);
  for (std::string status, name, arch, version; lines >> status >> name >> arch >> version;)
    if (status == "installed") expected.insert(name + " " + arch + " " + version);
  ASSERT_FALSE(expected.empty()) << "dpkg-query lists no installed package";
  std::set<std::string> listed;
  for (const auto& a : all_entries("/v5/p/asset/apps"))
    if (text(a, "package_manager") == "dpkg")
      listed.insert(text(a, "app_name") + " " + text(a, "architecture") + " " +
                    text(a, "version"));
  EXPECT_EQ(listed, expected);
}

TEST(ListsTruth, ModulesAreWhatProcModulesSays) {
  ASSERT_TRUE(live_agent().ready()) << live_agent().log_text();
  // The control: the agent's collector reads names and sizes from a proc of the test's own.
  TempDir fake_proc;
  fake_proc.write("modules", "ext4 1015808 1 - Live 0x0000000000000000\n");
  collectors::KernelModulesCollector control;
  collectors::ScanContext context;
  context.proc = fake_proc.path();
  ASSERT_TRUE(control.collect(context).complete);
  ASSERT_EQ(control.items()->size(), 1u);
  EXPECT_EQ(control.items()->front().name, "ext4");
  EXPECT_EQ(control.items()->front().size, 1015808u);
  // This machine (no /proc/modules: a kernel without module support, so none).
  std::map<std::string, std::int64_t> expected;
  std::ifstream in("/proc/modules");
  for (std::string name, size, rest; in >> name >> size && std::getline(in, rest);)
    expected[name] = std::stoll(size);
  std::map<std::string, std::int64_t> listed;
  auto host = text(all_entries("/v5/p/asset/users").front(), "host_id");
  for (const auto& m : all_entries("/v5/p/asset/" + host + "/kernel-module"))
    listed[text(m, "name")] = m.at("size").as_int64();
  EXPECT_EQ(listed, expected);
}

// Listeners of each type, opened in a network namespace of the test's own, through the list.
TEST(ListsTruth, PortsOfAFreshNetworkNamespace) {
  TempDir dir;
  const std::string script = R"(
import socket, subprocess, sys
held = []
def bind(family, kind, address, port, v6only=None):
    s = socket.socket(family, kind)
    if v6only is not None:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, v6only)
    s.bind((address, port))
    if kind == socket.SOCK_STREAM:
        s.listen()
    held.append(s)
bind(socket.AF_INET, socket.SOCK_STREAM, '127.0.0.1', 8081)
bind(socket.AF_INET, socket.SOCK_STREAM, '127.0.0.2', 8081)   # the same (TCP, 8081): one item
bind(socket.AF_INET6, socket.SOCK_STREAM, '::1', 8082, 1)
bind(socket.AF_INET, socket.SOCK_DGRAM, '0.0.0.0', 5353)
bind(socket.AF_INET6, socket.SOCK_DGRAM, '::', 5354, 1)
for target in sys.argv[2:]:
    r = subprocess.run([sys.argv[1], 'query', '--state-dir', sys.argv[1] + '.state', target],
                       capture_output=True)
    sys.stdout.buffer.write(r.stdout)
)";
  const auto script_path = dir.write("listen.py", script);
  auto r = run_program({"unshare", "--net", "sh", "-c",
                        "ip link set lo up && exec python3 \"$0\" \"$@\"", script_path.string(),
                        hostprint_binary(), "/v5/p/asset/ports?limit=200",
                        "/v5/p/asset/port/statistics?limit=200", "/v5/p/asset/ports?type=UDP6",
                        "/v5/p/asset/ports?port=8081", "/v5/p/asset/statistics"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<boost::json::object> answers;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) answers.push_back(boost::json::parse(line).as_object());
  ASSERT_EQ(answers.size(), 5u) << r.out;
  std::set<std::string> items;
  for (const auto& e : answers[0].at("data_list").as_array())
    items.insert(std::string(e.at("type").as_string()) + ":" +
                 std::to_string(e.at("port").as_int64()));
  EXPECT_EQ(items, (std::set<std::string>{"TCP:8081", "TCP6:8082", "UDP:5353", "UDP6:5354"}));
  EXPECT_EQ(answers[0].at("total_num").as_int64(), answers[4].at("port_num").as_int64());
  std::int64_t sum = 0;
  for (const auto& e : answers[1].at("data_list").as_array()) {
    sum += e.at("num").as_int64();
    EXPECT_EQ(e.at("status").as_string(), "unknown");
  }
  EXPECT_EQ(sum, 4);
  ASSERT_EQ(answers[2].at("total_num").as_int64(), 1);
  EXPECT_EQ(answers[2].at("data_list").as_array()[0].at("port").as_int64(), 5354);
  ASSERT_EQ(answers[3].at("total_num").as_int64(), 1);
  EXPECT_EQ(answers[3].at("data_list").as_array()[0].at("type").as_string(), "TCP");
}

}  // namespace
}  // namespace hostprint::test
