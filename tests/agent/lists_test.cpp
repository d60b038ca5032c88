#include "agent/lists.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/snapshot.hpp"

namespace hostprint {
namespace {

using proto::AssetStatistics;
using proto::Category;

const std::string container_a(64, 'a'), container_b(64, 'b');

template <class Item>
void add(proto::AssetSet& set, std::vector<Item> items, std::string container = {}) {
  set.add(std::make_shared<const std::vector<Item>>(std::move(items)), std::move(container));
}

std::shared_ptr<const Snapshot> sample() {
  proto::AssetSet s;
  add<proto::Account>(s, {{"root", 0, 0, "/root", "/bin/bash"},
                          {"daemon", 1, 1, "/usr/sbin", "/usr/sbin/nologin"},
                          {"alice", 1000, 1000, "/home/alice", "/bin/zsh"},
                          {"bob", 1001, 1001, "/home/bob", "/bin/false"}});
  add<proto::Account>(s, {{"root", 0, 0, "/root", "/bin/sh"}, {"www", 33, 33, "/var/www", ""}},
                      container_a);
  add<proto::Account>(s, {{"root", 0, 0, "/root", "/bin/sh"}}, container_b);
  using proto::PortType;
  add<proto::ListeningPort>(s, {{PortType::tcp, 22}, {PortType::tcp6, 22}, {PortType::udp, 53},
                                {PortType::tcp, 80}});
  add<proto::ListeningPort>(s, {{PortType::tcp, 80}}, container_a);
  add<proto::ProcessInfo>(s, {{1, 0, "/sbin/init", ""},
                              {20, 0, "/usr/sbin/nginx", ""},
                              {21, 0, "/usr/sbin/nginx", ""},
                              {30, 0, "", ""},
                              {40, 0, "/usr/sbin/nginx", container_a}});
  add<proto::SoftwarePackage>(s, {{"dpkg", "bash", "5.2.15-2+b2", "amd64"},
                                  {"dpkg", "libc6", "2.36-9", "amd64"},
                                  {"dpkg", "libc6", "2.36-9", "i386"},
                                  {"dpkg", "openssl", "3.0.11-1", "amd64"}});
  add<proto::SoftwarePackage>(s, {{"apk", "busybox", "1.36.1-r2", "x86_64"}}, container_a);
  using proto::AutoStartType;
  add<proto::AutoStartItem>(s, {{AutoStartType::service, "ssh.service", "/lib/systemd/ssh", "", ""},
                                {AutoStartType::scheduled_task, "/etc/crontab:3", "/etc/crontab",
                                 "root", "run-parts"}});
  add<proto::KernelModule>(s, {{"ext4", 1000, "Live"}, {"xfs", 2000, "Live"}});
  add<proto::ServiceInstance>(
      s, {{"Nginx", proto::ProductCategory::web_service, 20, "/usr/sbin/nginx", "", "1.22.1",
           "/etc/nginx/nginx.conf", "nginx", {}},
          {"Redis", proto::ProductCategory::database, 50, "/usr/bin/redis-server", "", "7.0", "",
           "", {}}});
  add<proto::WebApp>(s, {{"WordPress", "/usr/share/wordpress", "6.1", ""}});
  add<proto::ServedSite>(s, {{{"nginx", {"example.org"}, {80}, "/var/www", false, "/etc/a", 1},
                              "Nginx", 20, ""},
                             {{"nginx", {}, {8080}, "/srv", false, "/etc/a", 9}, "Nginx", 20, ""}});
  add<proto::JarPackage>(s, {{"/opt/app/lib/spring-core-5.3.jar", "spring-core", "5.3", "org", 60,
                              ""}});
  add<proto::WebFramework>(
      s, {{"Spring", "java", "/opt/app/lib/spring-core-5.3.jar", "pid 60", "5.3", ""}});
  return build_snapshot(std::move(s), {}, 1, 1.0);
}

const HostFacts host{"host-1", "0"};

struct Result {
  int status = 200;
  std::string error_code;
  boost::json::object body;
};

Result ask(const Snapshot& snapshot, const std::string& target) {
  auto match = proto::match_list_path(target);
  if (!match) return {404, "", {}};
  if (match->error) return {match->error->status, match->error->code, {}};
  auto query = proto::parse_list_query(*match, target);
  if (auto* e = std::get_if<proto::ApiError>(&query)) return {e->status, e->code, {}};
  auto text = list_json(std::get<proto::ListQuery>(query), snapshot, host);
  return {200, "", boost::json::parse(text).as_object()};
}

std::int64_t total(const Result& r) { return r.body.at("total_num").as_int64(); }

std::int64_t num_sum(const Result& r) {
  std::int64_t sum = 0;
  for (const auto& e : r.body.at("data_list").as_array()) sum += e.at("num").as_int64();
  return sum;
}

std::vector<std::string> column(const Result& r, const char* name) {
  std::vector<std::string> out;
  for (const auto& e : r.body.at("data_list").as_array()) {
    const auto& v = e.at(name);
    out.push_back(v.is_string() ? std::string(v.as_string()) : boost::json::serialize(v));
  }
  return out;
}

TEST(Lists, EveryCountIsTheSizeOfItsListAndTheSumOfItsStatistics) {
  auto snapshot = sample();
  struct Pair {
    std::string items, statistics;
    std::int64_t AssetStatistics::*count;
  };
  const std::vector<Pair> pairs{
      {"/asset/users", "/asset/user/statistics", &AssetStatistics::account_num},
      {"/asset/ports", "/asset/port/statistics", &AssetStatistics::port_num},
      {"/asset/apps", "/asset/app/statistics", &AssetStatistics::app_num},
      {"/asset/auto-launchs", "/asset/auto-launch/statistics", &AssetStatistics::auto_launch_num},
      {"/asset/host-1/web-framework", "/asset/statistics/web-framework",
       &AssetStatistics::web_framework_num},
      {"/asset/host-1/web-site", "/asset/statistics/web-site", &AssetStatistics::web_site_num},
      {"/asset/host-1/jar-package", "/asset/midwares", &AssetStatistics::jar_package_num},
      {"/asset/web-app-and-services?catalogue=web-app",
       "/asset/web-app-and-service-statistics?catalogue=web-app", &AssetStatistics::web_app_num},
      {"/asset/web-app-and-services?catalogue=web-service",
       "/asset/web-app-and-service-statistics?catalogue=web-service",
       &AssetStatistics::web_service_num},
      {"/asset/web-app-and-services?catalogue=database",
       "/asset/web-app-and-service-statistics?catalogue=database",
       &AssetStatistics::database_num},
      {"/asset/processes/detail", "", &AssetStatistics::process_num},
  };
  for (const auto& p : pairs) {
    for (const auto category : {Category::host, Category::container}) {
      const auto& counts =
          category == Category::host ? snapshot->host.counts : snapshot->container.counts;
      const std::string param = std::string(p.items.find('?') == std::string::npos ? "?" : "&") +
                                "limit=200&category=" +
                                (category == Category::host ? "host" : "container");
      auto items = ask(*snapshot, "/v5/p" + p.items + param);
      ASSERT_EQ(items.status, 200) << p.items;
      EXPECT_EQ(total(items), counts.*p.count) << p.items << param;
      EXPECT_EQ(static_cast<std::int64_t>(items.body.at("data_list").as_array().size()),
                counts.*p.count);
      if (p.statistics.empty()) continue;
      const std::string sparam =
          std::string(p.statistics.find('?') == std::string::npos ? "?" : "&") +
          "limit=200&category=" + (category == Category::host ? "host" : "container");
      auto stats = ask(*snapshot, "/v5/p" + p.statistics + sparam);
      ASSERT_EQ(stats.status, 200) << p.statistics;
      EXPECT_EQ(num_sum(stats), counts.*p.count) << p.statistics << sparam;
    }
  }
  // Kernel modules have no category: the host's.
  auto modules = ask(*snapshot, "/v5/p/asset/host-1/kernel-module");
  EXPECT_EQ(total(modules), snapshot->host.counts.kernel_module_num);
  EXPECT_EQ(num_sum(ask(*snapshot, "/v5/p/asset/statistics/kernel-module")),
            snapshot->host.counts.kernel_module_num);
}

TEST(Lists, AccountsCarryTheirFieldsHostFieldsAndOrder) {
  auto snapshot = sample();
  auto users = ask(*snapshot, "/v5/p/asset/users");
  EXPECT_EQ(column(users, "user_name"),
            (std::vector<std::string>{"alice", "bob", "daemon", "root"}));
  EXPECT_EQ(column(users, "login_permission"),
            (std::vector<std::string>{"true", "false", "false", "true"}));
  EXPECT_EQ(column(users, "root_permission"),
            (std::vector<std::string>{"false", "false", "false", "true"}));
  const auto& alice = users.body.at("data_list").as_array()[0].as_object();
  EXPECT_EQ(alice.at("user_home_dir").as_string(), "/home/alice");
  EXPECT_EQ(alice.at("shell").as_string(), "/bin/zsh");
  EXPECT_EQ(alice.at("host_id").as_string(), "host-1");
  EXPECT_EQ(alice.at("agent_id").as_string(), "host-1");
  EXPECT_EQ(alice.at("container_id").as_string(), "");
  EXPECT_GT(alice.at("recent_scan_time").as_int64(), 1'700'000'000'000);
  // Every declared field is there, known or not.
  for (auto name : {"user_group_name", "host_name", "host_ip", "container_name", "first_scan_time"})
    EXPECT_TRUE(alice.contains(name)) << name;

  auto containers = ask(*snapshot, "/v5/p/asset/users?category=container");
  EXPECT_EQ(column(containers, "user_name"), (std::vector<std::string>{"root", "root", "www"}));
  EXPECT_EQ(column(containers, "container_id"),
            (std::vector<std::string>{container_a, container_b, container_a}));
}

TEST(Lists, FiltersExactPartMatchAndSubstring) {
  auto snapshot = sample();
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/users?user_name=ali")), 0);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/users?user_name=ali&part_match=true")), 1);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/users?user_name=alice")), 1);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/users?root_permission=true")), 1);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/users?login_permission=false")), 2);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/users?host_id=host-1")), 4);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/users?host_id=host-2")), 0);
  // Statistics name filters are substrings, always.
  auto stats = ask(*snapshot, "/v5/p/asset/app/statistics?app_name=libc");
  EXPECT_EQ(column(stats, "app_name"), (std::vector<std::string>{"libc6"}));
  EXPECT_EQ(column(stats, "num"), (std::vector<std::string>{"2"}));
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/ports?port=22")), 2);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/ports?port=22&type=TCP6")), 1);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/auto-launchs?type=1")), 1);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/processes/detail?path=/usr/sbin/nginx")), 2);
  // A filter value that PromQL or SQL would read is just text here.
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/users?user_name=%22%20or%201=1")), 0);
}

