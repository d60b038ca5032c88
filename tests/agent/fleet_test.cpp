#include "agent/fleet.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "agent/cpu_affinity.hpp"
#include "proto/query.hpp"

namespace hostprint {
namespace {

PromSample sample(std::vector<std::pair<std::string, std::string>> labels, double value) {
  return {std::move(labels), value};
}

// The per-host form of counts_promql: (host_id, enterprise_project_id, __name__).
PromSample count(const std::string& host, const std::string& eps, const std::string& metric,
                 double value) {
  return sample({{"__name__", metric}, {"enterprise_project_id", eps}, {"host_id", host}}, value);
}

PromSample hosts_running(const std::string& eps, const std::string& path, double hosts) {
  return sample({{"enterprise_project_id", eps}, {"path", path}}, hosts);
}

proto::Query parsed(proto::Endpoint endpoint, std::string_view target) {
  auto q = proto::parse_query(endpoint, target);
  EXPECT_TRUE(std::holds_alternative<proto::Query>(q)) << target;
  return std::get<proto::Query>(q);
}

std::vector<PromSample> three_hosts_counts() {
  return {
      count("h1", "0", "hostprint_accounts", 20),     count("h1", "0", "hostprint_ports", 3),
      count("h1", "0", "hostprint_databases", 1),     count("h2", "eps-2", "hostprint_accounts", 7),
      count("h2", "eps-2", "hostprint_ports", 5),     count("h3", "0", "hostprint_accounts", 30),
      count("h3", "0", "hostprint_kernel_modules", 90),
  };
}

TEST(FleetAsset, SumsEveryCountOverTheHosts) {
  auto s = fleet_asset_statistics(three_hosts_counts(), {});
  EXPECT_EQ(s.account_num, 57);
  EXPECT_EQ(s.port_num, 8);
  EXPECT_EQ(s.database_num, 1);
  EXPECT_EQ(s.kernel_module_num, 90);
  EXPECT_EQ(s.process_num, 0);
  EXPECT_EQ(proto::to_json(s),
            R"({"account_num":57,"port_num":8,"process_num":0,"app_num":0,"auto_launch_num":0,)"
            R"("web_framework_num":0,"web_site_num":0,"jar_package_num":0,"kernel_module_num":90,)"
            R"("web_service_num":0,"web_app_num":0,"database_num":1})");
}

TEST(FleetAsset, HostAndEnterpriseProjectFiltersMatchLabelValuesExactly) {
  auto series = three_hosts_counts();
  proto::AssetStatisticsQuery q;
  q.host_id = "h2";
  EXPECT_EQ(fleet_asset_statistics(series, q).account_num, 7);
  q.host_id = "h";  // no prefix matching
  EXPECT_EQ(fleet_asset_statistics(series, q).account_num, 0);
  q.host_id.reset();
  q.enterprise_project_id = "0";
  EXPECT_EQ(fleet_asset_statistics(series, q).account_num, 50);
  q.enterprise_project_id = "all_granted_eps";
  EXPECT_EQ(fleet_asset_statistics(series, q).account_num, 57);
  q.enterprise_project_id = "eps-";
  EXPECT_EQ(fleet_asset_statistics(series, q).account_num, 0);
  q.enterprise_project_id = "eps-2";
  q.host_id = "h1";  // both filters: h1 is not in eps-2
  EXPECT_EQ(fleet_asset_statistics(series, q).account_num, 0);
}

TEST(FleetAsset, FilterValuesThatLookLikePromqlAreMatchedLiterally) {
  std::string hostile = R"(h1"} or vector(1) or {host_id=~".*)";
  auto series = three_hosts_counts();
  series.push_back(count(hostile, "0", "hostprint_accounts", 4));
  proto::AssetStatisticsQuery q;
  q.host_id = hostile;
  EXPECT_EQ(fleet_asset_statistics(series, q).account_num, 4);
  q.host_id = R"(.*)";
  EXPECT_EQ(fleet_asset_statistics(series, q).account_num, 0);
  q.host_id.reset();
  q.enterprise_project_id = R"(0"} or vector(1))";
  EXPECT_EQ(fleet_asset_statistics(series, q).account_num, 0);
}

