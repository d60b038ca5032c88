// GET /metrics of a real agent: authentication, formats, promtool, and the same numbers as the API.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>
#include <cstdio>
#include <fstream>

#include "tests/integration/agent_harness.hpp"
#include "tests/integration/exposition.hpp"

namespace hostprint::test {
namespace {

constexpr std::string_view text_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr std::string_view openmetrics_type =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";
// What Prometheus 2.x sends when scraping.
constexpr std::string_view prometheus_accept =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

Response scrape(const Agent& agent, std::string extra_headers = {}, std::string_view method = "GET",
                std::string_view target = "/metrics") {
  Connection c(agent);
  c.send(get_request(target, std::nullopt, method, std::move(extra_headers)));
  return c.read(method == "HEAD");
}

std::string bearer(const Agent& agent) {
  return "Authorization: Bearer " + agent.token() + "\r\n";
}

boost::json::object api(const Agent& agent, std::string_view target) {
  auto r = fetch(agent, target);
  EXPECT_EQ(r.result_int(), 200u) << target << " " << r.body();
  return boost::json::parse(r.body()).as_object();
}

class MetricsHttp : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    AgentOptions options;
    options.config = R"({"host_id": "metrics-host", "enterprise_project_id": "ep-\"7\""})";
    agent_ = new Agent(options);
  }
  void SetUp() override { ASSERT_TRUE(agent_->ready()) << agent_->log_text(); }
  static void TearDownTestSuite() {
    delete agent_;
    agent_ = nullptr;
  }
  static Agent* agent_;
  const Agent& agent() { return *agent_; }
};
Agent* MetricsHttp::agent_ = nullptr;

TEST_F(MetricsHttp, TheTokenIsRequiredAsEitherHeader) {
  for (std::string headers : {std::string(), std::string("X-Auth-Token: wrong\r\n"),
                              std::string("Authorization: Bearer wrong\r\n"),
                              std::string("Authorization: Basic ") + agent().token() + "\r\n"}) {
    auto r = scrape(agent(), headers);
    EXPECT_EQ(r.result_int(), 401u) << headers;
    EXPECT_EQ(r[http::field::content_type], "application/json;charset=UTF-8");
    EXPECT_NE(r.body().find("HSS.0010"), std::string::npos) << r.body();
    EXPECT_EQ(r.body().find("hostprint_"), std::string::npos);
  }
  auto with_bearer = scrape(agent(), bearer(agent()));
  EXPECT_EQ(with_bearer.result_int(), 200u);
  EXPECT_EQ(with_bearer[http::field::content_type], text_type);
  auto with_header = scrape(agent(), "X-Auth-Token: " + agent().token() + "\r\n");
  EXPECT_EQ(with_header.result_int(), 200u);
  EXPECT_EQ(with_header.body(), with_bearer.body());
}

TEST_F(MetricsHttp, FormatsByAcceptHeader) {
  auto text = scrape(agent(), bearer(agent()));
  ASSERT_EQ(text.result_int(), 200u);
  EXPECT_EQ(text[http::field::content_type], text_type);
  EXPECT_EQ(text.body().find("# EOF"), std::string::npos);
  auto parsed = parse_exposition(text.body());
  EXPECT_EQ(parsed.samples.front().label("host_id"), "metrics-host");
  EXPECT_EQ(parsed.samples.front().label("enterprise_project_id"), "ep-\"7\"");

  auto open =
      scrape(agent(), bearer(agent()) + "Accept: " + std::string(prometheus_accept) + "\r\n");
  ASSERT_EQ(open.result_int(), 200u);
  EXPECT_EQ(open[http::field::content_type], openmetrics_type);
  EXPECT_TRUE(open.body().ends_with("# EOF\n"));
  EXPECT_TRUE(parse_exposition(open.body()).eof);

  auto plain = scrape(agent(), bearer(agent()) + "Accept: text/plain;version=0.0.4\r\n");
  EXPECT_EQ(plain[http::field::content_type], text_type);
  // Any query string is ignored.
  auto query = scrape(agent(), bearer(agent()), "GET", "/metrics?x=1&name[]=hostprint_apps");
  EXPECT_EQ(query.result_int(), 200u);
  EXPECT_EQ(query.body(), text.body());
}

TEST_F(MetricsHttp, HeadAnnouncesTheGetWithoutBodyAndOtherMethodsAre405) {
  for (std::string accept : {"", "Accept: application/openmetrics-text\r\n"}) {
    Connection c(agent());
    c.send(get_request("/metrics", std::nullopt, "HEAD", bearer(agent()) + accept));
    auto head = c.read(true);
    auto get = scrape(agent(), bearer(agent()) + accept);
    EXPECT_EQ(head.result_int(), 200u);
    EXPECT_TRUE(head.body().empty());
    EXPECT_EQ(head[http::field::content_length], std::to_string(get.body().size()));
    EXPECT_EQ(head[http::field::content_type], get[http::field::content_type]);
    c.send(get_request("/metrics", std::nullopt, "GET", bearer(agent()) + accept));
    EXPECT_EQ(c.read().body(), get.body());  // the connection goes on after the HEAD
  }
  for (auto method : {"POST", "PUT", "DELETE"}) {
    auto r = scrape(agent(), bearer(agent()), method);
    EXPECT_EQ(r.result_int(), 405u) << method;
    EXPECT_EQ(r[http::field::allow], "GET, HEAD");
  }
}

