// `hostprint fleet` end to end: three real agents, each in a PID namespace of its own with other
// processes running, serving HTTPS; a real engine scraping them; every fleet answer checked
// against what the agents' own API answers add up to.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <set>

#include "proto/wire.hpp"
#include "tests/integration/engine_harness.hpp"
#include "tests/integration/tls_harness.hpp"
#include "tests/rasp_fixtures.hpp"

namespace hostprint::test {
namespace {

namespace json = boost::json;

// In the order of proto::AssetStatistics's members.
constexpr std::array<const char*, 12> count_keys{
    "account_num",       "port_num",          "process_num",  "app_num",
    "auto_launch_num",   "web_framework_num", "web_site_num", "jar_package_num",
    "kernel_module_num", "web_service_num",   "web_app_num",  "database_num"};

// What one agent's own API answers.
struct AgentTruth {
  std::string host_id, eps;
  std::map<std::string, std::array<std::int64_t, 12>> counts;            // by category
  std::map<std::string, std::map<std::string, std::int64_t>> processes;  // category -> path -> n
  std::int64_t protect_host_num = 0, anti_tampering_num = 0;
};

const std::string project = "/v5/p1";

std::string url_encode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      char hex[4];
      std::snprintf(hex, sizeof hex, "%%%02X", c);
      out += hex;
    }
  }
  return out;
}

bool selected(const AgentTruth& a, const std::optional<std::string>& host_id,
              const std::optional<std::string>& eps) {
  return (!host_id || *host_id == a.host_id) &&
         (!eps || *eps == "all_granted_eps" || *eps == a.eps);
}

std::string expected_assets(const std::vector<AgentTruth>& agents, const std::string& category,
                            std::optional<std::string> host_id = {},
                            std::optional<std::string> eps = {}) {
  std::array<std::int64_t, 12> sum{};
  for (const auto& a : agents)
    if (selected(a, host_id, eps))
      for (std::size_t i = 0; i < 12; ++i) sum[i] += a.counts.at(category)[i];
  proto::AssetStatistics s{sum[0], sum[1], sum[2], sum[3], sum[4],  sum[5],
                           sum[6], sum[7], sum[8], sum[9], sum[10], sum[11]};
  return proto::to_json(s);
}

// num = how many agents report the path; ordered by num descending, then path by bytes.
std::string expected_processes(const std::vector<AgentTruth>& agents, const std::string& category,
                               std::optional<std::string> path = {},
                               std::optional<std::string> eps = {}, std::size_t limit = 10,
                               std::size_t offset = 0) {
  std::map<std::string, std::int64_t> hosts_per_path;
  for (const auto& a : agents) {
    if (!selected(a, std::nullopt, eps)) continue;
    for (const auto& [p, n] : a.processes.at(category))
      if (n > 0 && (!path || p.find(*path) != std::string::npos)) ++hosts_per_path[p];
  }
  std::vector<std::pair<std::string, std::int64_t>> order(hosts_per_path.begin(),
                                                          hosts_per_path.end());
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& x, const auto& y) { return x.second > y.second; });
  proto::ProcessStatistics s;
  s.total_num = static_cast<std::int64_t>(order.size());
  for (std::size_t i = offset; i < order.size() && s.data_list.size() < limit; ++i)
    s.data_list.push_back({order[i].first, order[i].second});
  return proto::to_json(s);
}

// The fleet counts the blocked attacks of protected hosts only (fleet.md), while an agent reports
// its blocked attacks whether or not it is protected now.
std::string expected_rasp(const std::vector<AgentTruth>& agents,
                          std::optional<std::string> eps = {}) {
  proto::RaspStatistics s;
  for (const auto& a : agents)
    if (selected(a, std::nullopt, eps) && a.protect_host_num == 1) {
      ++s.protect_host_num;
      s.anti_tampering_num += a.anti_tampering_num;
    }
  return proto::to_json(s);
}