TEST(FleetAsset, AHostSeenTwiceCountsOnce) {
  // The same host under two enterprise projects' series (a move between scrapes, a tie).
  auto series = three_hosts_counts();
  series.push_back(count("h1", "eps-old", "hostprint_accounts", 20));
  EXPECT_EQ(fleet_asset_statistics(series, {}).account_num, 57);
}

TEST(FleetAsset, SummedFormAddsEveryMatchingProject) {
  // counts_promql without host_id: already summed per (enterprise_project_id, __name__).
  std::vector<PromSample> summed{
      sample({{"__name__", "hostprint_accounts"}, {"enterprise_project_id", "0"}}, 50),
      sample({{"__name__", "hostprint_accounts"}, {"enterprise_project_id", "eps-2"}}, 7)};
  EXPECT_EQ(fleet_asset_statistics(summed, {}).account_num, 57);
  proto::AssetStatisticsQuery q;
  q.enterprise_project_id = "eps-2";
  EXPECT_EQ(fleet_asset_statistics(summed, q).account_num, 7);
}

TEST(FleetAsset, CountsAreClampedAndNeverNegative) {
  std::vector<PromSample> series{count("h1", "0", "hostprint_accounts", 3e9),
                                 count("h2", "0", "hostprint_accounts", 3e9),
                                 count("h3", "0", "hostprint_ports", -5)};
  auto s = fleet_asset_statistics(series, {});
  EXPECT_EQ(s.port_num, 0);
  EXPECT_NE(proto::to_json(s).find(R"("account_num":2147483647)"), std::string::npos);
}

std::vector<PromSample> paths() {
  return {hosts_running("0", "/usr/sbin/sshd", 2),   hosts_running("eps-2", "/usr/sbin/sshd", 1),
          hosts_running("0", "/usr/bin/bash", 2),    hosts_running("eps-2", "/usr/bin/bash", 1),
          hosts_running("0", "/usr/sbin/nginx", 1),  hosts_running("0", "/opt/caf\xc3\xa9/app", 1),
          hosts_running("0", "/opt/Zeta/java", 1),   hosts_running("0", "/opt/zeta/java", 1)};
}

TEST(FleetAsset, SumsMadeAtFetchAnswerLikeTheSamplesThemselves) {
  FleetSeries series(three_hosts_counts());
  // h1 also under a second project (a tie of newest scans), and a repeated sample of h2.
  series.push_back(count("h1", "eps-old", "hostprint_accounts", 20));
  series.push_back(count("h2", "eps-2", "hostprint_accounts", 7));
  add_asset_sums(series);
  ASSERT_TRUE(series.asset_sums);
  auto shared = std::make_shared<const FleetSeries>(series);
  FleetFetch fetch = [&](const std::string&) -> FleetFetchResult { return shared; };
  for (std::string eps : {"", "0", "eps-2", "eps-old", "all_granted_eps", "nope"}) {
    const std::string target = "/v5/p/asset/statistics" +
                               (eps.empty() ? "" : "?enterprise_project_id=" + eps);
    auto q = parsed(proto::Endpoint::asset_statistics, target);
    auto a = fleet_answer(q, fetch, 600);
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, proto::to_json(fleet_asset_statistics(
                          series, std::get<proto::AssetStatisticsQuery>(q))))
        << target;
  }
  EXPECT_EQ(series.asset_sums->all.account_num, 57);
  EXPECT_EQ(series.asset_sums->by_project.at("eps-old").account_num, 20);
  EXPECT_EQ(series.asset_sums->by_project.at("eps-2").account_num, 7);
}