TEST_F(MetricsHttp, AScrapeNeverTriggersAScan) {
  const auto before = api(agent(), "/status").at("generation").as_int64();
  const auto first = scrape(agent(), bearer(agent())).body();
  for (int i = 0; i < 50; ++i) EXPECT_EQ(scrape(agent(), bearer(agent())).body(), first);
  EXPECT_EQ(api(agent(), "/status").at("generation").as_int64(), before);
}

// promtool reads the text format only; the OpenMetrics answer has the same series (unit test).
TEST_F(MetricsHttp, PromtoolFindsNothingToSay) {
  for (std::string accept : {"", "Accept: text/plain;version=0.0.4\r\n"}) {
    auto r = scrape(agent(), bearer(agent()) + accept);
    EXPECT_EQ(r[http::field::content_type], text_type);
    ASSERT_EQ(r.result_int(), 200u);
    TempDir dir;
    auto file = dir.write("metrics", r.body());
    auto result = run_program(
        {"/bin/sh", "-c", "exec /usr/bin/promtool check metrics < \"$0\"", file.string()});
    EXPECT_EQ(result.exit_code, 0) << accept << result.out << result.err;
    EXPECT_EQ(result.out, "") << accept;
    EXPECT_EQ(result.err, "") << accept;
  }
}

// The numbers through an independent path: the API's own answers of the same scan.
TEST_F(MetricsHttp, ValuesEqualTheApisAnswers) {
  const std::pair<const char*, const char*> counts[] = {
      {"hostprint_accounts", "account_num"},
      {"hostprint_ports", "port_num"},
      {"hostprint_running_processes", "process_num"},
      {"hostprint_apps", "app_num"},
      {"hostprint_auto_launches", "auto_launch_num"},
      {"hostprint_web_frameworks", "web_framework_num"},
      {"hostprint_web_sites", "web_site_num"},
      {"hostprint_jar_packages", "jar_package_num"},
      {"hostprint_kernel_modules", "kernel_module_num"},
      {"hostprint_web_services", "web_service_num"},
      {"hostprint_web_apps", "web_app_num"},
      {"hostprint_databases", "database_num"},
  };
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto metrics = parse_exposition(scrape(agent(), bearer(agent())).body());
    std::map<std::string, boost::json::object> stats, processes;
    for (auto category : {"host", "container"}) {
      stats[category] = api(agent(), std::string("/v5/p1/asset/statistics?category=") + category);
      processes[category] = api(
          agent(), std::string("/v5/p1/asset/process/statistics?limit=200&category=") + category);
    }
    auto rasp = api(agent(), "/v5/p1/rasp/statistics");
    auto after = parse_exposition(scrape(agent(), bearer(agent())).body());
    // A background scan in between: the answers may be of two scans, so ask again.
    if (after.value("hostprint_scan_timestamp_seconds", {}) !=
        metrics.value("hostprint_scan_timestamp_seconds", {}))
      continue;
    for (auto category : {"host", "container"}) {
      for (auto [family, key] : counts)
        EXPECT_EQ(metrics.value(family, {{"category", category}}),
                  double(stats[category].at(key).as_int64()))
            << family << " " << category;
      const auto& list = processes[category].at("data_list").as_array();
      const auto total = processes[category].at("total_num").as_int64();
      std::vector<std::pair<std::string, double>> from_metrics, from_api;
      for (const auto& s : metrics.samples)
        if (s.name == "hostprint_processes" && s.label("category") == category)
          from_metrics.emplace_back(s.label("path"), s.value);
      for (const auto& e : list)
        from_api.emplace_back(std::string(e.at("path").as_string()),
                              double(e.at("num").as_int64()));
      EXPECT_EQ(double(from_metrics.size()) +
                    metrics.value("hostprint_process_paths_dropped", {{"category", category}}),
                double(total));
      from_metrics.resize(std::min(from_metrics.size(), from_api.size()));
      EXPECT_EQ(from_metrics, from_api) << category;
    }
    EXPECT_GT(metrics.value("hostprint_running_processes", {{"category", "host"}}), 0);
    EXPECT_EQ(metrics.value("hostprint_rasp_protected", {}),
              double(rasp.at("protect_host_num").as_int64()));
    EXPECT_EQ(metrics.value("hostprint_rasp_blocked_attacks", {}),
              double(rasp.at("anti_tampering_num").as_int64()));
    auto status = api(agent(), "/status");
    for (const auto& c : status.at("collectors").as_array()) {
      const std::string name(c.at("name").as_string());
      EXPECT_EQ(metrics.value("hostprint_collector_items", {{"collector", name}}),
                double(c.at("item_count").to_number<std::int64_t>()))
          << name;
      EXPECT_EQ(metrics.value("hostprint_collector_success", {{"collector", name}}),
                c.at("complete").as_bool() ? 1 : 0)
          << name;
    }
    return;
  }
  FAIL() << "a scan ran between every pair of scrapes";
}

