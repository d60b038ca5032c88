// /v5/{project_id}/rasp/statistics from a real `hostprint serve`: alarm logs written by the test,
// rescanned on SIGHUP (which also applies new rasp.* keys), through appends, a repeated event,
// rotation, truncation, hostile lines, deletion and restarts with the same --state-dir (a corrupt
// state file, an unwritable state folder); and a real JVM with -javaagent: that makes the host
// protected until it stops.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "tests/integration/agent_harness.hpp"
#include "tests/namespaces.hpp"
#include "tests/rasp_fixtures.hpp"
#include "tests/temp_dir.hpp"
#include "tests/live_skip.hpp"

namespace hostprint::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct RaspCounts {
  std::int64_t protect_host_num = -1;
  std::int64_t anti_tampering_num = -1;
  friend bool operator==(const RaspCounts&, const RaspCounts&) = default;
  friend std::ostream& operator<<(std::ostream& o, const RaspCounts& c) {
    return o << "{protect_host_num " << c.protect_host_num << ", anti_tampering_num "
             << c.anti_tampering_num << "}";
  }
};

RaspCounts rasp(const Agent& agent) {
  auto r = fetch(agent, "/v5/p1/rasp/statistics");
  EXPECT_EQ(r.result_int(), 200) << r.body();
  auto v = boost::json::parse(r.body()).as_object();
  EXPECT_EQ(v.size(), 2u) << r.body();
  return {v.at("protect_host_num").as_int64(), v.at("anti_tampering_num").as_int64()};
}

boost::json::object status(const Agent& agent) {
  return boost::json::parse(fetch(agent, "/status").body()).as_object();
}

// The rasp collector's errors in the latest scan.
std::string rasp_errors(const Agent& agent) {
  std::string out;
  const auto now = status(agent);
  for (const auto& c : now.at("collectors").as_array())
    if (c.at("name").as_string() == "rasp")
      for (const auto& e : c.at("errors").as_array()) out += std::string(e.as_string()) + "\n";
  return out;
}

// SIGHUP starts a scan at once; waits until a newer snapshot is served.
void rescan(const Agent& agent) {
  const auto before = status(agent).at("generation").as_int64();
  ::kill(agent.pid(), SIGHUP);
  auto until = std::chrono::steady_clock::now() + 60s;
  while (status(agent).at("generation").as_int64() <= before) {
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "no rescan";
    std::this_thread::sleep_for(20ms);
  }
}

// A rules file without RASP agents: only the agents and logs a test names are counted, never a
// RASP-protected process that happens to run on the host beside the test.
std::string rules_without_rasp(const TempDir& work) {
  return work
      .write("rules.json",
             R"({"version": 1, "products": [{"name": "None", "category": "web_service",)"
             R"( "executables": ["hostprint-test-no-such-program"]}]})")
      .string();
}

void append(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::app);
  out << text;
}

TEST(RaspHttp, BlockedAttacksCountOnceThroughRotationDeletionAndRestarts) {
  TempDir work;
  const fs::path logs = work.path() / "logs", state = work.path() / "state";
  fs::create_directories(logs);
  AgentOptions options;
  options.args = {"--state-dir", state.string()};
  options.config = R"({"rules_file": ")" + rules_without_rasp(work) +
                   R"(", "rasp": {"alarm_logs": [")" + logs.string() + R"(/*.log*"]}})";
  const fs::path log = logs / "alarm.log";
  // Lines written twice are made once: the same event has the very same text.
  const std::string a1 = alarm_line("a1", 3600), a7 = alarm_line("a7", 2);
  append(log, a1 + alarm_line("a2", 2 * 86400, "block", "xss", -300) + alarm_line("l1", 60, "log") +
                  alarm_line("i1", 60, "ignore") + alarm_line("old", 8 * 86400));
  {
    Agent agent(options);
    ASSERT_TRUE(agent.ready()) << agent.log_text();
    EXPECT_EQ(rasp(agent), (RaspCounts{0, 2}));
    EXPECT_EQ(fs::status(state).permissions() & fs::perms::all, fs::perms::owner_all);

    // Appended: a new event, and one already counted.
    append(log, alarm_line("a3", 600) + a1);
    rescan(agent);
    EXPECT_EQ(rasp(agent), (RaspCounts{0, 3}));

    // Rotated mid-run: renamed to the dated name, written once more there, a new log begun.
    fs::rename(log, logs / "alarm.log.2026-11-29");
    append(logs / "alarm.log.2026-11-29", alarm_line("a4", 300));
    append(log, alarm_line("a5", 200));
    rescan(agent);
    EXPECT_EQ(rasp(agent), (RaspCounts{0, 5}));

    // Truncated, then written again.
    fs::resize_file(log, 0);
    rescan(agent);
    EXPECT_EQ(rasp(agent), (RaspCounts{0, 5}));
    append(log, alarm_line("a6", 100));
    rescan(agent);
    EXPECT_EQ(rasp(agent), (RaspCounts{0, 6}));

    // A malformed line and a 10 MB line: skipped, counted as parse errors, the rest read.
    append(log, "{\"event_time\": \"2026-11-30T01:02:03+0800\", \"intercept_state\"\n" +
                    std::string(10u << 20, 'x') + "\n" + a7);
    rescan(agent);
    EXPECT_EQ(rasp(agent), (RaspCounts{0, 7}));
    EXPECT_NE(rasp_errors(agent).find("2 malformed or overlong lines skipped"), std::string::npos)
        << rasp_errors(agent);

    // The rotated log deleted after it was counted.
    fs::remove(logs / "alarm.log.2026-11-29");
    rescan(agent);
    EXPECT_EQ(rasp(agent), (RaspCounts{0, 7}));
    EXPECT_EQ(agent.stop(SIGTERM), 0);
  }
  ASSERT_TRUE(fs::exists(state / "rasp_event_window"));
  EXPECT_FALSE(fs::exists(state / "rasp_event_window.new"));

  // Restarted with the same state folder, a new event and an old one written meanwhile.
  append(log, alarm_line("a8", 1) + a7);
  {
    Agent agent(options);
    ASSERT_TRUE(agent.ready()) << agent.log_text();
    EXPECT_EQ(rasp(agent), (RaspCounts{0, 8}));
    EXPECT_EQ(rasp_errors(agent), "");
    rescan(agent);
    EXPECT_EQ(rasp(agent), (RaspCounts{0, 8}));
    agent.stop(SIGKILL);  // not even a clean stop loses what was saved
  }
  {
    Agent agent(options);
    ASSERT_TRUE(agent.ready()) << agent.log_text();
    EXPECT_EQ(rasp(agent), (RaspCounts{0, 8}));
  }

  // A corrupt state file: logged, and the window rebuilt from the logs that remain (alarm.log
  // holds a6, a7 and a8 since it was truncated).
  {
    std::ofstream out(state / "rasp_event_window", std::ios::binary | std::ios::trunc);
    out << "hostprint rasp event window 1\nevent 12 x\n";
  }
  {
    Agent agent(options);
    ASSERT_TRUE(agent.ready()) << agent.log_text();
    EXPECT_EQ(rasp(agent), (RaspCounts{0, 3}));
    EXPECT_NE(agent.log_text().find("rebuilt from the logs"), std::string::npos)
        << agent.log_text();
  }

  // A state folder that cannot be made: one warning, the agent answers from memory.
  const fs::path blocker = work.write("blocker", "a file, not a folder");
  AgentOptions unwritable = options;
  unwritable.args = {"--state-dir", (blocker / "state").string()};
  Agent agent(unwritable);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  EXPECT_EQ(rasp(agent), (RaspCounts{0, 3}));
  append(log, alarm_line("a9", 1));
  rescan(agent);
  EXPECT_EQ(rasp(agent), (RaspCounts{0, 4}));
  const std::string text = agent.log_text();
  std::size_t warnings = 0;
  for (auto at = text.find("in memory"); at != std::string::npos;
       at = text.find("in memory", at + 1))
    ++warnings;
  EXPECT_EQ(warnings, 1u) << text;
}