// Engine query API: the set of host_id label values `promql` returns.
std::set<std::string> engine_host_ids(unsigned short port, const std::string& promql) {
  std::set<std::string> out;
  auto r = http_request(port, "GET", "/api/v1/query?query=" + url_encode(promql));
  if (!r || r->result_int() != 200) return out;
  boost::system::error_code ec;
  auto v = json::parse(r->body(), ec);
  if (ec || !v.is_object()) return out;
  const auto* result = v.as_object().if_contains("data");
  if (!result || !result->is_object() || !result->as_object().if_contains("result")) return out;
  for (const auto& s : result->as_object().at("result").as_array())
    if (const auto* h = s.as_object().at("metric").as_object().if_contains("host_id"))
      out.insert(std::string(h->as_string()));
  return out;
}

// Each agent scraped by its own job: HTTPS verified against the test's CA, its token as bearer.
std::string scrape_jobs(const std::vector<std::unique_ptr<NamespacedAgent>>& agents,
                        const std::filesystem::path& ca) {
  std::string yaml;
  for (std::size_t i = 0; i < agents.size(); ++i)
    yaml += "  - job_name: agent-" + std::to_string(i + 1) +
            "\n    scrape_interval: 1s\n    scheme: https\n    tls_config:\n      ca_file: '" +
            ca.string() + "'\n    authorization:\n      credentials_file: '" +
            agents[i]->token_file().string() + "'\n    static_configs:\n      - targets: ['" +
            agents[i]->address() + "']\n";
  return yaml;
}

class FleetEndToEnd : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    try {
      pki_ = std::make_unique<Pki>();
      shared_ = std::make_unique<TempDir>();
      setup_error_ = start_agents();
    } catch (const std::exception& e) {
      setup_error_ = e.what();
    }
  }
  static void TearDownTestSuite() {
    agents_.clear();  // kills each namespace
    // The killed processes leave their cgroups as they are reaped.
    for (const auto& group : cgroups_) {
      auto until = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (::rmdir(group.c_str()) != 0 && errno == EBUSY &&
             std::chrono::steady_clock::now() < until)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!cgroups_.empty()) ::rmdir(cgroups_.front().parent_path().c_str());  // if now empty
    cgroups_.clear();
    truths_.clear();
    shared_.reset();
    pki_.reset();
  }
  void SetUp() override { ASSERT_EQ(setup_error_, ""); }

  static std::string start_agents();
  static Response agent_get(const NamespacedAgent& a, const std::string& target) {
    return tls_fetch(a.port(), pki_->ca(), target, a.token());
  }
  static std::string fleet_config() {
    return R"({"project_id": "p1", "fleet": {"query_timeout_s": 2, "cache_ms": 0, "max_stale_ms": 0},)"
           R"( "tls": {"cert_file": ")" +
           pki_->cert("fleet").string() + R"(", "key_file": ")" + pki_->key("fleet").string() +
           R"("}})";
  }
  static void wait_for_every_host(unsigned short engine_port);
  static void expect_fleet_adds_up(const FleetProcess& fleet);
  static void expect_engine_gone_is_503(const FleetProcess& fleet, ChildProcess& engine);

  static std::unique_ptr<Pki> pki_;
  static std::unique_ptr<TempDir> shared_;
  static std::vector<std::unique_ptr<NamespacedAgent>> agents_;
  static std::vector<AgentTruth> truths_;
  static std::vector<std::filesystem::path> cgroups_;
  static std::string setup_error_;
};

std::unique_ptr<Pki> FleetEndToEnd::pki_;
std::unique_ptr<TempDir> FleetEndToEnd::shared_;
std::vector<std::unique_ptr<NamespacedAgent>> FleetEndToEnd::agents_;
std::vector<AgentTruth> FleetEndToEnd::truths_;
std::vector<std::filesystem::path> FleetEndToEnd::cgroups_;
std::string FleetEndToEnd::setup_error_;