TEST(Lists, StatisticsOrderByNumThenKey) {
  auto snapshot = sample();
  auto ports = ask(*snapshot, "/v5/p/asset/port/statistics");
  EXPECT_EQ(column(ports, "port"), (std::vector<std::string>{"22", "22", "53", "80"}));
  EXPECT_EQ(column(ports, "type"), (std::vector<std::string>{"TCP", "TCP6", "UDP", "TCP"}));
  EXPECT_EQ(column(ports, "status"), (std::vector<std::string>(4, "unknown")));
  auto apps = ask(*snapshot, "/v5/p/asset/app/statistics");
  EXPECT_EQ(column(apps, "app_name"), (std::vector<std::string>{"libc6", "bash", "openssl"}));
  // A site without a server name is an entry of its own ("" is a key), so the sum holds.
  auto sites = ask(*snapshot, "/v5/p/asset/statistics/web-site");
  EXPECT_EQ(column(sites, "domain"), (std::vector<std::string>{"", "example.org"}));
}

TEST(Lists, PagingIsStableAndTotalCountsEveryMatch) {
  auto snapshot = sample();
  std::vector<std::string> paged;
  for (int offset = 0; offset < 5; ++offset) {
    auto page =
        ask(*snapshot, "/v5/p/asset/apps?limit=1&offset=" + std::to_string(offset));
    EXPECT_EQ(total(page), 4);
    for (auto& name : column(page, "architecture")) paged.push_back(name);
  }
  // Key order: manager, name, architecture (bash, libc6 amd64, libc6 i386, openssl).
  EXPECT_EQ(paged, (std::vector<std::string>{"amd64", "amd64", "i386", "amd64"}));
  auto filtered = ask(*snapshot, "/v5/p/asset/apps?app_name=libc6&limit=1&offset=1");
  EXPECT_EQ(total(filtered), 2);
  EXPECT_EQ(column(filtered, "architecture"), (std::vector<std::string>{"i386"}));
}

