// Real Nginx and Redis from Debian's packages, started by the test as plain processes on loopback
// ports in fresh PID and network namespaces, recognised as exactly one instance each.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include "collectors/formats/java_args.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/formats/python_dist.hpp"
#include "collectors/formats/version_text.hpp"
#include "collectors/io/root_glob.hpp"
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "collectors/rules/fingerprints.hpp"
#include "tests/scan_chain.hpp"
#include "collectors/processes.hpp"
#include "collectors/services.hpp"
#include "collectors/software.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/namespaces.hpp"
#include "tests/live_skip.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using test::accepts_on_loopback;
using test::spawn_logged;

// Children of `parent` in the process table (this PID namespace's /proc).
int children_of(pid_t parent) {
  int n = 0;
  for (const auto& entry : fs::directory_iterator("/proc")) {
    auto name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream in(entry.path() / "stat");
    std::string stat((std::istreambuf_iterator<char>(in)), {});
    auto ppid = parse_stat_ppid(stat);
    if (ppid && *ppid == parent) ++n;
  }
  return n;
}

std::string ports_text(const std::vector<ListeningPort>& ports) {
  std::string out;
  for (const auto& p : ports) {
    if (!out.empty()) out += ",";
    out += std::string(to_string(p.type)) + ":" + std::to_string(p.port);
  }
  return out;
}

std::string package_version(const std::string& package) {
  auto r = test::run_program({"dpkg-query", "-W", "-f=${Version}", package});
  return r.exit_code == 0 ? r.out : "";
}

// The package that owns a file, by dpkg's own account.
std::string owner_of(const std::string& path) {
  auto r = test::run_program({"dpkg-query", "-S", path});
  return r.exit_code == 0 ? r.out.substr(0, r.out.find(':')) : "";
}