TEST(FleetProcesses, HostsPerPathOrderedByCountThenBytes) {
  auto s = fleet_process_statistics(paths(), {});
  EXPECT_EQ(proto::to_json(s),
            "{\"total_num\":6,\"data_list\":[{\"path\":\"/usr/bin/bash\",\"num\":3},"
            "{\"path\":\"/usr/sbin/sshd\",\"num\":3},{\"path\":\"/opt/Zeta/java\",\"num\":1},"
            "{\"path\":\"/opt/caf\xc3\xa9/app\",\"num\":1},{\"path\":\"/opt/zeta/java\",\"num\":1},"
            "{\"path\":\"/usr/sbin/nginx\",\"num\":1}]}");
  ASSERT_EQ(s.data_list.size(), 6u);
  EXPECT_EQ(s.data_list[0].path, "/usr/bin/bash");
  EXPECT_EQ(s.data_list[0].num, 3);
  EXPECT_EQ(s.data_list[1].path, "/usr/sbin/sshd");
  // Equal counts: by bytes, so 'Z' (0x5a) before 'c' (0x63) before 'z', and UTF-8 bytes compare
  // as unsigned.
  EXPECT_EQ(s.data_list[2].path, "/opt/Zeta/java");
  EXPECT_EQ(s.data_list[3].path, "/opt/caf\xc3\xa9/app");
  EXPECT_EQ(s.data_list[4].path, "/opt/zeta/java");
  EXPECT_EQ(s.data_list[5].path, "/usr/sbin/nginx");
}

TEST(FleetProcesses, UnsignedByteOrderForNonAscii) {
  std::vector<PromSample> series{hosts_running("0", "/a\xc3\xa9", 1), hosts_running("0", "/az", 1)};
  auto s = fleet_process_statistics(series, {});
  ASSERT_EQ(s.data_list.size(), 2u);
  EXPECT_EQ(s.data_list[0].path, "/az");  // 'z' 0x7a < 0xc3
}

TEST(FleetProcesses, PathFilterIsALiteralCaseSensitiveSubstring) {
  auto series = paths();
  series.push_back(hosts_running("0", R"(/tmp/x"} or vector(1))", 1));
  proto::ProcessStatisticsQuery q;
  q.path = "sbin";
  auto s = fleet_process_statistics(series, q);
  EXPECT_EQ(s.total_num, 2);
  q.path = "zeta";
  EXPECT_EQ(fleet_process_statistics(series, q).total_num, 1);
  q.path = "caf\xc3\xa9";
  EXPECT_EQ(fleet_process_statistics(series, q).total_num, 1);
  q.path = R"("} or vector(1))";
  s = fleet_process_statistics(series, q);
  ASSERT_EQ(s.total_num, 1);
  EXPECT_EQ(s.data_list[0].path, R"(/tmp/x"} or vector(1))");
  q.path = ".*";
  EXPECT_EQ(fleet_process_statistics(series, q).total_num, 0);
}

TEST(FleetProcesses, PagingAndEnterpriseProject) {
  auto q = std::get<proto::ProcessStatisticsQuery>(
      parsed(proto::Endpoint::process_statistics, "/v5/p/asset/process/statistics?limit=2&offset=1"));
  auto s = fleet_process_statistics(paths(), q);
  EXPECT_EQ(s.total_num, 6);
  ASSERT_EQ(s.data_list.size(), 2u);
  EXPECT_EQ(s.data_list[0].path, "/usr/sbin/sshd");
  EXPECT_EQ(s.data_list[1].path, "/opt/Zeta/java");
  q.offset = 6;
  s = fleet_process_statistics(paths(), q);
  EXPECT_EQ(s.total_num, 6);
  EXPECT_TRUE(s.data_list.empty());
  q = {};
  q.enterprise_project_id = "eps-2";
  s = fleet_process_statistics(paths(), q);
  ASSERT_EQ(s.total_num, 2);
  EXPECT_EQ(s.data_list[0].num, 1);
}

TEST(FleetRasp, ProtectedHostsAndTheirBlockedAttacks) {
  auto rasp = [](const std::string& host, const std::string& eps, double on, double blocked) {
    return std::vector<PromSample>{
        sample({{"__name__", "hostprint_rasp_protected"}, {"enterprise_project_id", eps},
                {"host_id", host}}, on),
        sample({{"__name__", "hostprint_rasp_blocked_attacks"}, {"enterprise_project_id", eps},
                {"host_id", host}}, blocked)};
  };
  std::vector<PromSample> series;
  for (auto part : {rasp("h1", "0", 1, 4), rasp("h2", "eps-2", 1, 2), rasp("h3", "0", 0, 9),
                    rasp("h1", "0", 1, 4)})  // h1 twice: counted once
    series.insert(series.end(), part.begin(), part.end());
  auto s = fleet_rasp_statistics(series, {});
  EXPECT_EQ(s.protect_host_num, 2);
  EXPECT_EQ(s.anti_tampering_num, 6);
  proto::RaspStatisticsQuery q;
  q.enterprise_project_id = "0";
  s = fleet_rasp_statistics(series, q);
  EXPECT_EQ(s.protect_host_num, 1);
  EXPECT_EQ(s.anti_tampering_num, 4);
}