TEST(Lists, ParametersFollowTheApiRules) {
  auto snapshot = sample();
  for (const std::string bad :
       {"/asset/ports?type=ICMP", "/asset/ports?port=0", "/asset/ports?port=65536",
        "/asset/web-app-and-services", "/asset/web-app-and-services?catalogue=mail",
        "/asset/users?part_match=yes", "/asset/users?limit=0", "/asset/users?limit=201",
        "/asset/users?offset=2000001", "/asset/users?category=vm",
        "/asset/users?user_name=a&user_name=b", "/asset/auto-launchs?type=3",
        "/asset/users?user_name=%ff", "/asset/users?root_permission=1"}) {
    auto r = ask(*snapshot, "/v5/p" + bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(r.error_code, "HSS.0001") << bad;
  }
  // Parameters an endpoint does not take are ignored, as everywhere.
  EXPECT_EQ(ask(*snapshot, "/v5/p/asset/host-1/kernel-module?category=vm").status, 200);
  EXPECT_EQ(ask(*snapshot, "/v5/p/asset/nothing").status, 404);
}

TEST(Lists, AnotherHostOrEnterpriseProjectIsAnEmptyList) {
  auto snapshot = sample();
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/other-host/kernel-module")), 0);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/host-1/kernel-module")), 2);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/users?enterprise_project_id=ep-9")), 0);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/users?enterprise_project_id=all_granted_eps")), 4);
  EXPECT_EQ(total(ask(*snapshot, "/v5/p/asset/users?enterprise_project_id=0")), 4);
}

