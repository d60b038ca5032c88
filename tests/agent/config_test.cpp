#include "agent/config.hpp"

#include <gtest/gtest.h>

#include "agent/cli.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST(Config, DefaultsAreTheSpecs) {
  Config c;
  EXPECT_EQ(c.listen.text(), "127.0.0.1:9779");
  EXPECT_EQ(c.root, "/");
  EXPECT_EQ(c.token_file, "/etc/hostprint/token");
  EXPECT_FALSE(c.project_id);
  EXPECT_EQ(c.enterprise_project_id, "0");
  EXPECT_EQ(c.state_dir, "/var/lib/hostprint");
  EXPECT_EQ(c.scan_interval_s, 60u);
  EXPECT_EQ(c.rules_file, "/usr/share/hostprint/fingerprints.json");
}

TEST(Config, FileWithCommentsAndEveryKey) {
  Config c;
  apply_config_text(c, R"({
    // comments are allowed
    "listen": "[::1]:9800",
    "root": "/srv/root",
    "token_file": "/etc/t",
    "project_id": "p1",
    "enterprise_project_id": "ep",
    "host_id": "h1",
    "state_dir": "/tmp/s",
    "scan_interval_s": 10,
    "rasp": {"alarm_logs": ["/var/log/*.log"], "agent_jars": ["my-rasp.jar"]},
    /* block comment */
    "rules_file": "/r.json"
  })",
                    "f.json");
  EXPECT_EQ(c.listen.host, "::1");
  EXPECT_EQ(c.listen.port, 9800);
  EXPECT_EQ(c.listen.text(), "[::1]:9800");
  EXPECT_EQ(c.root, "/srv/root");
  EXPECT_EQ(c.project_id, "p1");
  EXPECT_EQ(c.enterprise_project_id, "ep");
  EXPECT_EQ(c.host_id, "h1");
  EXPECT_EQ(c.scan_interval_s, 10u);
  EXPECT_EQ(c.rasp_alarm_logs, std::vector<std::string>{"/var/log/*.log"});
  EXPECT_EQ(c.rasp_agent_jars, std::vector<std::string>{"my-rasp.jar"});
  EXPECT_EQ(c.rules_file, "/r.json");
  Config flat;
  apply_config_text(flat, R"({"rasp.agent_jars": ["x.jar"]})", "f.json");
  EXPECT_EQ(flat.rasp_agent_jars, std::vector<std::string>{"x.jar"});
}

TEST(Config, BadKeysAndValuesNameTheKey) {
  struct Case {
    const char* text;
    const char* key;
  };
  for (
      auto [text, key] : std::initializer_list<Case>{
          {R"({"lisen": "1.2.3.4:1"})", "lisen: unknown key"},
          {R"({"listen": "localhost:80"})", "listen:"},
          {R"({"listen": "127.0.0.1:0"})", "listen:"},
          {R"({"listen": "127.0.0.1:65536"})", "listen:"},
          {R"({"listen": "::1:80"})", "listen:"},
          {R"({"listen": 80})", "listen: must be a string"},
          {R"({"scan_interval_s": 9})", "scan_interval_s:"},
          {R"({"scan_interval_s": 86401})", "scan_interval_s:"},
          {R"({"scan_interval_s": "60"})", "scan_interval_s:"},
          {R"({"scan_interval_s": 60.5})", "scan_interval_s:"},
          {R"({"project_id": ""})", "project_id:"},
          {R"({"host_id": "0123456789012345678901234567890123456789012345678901234567890123456789"})",
           "host_id:"},
          {R"({"rasp": {"logs": []}})", "rasp.logs: unknown key"},
          {R"({"rasp": {"alarm_logs": [1]}})", "rasp.alarm_logs:"},
          {R"({"root": ""})", "root:"},
      }) {
    const char* config_text = text;
    auto message = error_of([config_text] {
      Config c;
      apply_config_text(c, config_text, "f.json");
    });
    EXPECT_NE(message.find(std::string("f.json: ") + key), std::string::npos)
        << text << " -> " << message;
  }
}