std::string passwd(int accounts) {
  std::string out = "root:x:0:0:root:/root:/bin/bash\n";
  for (int i = 1; i < accounts; ++i)
    out += "user" + std::to_string(i) + ":x:" + std::to_string(1000 + i) + ":" +
           std::to_string(1000 + i) + "::/home/u" + std::to_string(i) + ":/bin/sh\n";
  return out;
}

std::string alarm_log(const std::string& prefix, int blocked) {
  std::string out = alarm_line(prefix + "-logged", 60, "log");
  for (int i = 0; i < blocked; ++i) out += alarm_line(prefix + std::to_string(i), 60 + i);
  return out;
}

std::string FleetEndToEnd::start_agents() {
  const auto& dir = shared_->path();
  // A PHP host with OpenRASP's extension mapped protects its host: a copy of `sleep` named php,
  // with a harmless library preloaded under the extension's file name.
  std::filesystem::copy_file("/usr/bin/sleep", dir / "php");
  std::filesystem::permissions(dir / "php", std::filesystem::perms::owner_all);
  std::filesystem::path libz;
  for (const auto& e : std::filesystem::directory_iterator("/usr/lib"))
    if (std::filesystem::exists(e.path() / "libz.so.1")) libz = e.path() / "libz.so.1";
  if (libz.empty()) return "no libz.so.1 under /usr/lib/*/";
  std::filesystem::copy_file(libz, dir / "openrasp.so");
  if (::mkfifo((dir / "fifo").c_str(), 0600) != 0) return "mkfifo failed";
  const std::string php =
      "LD_PRELOAD='" + (dir / "openrasp.so").string() + "' '" + (dir / "php").string() + "' 3600";
  const std::string cat = "cat '" + (dir / "fifo").string() + "'";  // blocks opening the fifo
  struct Plan {
    std::string host_id, eps;
    int accounts, sleeps, blocked, container_sleeps;
    std::vector<std::string> more;
  };
  const std::vector<Plan> plans{
      {"e2e-host-1", "ep-1", 3, 3, 3, 1, {cat, php}},
      {"e2e-host-2", "ep-1", 6, 2, 2, 0, {}},  // attacks logged, but no RASP agent loaded
      {"e2e-host-3", "ep-2", 9, 5, 4, 2, {"tail -f /dev/null", php}},
  };
  for (std::size_t i = 0; i < plans.size(); ++i) {
    const auto& plan = plans[i];
    const std::string name = "agent-" + std::to_string(i + 1);
    pki_->issue(name, static_cast<int>(100 + i));
    NamespacedAgentOptions o;
    o.background.assign(static_cast<std::size_t>(plan.sleeps), "sleep 3600");
    o.background.insert(o.background.end(), plan.more.begin(), plan.more.end());
    // Sleepers in a cgroup named like a Docker container's are that container's processes.
    if (plan.container_sleeps > 0 && std::filesystem::exists("/sys/fs/cgroup/pids/cgroup.procs")) {
      char id[65];
      std::snprintf(id, sizeof id, "%056x%08x", 0xe2eu,
                    static_cast<unsigned>(::getpid()) * 4 + static_cast<unsigned>(i));
      cgroups_.push_back(std::filesystem::path("/sys/fs/cgroup/pids/docker") / id);
      std::filesystem::create_directories(cgroups_.back());
      for (int k = 0; k < plan.container_sleeps; ++k)
        o.background.push_back("sh -c 'echo $$ > " + (cgroups_.back() / "cgroup.procs").string() +
                               " && exec sleep 3600'");
    }
    o.token = "token-of-" + name;
    o.root_files = {{"etc/passwd", passwd(plan.accounts)},
                    {"etc/group", "root:x:0:\nusers:x:100:\n"},
                    {"etc/hostname", name + "\n"},
                    {"var/log/rasp/alarm.log", alarm_log(name, plan.blocked)}};
    o.config = R"({"project_id": "p1", "host_id": ")" + plan.host_id +
               R"(", "enterprise_project_id": ")" + plan.eps +
               R"(", "scan_interval_s": 86400, "rasp": {"alarm_logs": ["/var/log/rasp/*.log"]},)"
               R"( "tls": {"cert_file": ")" +
               pki_->cert(name).string() + R"(", "key_file": ")" + pki_->key(name).string() +
               R"("}})";
    agents_.push_back(std::make_unique<NamespacedAgent>(o));
    if (!agents_.back()->ready()) return name + " did not start: " + agents_.back()->log_text();
  }
  pki_->issue("fleet", 200);

  // What each agent answers itself (its one scan: the interval is a day).
  for (std::size_t i = 0; i < agents_.size(); ++i) {
    AgentTruth t;
    t.host_id = plans[i].host_id;
    t.eps = plans[i].eps;
    for (std::string category : {"host", "container"}) {
      auto r = agent_get(*agents_[i], project + "/asset/statistics?category=" + category);
      if (r.result_int() != 200) return "asset/statistics: " + r.body();
      const auto o = json::parse(r.body()).as_object();
      if (o.size() != 12) return "asset/statistics: " + r.body();
      for (std::size_t k = 0; k < 12; ++k) t.counts[category][k] = o.at(count_keys[k]).as_int64();
      auto p = agent_get(*agents_[i],
                         project + "/asset/process/statistics?limit=200&category=" + category);
      if (p.result_int() != 200) return "process/statistics: " + p.body();
      const auto po = json::parse(p.body()).as_object();
      if (po.at("total_num").as_int64() > 200) return "more than 200 paths: " + p.body();
      auto& paths = t.processes[category];
      for (const auto& e : po.at("data_list").as_array())
        paths[std::string(e.at("path").as_string())] = e.at("num").as_int64();
    }
    auto r = agent_get(*agents_[i], project + "/rasp/statistics");
    if (r.result_int() != 200) return "rasp/statistics: " + r.body();
    const auto o = json::parse(r.body()).as_object();
    t.protect_host_num = o.at("protect_host_num").as_int64();
    t.anti_tampering_num = o.at("anti_tampering_num").as_int64();
    truths_.push_back(std::move(t));
  }
  return "";
}