TEST(FleetPromql, BuiltOnlyFromOwnConstants) {
  auto text = counts_promql(proto::Category::container, 600, false);
  EXPECT_NE(text.find("category=\"container\""), std::string::npos);
  EXPECT_NE(text.find("[600s]"), std::string::npos);
  EXPECT_NE(text.find("time() - 600"), std::string::npos);
  EXPECT_NE(text.find("hostprint_(accounts|ports|running_processes|apps|auto_launches|"
                      "web_frameworks|web_sites|jar_packages|kernel_modules|web_services|"
                      "web_apps|databases)"),
            std::string::npos);
  EXPECT_NE(processes_promql(proto::Category::host, 30).find("[30s]"), std::string::npos);
}

TEST(FleetAnswer, EngineFailureIs503AndQueriesNeverCarryClientText) {
  std::vector<std::string> asked;
  FleetFetch failing = [&](const std::string& promql) -> FleetFetchResult {
    asked.push_back(promql);
    return std::string("connection refused");
  };
  auto q = parsed(proto::Endpoint::process_statistics,
                  "/v5/p/asset/process/statistics?path=%22%7D%20or%20vector(1)");
  auto a = fleet_answer(q, failing, 600);
  EXPECT_EQ(a.status, 503);
  EXPECT_NE(a.body.find("HSS.0002"), std::string::npos);
  ASSERT_EQ(asked.size(), 1u);
  EXPECT_EQ(asked[0], processes_promql(proto::Category::host, 600));
  EXPECT_EQ(asked[0].find("vector(1)"), std::string::npos);

  auto data = std::make_shared<const FleetSeries>(three_hosts_counts());
  FleetFetch working = [&](const std::string&) -> FleetFetchResult { return data; };
  a = fleet_answer(parsed(proto::Endpoint::asset_statistics, "/v5/p/asset/statistics?host_id=h3"),
                   working, 600);
  EXPECT_EQ(a.status, 200);
  EXPECT_NE(a.body.find(R"("account_num":30)"), std::string::npos);
}


// A scripted engine for FleetEngine: each query sleeps `delay`, then answers `value` (one
// sample) or fails; shared with the query threads, which may outlive a test's scope.
struct FakeEngine {
  std::atomic<int> calls{0}, running{0}, most_running{0};
  std::atomic<int> value{1};
  std::atomic<bool> failing{false};
  std::atomic<int> delay_ms{0};
};

EngineQuery fake_query(const std::shared_ptr<FakeEngine>& fake) {
  return [fake](const std::string&) {
    ++fake->calls;
    int now = ++fake->running;
    int seen = fake->most_running;
    while (now > seen && !fake->most_running.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(fake->delay_ms.load()));
    --fake->running;
    if (fake->failing) throw EngineError("connection refused");
    return std::vector<PromSample>{sample({{"host_id", "h"}}, fake->value.load())};
  };
}

FleetCacheLimits limits_ms(int fresh, int max_stale, int wait, int failure_hold = 0) {
  FleetCacheLimits l;
  l.fresh = std::chrono::milliseconds(fresh);
  l.max_stale = std::chrono::milliseconds(max_stale);
  l.wait = std::chrono::milliseconds(wait);
  l.failure_hold = std::chrono::milliseconds(failure_hold);
  return l;
}

double value_of(const FleetFetchResult& r) {
  EXPECT_EQ(r.index(), 0u) << (r.index() == 1 ? std::get<1>(r) : "");
  return r.index() == 0 && !std::get<0>(r)->empty() ? std::get<0>(r)->front().value : -1;
}