// Every key that may be written nested: the object form applies each member as its dotted key;
// anything else in the object, or a value that is not an object, is one line naming it.
TEST(Config, NestedSectionsTakeTheirKeysOnly) {
  struct Section {
    const char* name;
    const char* object_text;
    const char* allowed;
    const char* good_member;
  };
  for (const auto& section : std::initializer_list<Section>{
           {"rasp", "must be an object with alarm_logs and agent_jars",
            "rasp.alarm_logs, rasp.agent_jars", R"("agent_jars": ["a.jar"])"},
           {"metrics", "must be an object with max_process_paths", "metrics.max_process_paths",
            R"("max_process_paths": 7)"},
           {"history", "must be an object with max_age_days and max_events",
            "history.max_age_days, history.max_events", R"("max_events": 9)"},
           {"fleet",
            "must be an object with query_timeout_s, max_age_s, cache_ms and max_stale_ms",
            "fleet.query_timeout_s, fleet.max_age_s, fleet.cache_ms, fleet.max_stale_ms",
            R"("cache_ms": 5)"},
           {"http", "must be an object with threads and cpu_affinity",
            "http.threads, http.cpu_affinity", R"("threads": 3)"},
           {"tls", "must be an object with cert_file, key_file, allow_plaintext",
            "tls.cert_file, tls.key_file, tls.allow_plaintext", R"("allow_plaintext": true)"},
       }) {
    const std::string name = section.name;
    auto error_for = [](const std::string& text) {
      return error_of([&text] {
        Config c;
        apply_config_text(c, text, "f.json");
      });
    };
    EXPECT_EQ(error_for("{\"" + name + "\": 5}"), "f.json: " + name + ": " + section.object_text);
    EXPECT_EQ(error_for("{\"" + name + "\": {\"nope\": 1}}"),
              "f.json: " + name + ".nope: unknown key (allowed: " + section.allowed + ")");
    EXPECT_EQ(error_for("{\"" + name + "\": {" + section.good_member + "}}"), "") << name;
  }
  Config c;
  apply_config_text(c,
                    R"({"rasp": {"agent_jars": ["a.jar"]}, "metrics": {"max_process_paths": 7},
                        "history": {"max_events": 9}, "fleet": {"cache_ms": 5},
                        "http": {"threads": 3}, "tls": {"allow_plaintext": true}})",
                    "f.json");
  EXPECT_EQ(c.rasp_agent_jars, std::vector<std::string>{"a.jar"});
  EXPECT_EQ(c.metrics_max_process_paths, 7u);
  EXPECT_EQ(c.history_max_events, 9u);
  EXPECT_EQ(c.fleet_cache_ms, 5u);
  EXPECT_EQ(c.http_threads, 3u);
  EXPECT_TRUE(c.tls_allow_plaintext);
}

TEST(Config, HttpThreads) {
  EXPECT_EQ(Config{}.http_threads, 2u);
  for (auto [text, expected] : std::initializer_list<std::pair<const char*, unsigned>>{
           {R"({"http.threads": 1})", 1}, {R"({"http": {"threads": 16}})", 16},
           {R"({"http": {}})", 2}}) {
    Config c;
    apply_config_text(c, text, "f.json");
    EXPECT_EQ(c.http_threads, expected) << text;
  }
  for (auto text : {R"({"http.threads": 0})", R"({"http.threads": 17})",
                    R"({"http": {"threads": "2"}})", R"({"http": {"workers": 2}})",
                    R"({"http": 2})"}) {
    auto message = error_of([&] {
      Config c;
      apply_config_text(c, text, "f.json");
    });
    EXPECT_EQ(message.rfind("f.json: http", 0), 0u) << text << " -> " << message;
  }
}

TEST(Config, HttpCpuAffinity) {
  EXPECT_FALSE(Config{}.http_cpu_affinity);
  for (auto [text, expected] : std::initializer_list<std::pair<const char*, bool>>{
           {R"({"http.cpu_affinity": "auto"})", true},
           {R"({"http": {"cpu_affinity": "off"}})", false},
           {R"({"http": {"threads": 4, "cpu_affinity": "auto"}})", true}}) {
    Config c;
    apply_config_text(c, text, "f.json");
    EXPECT_EQ(c.http_cpu_affinity, expected) << text;
  }
  for (auto text : {R"({"http.cpu_affinity": true})", R"({"http.cpu_affinity": "on"})",
                    R"({"http": {"cpu_affinity": 1}})", R"({"http": {"cpu_affinity": "AUTO"}})"}) {
    auto message = error_of([&] {
      Config c;
      apply_config_text(c, text, "f.json");
    });
    EXPECT_EQ(message, R"(f.json: http.cpu_affinity: must be "auto" or "off")") << text;
  }
}

TEST(Config, MetricsMaxProcessPaths) {
  EXPECT_EQ(Config{}.metrics_max_process_paths, 2000u);
  for (auto [text, expected] : std::initializer_list<std::pair<const char*, std::size_t>>{
           {R"({"metrics.max_process_paths": 0})", 0},
           {R"({"metrics": {"max_process_paths": 100000}})", 100000},
           {R"({"metrics": {}})", 2000}}) {
    Config c;
    apply_config_text(c, text, "f.json");
    EXPECT_EQ(c.metrics_max_process_paths, expected) << text;
  }
  for (auto text :
       {R"({"metrics.max_process_paths": -1})", R"({"metrics.max_process_paths": 100001})",
        R"({"metrics.max_process_paths": 18446744073709551615})",
        R"({"metrics.max_process_paths": 10.5})", R"({"metrics.max_process_paths": "5"})",
        R"({"metrics": {"max_process_paths": null}})"}) {
    auto message = error_of([&] {
      Config c;
      apply_config_text(c, text, "f.json");
    });
    EXPECT_EQ(message, "f.json: metrics.max_process_paths: must be an integer from 0 to 100000")
        << text;
  }
  EXPECT_NE(error_of([] {
              Config c;
              apply_config_text(c, R"({"metrics": {"max_paths": 1}})", "f.json");
            }).find("f.json: metrics.max_paths: unknown key"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              Config c;
              apply_config_text(c, R"({"metrics": 5})", "f.json");
            }).find("f.json: metrics: must be an object"),
            std::string::npos);
}