// Polls the engine until every agent's scan timestamp is stored.
void FleetEndToEnd::wait_for_every_host(unsigned short engine_port) {
  std::set<std::string> want;
  for (const auto& t : truths_) want.insert(t.host_id);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  std::set<std::string> got;
  while (std::chrono::steady_clock::now() < deadline) {
    got = engine_host_ids(engine_port, "hostprint_scan_timestamp_seconds");
    if (got == want) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ADD_FAILURE() << "the engine holds the scan timestamps of " << got.size() << " of " << want.size()
                << " agents";
}

void FleetEndToEnd::expect_fleet_adds_up(const FleetProcess& fleet) {
  auto get = [&](const std::string& target) {
    return tls_fetch(fleet.port(), pki_->ca(), target, fleet.token());
  };
  auto body = [&](const std::string& target) {
    auto r = get(target);
    EXPECT_EQ(r.result_int(), 200) << target << ": " << r.body();
    return r.body();
  };
  const std::string a = project + "/asset/statistics", p = project + "/asset/process/statistics",
                    r = project + "/rasp/statistics";
  const auto& all = truths_;
  // A series the engine has just met may take a moment to become searchable (VictoriaMetrics):
  // wait for the full answers once, then everything must hold.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (std::chrono::steady_clock::now() < deadline &&
         (get(a).body() != expected_assets(all, "host") ||
          get(p + "?limit=200").body() != expected_processes(all, "host", {}, {}, 200) ||
          get(r).body() != expected_rasp(all)))
    std::this_thread::sleep_for(std::chrono::milliseconds(250));

  for (std::string category : {"host", "container"}) {
    const std::string c = "?category=" + category;
    EXPECT_EQ(body(a + c), expected_assets(all, category)) << category;
    EXPECT_EQ(body(a + c + "&enterprise_project_id=ep-1"),
              expected_assets(all, category, {}, "ep-1"));
    EXPECT_EQ(body(a + c + "&enterprise_project_id=ep-2"),
              expected_assets(all, category, {}, "ep-2"));
    EXPECT_EQ(body(a + c + "&enterprise_project_id=all_granted_eps"),
              expected_assets(all, category));
    EXPECT_EQ(body(a + c + "&enterprise_project_id=ep-9"), expected_assets({}, category));
    for (const auto& t : all) {
      EXPECT_EQ(body(a + c + "&host_id=" + t.host_id), expected_assets(all, category, t.host_id))
          << t.host_id;
      EXPECT_EQ(body(a + c + "&host_id=" + t.host_id + "&enterprise_project_id=" + t.eps),
                expected_assets(all, category, t.host_id));
    }
    EXPECT_EQ(body(a + c + "&host_id=e2e-host-1&enterprise_project_id=ep-2"),
              expected_assets({}, category));
    EXPECT_EQ(body(a + c + "&host_id=e2e-host"), expected_assets({}, category));

    EXPECT_EQ(body(p + c + "&limit=200"), expected_processes(all, category, {}, {}, 200));
    EXPECT_EQ(body(p + c), expected_processes(all, category));
  }
  // Paths, order and paging over the three hosts' processes.
  for (const std::string path : {"sleep", "/usr/bin/", "php", "hostprint", "SLEEP", "no-such"})
    EXPECT_EQ(body(p + "?limit=200&path=" + url_encode(path)),
              expected_processes(all, "host", path, {}, 200))
        << path;
  for (auto [limit, offset] : std::vector<std::pair<int, int>>{
           {1, 0}, {1, 1}, {2, 1}, {2, 3}, {3, 2}, {200, 4}, {10, 100}})
    EXPECT_EQ(body(p + "?limit=" + std::to_string(limit) + "&offset=" + std::to_string(offset)),
              expected_processes(all, "host", {}, {}, static_cast<std::size_t>(limit),
                                 static_cast<std::size_t>(offset)))
        << limit << " " << offset;
  for (const std::string eps : {"ep-1", "ep-2", "all_granted_eps", "ep-9"})
    EXPECT_EQ(body(p + "?limit=200&enterprise_project_id=" + eps),
              expected_processes(all, "host", {}, eps, 200))
        << eps;
  EXPECT_EQ(body(p + "?limit=200&path=sleep&enterprise_project_id=ep-1"),
            expected_processes(all, "host", "sleep", "ep-1", 200));
  for (const std::string eps : {"ep-1", "ep-2", "all_granted_eps", "ep-9"})
    EXPECT_EQ(body(r + "?enterprise_project_id=" + eps), expected_rasp(all, eps)) << eps;
  EXPECT_EQ(body(r), expected_rasp(all));
}

