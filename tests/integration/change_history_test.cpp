// The change history of a real `hostprint serve` over a root the test changes between scans with
// the real tools (dpkg --root, systemctl --root), and listeners opened and closed in a network
// namespace of the test's own; restarts with the same state folder; a corrupt record.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <boost/json.hpp>
#include <fstream>

#include "tests/integration/agent_harness.hpp"
#include "tests/namespaces.hpp"

namespace hostprint::test {
namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

std::string passwd(const std::string& alice_shell, bool with_bob) {
  std::string text =
      "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:" + alice_shell + "\n";
  if (with_bob) text += "bob:x:1001:1001::/home/bob:/bin/sh\n";
  return text;
}

// A package built with dpkg-deb, installed or removed under the root with dpkg --root.
void dpkg(const fs::path& root, const std::vector<std::string>& args) {
  std::vector<std::string> argv{"dpkg", "--root=" + root.string()};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = run_program(argv);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
}

fs::path build_deb(const fs::path& work, const std::string& version) {
  const auto tree = work / ("hp-tool-" + version);
  write(tree / "DEBIAN/control", "Package: hp-tool\nVersion: " + version +
                                     "\nArchitecture: all\nMaintainer: t <t@example.org>\n"
                                     "Description: a package of the change-history test\n");
  write(tree / "usr/share/hp-tool/version", version + "\n");
  const auto deb = work / ("hp-tool_" + version + "_all.deb");
  auto r = run_program({"dpkg-deb", "--build", tree.string(), deb.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return deb;
}

fs::path prepared_root(const fs::path& work) {
  const auto root = work / "root";
  write(root / "etc/passwd", passwd("/bin/bash", false));
  write(root / "etc/group", "root:x:0:\nalice:x:1000:\nbob:x:1001:\n");
  write(root / "etc/hostname", "changing\n");
  write(root / "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  write(root / "var/lib/dpkg/status", "");
  write(root / "var/lib/dpkg/available", "");
  fs::create_directories(root / "var/lib/dpkg/info");
  fs::create_directories(root / "var/lib/dpkg/updates");
  write(root / "usr/lib/systemd/system/hp-demo.service",
        "[Service]\nExecStart=/bin/true\n[Install]\nWantedBy=multi-user.target\n");
  return root;
}

struct Page {
  std::int64_t total = -1;
  std::vector<boost::json::object> items;
};

Page page(const Agent& agent, const std::string& target) {
  auto r = fetch(
      agent, "/v5/p" + target + (target.find('?') == std::string::npos ? "?" : "&") + "limit=200");
  EXPECT_EQ(r.result_int(), 200u) << target << ": " << r.body();
  Page out;
  auto body = boost::json::parse(r.body()).as_object();
  out.total = body.at("total_num").as_int64();
  for (const auto& e : body.at("data_list").as_array()) out.items.push_back(e.as_object());
  return out;
}

std::string str(const boost::json::object& o, const char* key) {
  const auto& v = o.at(key);
  return v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v);
}

// "type name" of each entry, newest first.
std::vector<std::string> summary(const Page& p, const char* type_field, const char* name_field) {
  std::vector<std::string> out;
  for (const auto& e : p.items) out.push_back(str(e, type_field) + " " + str(e, name_field));
  return out;
}

// The change history of the agent's own port.
std::string own_port(const Agent& agent) {
  return "/asset/port/change-history?port=" + std::to_string(agent.port());
}

std::int64_t generation(const Agent& agent) {
  auto body = boost::json::parse(fetch(agent, "/status").body()).as_object();
  return body.at("generation").as_int64();
}

// SIGHUP rescans at once; returns when the new scan is served.
void rescan(const Agent& agent) {
  const auto before = generation(agent);
  ::kill(agent.pid(), SIGHUP);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (generation(agent) == before && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  ASSERT_GT(generation(agent), before) << agent.log_text();
}

int listener(unsigned short port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0)
    ADD_FAILURE() << "cannot listen on " << port;
  return fd;
}

TEST(ChangeHistoryLive, ChangesBetweenScansAndAcrossRestarts) {
  TempDir work;
  const auto root = prepared_root(work.path());
  const auto state = work.path() / "state";
  const auto v1 = build_deb(work.path(), "1.0"), v2 = build_deb(work.path(), "2.0");
  AgentOptions options;
  options.args = {"--root", root.string(), "--scan-interval",
                  "86400",  "--state-dir", state.string()};
  unsigned short first_port = 0, last_port = 0;
  // Failures inside the namespaces are reported by gtest there and end the child with 1.
  int rc = run_in_namespaces([&]() -> int {
    {
      Agent agent(options);
      if (!agent.ready()) return 3;
      // The very first scan is the baseline.
      for (auto path : {"/asset/user/change-history", "/asset/app/change-history",
                        "/asset/auto-launch/change-history", "/asset/port/change-history",
                        "/asset/kernel-module/change-history"})
        EXPECT_EQ(page(agent, path).total, 0) << path;

      write(root / "etc/passwd", passwd("/bin/zsh", true));
      dpkg(root, {"-i", v1.string()});
      write(root / "etc/cron.d/hp-job", "*/5 * * * * root /usr/bin/hp-tool\n");
      auto enabled = run_program({"systemctl", "--root=" + root.string(), "enable", "hp-demo"});
      EXPECT_EQ(enabled.exit_code, 0) << enabled.err;
      const unsigned short port = free_port();
      int fd = listener(port);
      rescan(agent);

      auto users = page(agent, "/asset/user/change-history?sort_dir=asc");
      EXPECT_EQ(summary(users, "change_type", "user_name"),
                (std::vector<std::string>{"ADD bob", "MODIFY alice"}));
      for (const auto& e : users.items)
        if (str(e, "user_name") == "alice") {
          EXPECT_EQ(str(e, "shell"), "/bin/zsh");
          EXPECT_EQ(str(e, "host_id"), "0123456789abcdef0123456789abcdef");
          EXPECT_GT(e.at("recent_scan_time").as_int64(), 1'600'000'000'000);
        }
      auto apps = page(agent, "/asset/app/change-history");
      EXPECT_EQ(summary(apps, "variation_type", "app_name"),
                (std::vector<std::string>{"add hp-tool"}));
      if (!apps.items.empty()) {
        EXPECT_EQ(str(apps.items[0], "version"), "1.0");
      }
      auto launches = page(agent, "/asset/auto-launch/change-history");
      std::set<std::string> added;
      for (const auto& e : launches.items) added.insert(str(e, "type") + " " + str(e, "name"));
      EXPECT_EQ(launches.total, 2) << fetch(agent, "/v5/p/asset/auto-launch/change-history").body();
      EXPECT_TRUE(added.count("0 hp-demo.service")) << launches.total;
      EXPECT_EQ(page(agent, "/asset/auto-launch/change-history?type=1&variation_type=add").total,
                1);
      // The test's listener; the agent's own port was there from the first scan on.
      const std::string ours = "/asset/port/change-history?port=" + std::to_string(port);
      EXPECT_EQ(page(agent, own_port(agent)).total, 0);
      EXPECT_EQ(summary(page(agent, ours), "variation_type", "port"),
                (std::vector<std::string>{"add " + std::to_string(port)}));
      EXPECT_EQ(page(agent, ours + "&type=TCP").total, 1);
      EXPECT_EQ(page(agent, ours + "&type=UDP").total, 0);

      // An upgrade is one modify; a removed account and a closed listener are deletes.
      dpkg(root, {"-i", v2.string()});
      write(root / "etc/passwd", passwd("/bin/zsh", false));
      ::close(fd);
      rescan(agent);
      apps = page(agent, "/asset/app/change-history");
      EXPECT_EQ(summary(apps, "variation_type", "app_name"),
                (std::vector<std::string>{"modify hp-tool", "add hp-tool"}));
      if (!apps.items.empty()) {
        EXPECT_EQ(str(apps.items[0], "version"), "2.0");
      }
      EXPECT_EQ(summary(page(agent, "/asset/user/change-history?change_type=DELETE"), "change_type",
                        "user_name"),
                (std::vector<std::string>{"DELETE bob"}));
      EXPECT_EQ(summary(page(agent, ours), "variation_type", "port"),
                (std::vector<std::string>{"delete " + std::to_string(port),
                                          "add " + std::to_string(port)}));

      const auto log = agent.log_text();
      EXPECT_NE(log.find("change: kind=account type=add name=bob\n"), std::string::npos) << log;
      EXPECT_NE(log.find("change: kind=app type=modify name=hp-tool package_manager=dpkg "
                         "architecture=all version=1.0->2.0\n"),
                std::string::npos)
          << log;
      const auto metrics = fetch(agent, "/metrics").body();
      EXPECT_NE(metrics.find("kind=\"app\",type=\"modify\"} 1\n"), std::string::npos) << metrics;
      EXPECT_NE(metrics.find("kind=\"account\",type=\"delete\"} 1\n"), std::string::npos);
      first_port = agent.port();
      EXPECT_EQ(agent.stop(SIGTERM), 0);
    }
    {
      // A restart with nothing changed, on the same port: the history as it was, no burst; the
      // agent's own port, closed while it restarted, is not a change.
      AgentOptions same_port = options;
      same_port.port = first_port;
      Agent agent(same_port);
      if (!agent.ready()) return 4;
      EXPECT_EQ(page(agent, "/asset/user/change-history").total, 3);
      EXPECT_EQ(page(agent, "/asset/app/change-history").total, 2);
      EXPECT_EQ(page(agent, "/asset/auto-launch/change-history").total, 2);
      EXPECT_EQ(page(agent, "/asset/port/change-history").total, 2);
      EXPECT_EQ(page(agent, own_port(agent)).total, 0);
      const auto log = agent.log_text();
      for (auto kind : {"account", "app", "auto_launch", "kernel_module", "port"})
        EXPECT_EQ(log.find(std::string("change: kind=") + kind), std::string::npos) << log;
      EXPECT_EQ(agent.stop(SIGTERM), 0);
    }
    // Removed while the agent was down: the first scan after the restart sees it.
    dpkg(root, {"-r", "hp-tool"});
    {
      Agent agent(options);  // on another port
      if (!agent.ready()) return 5;
      // Its first scan (the first answer) has the old port gone and its own new one.
      EXPECT_EQ(generation(agent), 1);
      EXPECT_EQ(summary(page(agent, "/asset/port/change-history?port=" + std::to_string(first_port)),
                        "variation_type", "port"),
                (std::vector<std::string>{"delete " + std::to_string(first_port)}));
      EXPECT_EQ(summary(page(agent, own_port(agent)), "variation_type", "port"),
                (std::vector<std::string>{"add " + std::to_string(agent.port())}));
      last_port = agent.port();
      auto apps = page(agent, "/asset/app/change-history");
      EXPECT_EQ(summary(apps, "variation_type", "app_name"),
                (std::vector<std::string>{"delete hp-tool", "modify hp-tool", "add hp-tool"}));
      if (!apps.items.empty()) {
        EXPECT_EQ(str(apps.items[0], "version"), "2.0");
      }
      EXPECT_EQ(page(agent, "/asset/user/change-history").total, 3);
      EXPECT_EQ(agent.stop(SIGTERM), 0);
    }
    // A corrupt record: reported, rebuilt, never a crash.
    write(state / "change-history", "hostprint change history 1\ndropped\t0\nnot an event\n");
    {
      AgentOptions same_port = options;
      same_port.port = last_port;
      Agent agent(same_port);
      if (!agent.ready()) return 6;
      auto status = boost::json::parse(fetch(agent, "/status").body()).as_object();
      const auto& history = status.at("change_history").as_object();
      EXPECT_EQ(history.at("events").as_int64(), 0);
      EXPECT_NE(std::string(history.at("error").as_string()).find("change-history"),
                std::string::npos)
          << status;
      EXPECT_NE(agent.log_text().find("change history starts again"), std::string::npos)
          << agent.log_text();
      write(root / "etc/passwd", passwd("/bin/zsh", true));
      rescan(agent);
      EXPECT_EQ(page(agent, "/asset/user/change-history").total, 1);
      EXPECT_EQ(agent.stop(SIGTERM), 0);
    }
    std::ifstream in(state / "change-history");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    EXPECT_TRUE(text.starts_with("hostprint change history 1\ndropped\t0\n")) << text;
    return ::testing::Test::HasFailure() ? 1 : 0;
  });
  EXPECT_EQ(rc, 0);
}

// Retention limits from the configuration: the oldest go, and /status counts them.
TEST(ChangeHistoryLive, RetentionLimitsDropTheOldestAndCountThem) {
  TempDir work;
  const auto root = prepared_root(work.path());
  AgentOptions options;
  options.args = {"--root", root.string(), "--scan-interval", "86400"};
  options.config = R"({"history": {"max_events": 2, "max_age_days": 30}})";
  int rc = run_in_namespaces([&]() -> int {
    Agent agent(options);
    if (!agent.ready()) return 3;
    std::string users = "root:x:0:0:root:/root:/bin/bash\n";
    for (int i = 0; i < 4; ++i) {
      users += "u" + std::to_string(i) + ":x:" + std::to_string(2000 + i) + ":100::/:/bin/sh\n";
      write(root / "etc/passwd", users);
      rescan(agent);
    }
    auto p = page(agent, "/asset/user/change-history");
    EXPECT_EQ(summary(p, "change_type", "user_name"),
              (std::vector<std::string>{"ADD u3", "ADD u2"}));
    auto status = boost::json::parse(fetch(agent, "/status").body()).as_object();
    // Five events in all: alice gone and four accounts added. The agent's own listener is in
    // its first scan, not a change.
    EXPECT_EQ(status.at("change_history").at("dropped_events").as_int64(), 3) << status;
    EXPECT_EQ(status.at("change_history").at("events").as_int64(), 2);
    return ::testing::Test::HasFailure() ? 1 : 0;
  });
  EXPECT_EQ(rc, 0);
}

TEST(ChangeHistoryLive, BadLimitsAreRefusedNamingTheKey) {
  TempDir work;
  const auto config = work.write("hostprint.json", R"({"history": {"max_events": 0}})");
  auto r = run_program({hostprint_binary(), "query", "--config", config.string(), "--state-dir",
                        (work.path() / "state").string(), "/status"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("history.max_events: must be an integer from 1 to 1000000"),
            std::string::npos)
      << r.err;
}

}  // namespace
}  // namespace hostprint::test