TEST(RaspHttp, AReloadAddsTheAlarmLogGlobsOfTheConfiguration) {
  TempDir work;
  work.write("extra/alarm.log", alarm_line("e1", 60) + alarm_line("e2", 120));
  const std::string rules = rules_without_rasp(work);
  AgentOptions options;
  options.config = R"({"rules_file": ")" + rules + R"("})";
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  EXPECT_EQ(rasp(agent), (RaspCounts{0, 0}));
  agent.dir().write("hostprint.json", R"({"rules_file": ")" + rules +
                                          R"(", "rasp": {"alarm_logs": [")" + work.path().string() +
                                          R"(/extra/*.log"]}})");
  rescan(agent);
  EXPECT_EQ(rasp(agent), (RaspCounts{0, 2}));
  EXPECT_NE(agent.log_text().find("reloaded"), std::string::npos) << agent.log_text();
}

TEST(RaspHttp, AJvmWithARaspAgentProtectsTheHostUntilItStops) {
  if (::geteuid() != 0) LIVE_SKIP() << "needs root";
  if (run_program({"sh", "-c", "command -v javac && command -v jar"}).exit_code != 0)
    LIVE_SKIP() << "no JDK";
  TempDir work;
  // The agent jar is known by a name of this test's own (rasp.agent_jars), the rules name none.
  const fs::path home = work.path() / "app/rasp";
  const std::string jar_name = "hostprint-test-rasp-" + std::to_string(::getpid()) + ".jar";
  ASSERT_EQ(build_java_agent(work, home / jar_name), "");
  work.write("app/rasp/logs/alarm/alarm.log",
             alarm_line("j1", 60) + alarm_line("j2", 60, "log") + alarm_line("j3", 9 * 86400));
  const fs::path started = work.path() / "jvm.started";
  pid_t jvm = spawn_logged({"/usr/bin/java", "-javaagent:" + (home / jar_name).string(), "-cp",
                            (work.path() / "classes").string(), "Main", started.string()},
                           work.path() / "jvm.out");
  struct Stop {
    pid_t& pid;
    ~Stop() {
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  } stop{jvm};
  auto until = std::chrono::steady_clock::now() + 60s;
  while (!fs::exists(started)) {
    ASSERT_LT(std::chrono::steady_clock::now(), until) << "the JVM did not start";
    std::this_thread::sleep_for(50ms);
  }
  AgentOptions options;
  options.config = R"({"rules_file": ")" + rules_without_rasp(work) +
                   R"(", "rasp": {"agent_jars": [")" + jar_name + R"("]}})";
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  EXPECT_EQ(rasp(agent), (RaspCounts{1, 1}));
  ::kill(jvm, SIGKILL);
  ::waitpid(jvm, nullptr, 0);
  jvm = -1;
  rescan(agent);
  EXPECT_EQ(rasp(agent), (RaspCounts{0, 1}));  // the attack it blocked is still counted
}

}  // namespace
}  // namespace hostprint::test