// A hung engine: 503 once the query timeout (2 s) is over; a dead one: 503 at once.
void FleetEndToEnd::expect_engine_gone_is_503(const FleetProcess& fleet, ChildProcess& engine) {
  const std::string unavailable =
      R"({"error_code":"HSS.0002","error_msg":"service unavailable",)"
      R"("error_description":"the metrics engine could not be queried; the reason is in the log"})";
  ::kill(engine.pid(), SIGSTOP);
  auto start = std::chrono::steady_clock::now();
  auto r = tls_fetch(fleet.port(), pki_->ca(), project + "/asset/statistics", fleet.token());
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_EQ(r.body(), unavailable);
  EXPECT_GE(took, std::chrono::milliseconds(1900));
  EXPECT_LT(took, std::chrono::milliseconds(3000));
  engine.stop(SIGKILL);
  for (const std::string target : {"/asset/statistics", "/asset/process/statistics?limit=200",
                                   "/rasp/statistics?enterprise_project_id=ep-1"}) {
    start = std::chrono::steady_clock::now();
    r = tls_fetch(fleet.port(), pki_->ca(), project + target, fleet.token());
    EXPECT_EQ(r.result_int(), 503) << target;
    EXPECT_EQ(r.body(), unavailable) << target;
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(2500)) << target;
  }
  EXPECT_NE(fleet.log_text().find("engine query failed"), std::string::npos) << fleet.log_text();
}