TEST(Config, BrokenJsonIsOneLine) {
  auto message = error_of([] {
    Config c;
    apply_config_text(c, "{\"listen\": ", "f.json");
  });
  EXPECT_NE(message.find("f.json: not valid JSON"), std::string::npos);
  EXPECT_EQ(message.find('\n'), std::string::npos);
  EXPECT_NE(error_of([] {
              Config c;
              apply_config_text(c, "[1,2]", "f.json");
            }).find("one JSON object"),
            std::string::npos);
}

TEST(Config, MissingDefaultFileIsFineNamedFileIsNot) {
  Config c;
  EXPECT_NO_THROW(apply_config_file(c, "/nonexistent/hostprint.json", false));
  EXPECT_NE(error_of([&] {
              apply_config_file(c, "/nonexistent/hostprint.json", true);
            }).find("no such file"),
            std::string::npos);
}

TEST(Config, FarLargerThanRealFileIsRefused) {
  test::TempDir dir;
  auto file = dir.write("huge.json", "{\"root\": \"/\"" + std::string(2 << 20, ' ') + "}");
  Config c;
  EXPECT_NE(error_of([&] { apply_config_file(c, file, true); }).find("larger than 1 MiB"),
            std::string::npos);
  auto deep = dir.write("deep.json", std::string(100000, '[') + std::string(100000, ']'));
  EXPECT_FALSE(error_of([&] { apply_config_file(c, deep, true); }).empty());
  auto nul = dir.write("nul.json", std::string("{\"root\": \"/a\0b\"}", 16));
  EXPECT_FALSE(error_of([&] { apply_config_file(c, nul, true); }).empty());
}

TEST(Config, HostIdFromMachineIdUnderRoot) {
  test::TempDir root;
  Config c;
  c.root = root.path();
  EXPECT_EQ(effective_host_id(c), "");
  root.write("etc/machine-id", "0123456789abcdef0123456789abcdef\n");
  EXPECT_EQ(effective_host_id(c), "0123456789abcdef0123456789abcdef");
  c.host_id = "configured";
  EXPECT_EQ(effective_host_id(c), "configured");
}

TEST(CommandLine, FlagsOverrideTheFile) {
  test::TempDir dir;
  auto file =
      dir.write("c.json", R"({"listen": "127.0.0.1:1000", "scan_interval_s": 30, "root": "/"})");
  auto cl = parse_command_line({"serve", "--config", file.string(), "--listen=[::1]:2000",
                                "--scan-interval", "15", "--root", dir.path().string()});
  auto c = resolve_config(cl);
  EXPECT_EQ(c.listen.text(), "[::1]:2000");
  EXPECT_EQ(c.scan_interval_s, 15u);
  EXPECT_EQ(c.root, dir.path());
}

TEST(CommandLine, Errors) {
  EXPECT_NE(error_of([] { parse_command_line({}); }).find("subcommand"), std::string::npos);
  EXPECT_NE(error_of([] { parse_command_line({"scan"}); }).find("unknown subcommand"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_command_line({"serve", "--bogus"});
            }).find("unknown flag '--bogus'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_command_line({"query", "--listen", "x", "/status"});
            }).find("unknown flag"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_command_line({"serve", "--listen"});
            }).find("needs a value"),
            std::string::npos);
  EXPECT_NE(error_of([] { parse_command_line({"query"}); }).find("TARGET"), std::string::npos);
  EXPECT_NE(error_of([] {
              parse_command_line({"query", "v5/x"});
            }).find("beginning with '/'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_command_line({"query", "/a", "/b"});
            }).find("second"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              parse_command_line({"serve", "extra"});
            }).find("no arguments"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              resolve_config(parse_command_line({"serve", "--scan-interval", "5"}));
            }).find("--scan-interval"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              resolve_config(parse_command_line({"serve", "--log-level", "loud"}));
            }).find("--log-level"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              resolve_config(parse_command_line({"serve", "--root", "/nonexistent"}));
            }).find("root:"),
            std::string::npos);
}

TEST(CommandLine, HelpAndVersion) {
  EXPECT_EQ(parse_command_line({"--help"}).subcommand, Subcommand::help);
  EXPECT_EQ(parse_command_line({"--version"}).subcommand, Subcommand::version);
  EXPECT_EQ(parse_command_line({"serve", "--help"}).help_for, "serve");
  EXPECT_EQ(parse_command_line({"query", "--help"}).help_for, "query");
  EXPECT_NE(usage_text("serve").find("--scan-interval"), std::string::npos);
  EXPECT_NE(usage_text("query").find("TARGET"), std::string::npos);
}

}  // namespace
}  // namespace hostprint