// A real Prometheus scrapes with its own Accept header (OpenMetrics first) and a Bearer token
// from credentials_file: the answer must be one it takes whole.
TEST_F(MetricsHttp, PrometheusScrapesItWhole) {
  TempDir dir;
  const auto port = free_port();
  auto config = dir.write("prometheus.yml",
                          "global: {scrape_interval: 1s}\n"
                          "scrape_configs:\n"
                          "  - job_name: hostprint\n"
                          "    authorization: {credentials_file: " +
                              agent().token_file().string() +
                              "}\n"
                              "    static_configs: [{targets: ['127.0.0.1:" +
                              std::to_string(agent().port()) + "']}]\n");
  const std::vector<std::string> argv{"/usr/bin/prometheus", "--config.file=" + config.string(),
                                      "--storage.tsdb.path=" + (dir.path() / "tsdb").string(),
                                      "--web.listen-address=127.0.0.1:" + std::to_string(port)};
  const auto log = dir.path() / "prometheus.log";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    FILE* e = std::freopen(log.c_str(), "w", stderr);
    (void)e;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  auto query = [&](const std::string& promql) -> std::string {
    try {
      Connection c("127.0.0.1", port);
      std::string target = "/api/v1/query?query=";
      for (unsigned char ch : promql) {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", ch);
        target += std::isalnum(ch) || ch == '_' ? std::string(1, char(ch)) : hex;
      }
      c.send(get_request(target, std::nullopt));
      auto result = boost::json::parse(c.read().body()).at("data").at("result").as_array();
      if (result.size() != 1) return {};
      return std::string(result[0].at("value").as_array()[1].as_string());
    } catch (const std::exception&) {
      return {};  // not up yet
    }
  };
  const auto expected = parse_exposition(scrape(agent(), bearer(agent())).body()).samples.size();
  std::string up, scraped, build;
  for (int i = 0; i < 300 && (up != "1" || build != "1"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    up = query("up");
    scraped = query("scrape_samples_scraped");
    build = query(
        "hostprint_build_info{host_id=\"metrics-host\",enterprise_project_id=\"ep-\\\"7\\\"\"}");
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  std::ifstream in(log);
  const std::string prometheus_log(std::istreambuf_iterator<char>(in), {});
  EXPECT_EQ(up, "1") << prometheus_log;
  EXPECT_EQ(build, "1") << prometheus_log;
  // Unless a rescan changed the number of series meanwhile, every sample was taken.
  const auto after = parse_exposition(scrape(agent(), bearer(agent())).body()).samples.size();
  if (after == expected) {
    EXPECT_EQ(scraped, std::to_string(expected));
  }
}

TEST(MetricsReload, SighupTakesNewLabelsAndLimitsIntoEffect) {
  AgentOptions options;
  options.config = R"({"host_id": "before", "scan_interval_s": 3600})";
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  auto first = parse_exposition(scrape(agent, bearer(agent)).body());
  EXPECT_EQ(first.samples.front().label("host_id"), "before");
  EXPECT_GT(first.count("hostprint_processes"), 0u);
  EXPECT_EQ(first.value("hostprint_scan_interval_seconds", {}), 3600);

  std::ofstream(agent.dir().path() / "hostprint.json")
      << R"({"host_id": "after", "enterprise_project_id": "ep-2", "scan_interval_s": 600,
             "metrics": {"max_process_paths": 0}})";
  ::kill(agent.pid(), SIGHUP);
  Exposition now;
  for (int i = 0; i < 600; ++i) {
    now = parse_exposition(scrape(agent, bearer(agent)).body());
    if (now.samples.front().label("host_id") == "after") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(now.samples.front().label("host_id"), "after") << agent.log_text();
  EXPECT_EQ(now.samples.front().label("enterprise_project_id"), "ep-2");
  EXPECT_EQ(now.count("hostprint_processes"), 0u);
  EXPECT_GT(now.value("hostprint_process_paths_dropped", {{"category", "host"}}), 0);
  EXPECT_EQ(now.value("hostprint_scan_interval_seconds", {}), 600);
}

TEST(MetricsQuery, QueryPrintsTheExposition) {
  TempDir dir;
  auto config = dir.write("hostprint.json", R"({"host_id": "queried"})");
  auto result = run_program({hostprint_binary(), "query", "--config", config.string(),
                             "--state-dir", (dir.path() / "state").string(), "/metrics"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.err.find("200"), std::string::npos) << result.err;
  // query prints the body, then one newline of its own (cli.md).
  ASSERT_TRUE(result.out.ends_with("\n\n"));
  auto e = parse_exposition(result.out.substr(0, result.out.size() - 1));
  EXPECT_EQ(e.samples.front().label("host_id"), "queried");
  EXPECT_GT(e.value("hostprint_running_processes", {{"category", "host"}}), 0);
}

}  // namespace
}  // namespace hostprint::test
