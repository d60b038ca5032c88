// `hostprint fleet` against real engines: every answer equals what the simulated hosts add up to.
#include <gtest/gtest.h>

#include <algorithm>

#include "proto/wire.hpp"
#include "tests/integration/engine_harness.hpp"

namespace hostprint::test {
namespace {

const std::string hostile_path = R"(/tmp/x"} or vector(1) or {a=")";

std::vector<SimHost> three_hosts() {
  SimHost a;
  a.host_id = "h-alpha";
  a.enterprise_project_id = "0";
  a.counts["host"] = {20, 3, 71, 800, 12, 1, 2, 3, 40, 1, 2, 1};
  a.counts["container"] = {5, 1, 10, 30, 0, 0, 0, 0, 0, 0, 0, 0};
  a.processes["host"] = {{"/usr/sbin/sshd", 1},
                         {"/usr/bin/bash", 4},
                         {"/usr/sbin/nginx", 3},
                         {"/opt/caf\xc3\xa9/bin/app", 1}};
  a.processes["container"] = {{"/usr/bin/python3", 2}};
  a.rasp_protected = 1;
  a.rasp_blocked = 4;
  SimHost b;
  b.host_id = "h-beta";
  b.enterprise_project_id = "eps-2";
  b.counts["host"] = {7, 5, 130, 400, 9, 0, 1, 0, 60, 0, 0, 2};
  b.counts["container"] = {2, 0, 4, 11, 0, 0, 0, 0, 0, 0, 0, 0};
  b.processes["host"] = {{"/usr/sbin/sshd", 2},
                         {"/usr/bin/bash", 1},
                         {"/usr/lib/jvm/bin/java", 1},
                         {hostile_path, 1}};
  b.processes["container"] = {{"/usr/bin/python3", 1}, {"/usr/local/bin/node", 3}};
  b.rasp_protected = 1;
  b.rasp_blocked = 2;
  SimHost c;
  c.host_id = "h-gamma";
  c.enterprise_project_id = "0";
  c.counts["host"] = {30, 2, 55, 600, 10, 0, 0, 1, 50, 1, 0, 0};
  c.counts["container"] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  c.processes["host"] = {{"/usr/sbin/sshd", 1}, {"/usr/bin/bash", 1}};
  c.rasp_protected = 0;
  c.rasp_blocked = 9;  // not protected: its attacks are not counted
  return {a, b, c};
}

bool selected(const SimHost& h, const std::optional<std::string>& host_id,
              const std::optional<std::string>& eps) {
  return (!host_id || *host_id == h.host_id) &&
         (!eps || *eps == "all_granted_eps" || *eps == h.enterprise_project_id);
}

std::string expected_assets(const std::vector<SimHost>& hosts, const std::string& category,
                            std::optional<std::string> host_id = {},
                            std::optional<std::string> eps = {}) {
  std::array<std::int64_t, 12> sum{};
  for (const auto& h : hosts)
    if (selected(h, host_id, eps) && h.counts.count(category))
      for (std::size_t i = 0; i < 12; ++i) sum[i] += h.counts.at(category)[i];
  proto::AssetStatistics s{sum[0], sum[1], sum[2], sum[3], sum[4],  sum[5],
                           sum[6], sum[7], sum[8], sum[9], sum[10], sum[11]};
  return proto::to_json(s);
}

std::string expected_processes(const std::vector<SimHost>& hosts, const std::string& category,
                               std::optional<std::string> path = {},
                               std::optional<std::string> eps = {}, std::size_t limit = 10,
                               std::size_t offset = 0) {
  std::map<std::string, std::int64_t> hosts_per_path;
  for (const auto& h : hosts) {
    if (!selected(h, std::nullopt, eps) || !h.processes.count(category)) continue;
    for (const auto& [p, n] : h.processes.at(category))
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

std::string expected_rasp(const std::vector<SimHost>& hosts, std::optional<std::string> eps = {}) {
  proto::RaspStatistics s;
  for (const auto& h : hosts)
    if (selected(h, std::nullopt, eps) && h.rasp_protected == 1) {
      ++s.protect_host_num;
      s.anti_tampering_num += h.rasp_blocked;
    }
  return proto::to_json(s);
}

// Every endpoint, filter and page against what `hosts` add up to.
void expect_fleet_answers(const FleetProcess& fleet, const std::vector<SimHost>& hosts) {
  auto body = [&](const std::string& target) {
    auto r = fleet.get(target);
    EXPECT_EQ(r.result_int(), 200) << target << ": " << r.body();
    EXPECT_EQ(r[boost::beast::http::field::content_type], "application/json;charset=UTF-8");
    return r.body();
  };
  const std::string a = "/v5/p1/asset/statistics", p = "/v5/p1/asset/process/statistics",
                    r = "/v5/p1/rasp/statistics";
  EXPECT_EQ(body(a), expected_assets(hosts, "host"));
  EXPECT_EQ(body(a + "?category=container"), expected_assets(hosts, "container"));
  EXPECT_EQ(body(a + "?enterprise_project_id=0"), expected_assets(hosts, "host", {}, "0"));
  EXPECT_EQ(body(a + "?enterprise_project_id=eps-2&category=container"),
            expected_assets(hosts, "container", {}, "eps-2"));
  EXPECT_EQ(body(a + "?enterprise_project_id=all_granted_eps"), expected_assets(hosts, "host"));
  EXPECT_EQ(body(a + "?enterprise_project_id=eps"), expected_assets({}, "host"));
  EXPECT_EQ(body(a + "?host_id=h-beta"), expected_assets(hosts, "host", "h-beta"));
  EXPECT_EQ(body(a + "?host_id=h-beta&enterprise_project_id=0"), expected_assets({}, "host"));
  EXPECT_EQ(body(a + "?host_id=h-alpha&category=container"),
            expected_assets(hosts, "container", "h-alpha"));
  EXPECT_EQ(body(a + "?host_id=h-%22%7D%20or%20vector(1)"), expected_assets({}, "host"));

  EXPECT_EQ(body(p), expected_processes(hosts, "host"));
  EXPECT_EQ(body(p + "?limit=2&offset=1"), expected_processes(hosts, "host", {}, {}, 2, 1));
  EXPECT_EQ(body(p + "?offset=100"), expected_processes(hosts, "host", {}, {}, 10, 100));
  EXPECT_EQ(body(p + "?path=sbin"), expected_processes(hosts, "host", "sbin"));
  EXPECT_EQ(body(p + "?path=SBIN"), expected_processes(hosts, "host", "SBIN"));
  EXPECT_EQ(body(p + "?path=caf%C3%A9"), expected_processes(hosts, "host", "caf\xc3\xa9"));
  EXPECT_EQ(body(p + "?path=%22%7D%20or%20vector(1)"),
            expected_processes(hosts, "host", R"("} or vector(1))"));
  EXPECT_EQ(body(p + "?category=container"), expected_processes(hosts, "container"));
  EXPECT_EQ(body(p + "?enterprise_project_id=eps-2"),
            expected_processes(hosts, "host", {}, "eps-2"));

  EXPECT_EQ(body(r), expected_rasp(hosts));
  EXPECT_EQ(body(r + "?enterprise_project_id=0"), expected_rasp(hosts, "0"));
  EXPECT_EQ(body(r + "?enterprise_project_id=nope"), expected_rasp({}));
}

// The same validation and error answers as the agent's.
void expect_api_rules(const FleetProcess& fleet) {
  auto no_token = fleet.get("/v5/p1/asset/statistics", "");
  EXPECT_EQ(no_token.result_int(), 401);
  EXPECT_NE(no_token.body().find("HSS.0010"), std::string::npos);
  EXPECT_EQ(fleet.get("/v5/p1/asset/statistics", "wrong").result_int(), 401);
  auto bad = fleet.get("/v5/p1/asset/process/statistics?limit=0");
  EXPECT_EQ(bad.result_int(), 400);
  EXPECT_EQ(bad.body(),
            proto::to_json(proto::invalid_parameter("limit", "limit must be an integer from 1 to 200")));
  EXPECT_EQ(fleet.get("/v5/p1/asset/statistics?category=vm").result_int(), 400);
  EXPECT_EQ(fleet.get("/v5/p1/asset/statistics?host_id=a&host_id=b").result_int(), 400);
  EXPECT_EQ(fleet.get("/v5/p1/no/such").result_int(), 404);
  EXPECT_EQ(fleet.get("/status").result_int(), 404);
  Connection c("127.0.0.1", fleet.port());
  c.send(get_request("/v5/p1/rasp/statistics", fleet.token(), "DELETE"));
  auto r = c.read();
  EXPECT_EQ(r.result_int(), 405);
  EXPECT_EQ(r[boost::beast::http::field::allow], "GET, HEAD");
}

TEST(FleetVictoriaMetrics, AnswersAddUpOverTheHostsAndTheEngineGoneIs503) {
  VictoriaMetrics vm;
  ASSERT_TRUE(vm.ready()) << "victoria-metrics did not start";
  auto hosts = three_hosts();
  const double now = unix_now();
  std::string text;
  for (const auto& h : hosts) text += exposition(h, now);
  // h-alpha scraped a second time under another instance, with an older scan: not counted.
  SimHost old_alpha = hosts[0];
  old_alpha.extra_labels = "instance=\"old\"";
  old_alpha.scan_age_s = 300;
  old_alpha.counts["host"][0] = 1000;
  old_alpha.processes["host"]["/usr/bin/old-only"] = 1;
  old_alpha.rasp_blocked = 1000;
  text += exposition(old_alpha, now);
  // A host whose last scan is older than --max-age: not in the fleet.
  SimHost stale = hosts[2];
  stale.host_id = "h-stale";
  stale.scan_age_s = 5000;
  stale.rasp_protected = 1;
  text += exposition(stale, now);
  ASSERT_TRUE(vm.import(text));

  // max_stale_ms as cache_ms: no answer is served past its 2 s, so the hung engine shows at once.
  FleetProcess fleet(vm.url(), R"({"fleet": {"query_timeout_s": 2, "max_stale_ms": 2000}})");
  ASSERT_TRUE(fleet.ready()) << fleet.log_text();
  expect_fleet_answers(fleet, hosts);
  expect_api_rules(fleet);
  // The PromQL-looking filter matched the one path holding that text, literally.
  EXPECT_NE(fleet.get("/v5/p1/asset/process/statistics?path=%22%7D%20or%20vector(1)").body().find(
                "\"total_num\":1,"),
            std::string::npos);

  // A stopped engine still accepts connections but never answers: 503 within the timeout.
  ::kill(vm.process().pid(), SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // past the answers' hold
  auto start = std::chrono::steady_clock::now();
  auto r = fleet.get("/v5/p1/asset/statistics");
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.result_int(), 503);
  EXPECT_EQ(r.body(), R"({"error_code":"HSS.0002","error_msg":"service unavailable",)"
                      R"("error_description":"the metrics engine could not be queried; the reason is in the log"})");
  // At most the 2 s wait; sooner when the background refresh already hung that long.
  EXPECT_LT(took, std::chrono::milliseconds(3000));

  // The engine gone: connection refused, 503 at once, the reason in the log. Killed while still
  // stopped: resumed first, it would answer the background refreshes queued in it, and those
  // fresh answers would rightly be served.
  vm.process().stop(SIGKILL);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  start = std::chrono::steady_clock::now();
  EXPECT_EQ(fleet.get("/v5/p1/rasp/statistics").result_int(), 503);
  EXPECT_EQ(fleet.get("/v5/p1/asset/process/statistics").result_int(), 503);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1000));
  auto log = fleet.log_text();
  EXPECT_NE(log.find("engine query failed: no answer from"), std::string::npos) << log;
  EXPECT_NE(log.find("engine query failed: cannot connect to"), std::string::npos) << log;
  // Authentication still comes first.
  EXPECT_EQ(fleet.get("/v5/p1/asset/statistics", "").result_int(), 401);
  EXPECT_EQ(fleet.process().stop(SIGTERM), 0);
}

TEST(FleetVictoriaMetrics, StaleAnswersServeWhileRefreshedAndNeverPastMaxStale) {
  VictoriaMetrics vm;
  ASSERT_TRUE(vm.ready());
  auto hosts = three_hosts();
  std::string text;
  for (const auto& h : hosts) text += exposition(h, unix_now());
  ASSERT_TRUE(vm.import(text));
  FleetProcess fleet(vm.url(),
                     R"({"fleet": {"query_timeout_s": 1, "cache_ms": 200, "max_stale_ms": 2500}})");
  ASSERT_TRUE(fleet.ready()) << fleet.log_text();
  const std::string a = "/v5/p1/asset/statistics";
  EXPECT_EQ(fleet.get(a).body(), expected_assets(hosts, "host"));

  // New figures in the engine: the next request past cache_ms gets the old answer at once and
  // starts the refresh; the new figures follow without a request ever waiting on the engine.
  hosts[0].counts["host"][0] += 5;
  text.clear();
  for (const auto& h : hosts) text += exposition(h, unix_now());
  ASSERT_TRUE(vm.import(text));
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  bool refreshed = false;
  for (int i = 0; i < 30 && !refreshed; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto body = fleet.get(a).body();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(500));
    refreshed = body == expected_assets(hosts, "host");
    if (!refreshed) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(refreshed) << fleet.log_text();

  // The engine hung: the answer stays served, at once, while it is at most max_stale_ms old...
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  ::kill(vm.process().pid(), SIGSTOP);
  const auto stopped = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto r = fleet.get(a);
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(r.body(), expected_assets(hosts, "host"));
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(300));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // ...and past it, 503 after at most query_timeout_s, never the old count.
  std::this_thread::sleep_until(stopped + std::chrono::milliseconds(2700));
  auto start = std::chrono::steady_clock::now();
  auto r = fleet.get(a);
  EXPECT_EQ(r.result_int(), 503) << r.body();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));
  ::kill(vm.process().pid(), SIGCONT);
  // The engine back: answers again.
  bool back = false;
  for (int i = 0; i < 40 && !back; ++i) {
    back = fleet.get(a).result_int() == 200;
    if (!back) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(back) << fleet.log_text();
  EXPECT_EQ(fleet.process().stop(SIGTERM), 0);
}