TEST(Lists, TimesComeFromTheItemLedger) {
  auto snapshot = std::const_pointer_cast<Snapshot>(sample());
  auto times = std::make_shared<ItemTimesMap>();
  (*times)[proto::identity_of(proto::Account{"alice", 1000, 1000, "/home/alice", "/bin/zsh"}, "")] =
      {123, 456, 0};
  (*times)[proto::identity_of(proto::SoftwarePackage{"dpkg", "bash", "", "amd64"}, "")] = {7, 8, 0};
  snapshot->item_times = times;
  auto users = ask(*snapshot, "/v5/p/asset/users?user_name=alice");
  EXPECT_EQ(users.body.at("data_list").as_array()[0].at("first_scan_time").as_int64(), 123);
  auto bob = ask(*snapshot, "/v5/p/asset/users?user_name=bob");  // not in the ledger: 0
  EXPECT_EQ(bob.body.at("data_list").as_array()[0].at("first_scan_time").as_int64(), 0);
  auto bash = ask(*snapshot, "/v5/p/asset/apps?app_name=bash");
  EXPECT_EQ(bash.body.at("data_list").as_array()[0].at("update_time").as_int64(), 8);
}

// The web kinds' fields come from their items: sites' bind address, executable and certificate,
// instances' install path and owner, JARs' archive, size and hash, frameworks' process, RASP's.
TEST(Lists, WebKindsCarryTheirCollectedFields) {
  proto::AssetSet s;
  proto::ServedSite site{{"nginx", {"tls.test"}, {443}, "/srv", true, "/etc/a", 1, "127.0.0.1",
                          "/etc/ssl/a.pem"},
                         "Nginx", 20, "", "/usr/sbin/nginx", "CN=CA", "CN=tls.test",
                         1796424256000, 1799016256000};
  add<proto::ServedSite>(s, {site});
  proto::ServiceInstance redis{"Redis", proto::ProductCategory::database, 50,
                               "/usr/bin/redis-server", "", "7.0", "", "", {}, "/usr/bin", 101,
                               102};
  add<proto::ServiceInstance>(s, {redis});
  add<proto::WebApp>(s, {{"WordPress", "/srv/wp", "6.1", "", 20, "/usr/sbin/nginx", 33, 34}});
  add<proto::JarPackage>(
      s, {{"/opt/a.jar", "a", "1", "g", 60, "", "/usr/bin/java", 1234, std::string(64, 'f')},
          {"/opt/a.jar!/BOOT-INF/lib/b.jar", "b", "2", "g", 60, "", "/usr/bin/java", 99, ""}});
  add<proto::WebFramework>(
      s, {{"Spring", "java", "/opt/a.jar!/BOOT-INF/lib/b.jar", "/opt/a.jar", "2", "", 60,
           "/usr/bin/java"}});
  add<proto::ProtectedProcess>(s, {{60, "", "OpenRASP", "/opt/rasp/rasp.jar", "/opt/rasp",
                                    "/usr/bin/java", "java", 7}});
  auto snapshot = build_snapshot(std::move(s), {}, 1, 1.0);

  auto sites = ask(*snapshot, "/v5/p/asset/host-1/web-site");
  ASSERT_EQ(total(sites), 1);
  EXPECT_EQ(column(sites, "bind_addr"), std::vector<std::string>{"127.0.0.1"});
  EXPECT_EQ(column(sites, "proc_path"), std::vector<std::string>{"/usr/sbin/nginx"});
  EXPECT_EQ(column(sites, "cert_issuer"), std::vector<std::string>{"CN=CA"});
  EXPECT_EQ(column(sites, "cert_user"), std::vector<std::string>{"CN=tls.test"});
  EXPECT_EQ(column(sites, "cert_issue_time"), std::vector<std::string>{"1796424256000"});
  EXPECT_EQ(column(sites, "cert_expired_time"), std::vector<std::string>{"1799016256000"});

  auto db = ask(*snapshot, "/v5/p/asset/web-app-and-services?catalogue=database");
  ASSERT_EQ(total(db), 1);
  EXPECT_EQ(column(db, "install_path"), std::vector<std::string>{"/usr/bin"});
  EXPECT_EQ(column(db, "uid"), std::vector<std::string>{"101"});
  EXPECT_EQ(column(db, "gid"), std::vector<std::string>{"102"});
  auto apps = ask(*snapshot, "/v5/p/asset/web-app-and-services?catalogue=web-app");
  ASSERT_EQ(total(apps), 1);
  EXPECT_EQ(column(apps, "install_path"), std::vector<std::string>{"/srv/wp"});
  EXPECT_EQ(column(apps, "pid"), std::vector<std::string>{"20"});
  EXPECT_EQ(column(apps, "proc_path"), std::vector<std::string>{"/usr/sbin/nginx"});
  EXPECT_EQ(column(apps, "uid"), std::vector<std::string>{"33"});
  EXPECT_EQ(column(apps, "gid"), std::vector<std::string>{"34"});

  auto jars = ask(*snapshot, "/v5/p/asset/host-1/jar-package");
  ASSERT_EQ(total(jars), 2);
  EXPECT_EQ(column(jars, "package_path"), (std::vector<std::string>{"", "/opt/a.jar"}));
  EXPECT_EQ(column(jars, "is_embedded"), (std::vector<std::string>{"0", "1"}));
  EXPECT_EQ(column(jars, "size"), (std::vector<std::string>{"1234", "99"}));
  EXPECT_EQ(column(jars, "hash"), (std::vector<std::string>{std::string(64, 'f'), ""}));
  EXPECT_EQ(column(jars, "proc_path"),
            (std::vector<std::string>{"/usr/bin/java", "/usr/bin/java"}));

  auto frameworks = ask(*snapshot, "/v5/p/asset/host-1/web-framework");
  ASSERT_EQ(total(frameworks), 1);
  EXPECT_EQ(column(frameworks, "pid"), std::vector<std::string>{"60"});
  EXPECT_EQ(column(frameworks, "proc_path"), std::vector<std::string>{"/usr/bin/java"});
  EXPECT_EQ(column(frameworks, "is_embedded"), std::vector<std::string>{"1"});
  EXPECT_EQ(column(frameworks, "file_type"), std::vector<std::string>{"java"});

  auto rasp = ask(*snapshot, "/v5/p/rasp/servers/host-1/applications?keyword=java");
  ASSERT_EQ(total(rasp), 1);
  EXPECT_EQ(column(rasp, "proc_path"), std::vector<std::string>{"/usr/bin/java"});
  EXPECT_EQ(column(rasp, "app_type"), std::vector<std::string>{"java"});
  EXPECT_EQ(column(rasp, "anti_tampering_num"), std::vector<std::string>{"7"});
}

}  // namespace
}  // namespace hostprint
