// Real protected processes in a fresh PID namespace: a JVM started with -javaagent: naming an agent
// jar the test builds with the JDK (placed as <home>/rasp/rasp.jar), a JVM without one, a JVM that
// gets a configured agent jar by a dynamic attach, and php with a library named openrasp.so
// (built with gcc) mapped into it by the dynamic loader. Each is found with its agent and RASP
// home, the homes' alarm logs are counted, and protection ends with the processes.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "tests/scan_chain.hpp"
#include "collectors/processes.hpp"
#include "collectors/rasp.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/namespaces.hpp"
#include "tests/rasp_fixtures.hpp"
#include "tests/temp_dir.hpp"
#include "tests/live_skip.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void run(const std::vector<std::string>& argv) {
  auto r = test::run_program(argv);
  ASSERT_EQ(r.exit_code, 0) << argv[0] << ": " << r.out << r.err;
}

bool wait_for(const std::vector<fs::path>& files) {
  auto until = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    bool all = true;
    for (const auto& f : files) all = all && fs::exists(f);
    if (all) return true;
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(50ms);
  }
}

// One scan of the processes and the RASP collector; "pid agent file home" per protected
// process, then the counts.
std::string scan(RaspCollector& rasp) {
  test::ScanChain chain;
  chain.context.deadline = std::chrono::steady_clock::now() + 60s;
  ProcessesCollector processes;
  if (!chain.run(processes).complete) return "processes failed";
  auto outcome = chain.run(rasp);
  std::string out;
  for (const auto& e : outcome.errors) out += "error " + e + "\n";
  for (const auto& p : rasp.findings()->protected_processes)
    out += std::to_string(p.pid) + " " + p.agent + " " + p.agent_file + " " + p.home + " [" +
           p.container_id + "] " + p.exe + " " + p.app_type + " " +
           std::to_string(p.blocked_attacks) + "\n";
  out += "blocked " + std::to_string(rasp.findings()->blocked_attacks) + "\n";
  return out;
}