TEST(FleetVictoriaMetrics, MaxAgeDecidesWhoIsInTheFleet) {
  VictoriaMetrics vm;
  ASSERT_TRUE(vm.ready());
  auto hosts = three_hosts();
  hosts[1].scan_age_s = 200;  // older than --max-age 100
  const double now = unix_now();
  std::string text;
  for (const auto& h : hosts) text += exposition(h, now);
  ASSERT_TRUE(vm.import(text));
  FleetProcess fleet(vm.url(), "{}", {"--max-age", "100"});
  ASSERT_TRUE(fleet.ready()) << fleet.log_text();
  expect_fleet_answers(fleet, {hosts[0], hosts[2]});
}

TEST(FleetCli, RefusesBadFlagsAndUrls) {
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"fleet"},
           {"fleet", "--prometheus", "https://127.0.0.1:9090"},
           {"fleet", "--prometheus", "127.0.0.1:9090"},
           {"fleet", "--prometheus", "http://127.0.0.1:9090", "--max-age", "5"},
           {"fleet", "--prometheus", "http://127.0.0.1:9090", "--root", "/"},
           {"fleet", "--prometheus", "http://127.0.0.1:9090", "extra"}}) {
    std::vector<std::string> argv{hostprint_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto r = run_program(argv, 30);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  auto help = run_program({hostprint_binary(), "fleet", "--help"}, 30);
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--prometheus URL"), std::string::npos);
}

TEST(FleetPrometheus, ScrapedHostsAddUp) {
  auto hosts = three_hosts();
  std::vector<std::unique_ptr<ExpositionServer>> servers;
  std::vector<std::string> targets;
  for (const auto& h : hosts) {
    servers.push_back(std::make_unique<ExpositionServer>(exposition(h, unix_now())));
    ASSERT_TRUE(servers.back()->ready());
    targets.push_back(servers.back()->address());
  }
  Prometheus prometheus(targets);
  ASSERT_TRUE(prometheus.ready()) << prometheus.log_text();
  // No stale answers: past the 2 s hold, every answer reflects what has been scraped by then.
  FleetProcess fleet(prometheus.url(), R"({"fleet": {"max_stale_ms": 2000}})");
  ASSERT_TRUE(fleet.ready()) << fleet.log_text();
  // Wait until every host has been scraped at least once.
  const std::string want = expected_rasp(hosts);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  std::string got;
  while (std::chrono::steady_clock::now() < deadline) {
    got = fleet.get("/v5/p1/asset/statistics").body();
    if (got == expected_assets(hosts, "host")) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  ASSERT_EQ(got, expected_assets(hosts, "host")) << fleet.log_text() << prometheus.log_text();
  std::this_thread::sleep_for(std::chrono::milliseconds(2100));  // past the answers' hold
  expect_fleet_answers(fleet, hosts);
  expect_api_rules(fleet);
}

}  // namespace
}  // namespace hostprint::test
