#pragma once
// What the RASP tests make: OpenRASP alarm log lines dated relative to the real clock, and a
// Java agent jar built with the JDK.
#include <time.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "tests/integration/agent_harness.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::test {

// `seconds_ago` before now, written with the UTC offset `offset_minutes` as "+HHMM".
inline std::string alarm_time(std::int64_t seconds_ago, int offset_minutes = 480) {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const time_t local = static_cast<time_t>(now - seconds_ago + offset_minutes * 60);
  tm parts{};
  ::gmtime_r(&local, &parts);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  const int a = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  char offset[32];
  std::snprintf(offset, sizeof offset, "%c%02d%02d", offset_minutes < 0 ? '-' : '+', a / 60,
                a % 60);
  return std::string(text) + offset;
}

// One alarm line (with its '\n'); `state` is "block", "log" or "ignore".
inline std::string alarm_line(const std::string& request_id, std::int64_t seconds_ago,
                              const std::string& state = "block",
                              const std::string& attack_type = "sql", int offset_minutes = 480) {
  return R"({"event_type":"attack","event_time":")" + alarm_time(seconds_ago, offset_minutes) +
         R"(","server_hostname":"web-1","request_id":")" + request_id +
         R"(","request_method":"get","intercept_state":")" + state + R"(","attack_type":")" +
         attack_type +
         R"(","plugin_name":"official","plugin_confidence":90,"plugin_message":"SQLi - )"
         R"(detected","url":"http://127.0.0.1:8080/q?id=1","attack_source":"127.0.0.1",)"
         R"("attack_params":{"query":"SELECT * FROM t WHERE id = 1 OR 1=1"}})"
         "\n";
}

// Compiles into `work` a Main class that writes the file its argument names and sleeps (in
// work/classes), and an agent jar at `jar` whose Premain-Class and Agent-Class do nothing; the
// agent's class is only in the jar. Returns "" or what failed.
inline std::string build_java_agent(const TempDir& work, const std::filesystem::path& jar) {
  const std::string d = work.path().string();
  work.write("src/Main.java",
             "public class Main { public static void main(String[] a) throws Exception {\n"
             "  java.nio.file.Files.writeString(java.nio.file.Path.of(a[0]), \"\");\n"
             "  Thread.sleep(600000); } }\n");
  work.write("src/Agent.java",
             "public class Agent {\n"
             "  public static void premain(String a, java.lang.instrument.Instrumentation i) {}\n"
             "  public static void agentmain(String a, java.lang.instrument.Instrumentation i) {}"
             "\n}\n");
  work.write("src/Attach.java",
             "public class Attach { public static void main(String[] a) throws Exception {\n"
             "  var vm = com.sun.tools.attach.VirtualMachine.attach(a[0]);\n"
             "  vm.loadAgent(a[1]); vm.detach(); } }\n");
  work.write("manifest.txt", "Premain-Class: Agent\nAgent-Class: Agent\n");
  std::filesystem::create_directories(jar.parent_path());
  for (const auto& argv : std::vector<std::vector<std::string>>{
           {"javac", "-d", d + "/classes", d + "/src/Main.java", d + "/src/Attach.java"},
           {"javac", "-d", d + "/agent-classes", d + "/src/Agent.java"},
           {"jar", "--create", "--file", jar.string(), "--manifest", d + "/manifest.txt", "-C",
            d + "/agent-classes", "Agent.class"}}) {
    auto r = run_program(argv);
    if (r.exit_code != 0) return argv[0] + ": " + r.out + r.err;
  }
  return "";
}

}  // namespace hostprint::test