// The namespaces hold what they were given, so the sums below mean something.
TEST_F(FleetEndToEnd, AgentsReportTheirOwnNamespaces) {
  ASSERT_EQ(truths_.size(), 3u);
  const std::array<std::int64_t, 3> sleeps{3, 2, 5}, accounts{3, 6, 9};
  for (std::size_t i = 0; i < 3; ++i) {
    const auto& t = truths_[i];
    EXPECT_EQ(t.processes.at("host").at("/usr/bin/sleep"), sleeps[i]) << t.host_id;
    EXPECT_EQ(t.counts.at("host")[0], accounts[i]) << t.host_id;
  }
  EXPECT_EQ(truths_[0].processes.at("host").count("/usr/bin/cat"), 1u);
  EXPECT_EQ(truths_[2].processes.at("host").count("/usr/bin/tail"), 1u);
  EXPECT_EQ(truths_[1].processes.at("host").size(), 2u);  // sleep and hostprint itself
  if (!cgroups_.empty()) {
    EXPECT_EQ(truths_[0].processes.at("container").at("/usr/bin/sleep"), 1);
    EXPECT_EQ(truths_[1].processes.at("container").size(), 0u);
    EXPECT_EQ(truths_[2].processes.at("container").at("/usr/bin/sleep"), 2);
    EXPECT_EQ(truths_[2].counts.at("container")[2], 2);  // process_num
  }
  EXPECT_EQ(truths_[0].protect_host_num, 1);
  EXPECT_EQ(truths_[1].protect_host_num, 0);
  EXPECT_EQ(truths_[2].protect_host_num, 1);
  EXPECT_EQ(truths_[0].anti_tampering_num, 3);
  EXPECT_EQ(truths_[1].anti_tampering_num, 2);
  EXPECT_EQ(truths_[2].anti_tampering_num, 4);
  // Every agent's exposition passes promtool's checks.
  for (const auto& agent : agents_) {
    auto m = agent_get(*agent, "/metrics");
    ASSERT_EQ(m.result_int(), 200);
    auto file = shared_->write("metrics-" + std::to_string(agent->port()), m.body());
    auto check = run_program({"sh", "-c", "promtool check metrics < '" + file.string() + "'"});
    EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  }
}

TEST_F(FleetEndToEnd, PrometheusScrapingTheAgentsAddsUp) {
  Prometheus prometheus(ScrapeConfigs{scrape_jobs(agents_, pki_->ca())});
  ASSERT_TRUE(prometheus.ready()) << prometheus.log_text();
  wait_for_every_host(prometheus.port());
  FleetProcess fleet(prometheus.url(), fleet_config());
  ASSERT_TRUE(fleet.ready()) << fleet.log_text();
  expect_fleet_adds_up(fleet);
  expect_engine_gone_is_503(fleet, prometheus.process());
}

TEST_F(FleetEndToEnd, VictoriaMetricsScrapingTheAgentsAddsUp) {
  auto config =
      shared_->write("vm-scrape.yml", "scrape_configs:\n" + scrape_jobs(agents_, pki_->ca()));
  VictoriaMetrics vm({"-promscrape.config=" + config.string()});
  ASSERT_TRUE(vm.ready()) << vm.log_text();
  wait_for_every_host(vm.port());
  FleetProcess fleet(vm.url(), fleet_config());
  ASSERT_TRUE(fleet.ready()) << fleet.log_text();
  expect_fleet_adds_up(fleet);
  expect_engine_gone_is_503(fleet, vm.process());
}

}  // namespace
}  // namespace hostprint::test
