// Recognising web services and databases in a process table: pure parts.
#include "collectors/services.hpp"

#include <gtest/gtest.h>

#include "collectors/formats/java_args.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/formats/python_dist.hpp"
#include "collectors/formats/version_text.hpp"
#include "collectors/io/root_glob.hpp"

#include "collectors/rules/fingerprints.hpp"
#include "tests/scan_chain.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

using Args = std::vector<std::string>;

const Fingerprints& builtin() {
  static const Fingerprints rules = parse_fingerprints(builtin_fingerprints_text());
  return rules;
}

ProcessFacts proc(int pid, int ppid, std::string exe, Args argv = {}) {
  if (argv.empty()) argv = {exe};
  return ProcessFacts{pid, ppid, std::move(exe), std::move(argv), ""};
}

std::string match_name(const ProcessFacts& p) {
  auto* rule = match_service_rule(builtin(), p);
  return rule ? rule->name : "";
}

TEST(ServicesMatch, ExecutableAndPathContains) {
  EXPECT_EQ(match_name(proc(1, 0, "/usr/sbin/nginx")), "Nginx");
  EXPECT_EQ(match_name(proc(1, 0, "/usr/local/openresty/nginx/sbin/nginx")), "OpenResty");
  EXPECT_EQ(match_name(proc(1, 0, "/opt/tengine/sbin/nginx")), "Tengine");
  EXPECT_EQ(match_name(proc(1, 0, "/opt/IBM/HTTPServer/bin/httpd")), "IHS");
  EXPECT_EQ(match_name(proc(1, 0, "/usr/sbin/httpd")), "Apache httpd");
  EXPECT_EQ(match_name(proc(1, 0, "/usr/lib/erlang/erts/bin/beam.smp")), "");
  EXPECT_EQ(match_name(proc(1, 0, "/opt/couchdb/erts/bin/beam.smp")), "CouchDB");
  EXPECT_EQ(match_name(proc(1, 0, "/usr/bin/bash")), "");
  // Kibana is a web application, not a service: not matched here.
  EXPECT_EQ(match_name(proc(1, 0, "/usr/share/kibana/node/bin/node")), "");
}

TEST(ServicesMatch, StartedThroughASymlink) {
  // Debian: /usr/bin/redis-server -> redis-check-rdb; the title is rewritten to "path addr".
  EXPECT_EQ(
      match_name(proc(1, 0, "/usr/bin/redis-check-rdb", {"/usr/bin/redis-server 127.0.0.1:6379"})),
      "Redis");
  EXPECT_EQ(match_name(proc(1, 0, "/usr/bin/redis-check-rdb", {"redis-check-rdb", "x.rdb"})), "");
}

TEST(ServicesMatch, Argv0Prefixes) {
  EXPECT_EQ(match_name(proc(1, 0, "/u01/app/oracle/bin/oracle", {"ora_pmon_ORCL"})), "Oracle");
  EXPECT_EQ(match_name(proc(1, 0, "/u01/app/oracle/bin/oracle", {"oracleORCL (LOCAL=NO)"})), "");
  EXPECT_EQ(match_name(proc(1, 0, "/usr/bin/clickhouse",
                            {"/usr/bin/clickhouse-server", "--config-file=/etc/c.xml"})),
            "ClickHouse");
  EXPECT_EQ(match_name(proc(1, 0, "/usr/bin/clickhouse", {"clickhouse-client"})), "");
}

TEST(ServicesMatch, Jvms) {
  const std::string java = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
  EXPECT_EQ(match_name(proc(1, 0, java,
                            {"java", "-cp", "bootstrap.jar",
                             "org.apache.catalina.startup.Bootstrap", "start"})),
            "Tomcat");
  EXPECT_EQ(match_name(proc(1, 0, java, {"java", "-jar", "/opt/jetty/start.jar"})), "Jetty");
  EXPECT_EQ(match_name(proc(1, 0, java, {"java", "-jar", "/opt/wf/jboss-modules.jar", "-mp", "m"})),
            "JBoss/WildFly");
  EXPECT_EQ(match_name(proc(1, 0, java, {"java", "-cp", "/x/ws-server.jar", "other.Main"})),
            "WebSphere");
  EXPECT_EQ(match_name(proc(1, 0, java,
                            {"java", "-cp", "x", "org.elasticsearch.bootstrap.Elasticsearch"})),
            "Elasticsearch");
  EXPECT_EQ(match_name(proc(1, 0, java, {"java", "-jar", "app.jar"})), "");
  // Not a JVM: a main class on the command line means nothing.
  EXPECT_EQ(match_name(proc(1, 0, "/usr/bin/python3", {"python3", "weblogic.Server"})), "");
}

