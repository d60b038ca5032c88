#include "agent/router.hpp"

#include <gtest/gtest.h>

#include "tests/scan_chain.hpp"

#include <boost/json.hpp>

namespace hostprint {
namespace {

std::shared_ptr<const Snapshot> sample_snapshot() {
  proto::AssetSet inventory;
  auto processes = std::make_shared<std::vector<proto::ProcessInfo>>();
  int pid = 1;
  auto add = [&](const std::string& exe, int n, const std::string& container = {}) {
    for (int i = 0; i < n; ++i) processes->push_back({pid++, 0, exe, container});
  };
  add("/usr/sbin/nginx", 3);
  add("/usr/bin/bash", 2);
  add("/usr/bin/java", 2);
  add("/usr/bin/zsh", 1);
  add("/opt/app/bin/a", 1);
  add("", 4);  // unresolvable: counted as processes, not as entries
  add("/usr/sbin/nginx", 2, std::string(64, 'a'));  // in containers: not the host's
  add("/usr/bin/redis-server", 1, std::string(64, 'b'));
  inventory.add<proto::ProcessInfo>(processes);
  auto accounts = std::make_shared<std::vector<proto::Account>>();
  accounts->push_back({"root", 0, 0, "/root", "/bin/sh"});
  inventory.add<proto::Account>(accounts);
  return build_snapshot(inventory, {}, 1, 1.0);
}

boost::json::object json_of(const Answer& a) {
  return boost::json::parse(a.body).as_object();
}

std::vector<std::pair<std::string, std::int64_t>> entries(const Answer& a) {
  std::vector<std::pair<std::string, std::int64_t>> out;
  auto o = json_of(a);
  for (const auto& e : o.at("data_list").as_array())
    out.emplace_back(std::string(e.at("path").as_string()), e.at("num").as_int64());
  return out;
}

const RouterSettings settings{std::nullopt, "0", "host-1"};

TEST(Router, AssetStatistics) {
  auto snap = sample_snapshot();
  auto a = route("GET", "/v5/p/asset/statistics", *snap, settings);
  EXPECT_EQ(a.status, 200);
  auto o = json_of(a);
  EXPECT_EQ(o.at("process_num").as_int64(), 13);
  EXPECT_EQ(o.at("account_num").as_int64(), 1);
  EXPECT_EQ(o.size(), 12u);
}

TEST(Router, SelectionByEnterpriseProjectAndHost) {
  auto snap = sample_snapshot();
  auto count = [&](std::string target) {
    auto a = route("GET", target, *snap, settings);
    EXPECT_EQ(a.status, 200) << target;
    return json_of(a).at("process_num").as_int64();
  };
  EXPECT_EQ(count("/v5/p/asset/statistics?enterprise_project_id=0"), 13);
  EXPECT_EQ(count("/v5/p/asset/statistics?enterprise_project_id=all_granted_eps"), 13);
  EXPECT_EQ(count("/v5/p/asset/statistics?enterprise_project_id=other"), 0);
  EXPECT_EQ(count("/v5/p/asset/statistics?host_id=host-1"), 13);
  EXPECT_EQ(count("/v5/p/asset/statistics?host_id=host-2"), 0);
  EXPECT_EQ(count("/v5/p/asset/statistics?category=container"), 3);
  auto p = route("GET", "/v5/p/asset/process/statistics?enterprise_project_id=x", *snap, settings);
  EXPECT_EQ(p.body, R"({"total_num":0,"data_list":[]})");
  auto r = route("GET", "/v5/p/rasp/statistics?enterprise_project_id=x", *snap, settings);
  EXPECT_EQ(r.body, R"({"protect_host_num":0,"anti_tampering_num":0})");
}

TEST(Router, ProcessOrderPagingAndFilter) {
  auto snap = sample_snapshot();
  auto all = route("GET", "/v5/p/asset/process/statistics?limit=200", *snap, settings);
  using E = std::vector<std::pair<std::string, std::int64_t>>;
  EXPECT_EQ(entries(all), (E{{"/usr/sbin/nginx", 3},
                             {"/usr/bin/bash", 2},
                             {"/usr/bin/java", 2},
                             {"/opt/app/bin/a", 1},
                             {"/usr/bin/zsh", 1}}));
  EXPECT_EQ(json_of(all).at("total_num").as_int64(), 5);
  auto page = route("GET", "/v5/p/asset/process/statistics?limit=2&offset=1", *snap, settings);
  EXPECT_EQ(entries(page), (E{{"/usr/bin/bash", 2}, {"/usr/bin/java", 2}}));
  EXPECT_EQ(json_of(page).at("total_num").as_int64(), 5);
  auto past = route("GET", "/v5/p/asset/process/statistics?offset=5", *snap, settings);
  EXPECT_TRUE(entries(past).empty());
  EXPECT_EQ(json_of(past).at("total_num").as_int64(), 5);
  auto filtered = route("GET", "/v5/p/asset/process/statistics?path=/usr/bin/", *snap, settings);
  EXPECT_EQ(entries(filtered),
            (E{{"/usr/bin/bash", 2}, {"/usr/bin/java", 2}, {"/usr/bin/zsh", 1}}));
  EXPECT_EQ(json_of(filtered).at("total_num").as_int64(), 3);
  auto case_sensitive = route("GET", "/v5/p/asset/process/statistics?path=NGINX", *snap, settings);
  EXPECT_EQ(json_of(case_sensitive).at("total_num").as_int64(), 0);
  auto defaults = route("GET", "/v5/p/asset/process/statistics", *snap, settings);
  EXPECT_EQ(entries(defaults).size(), 5u);
}

TEST(Router, ContainerProcessesAreTheirOwnCategory) {
  auto snap = sample_snapshot();
  using E = std::vector<std::pair<std::string, std::int64_t>>;
  auto containers =
      route("GET", "/v5/p/asset/process/statistics?category=container", *snap, settings);
  EXPECT_EQ(entries(containers), (E{{"/usr/sbin/nginx", 2}, {"/usr/bin/redis-server", 1}}));
  auto host = route("GET", "/v5/p/asset/process/statistics?path=nginx", *snap, settings);
  EXPECT_EQ(entries(host), (E{{"/usr/sbin/nginx", 3}}));
}

TEST(Router, Errors) {
  auto snap = sample_snapshot();
  EXPECT_EQ(route("GET", "/v5/p/nothing", *snap, settings).status, 404);
  auto wrong_method = route("POST", "/v5/p/asset/statistics", *snap, settings);
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_TRUE(wrong_method.allow_header);
  EXPECT_EQ(json_of(wrong_method).at("error_code").as_string(), "HSS.0001");
  auto not_found = json_of(route("GET", "/x", *snap, settings));
  EXPECT_EQ(not_found.at("error_code").as_string(), "HSS.0011");
  auto bad = route("GET", "/v5/p/asset/process/statistics?limit=0", *snap, settings);
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json_of(bad).at("error_msg").as_string(), "invalid parameter: limit");
}

TEST(Router, ProjectMismatch) {
  auto snap = sample_snapshot();
  RouterSettings pinned{std::string("mine"), "0", "h"};
  EXPECT_EQ(route("GET", "/v5/mine/asset/statistics", *snap, pinned).status, 200);
  auto other = route("GET", "/v5/theirs/asset/statistics", *snap, pinned);
  EXPECT_EQ(other.status, 400);
  EXPECT_EQ(json_of(other).at("error_code").as_string(), "HSS.0011");
  EXPECT_EQ(route("GET", "/v5/m%69ne/rasp/statistics", *snap, pinned).status, 200);
}

TEST(Router, StatusListsCollectors) {
  std::vector<CollectorStatus> statuses(1);
  statuses[0].name = "accounts";
  statuses[0].item_count = 7;
  statuses[0].errors = {"etc/passwd: 1 malformed lines skipped"};
  auto snap = build_snapshot({}, statuses, 3, 2.0);
  auto a = route("GET", "/status", *snap, settings);
  ASSERT_EQ(a.status, 200);
  auto o = json_of(a);
  EXPECT_EQ(o.at("generation").to_number<std::uint64_t>(), 3u);
  auto& c = o.at("collectors").as_array().at(0).as_object();
  EXPECT_EQ(c.at("name").as_string(), "accounts");
  EXPECT_EQ(c.at("item_count").to_number<std::uint64_t>(), 7u);
  EXPECT_EQ(c.at("errors").as_array().size(), 1u);
  // No item-times error yet: empty text and time.
  EXPECT_EQ(o.at("item_times").at("error").as_string(), "");
  EXPECT_EQ(o.at("item_times").at("error_at").as_string(), "");
  snap->item_times_error = "state/item-times: not a hostprint item-times record";
  snap->item_times_error_at = std::chrono::system_clock::from_time_t(1796425556);
  auto times = json_of(route("GET", "/status", *snap, settings)).at("item_times").as_object();
  EXPECT_EQ(times.at("error").as_string(), "state/item-times: not a hostprint item-times record");
  EXPECT_EQ(times.at("error_at").as_string(), "2026-12-04T23:05:56Z");
}

TEST(Snapshot, InvalidUtf8PathsBecomeValidJson) {
  proto::AssetSet inventory;
  inventory.add(
      std::make_shared<const std::vector<proto::ProcessInfo>>(std::vector<proto::ProcessInfo>{
          {1, 0, "/tmp/bad\xff\xfe", {}}, {2, 0, "/tmp/ok\xE4\xB8\xAD", {}}}));
  auto snap = build_snapshot(inventory, {}, 1, 0);
  auto a = route("GET", "/v5/p/asset/process/statistics", *snap, settings);
  auto list = json_of(a).at("data_list").as_array();
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].at("path").as_string(), "/tmp/bad\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(list[1].at("path").as_string(), "/tmp/ok\xE4\xB8\xAD");
}

}  // namespace
}  // namespace hostprint