template <typename F>
std::chrono::milliseconds timed(F f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

// A query runs on a thread of its own, started by the serving thread that asked; with
// http.cpu_affinity that thread is pinned, and the query's thread must not stay on its CPU.
TEST(FleetEngine, AQueryStartedFromAPinnedThreadRunsOnAnyOfTheProcesssCpus) {
  const std::vector<int> all = process_cpus();
  if (all.size() < 2) GTEST_SKIP() << "one CPU allowed: a pin changes nothing";
  std::mutex mutex;
  std::vector<int> seen;
  EngineQuery query = [&](const std::string&) {
    std::lock_guard lock(mutex);
    seen = calling_thread_cpus();
    return std::vector<PromSample>{sample({{"host_id", "h"}}, 1)};
  };
  FleetEngine engine(query, limits_ms(5000, 10000, 5000));
  std::vector<int> asker;
  std::thread([&] {
    ASSERT_EQ(pin_this_thread(all.back()), 0);
    asker = calling_thread_cpus();
    EXPECT_EQ(value_of(engine.fetch("q")), 1);
  }).join();
  EXPECT_TRUE(engine.wait_idle(std::chrono::seconds(5)));
  EXPECT_EQ(asker, std::vector<int>{all.back()});
  std::lock_guard lock(mutex);
  EXPECT_EQ(seen, all);
}

TEST(FleetEngine, AFreshAnswerServesABurstWithOneQuery) {
  auto fake = std::make_shared<FakeEngine>();
  FleetEngine engine(fake_query(fake), limits_ms(5000, 10000, 5000));
  for (int i = 0; i < 20; ++i) EXPECT_EQ(value_of(engine.fetch("q")), 1);
  EXPECT_EQ(fake->calls, 1);
  EXPECT_TRUE(engine.wait_idle(std::chrono::seconds(5)));
}

TEST(FleetEngine, AStaleAnswerIsServedAtOnceWhileOneQueryRefreshesIt) {
  auto fake = std::make_shared<FakeEngine>();
  FleetEngine engine(fake_query(fake), limits_ms(50, 10000, 5000));
  EXPECT_EQ(value_of(engine.fetch("q")), 1);
  fake->value = 2;
  fake->delay_ms = 400;
  std::this_thread::sleep_for(std::chrono::milliseconds(80));
  // Past `fresh`: the old answer now, without waiting on the slow engine; one refresh for all.
  for (int i = 0; i < 10; ++i) {
    FleetFetchResult r;
    EXPECT_LT(timed([&] { r = engine.fetch("q"); }), std::chrono::milliseconds(100));
    EXPECT_EQ(value_of(r), 1);
  }
  EXPECT_TRUE(engine.wait_idle(std::chrono::seconds(5)));
  EXPECT_EQ(fake->calls, 2);
  EXPECT_EQ(value_of(engine.fetch("q")), 2);
}

TEST(FleetEngine, AFailedRefreshIsA503NotTheOldCount) {
  auto fake = std::make_shared<FakeEngine>();
  FleetEngine engine(fake_query(fake), limits_ms(50, 10000, 5000, 50));
  EXPECT_EQ(value_of(engine.fetch("q")), 1);
  fake->failing = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(value_of(engine.fetch("q")), 1);  // stale: served while its refresh runs
  EXPECT_TRUE(engine.wait_idle(std::chrono::seconds(5)));
  // The refresh failed: the engine is down, and the old count is not served again.
  auto r = engine.fetch("q");
  ASSERT_EQ(r.index(), 1u);
  EXPECT_EQ(std::get<1>(r), "connection refused");
  fake->failing = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(value_of(engine.fetch("q")), 1);
}

TEST(FleetEngine, AnAnswerOlderThanMaxStaleIsNeverServed) {
  auto fake = std::make_shared<FakeEngine>();
  FleetEngine engine(fake_query(fake), limits_ms(50, 300, 5000, 50));
  EXPECT_EQ(value_of(engine.fetch("q")), 1);
  fake->failing = true;
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(value_of(engine.fetch("q")), 1);  // stale, and its refresh fails
  EXPECT_TRUE(engine.wait_idle(std::chrono::seconds(5)));
  std::this_thread::sleep_for(std::chrono::milliseconds(250));
  // 350 ms old: the engine's failure, not the old count.
  auto r = engine.fetch("q");
  ASSERT_EQ(r.index(), 1u);
  EXPECT_EQ(std::get<1>(r), "connection refused");
  // The engine back: answers again.
  fake->failing = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(60));
  EXPECT_EQ(value_of(engine.fetch("q")), 1);
}