TEST(ServicesMatch, FirstRuleInFileOrderWins) {
  auto rules = parse_fingerprints(R"({"version": 1, "products": [
    {"name": "Narrow", "category": "database", "executables": ["srv"], "path_contains": ["/opt/n/"]},
    {"name": "Wide", "category": "web_service", "executables": ["srv"]},
    {"name": "App", "category": "web_app", "executables": ["other"]}]})");
  EXPECT_EQ(match_service_rule(rules, proc(1, 0, "/opt/n/srv"))->name, "Narrow");
  EXPECT_EQ(match_service_rule(rules, proc(1, 0, "/usr/bin/srv"))->name, "Wide");
  EXPECT_EQ(match_service_rule(rules, proc(1, 0, "/usr/bin/other")), nullptr);
}

TEST(ServicesMasters, WorkersDoNotCount) {
  std::vector<ProcessFacts> table{
      proc(10, 1, "/usr/sbin/nginx", {"nginx: master process /usr/sbin/nginx"}),
      proc(11, 10, "/usr/sbin/nginx", {"nginx: worker process"}),
      proc(12, 10, "/usr/sbin/nginx", {"nginx: worker process"}),
      proc(13, 12, "/usr/sbin/nginx", {"nginx: cache"}),  // a grandchild of the master
      proc(20, 1, "/usr/lib/postgresql/15/bin/postgres", {"/usr/lib/postgresql/15/bin/postgres"}),
      proc(21, 20, "/usr/lib/postgresql/15/bin/postgres", {"postgres: checkpointer"}),
      proc(30, 1, "/usr/sbin/nginx", {"nginx: master process nginx -c /b.conf"}),
      proc(31, 30, "/usr/sbin/nginx", {"nginx: worker process"}),
      // An Nginx started by a Redis (another product): an instance of its own.
      proc(40, 1, "/usr/bin/redis-server", {"redis-server"}),
      proc(41, 40, "/usr/sbin/nginx", {"nginx"}),
      proc(50, 1, "/usr/bin/sleep", {"sleep"}),
  };
  auto services = match_services(builtin(), table);
  ASSERT_EQ(services.size(), 5u);
  auto pid = [&](const MatchedService& s) { return table[s.master].pid; };
  EXPECT_EQ(pid(services[0]), 10);
  EXPECT_EQ(services[0].rule->name, "Nginx");
  std::vector<std::size_t> members = services[0].members;
  EXPECT_EQ(members, (std::vector<std::size_t>{0, 1, 2, 3}));
  EXPECT_EQ(pid(services[1]), 20);
  EXPECT_EQ(services[1].rule->name, "PostgreSQL");
  EXPECT_EQ(services[1].members.size(), 2u);
  EXPECT_EQ(pid(services[2]), 30);
  EXPECT_EQ(services[2].members.size(), 2u);
  EXPECT_EQ(pid(services[3]), 40);
  EXPECT_EQ(services[3].rule->name, "Redis");
  EXPECT_EQ(pid(services[4]), 41);
  EXPECT_EQ(services[4].rule->name, "Nginx");
}

TEST(ServicesMasters, ParentLoopsEnd) {
  std::vector<ProcessFacts> table{proc(5, 6, "/usr/sbin/nginx"), proc(6, 5, "/usr/sbin/nginx"),
                                  proc(7, 7, "/usr/sbin/nginx")};
  auto services = match_services(builtin(), table);
  // A cycle has no master to find: it ends somewhere, and no process is lost or counted twice.
  std::size_t members = 0;
  for (const auto& s : services) members += s.members.size();
  EXPECT_LE(services.size(), 3u);
  EXPECT_GE(services.size(), 1u);
  EXPECT_LE(members, 3u);
}

const ProductRule& rule_named(std::string_view name) {
  for (const auto& r : builtin().products)
    if (r.name == name) return r;
  throw std::runtime_error("no rule");
}

TEST(ServicesConfig, FromCommandLines) {
  EXPECT_EQ(config_from_cmdline(rule_named("Nginx"),
                                {"nginx: master process nginx -c /t/n.conf -g daemon off;"}),
            "/t/n.conf");
  EXPECT_EQ(config_from_cmdline(rule_named("Nginx"), {"/usr/sbin/nginx", "-c", "/a.conf"}),
            "/a.conf");
  EXPECT_EQ(config_from_cmdline(rule_named("Nginx"), {"nginx: master process /usr/sbin/nginx"}),
            "");
  EXPECT_EQ(config_from_cmdline(rule_named("Apache httpd"),
                                {"/usr/sbin/httpd", "-d", "/srv", "-f", "conf/h.conf"}),
            "/srv/conf/h.conf");
  EXPECT_EQ(config_from_cmdline(rule_named("Apache httpd"), {"/usr/sbin/apache2", "-k", "start"}),
            "");
  EXPECT_EQ(config_from_cmdline(rule_named("Redis"),
                                {"redis-server", "/etc/redis/r.conf", "--port", "1"}),
            "/etc/redis/r.conf");
  EXPECT_EQ(config_from_cmdline(rule_named("Redis"), {"redis-server", "--port", "1", "x.conf"}),
            "");
  EXPECT_EQ(config_from_cmdline(rule_named("PostgreSQL"),
                                {"postgres", "-D", "/var/lib/pg/main", "-c",
                                 "config_file=/etc/postgresql/15/main/postgresql.conf"}),
            "/etc/postgresql/15/main/postgresql.conf");
  EXPECT_EQ(config_from_cmdline(rule_named("PostgreSQL"), {"postgres", "-D", "/d"}),
            "/d/postgresql.conf");
  EXPECT_EQ(
      config_from_cmdline(rule_named("Tomcat"), {"java", "-Dcatalina.home=/usr/share/tomcat10",
                                                 "-Dcatalina.base=/var/lib/tomcat10",
                                                 "org.apache.catalina.startup.Bootstrap"}),
      "/var/lib/tomcat10/conf/server.xml");
  EXPECT_EQ(config_from_cmdline(rule_named("MySQL"), {"mysqld", "--defaults-file=/x"}), "");
}