TEST(ServicesLive, NginxAndRedisOneInstanceEach) {
  if (!fs::exists("/usr/sbin/nginx") || !fs::exists("/usr/bin/redis-server"))
    LIVE_SKIP() << "nginx and redis-server are not installed";
  test::TempDir work;
  const fs::path dir = work.path();
  for (const char* sub : {"www", "body", "proxy", "fastcgi", "uwsgi", "scgi", "redis", "fake"})
    fs::create_directories(dir / sub);
  const std::string d = dir.string();
  const fs::path conf = work.write("nginx.conf",
                                   "worker_processes 2;\n"
                                   "pid " +
                                       d +
                                       "/nginx.pid;\n"
                                       "error_log " +
                                       d +
                                       "/error.log;\n"
                                       "events { worker_connections 64; }\n"
                                       "http {\n"
                                       "  access_log off;\n"
                                       "  client_body_temp_path " +
                                       d +
                                       "/body;\n"
                                       "  proxy_temp_path " +
                                       d +
                                       "/proxy;\n"
                                       "  fastcgi_temp_path " +
                                       d +
                                       "/fastcgi;\n"
                                       "  uwsgi_temp_path " +
                                       d +
                                       "/uwsgi;\n"
                                       "  scgi_temp_path " +
                                       d +
                                       "/scgi;\n"
                                       "  server { listen 127.0.0.1:18080; root " +
                                       d +
                                       "/www; }\n"
                                       "}\n");
  // A lookalike: a copy of sleep named redis-server. Recognition is by executable name (assets.md),
  // so it is an instance of Redis; but no package owns it, so it has no version.
  fs::copy_file("/bin/sleep", dir / "fake" / "redis-server");
  // Runnable by the user it is started as (below), through the folders above it.
  fs::permissions(dir / "fake" / "redis-server", fs::perms::owner_all | fs::perms::group_exec |
                                                     fs::perms::group_read | fs::perms::others_exec |
                                                     fs::perms::others_read);
  for (const auto& folder : {dir, dir / "fake"})
    fs::permissions(folder, fs::perms::group_exec | fs::perms::others_exec, fs::perm_options::add);

  int rc = test::run_in_namespaces([&]() -> int {
    // This process is pid 1 of the namespace: when it ends, everything started here ends too.
    std::vector<pid_t> started;
    auto stop_all = [&] {
      for (pid_t p : started) ::kill(p, SIGKILL);
      for (pid_t p : started) ::waitpid(p, nullptr, 0);
    };
    pid_t nginx = spawn_logged(
        {"/usr/sbin/nginx", "-e", d + "/error.log", "-c", conf.string(), "-g", "daemon off;"},
        dir / "nginx.out");
    started.push_back(nginx);
    pid_t redis =
        spawn_logged({"/usr/bin/redis-server", "--port", "16379", "--bind", "127.0.0.1", "--save",
                      "", "--appendonly", "no", "--daemonize", "no", "--dir", d + "/redis"},
                     dir / "redis.out");
    started.push_back(redis);
    // Run as another user and group, for the instance's uid and gid.
    pid_t fake = spawn_logged({"/usr/bin/setpriv", "--reuid=65534", "--regid=65533",
                               "--clear-groups", (dir / "fake" / "redis-server").string(), "60"},
                              dir / "fake.out");
    started.push_back(fake);

    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!(accepts_on_loopback(18080) && accepts_on_loopback(16379) && children_of(nginx) >= 2)) {
      if (std::chrono::steady_clock::now() > deadline) {
        stop_all();
        return 10;
      }
      std::this_thread::sleep_for(50ms);
    }

    ScanContext context;
    proto::AssetSet found;
    ProcessesCollector processes;
    SoftwareCollector software;
    if (!processes.collect(context).complete) return (stop_all(), 11);
    if (!software.collect(context).complete) return (stop_all(), 12);
    processes.publish(found);
    software.publish(found);
    context.found = &found;
    context.readable.set();  // every kind, as the test arranges them
    auto rules = std::make_shared<Fingerprints>(parse_fingerprints(builtin_fingerprints_text()));
    ServicesCollector services(rules);
    auto outcome = services.collect(context);

    std::ofstream out(dir / "result");
    out << "pids\t" << nginx << "\t" << redis << "\t" << fake << "\n";
    for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
    for (const auto& s : *services.items())
      out << "service\t" << s.product << "\t" << to_string(s.category) << "\t" << s.pid << "\t"
          << s.exe << "\t" << s.version << "\t" << s.config_file << "\t" << ports_text(s.ports)
          << "\t" << s.container_id << "\t\n";
    for (const auto& s : *services.items())
      out << "owner\t" << s.pid << "\t" << s.install_path << "\t" << s.uid << "\t" << s.gid
          << "\n";
    out.close();
    auto databases = test::run_program(
        {test::hostprint_binary(), "query", "--state-dir", (dir / "state").string(),
         "/v5/p/asset/web-app-and-services?catalogue=database&name=Redis"});
    std::ofstream(dir / "databases") << databases.out;
    // The same through the agent: the counts of the API.
    auto query = test::run_program({test::hostprint_binary(), "query", "--state-dir",
                                    (dir / "state").string(), "/v5/p/asset/statistics"});
    std::ofstream(dir / "query") << query.out;
    stop_all();
    return outcome.complete ? 0 : 13;
  });
  auto slurp = [&](const char* name) {
    std::ifstream in(dir / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  ASSERT_EQ(rc, 0) << slurp("nginx.out") << slurp("redis.out") << slurp("error.log")
                   << slurp("result");

  std::ifstream in(dir / "result");
  std::vector<std::vector<std::string>> services;
  std::vector<std::vector<std::string>> owners;
  std::string nginx_pid, redis_pid, fake_pid;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, '\t');) fields.push_back(f);
    if (fields[0] == "pids") {
      nginx_pid = fields[1];
      redis_pid = fields[2];
      fake_pid = fields[3];
    } else if (fields[0] == "service") {
      fields.resize(9);
      services.push_back(fields);
    } else if (fields[0] == "owner") {
      owners.push_back(fields);
    } else {
      ADD_FAILURE() << line;
    }
  }
  const std::string nginx_version = package_version(owner_of("/usr/sbin/nginx"));
  const std::string redis_version = package_version("redis-server");
  ASSERT_FALSE(nginx_version.empty());
  ASSERT_FALSE(redis_version.empty());
  // By master pid: nginx, then the real redis, then the lookalike (started in that order).
  using Row = std::vector<std::string>;
  ASSERT_EQ(services.size(), 3u) << slurp("result");
  auto counts = boost::json::parse(slurp("query")).as_object();
  EXPECT_EQ(counts.at("web_service_num").as_int64(), 1) << slurp("query");
  EXPECT_EQ(counts.at("database_num").as_int64(), 2) << slurp("query");
  EXPECT_EQ(services[0], (Row{"service", "Nginx", "web_service", nginx_pid, "/usr/sbin/nginx",
                              nginx_version, conf.string(), "TCP:18080", ""}));
  // Debian's /usr/bin/redis-server is a link to redis-check-rdb: the executable is the target.
  EXPECT_EQ(services[1], (Row{"service", "Redis", "database", redis_pid,
                              fs::canonical("/usr/bin/redis-server").string(), redis_version, "",
                              "TCP:16379", ""}));
  EXPECT_EQ(services[2], (Row{"service", "Redis", "database", fake_pid,
                              (dir / "fake" / "redis-server").string(), "", "", "", ""}));
  // The folder of the executable, and the master's effective uid and gid.
  const std::string redis_folder = fs::canonical("/usr/bin/redis-server").parent_path().string();
  EXPECT_EQ(owners, (std::vector<Row>{{"owner", nginx_pid, "/usr/sbin", "0", "0"},
                                      {"owner", redis_pid, redis_folder, "0", "0"},
                                      {"owner", fake_pid, (dir / "fake").string(), "65534",
                                       "65533"}}));
  auto page = boost::json::parse(slurp("databases")).as_object();
  ASSERT_EQ(page.at("total_num").as_int64(), 2) << slurp("databases");
  std::vector<std::string> seen;
  for (const auto& e : page.at("data_list").as_array())
    seen.push_back(std::string(e.at("proc_path").as_string()) + " " +
                   std::string(e.at("install_path").as_string()) + " " +
                   std::to_string(e.at("uid").as_int64()) + " " +
                   std::to_string(e.at("gid").as_int64()));
  std::sort(seen.begin(), seen.end());
  std::vector<std::string> want{
      fs::canonical("/usr/bin/redis-server").string() + " " + redis_folder + " 0 0",
      (dir / "fake" / "redis-server").string() + " " + (dir / "fake").string() + " 65534 65533"};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(seen, want) << slurp("databases");
}

}  // namespace
}  // namespace hostprint::collectors

