// The command line: query against serve byte for byte, exit statuses, errors and help.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <boost/json.hpp>

#include "tests/integration/agent_harness.hpp"
#include "tests/namespaces.hpp"

namespace hostprint::test {
namespace {

RunResult hostprint(std::vector<std::string> args) {
  args.insert(args.begin(), hostprint_binary());
  return run_program(args);
}

TEST(Cli, HelpAndVersion) {
  auto help = hostprint({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("hostprint serve"), std::string::npos);
  EXPECT_NE(help.out.find("hostprint query"), std::string::npos);
  auto serve_help = hostprint({"serve", "--help"});
  EXPECT_EQ(serve_help.exit_code, 0);
  EXPECT_NE(serve_help.out.find("--listen"), std::string::npos);
  EXPECT_NE(serve_help.out.find("--scan-interval"), std::string::npos);
  auto query_help = hostprint({"query", "--help"});
  EXPECT_EQ(query_help.exit_code, 0);
  EXPECT_NE(query_help.out.find("TARGET"), std::string::npos);
  auto version = hostprint({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("hostprint ", 0), 0u);
}

TEST(Cli, UsageErrorsAreOneLineAndExit2) {
  TempDir dir;
  auto bad_config = dir.write("bad.json", R"({"listen": "127.0.0.1:9779", "scan_intervall": 5})");
  auto bad_value = dir.write("value.json", R"({"scan_interval_s": 5})");
  std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate"},
      {"serve", "--no-such-flag"},
      {"serve", "--listen", "nowhere"},
      {"serve", "--scan-interval", "9"},
      {"serve", "--log-level", "chatty"},
      {"serve", "--config", bad_config.string()},
      {"serve", "--config", bad_value.string()},
      {"serve", "--config", (dir.path() / "missing.json").string()},
      {"query"},
      {"query", "relative/target"},
      {"query", "--listen", "127.0.0.1:1", "/status"},
      {"query", "--root", (dir.path() / "no-such-root").string(), "/status"},
  };
  for (const auto& args : cases) {
    auto r = hostprint(args);
    std::string shown;
    for (const auto& a : args) shown += a + " ";
    EXPECT_EQ(r.exit_code, 2) << shown << r.err;
    EXPECT_EQ(r.out, "") << shown;
    ASSERT_FALSE(r.err.empty()) << shown;
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << shown << ": " << r.err;
    EXPECT_EQ(r.err.rfind("hostprint: error: ", 0), 0u) << r.err;
  }
  auto named = hostprint({"serve", "--config", bad_config.string()});
  EXPECT_NE(named.err.find("scan_intervall"), std::string::npos) << named.err;
}

TEST(Cli, QueryExitStatuses) {
  TempDir root;
  root.write("etc/passwd", "root:x:0:0::/root:/bin/sh\nu:x:1:1::/:/bin/sh\n");
  auto ok = hostprint({"query", "--root", root.path().string(), "/v5/p/asset/statistics"});
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(boost::json::parse(ok.out).at("account_num").as_int64(), 2);
  EXPECT_EQ(ok.err, "200 OK\n");
  ASSERT_FALSE(ok.out.empty());
  EXPECT_EQ(ok.out.back(), '\n');  // the body ends with one newline (cli.md)
  EXPECT_NE(ok.out[ok.out.size() - 2], '\n');
  auto bad = hostprint(
      {"query", "--root", root.path().string(), "/v5/p/asset/process/statistics?limit=0"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_EQ(bad.err, "400 Bad Request\n");
  EXPECT_EQ(boost::json::parse(bad.out).at("error_msg").as_string(), "invalid parameter: limit");
  auto missing = hostprint({"query", "--root", root.path().string(), "/v5/p/none"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_EQ(missing.err, "404 Not Found\n");
}

// In fresh PID and network namespaces the query and the server see the same processes (pid 1
// and one hostprint) and ports (none while scanning), so their answers must be the same bytes.
TEST(Cli, QueryPrintsWhatServeAnswers) {
  TempDir work;
  work.write("root/etc/passwd", "root:x:0:0::/root:/bin/sh\nbin:x:2:2::/bin:/usr/sbin/nologin\n");
  work.write("root/etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  auto token = work.write("token", "ns-token\n");
  std::filesystem::permissions(token, std::filesystem::perms::owner_read,
                               std::filesystem::perm_options::replace);
  auto config =
      work.write("hostprint.json", R"({"project_id": "p9", "enterprise_project_id": "e1"})");
  const std::vector<std::string> targets = {
      "/v5/p9/asset/statistics",
      "/v5/p9/asset/statistics?category=container",
      "/v5/p9/asset/statistics?host_id=0123456789abcdef0123456789abcdef",
      "/v5/p9/asset/statistics?host_id=other",
      "/v5/p9/asset/statistics?enterprise_project_id=all_granted_eps",
      "/v5/p9/asset/process/statistics?limit=200",
      "/v5/p9/asset/process/statistics?limit=1&offset=1",
      "/v5/p9/asset/process/statistics?path=hostprint",
      "/v5/p9/rasp/statistics",
      "/v5/p9/rasp/statistics?enterprise_project_id=x",
      "/v5/other/asset/statistics",
      "/v5/p9/asset/process/statistics?limit=201",
      "/v5/p9/nothing",
  };
  const auto root = (work.path() / "root").string();
  int rc = run_in_namespaces([&]() -> int {
    // serve lists its own port: while the queries run, a listener of the test's stands in for it
    // on the port serve takes after.
    const unsigned short port = free_port();
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor stand_in(io, {boost::asio::ip::make_address("127.0.0.1"), port});
    for (std::size_t i = 0; i < targets.size(); ++i) {
      auto q = hostprint({"query", "--config", config.string(), "--root", root, "--state-dir",
                          (work.path() / "state").string(), targets[i]});
      std::ofstream(work.path() / ("query-" + std::to_string(i)), std::ios::binary) << q.out;
      // This process is the namespace's init: it waits for the orphans a query leaves to it, as
      // an init reaps them (a clang-sanitized query leaves the llvm-symbolizer its leak checker
      // started, which ends at its input's end), so the next count sees only live processes.
      while (::waitpid(-1, nullptr, 0) > 0) {
      }
    }
    stand_in.close();
    AgentOptions options;
    options.args = {"--root", root, "--config", config.string()};
    options.token = "ns-token";
    options.port = port;
    Agent agent(options);
    if (!agent.ready()) return 3;
    for (std::size_t i = 0; i < targets.size(); ++i) {
      auto r = fetch(agent, targets[i], "ns-token");
      std::ofstream(work.path() / ("serve-" + std::to_string(i)), std::ios::binary) << r.body();
    }
    return agent.stop(SIGTERM) == 0 ? 0 : 4;
  });
  ASSERT_EQ(rc, 0);
  auto slurp = [&](const std::string& name) {
    std::ifstream in(work.path() / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto q = slurp("query-" + std::to_string(i)), s = slurp("serve-" + std::to_string(i));
    ASSERT_FALSE(q.empty()) << targets[i];
    EXPECT_EQ(q.back(), '\n') << targets[i];
    EXPECT_EQ(q.substr(0, q.size() - 1), s) << targets[i];  // the served bytes, then one newline
  }
  // And the namespace's content is what it should be: pid 1 and hostprint, two accounts, and
  // the port (the stand-in's, then serve's own).
  auto stats = boost::json::parse(slurp("query-0")).as_object();
  EXPECT_EQ(stats.at("process_num").as_int64(), 2);
  EXPECT_EQ(stats.at("account_num").as_int64(), 2);
  EXPECT_EQ(stats.at("port_num").as_int64(), 1);
}

}  // namespace
}  // namespace hostprint::test

namespace hostprint {
namespace {

// A SIGHUP that names another rules file makes the next scan recognise by the new rules.
TEST(Cli, ReloadAppliesANewRulesFile) {
  test::TempDir dir;
  const auto none = dir.write(
      "none.json", R"({"version": 1, "products": [{"name": "Nothing", "category": "web_service",)"
                   R"( "executables": ["no-such-program"]}]})");
  const auto sleeper =
      dir.write("sleeper.json",
                R"({"version": 1, "products": [{"name": "Sleeper", "category": "web_service",)"
                R"( "executables": ["sleep"]}]})");
  int rc = test::run_in_namespaces([&]() -> int {
    pid_t sleep = test::spawn_logged({"/usr/bin/sleep", "60"}, dir.path() / "sleep.out");
    std::string seen;
    {
      test::AgentOptions options;
      options.config = "{\"rules_file\": \"" + none.string() + "\"}";
      test::Agent agent(options);
      auto count = [&] {
        auto body = test::fetch(agent, "/v5/p/asset/statistics").body();
        return boost::json::parse(body).as_object().at("web_service_num").as_int64();
      };
      seen += std::to_string(count());
      std::ofstream(agent.dir().path() / "hostprint.json")
          << "{\"rules_file\": \"" << sleeper.string() << "\"}";
      ::kill(agent.pid(), SIGHUP);
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
      std::int64_t now = 0;
      while ((now = count()) == 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      seen += " " + std::to_string(now);
    }
    ::kill(sleep, SIGKILL);
    ::waitpid(sleep, nullptr, 0);
    std::ofstream(dir.path() / "seen") << seen;
    return 0;
  });
  ASSERT_EQ(rc, 0);
  std::ifstream in(dir.path() / "seen");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "0 1");
}

}  // namespace
}  // namespace hostprint