TEST(ServicesVersion, DpkgListOwnership) {
  const std::string list = "/.\n/usr\n/usr/bin\n/usr/bin/redis-server\n/usr/share/doc/redis\n";
  EXPECT_TRUE(dpkg_list_has_path(list, "/usr/bin/redis-server"));
  EXPECT_TRUE(dpkg_list_has_path(list, "/bin/redis-server"));  // merged /usr
  EXPECT_FALSE(dpkg_list_has_path(list, "/usr/bin/redis"));
  EXPECT_FALSE(dpkg_list_has_path(list, "redis-server"));
  EXPECT_FALSE(dpkg_list_has_path(list, ""));
  EXPECT_TRUE(dpkg_list_has_path("/sbin/x", "/usr/sbin/x"));
}

TEST(ServicesCollector, DeclaresWhatItReads) {
  ServicesCollector collector(std::make_shared<Fingerprints>(builtin()));
  EXPECT_EQ(collector.reads(), (kinds<ProcessInfo, SoftwarePackage>()));
  // Run inside a scan that did not grant it the process table: refused, never silently empty.
  proto::AssetSet found;
  ScanContext context;
  context.found = &found;
  EXPECT_THROW(collector.collect(context), UndeclaredInput);
}

TEST(ServicesCollector, EmptyTableNoServices) {
  ServicesCollector collector(std::make_shared<Fingerprints>(builtin()));
  proto::AssetSet found;
  found.add<proto::ProcessInfo>(std::make_shared<std::vector<ProcessInfo>>());
  ScanContext context;
  context.found = &found;
  context.readable.set();  // every kind, as the test arranges them
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  EXPECT_EQ(collector.item_count(), 0u);
  ASSERT_TRUE(collector.items());
  EXPECT_TRUE(collector.items()->empty());
}

// A process that no executable name makes a candidate is one by its comm; the comm is read once
// per (pid, start, executable) and remembered, so a rescan reads it only for a new process.
TEST(ServicesCollector, CommIsReadOncePerProcess) {
  test::TempDir proc;
  auto write_process = [&](int pid, std::uint64_t start, std::string_view comm) {
    const std::string dir = std::to_string(pid) + "/";
    proc.write(dir + "comm", std::string(comm) + "\n");
    proc.write(dir + "cmdline", std::string("/usr/bin/redis-server 127.0.0.1:6379\0", 37));
    proc.write(dir + "stat", std::to_string(pid) + " (" + std::string(comm) +
                                 ") S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " +
                                 std::to_string(start) + " 0 0\n");
  };
  // Given out of pid order, as a table made of several parts may be.
  auto table = [](std::uint64_t start_of_300) {
    return std::make_shared<std::vector<ProcessInfo>>(std::vector<ProcessInfo>{
        {300, start_of_300, proto::SharedText("/opt/cache/bin/launcher"), {}},
        {200, 7, proto::SharedText("/usr/bin/sleep"), {}}});
  };
  write_process(300, 5, "redis-server");
  write_process(200, 7, "sleep");
  ServicesCollector collector(std::make_shared<Fingerprints>(builtin()));
  auto scan = [&](std::uint64_t start_of_300) {
    proto::AssetSet found;
    found.add<ProcessInfo>(table(start_of_300));
    ScanContext context;
    context.proc = proc.path();
    context.root = proc.path() / "no-root";
    context.found = &found;
    context.readable.set();
    auto outcome = collector.collect(context);
    EXPECT_TRUE(outcome.complete);
    std::vector<std::pair<int, std::string>> seen;
    for (const auto& s : *collector.items()) seen.emplace_back(s.pid, s.product);
    return seen;
  };
  using Seen = std::vector<std::pair<int, std::string>>;
  EXPECT_EQ(scan(5), (Seen{{300, "Redis"}}));
  // The same process renames itself: the comm read when it was first seen stands.
  write_process(300, 5, "worker");
  EXPECT_EQ(scan(5), (Seen{{300, "Redis"}}));
  // Another process under the pid (a new start time): its comm is read.
  write_process(300, 9, "worker");
  EXPECT_EQ(scan(9), Seen{});
  write_process(300, 11, "redis-server");
  EXPECT_EQ(scan(11), (Seen{{300, "Redis"}}));
}

}  // namespace
}  // namespace hostprint::collectors

namespace hostprint::collectors {
namespace {

}  // namespace
}  // namespace hostprint::collectors