namespace hostprint::collectors {
namespace {

// A Tomcat unpacked from a tarball (no package owns it): its version is read from the manifest of
// <catalina.home>/lib/catalina.jar. The JVM runs a class named like Tomcat's bootstrap that sleeps.
TEST(ServicesLive, TomcatVersionFromItsHomeWithoutAPackage) {
  if (!fs::exists("/usr/bin/javac") || !fs::exists("/usr/bin/jar"))
    LIVE_SKIP() << "the JDK (javac, jar) is not installed";
  test::TempDir work;
  const fs::path dir = work.path();
  const std::string d = dir.string();
  work.write("src/org/apache/catalina/startup/Bootstrap.java",
             "package org.apache.catalina.startup;\npublic class Bootstrap { public static void "
             "main(String[] a) throws Exception {\n  new java.io.File(a[0]).createNewFile(); "
             "Thread.sleep(60000); } }\n");
  auto javac = test::run_program({"/usr/bin/javac", "-d", d + "/tomcat/bin/classes",
                                  d + "/src/org/apache/catalina/startup/Bootstrap.java"});
  ASSERT_EQ(javac.exit_code, 0) << javac.err;
  work.write("manifest.txt",
             "Implementation-Title: Apache Tomcat\nImplementation-Version: 9.0.99\n");
  work.write("empty/readme.txt", "catalina\n");
  fs::create_directories(dir / "tomcat/lib");
  auto jar =
      test::run_program({"/usr/bin/jar", "--create", "--file", d + "/tomcat/lib/catalina.jar",
                         "--manifest", d + "/manifest.txt", "-C", d + "/empty", "."});
  ASSERT_EQ(jar.exit_code, 0) << jar.err;

  int rc = test::run_in_namespaces([&]() -> int {
    pid_t jvm = spawn_logged(
        {"/usr/bin/java", "-Dcatalina.home=" + d + "/tomcat", "-cp", d + "/tomcat/bin/classes",
         "org.apache.catalina.startup.Bootstrap", d + "/ready"},
        dir / "jvm.out");
    auto stop = [&] {
      ::kill(jvm, SIGKILL);
      ::waitpid(jvm, nullptr, 0);
    };
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (!fs::exists(dir / "ready")) {
      if (std::chrono::steady_clock::now() > deadline) return (stop(), 10);
      std::this_thread::sleep_for(50ms);
    }
    ScanContext context;
    proto::AssetSet found;
    ProcessesCollector processes;
    SoftwareCollector software;
    if (!processes.collect(context).complete || !software.collect(context).complete)
      return (stop(), 11);
    processes.publish(found);
    software.publish(found);
    context.found = &found;
    context.readable.set();  // every kind, as the test arranges them
    ServicesCollector services(
        std::make_shared<Fingerprints>(parse_fingerprints(builtin_fingerprints_text())));
    auto outcome = services.collect(context);
    std::ofstream out(dir / "result");
    for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
    for (const auto& s : *services.items())
      out << s.product << "\t" << s.version << "\t" << s.install_path << "\n";
    out.close();
    stop();
    return 0;
  });
  std::ifstream in(dir / "result");
  std::string result(std::istreambuf_iterator<char>(in), {});
  ASSERT_EQ(rc, 0) << result;
  // Installed in its home, not in the JDK's bin folder of its executable.
  EXPECT_EQ(result, "Tomcat\t9.0.99\t" + d + "/tomcat\n");
}

}  // namespace
}  // namespace hostprint::collectors