TEST(RaspLive, JavaAgentsAttachedAgentsAndThePhpExtension) {
  if (::geteuid() != 0) LIVE_SKIP() << "needs root";
  if (test::run_program({"sh", "-c", "command -v javac && command -v jar && command -v gcc"})
          .exit_code != 0)
    LIVE_SKIP() << "no JDK or gcc";
  if (!fs::exists("/usr/bin/php")) LIVE_SKIP() << "no php";
  test::TempDir work;
  const fs::path dir = work.path();
  const std::string d = dir.string();
  ASSERT_EQ(test::build_java_agent(work, dir / "tomcat/rasp/rasp.jar"), "");
  fs::create_directories(dir / "custom");
  fs::copy_file(dir / "tomcat/rasp/rasp.jar", dir / "custom/my-rasp.jar");
  work.write("openrasp.c", "int openrasp_loaded(void) { return 1; }\n");
  fs::create_directories(dir / "phprasp/lib");
  run({"gcc", "-shared", "-fPIC", "-o", d + "/phprasp/lib/openrasp.so", d + "/openrasp.c"});

  // The homes' alarm logs: the Java agent's alarm.log, the PHP agent's dated file.
  using test::alarm_line;
  work.write("tomcat/rasp/logs/alarm/alarm.log",
             alarm_line("j1", 600) + alarm_line("j2", 3 * 86400) + alarm_line("j3", 60, "log") +
                 alarm_line("j4", 9 * 86400));
  work.write("phprasp/logs/alarm/alarm.log.2026-11-30", alarm_line("p1", 30, "block", "xss"));
  work.write("custom/logs/alarm/alarm.log", alarm_line("c1", 30, "block", "rce"));

  const fs::path report = dir / "report";
  int rc = test::run_in_namespaces(
      [&]() -> int {
        std::ofstream out(report);
        std::vector<pid_t> started;
        auto stop = [&](pid_t pid) {
          ::kill(pid, SIGKILL);
          ::waitpid(pid, nullptr, 0);
          std::erase(started, pid);
        };
        auto stop_all = [&] {
          while (!started.empty()) stop(started.front());
        };
        const std::string cp = d + "/classes";
        pid_t agent_jvm =
            test::spawn_logged({"/usr/bin/java", "-javaagent:" + d + "/tomcat/rasp/rasp.jar=x",
                                "-cp", cp, "Main", d + "/agent.started"},
                               dir / "agent.out");
        started.push_back(agent_jvm);
        pid_t plain_jvm = test::spawn_logged(
            {"/usr/bin/java", "-cp", cp, "Main", d + "/plain.started"}, dir / "plain.out");
        started.push_back(plain_jvm);
        pid_t attached_jvm = test::spawn_logged(
            {"/usr/bin/java", "-cp", cp, "Main", d + "/attached.started"}, dir / "attached.out");
        started.push_back(attached_jvm);
        pid_t php = test::spawn_logged(
            {"/usr/bin/env", "LD_PRELOAD=" + d + "/phprasp/lib/openrasp.so", "/usr/bin/php", "-r",
             "file_put_contents('" + d + "/php.started', ''); sleep(600);"},
            dir / "php.out");
        started.push_back(php);
        if (!wait_for({dir / "agent.started", dir / "plain.started", dir / "attached.started",
                       dir / "php.started"})) {
          stop_all();
          return 11;
        }
        auto rules =
            std::make_shared<const Fingerprints>(parse_fingerprints(builtin_fingerprints_text()));
        RaspCollector rasp(RaspSettings{rules, {"my-rasp.jar"}, {}, {}});
        out << "pids " << agent_jvm << " " << plain_jvm << " " << attached_jvm << " " << php
            << "\n";
        out << "== all\n" << scan(rasp);
        // A dynamic attach of the configured agent jar.
        auto attach = test::run_program({"/usr/bin/java", "-cp", cp, "Attach",
                                         std::to_string(attached_jvm), d + "/custom/my-rasp.jar"});
        out << "== attached " << attach.exit_code << "\n" << scan(rasp);
        stop(agent_jvm);
        stop(attached_jvm);
        out << "== php only\n" << scan(rasp);
        stop(php);
        out << "== none\n" << scan(rasp);
        stop_all();
        return 0;
      },
      false);
  const std::string text = slurp(report);
  ASSERT_EQ(rc, 0) << slurp(dir / "agent.out") << slurp(dir / "php.out") << text;
  std::istringstream in(text);
  std::string word, agent_pid, plain_pid, attached_pid, php_pid;
  in >> word >> agent_pid >> plain_pid >> attached_pid >> php_pid;
  // Each process's executable and kind, and the blocked attacks of its own home in the window.
  const std::string java = fs::canonical("/usr/bin/java").string() + " java ";
  const std::string php = fs::canonical("/usr/bin/php").string() + " php ";
  const std::string agent_row = agent_pid + " OpenRASP " + d + "/tomcat/rasp/rasp.jar " + d +
                                "/tomcat/rasp [] " + java + "2\n";
  const std::string attached_row = attached_pid + " my-rasp.jar " + d + "/custom/my-rasp.jar " +
                                   d + "/custom [] " + java + "1\n";
  const std::string php_row = php_pid + " OpenRASP " + d + "/phprasp/lib/openrasp.so " + d +
                              "/phprasp [] " + php + "1\n";
  // The plain JVM is never protected; each home's blocked events in the window count once.
  const std::string expected =
      "pids " + agent_pid + " " + plain_pid + " " + attached_pid + " " + php_pid + "\n== all\n" +
      agent_row + php_row + "blocked 3\n" + "== attached 0\n" + agent_row + attached_row + php_row +
      "blocked 4\n== php only\n" + php_row + "blocked 4\n" + "== none\nblocked 4\n";
  EXPECT_EQ(text, expected);
}

}  // namespace
}  // namespace hostprint::collectors