TEST(FleetEngine, ARequestWaitsOnTheEngineAtMostTheWaitAndTheQueryStillFillsTheCache) {
  auto fake = std::make_shared<FakeEngine>();
  fake->delay_ms = 600;
  FleetEngine engine(fake_query(fake), limits_ms(5000, 10000, 150));
  FleetFetchResult r;
  auto took = timed([&] { r = engine.fetch("q"); });
  EXPECT_EQ(r.index(), 1u);
  EXPECT_GE(took, std::chrono::milliseconds(140));
  EXPECT_LT(took, std::chrono::milliseconds(450));
  EXPECT_TRUE(engine.wait_idle(std::chrono::seconds(5)));
  EXPECT_EQ(value_of(engine.fetch("q")), 1);
  EXPECT_EQ(fake->calls, 1);
}

TEST(FleetEngine, NoCacheStillAnswersFromTheQueryARequestWaitedFor) {
  auto fake = std::make_shared<FakeEngine>();
  FleetEngine engine(fake_query(fake), limits_ms(0, 0, 5000));
  EXPECT_EQ(value_of(engine.fetch("q")), 1);
  fake->value = 5;
  EXPECT_EQ(value_of(engine.fetch("q")), 5);
  EXPECT_EQ(fake->calls, 2);
}

TEST(FleetEngine, KeptFreshWithoutRequests) {
  auto fake = std::make_shared<FakeEngine>();
  FleetEngine engine(fake_query(fake), limits_ms(50, 400, 5000));
  EXPECT_EQ(value_of(engine.fetch("q")), 1);
  engine.keep_fresh();
  fake->value = 2;
  // No request for longer than max_stale: the answer was refreshed meanwhile, and is served.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  const int calls = fake->calls;
  EXPECT_GE(calls, 2);
  FleetFetchResult r;
  EXPECT_LT(timed([&] { r = engine.fetch("q"); }), std::chrono::milliseconds(50));
  EXPECT_EQ(value_of(r), 2);
}

TEST(FleetEngine, NoCacheMeansNoBackgroundQueries) {
  auto fake = std::make_shared<FakeEngine>();
  FleetEngine engine(fake_query(fake), limits_ms(0, 0, 5000));
  EXPECT_EQ(value_of(engine.fetch("q")), 1);
  engine.keep_fresh();
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(fake->calls, 1);
}

TEST(FleetEngine, IndependentTextsAreQueriedConcurrentlyUpToTheCap) {
  auto fake = std::make_shared<FakeEngine>();
  fake->delay_ms = 300;
  FleetEngine engine(fake_query(fake), limits_ms(5000, 10000, 5000));
  auto texts = fleet_promql_texts(600);
  EXPECT_EQ(texts.size(), 5u);
  auto took = timed([&] {
    engine.prefetch(texts);
    EXPECT_TRUE(engine.wait_idle(std::chrono::seconds(5)));
  });
  EXPECT_EQ(fake->calls, 5);
  EXPECT_EQ(fake->most_running, 2);  // FleetCacheLimits::max_concurrent
  EXPECT_LT(took, std::chrono::milliseconds(5 * 300));
  auto counts = engine.fetch(counts_promql(proto::Category::container, 600, true));
  ASSERT_EQ(counts.index(), 0u);
  EXPECT_TRUE(std::get<0>(counts)->asset_sums);
  EXPECT_FALSE(std::get<0>(engine.fetch(rasp_promql(600)))->asset_sums);
  // Warmed: every text is answered at once.
  for (const auto& t : texts)
    EXPECT_LT(timed([&] { EXPECT_EQ(value_of(engine.fetch(t)), 1); }),
              std::chrono::milliseconds(50));
  EXPECT_EQ(fake->calls, 5);
}

}  // namespace
}  // namespace hostprint