namespace hostprint::collectors {
namespace {

// A service inside a container gets the version of the container's own package, confirmed by the
// container's own dpkg file list, never the host's package of the same name. The process runs
// in its own mount namespace with its tree as the root (busybox, static, named redis-server,
// running its `sleep` applet); the container's software is what the containers' collector found in
// that tree.
TEST(ServicesLive, ContainerServiceVersionFromTheContainersPackages) {
  if (!fs::exists("/bin/busybox")) LIVE_SKIP() << "busybox-static is not installed";
  test::TempDir work;
  const fs::path tree = work.path() / "tree";
  fs::create_directories(tree / "usr/bin");
  fs::copy_file("/bin/busybox", tree / "usr/bin/redis-server");
  fs::permissions(tree / "usr/bin/redis-server", fs::perms::owner_all);
  work.write("tree/var/lib/dpkg/info/redis-server.list",
             "/.\n/usr\n/usr/bin\n/usr/bin/redis-server\n");

  int rc = test::run_in_namespaces(
      [&]() -> int {
        pid_t pid = ::fork();
        if (pid == 0) {
          // Its own mount namespace with its tree as the root mount (pivot_root), as a runtime
          // makes it: the kernel then names its executable by the path inside the tree.
          if (::unshare(CLONE_NEWNS) != 0 ||
              ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
              ::mount(tree.c_str(), tree.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
              ::chdir(tree.c_str()) != 0 || ::syscall(SYS_pivot_root, ".", ".") != 0 ||
              ::umount2(".", MNT_DETACH) != 0 || ::chdir("/") != 0)
            _exit(126);
          ::execl("/usr/bin/redis-server", "sleep", "60", nullptr);
          _exit(127);
        }
        auto stop = [&] {
          ::kill(pid, SIGKILL);
          ::waitpid(pid, nullptr, 0);
        };
        ScanContext context;
        ProcessesCollector processes;
        auto deadline = std::chrono::steady_clock::now() + 10s;
        for (;;) {  // until the child has exec'd
          if (!processes.collect(context).complete) return (stop(), 11);
          std::string seen;
          for (const auto& p : *processes.items())
            if (p.pid == pid) seen = p.exe;
          if (seen == "/usr/bin/redis-server") break;
          if (std::chrono::steady_clock::now() > deadline) {
            std::ofstream(work.path() / "result") << "the child's executable: " << seen << "\n";
            return (stop(), 12);
          }
          std::this_thread::sleep_for(20ms);
        }
        auto table = std::make_shared<std::vector<ProcessInfo>>(*processes.items());
        for (auto& p : *table)
          if (p.pid == pid) p.container_id = "c1";
        proto::AssetSet found;
        found.add<ProcessInfo>(table);
        found.add(std::make_shared<const std::vector<SoftwarePackage>>(
            std::vector<SoftwarePackage>{{"dpkg", "redis-server", "5:7.0.0-host", "amd64"}}));
        // The container's own packages, as the containers collector publishes them.
        found.add(std::make_shared<const std::vector<SoftwarePackage>>(
                      std::vector<SoftwarePackage>{
                          {"dpkg", "redis-server", "9:9.9.9-in-container", ""}}),
                  "c1");
        context.found = &found;
        context.readable.set();  // every kind, as the test arranges them
        ServicesCollector services(
            std::make_shared<Fingerprints>(parse_fingerprints(builtin_fingerprints_text())));
        auto outcome = services.collect(context);
        std::ofstream out(work.path() / "result");
        for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
        for (const auto& s : *services.items())
          out << s.product << "\t" << s.container_id << "\t" << s.version << "\n";
        out.close();
        stop();
        return 0;
      },
      false);
  std::ifstream in(work.path() / "result");
  std::string result(std::istreambuf_iterator<char>(in), {});
  ASSERT_EQ(rc, 0) << result;
  EXPECT_EQ(result, "Redis\tc1\t9:9.9.9-in-container\n");
}

}  // namespace
}  // namespace hostprint::collectors
