// The six fingerprint counts on real software from Debian's packages, all running at once in fresh
// PID, mount and network namespaces, each started by the test as a plain process on a loopback
// port: Nginx (two sites enabled, one only available; one serving Debian's WordPress), Apache httpd
// (two virtual hosts, one TLS), Tomcat 10 (an unpacked application whose WEB-INF/lib holds Debian's
// Spring jars, one by a symlink into /usr/share/java, and one packed .war), a Spring-Boot-style fat
// JAR built here with the JDK's `jar` from Debian's Java libraries and run with `java -jar`, Redis
// and PostgreSQL from their binaries with temporary data folders, and a Flask application run by
// Debian's python3-flask. The items behind each count are checked against what the test started
// and what the system itself reports (/proc, `unzip`, Python's importlib.metadata, dpkg), and the
// counts through the HTTP API of a real `hostprint serve` running beside them.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "agent/scanner.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/scan_chain.hpp"
#include "tests/namespaces.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using test::accepts_on_loopback;
using test::spawn_logged;

const fs::path tomcat_home = "/usr/share/tomcat10";
const fs::path pg_bin = "/usr/lib/postgresql/15/bin";

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) out.push_back(line);
  return out;
}

std::string joined(const std::set<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += i + "\n";
  return out;
}

bool is_archive(const std::string& path) {
  auto lower = path;
  for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower.ends_with(".jar") || lower.ends_with(".war");
}

// Starts a program as `user` (its uid and gid), output to `log`.
pid_t spawn_as(const std::string& user, const std::vector<std::string>& argv, const fs::path& log) {
  const passwd* pw = ::getpwnam(user.c_str());
  if (!pw) return -1;
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  return spawn_logged(argv, log, [uid, gid] {
    return ::setgroups(0, nullptr) == 0 && ::setgid(gid) == 0 && ::setuid(uid) == 0;
  });
}

// What a person finds a JVM uses, with the system's own tools: the archives on its command line
// (class path with dir/* expanded, -jar), those it has open or mapped (/proc), and a Tomcat's lib
// folders and deployed applications; each by its real path, nested libraries listed by `unzip`.
// Returns "realpath" and "realpath!/entry" lines (WARs themselves are not JARs).
std::set<std::string> jars_in_use(pid_t pid, const fs::path& webapps) {
  std::set<std::string> archives;
  auto add = [&](const fs::path& p) {
    std::error_code ec;
    auto real = fs::canonical(p, ec);
    if (!ec && is_archive(real.string()) && fs::is_regular_file(real)) archives.insert(real);
  };
  const fs::path proc = "/proc/" + std::to_string(pid);
  auto args = slurp(proc / "cmdline");
  std::vector<std::string> argv;
  for (std::size_t start = 0; start < args.size();) {
    auto end = args.find('\0', start);
    if (end == std::string::npos) end = args.size();
    argv.push_back(args.substr(start, end - start));
    start = end + 1;
  }
  bool tomcat = false;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if ((argv[i] == "-cp" || argv[i] == "-classpath" || argv[i] == "-jar") && i + 1 < argv.size()) {
      std::istringstream entries(argv[i + 1]);
      for (std::string entry; std::getline(entries, entry, ':');) {
        if (entry.ends_with("/*")) {
          for (const auto& f : fs::directory_iterator(entry.substr(0, entry.size() - 2)))
            add(f.path());
        } else {
          add(entry);
        }
      }
    }
    if (argv[i].starts_with("-Dcatalina.base=")) tomcat = true;
  }
  for (const auto& fd : fs::directory_iterator(proc / "fd")) {
    std::error_code ec;
    auto target = fs::read_symlink(fd.path(), ec);
    if (!ec) add(target);
  }
  for (const auto& line : lines_of(slurp(proc / "maps")))
    if (auto slash = line.find('/'); slash != std::string::npos) add(line.substr(slash));
  if (tomcat) {
    for (const auto& dir : {webapps.parent_path() / "lib", tomcat_home / "lib"})
      if (fs::exists(dir))
        for (const auto& f : fs::directory_iterator(dir)) add(f.path());
    for (const auto& app : fs::directory_iterator(webapps)) {
      if (app.is_directory() && fs::exists(app.path() / "WEB-INF/lib"))
        for (const auto& f : fs::directory_iterator(app.path() / "WEB-INF/lib")) add(f.path());
      else
        add(app.path());
    }
  }
  std::set<std::string> out;
  for (const auto& a : archives) {
    auto lower = a;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (!lower.ends_with(".war")) out.insert(a);
    auto listing = test::run_program({"/usr/bin/unzip", "-Z1", a});
    for (const auto& entry : lines_of(listing.out)) {
      for (const char* lib : {"BOOT-INF/lib/", "WEB-INF/lib/"}) {
        if (!entry.starts_with(lib) || !entry.ends_with(".jar")) continue;
        if (entry.find('/', std::string_view(lib).size()) != std::string::npos) continue;
        out.insert(a + "!/" + entry);
      }
    }
  }
  return out;
}

// The web frameworks Python itself finds installed for /usr/bin/python3 (no user site), as
// "Product|version" for the rules' distributions.
std::set<std::string> python_frameworks_by_python() {
  auto r = test::run_program(
      {"/usr/bin/python3", "-I", "-c",
       "import importlib.metadata as m, re\n"
       "rules = {'django': 'Django', 'flask': 'Flask', 'tornado': 'Tornado', 'fastapi': "
       "'FastAPI', 'web-py': 'web.py', 'web2py': 'web2py'}\n"
       "seen = {}\n"
       "for d in m.distributions():\n"
       "    n = re.sub(r'[-_.]+', '-', d.metadata['Name']).lower()\n"
       "    if n in rules and rules[n] not in seen: seen[rules[n]] = d.version\n"
       "for k, v in sorted(seen.items()): print(k + '|' + v)\n"});
  std::set<std::string> out;
  for (const auto& line : lines_of(r.out)) out.insert(line);
  return out;
}

// The package that owns a file, by dpkg's own account.
std::string owner_of(const std::string& path) {
  auto r = test::run_program({"dpkg-query", "-S", path});
  return r.exit_code == 0 ? r.out.substr(0, r.out.find(':')) : "";
}

std::string package_version(const std::string& package) {
  auto r = test::run_program({"dpkg-query", "-W", "-f=${Version}", package});
  return r.exit_code == 0 ? r.out : "";
}

// A JAR's version as `unzip` shows it: pom.properties' version=, else the manifest's
// Implementation-Version, else its Bundle-Version.
std::string jar_version(const std::string& jar) {
  auto field = [](const std::string& text, const std::string& key) -> std::string {
    for (const auto& line : lines_of(text)) {
      if (!line.starts_with(key)) continue;
      auto value = line.substr(key.size());
      while (!value.empty() && (value.back() == '\r' || value.back() == ' ')) value.pop_back();
      return value;
    }
    return "";
  };
  auto pom = test::run_program({"/usr/bin/unzip", "-p", jar, "META-INF/maven/*/pom.properties"});
  if (auto v = field(pom.out, "version="); !v.empty()) return v;
  auto manifest = test::run_program({"/usr/bin/unzip", "-p", jar, "META-INF/MANIFEST.MF"});
  if (auto v = field(manifest.out, "Implementation-Version: "); !v.empty()) return v;
  return field(manifest.out, "Bundle-Version: ");
}

TEST(FingerprintsLive, RealSoftwareAllSixCounts) {
  for (const char* needed :
       {"/usr/sbin/nginx", "/usr/sbin/apache2", "/usr/bin/redis-server", "/usr/bin/java",
        "/usr/bin/jar", "/usr/bin/openssl", "/usr/bin/unzip",
        "/usr/share/tomcat10/bin/bootstrap.jar", "/usr/lib/postgresql/15/bin/postgres",
        "/usr/share/wordpress/wp-includes/version.php", "/usr/share/java/spring3-core.jar",
        "/usr/share/java/jackson-databind.jar"})
    ASSERT_TRUE(fs::exists(needed)) << needed << " is missing: scripts/test.sh installs it";

  test::TempDir work;
  const fs::path dir = work.path();
  const std::string d = dir.string();
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  for (const char* sub : {"www-b",
                          "www-c",
                          "www-a2",
                          "www-s",
                          "nginx/body",
                          "nginx/proxy",
                          "nginx/fastcgi",
                          "nginx/uwsgi",
                          "nginx/scgi",
                          "apache/run",
                          "apache/logs",
                          "redis",
                          "tomcat/logs",
                          "tomcat/temp",
                          "tomcat/work",
                          "tomcat/webapps/shop/WEB-INF/lib",
                          "war/WEB-INF/lib",
                          "fat/BOOT-INF/lib",
                          "fat/BOOT-INF/classes",
                          "pg-run"})
    fs::create_directories(dir / sub);

  // Nginx: sites-enabled holds two of the three sites in sites-available.
  work.write("nginx/nginx.conf",
             "worker_processes 2;\npid " + d + "/nginx/nginx.pid;\nerror_log " + d +
                 "/nginx/error.log;\nevents { worker_connections 64; }\nhttp {\n  access_log off;\n"
                 "  client_body_temp_path " +
                 d + "/nginx/body;\n  proxy_temp_path " + d +
                 "/nginx/proxy;\n  fastcgi_temp_path " + d + "/nginx/fastcgi;\n  uwsgi_temp_path " +
                 d + "/nginx/uwsgi;\n  scgi_temp_path " + d + "/nginx/scgi;\n  include " + d +
                 "/nginx/sites-enabled/*;\n}\n");
  work.write(
      "nginx/sites-available/blog",
      "server { listen 127.0.0.1:18081; server_name blog.test; root /usr/share/wordpress; }\n");
  work.write("nginx/sites-available/static",
             "server { listen 127.0.0.1:18082; server_name static.test; root " + d + "/www-b; }\n");
  work.write("nginx/sites-available/unused",
             "server { listen 127.0.0.1:18083; server_name unused.test; root " + d + "/www-c; }\n");
  fs::create_directories(dir / "nginx/sites-enabled");
  fs::create_symlink("../sites-available/blog", dir / "nginx/sites-enabled/blog");
  fs::create_symlink(dir / "nginx/sites-available/static", dir / "nginx/sites-enabled/static");

  // Apache httpd: two virtual hosts, one of them TLS.
  auto cert = test::run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                 "-nodes", "-days", "2", "-subj", "/CN=secure.test", "-keyout",
                                 d + "/apache/key.pem", "-out", d + "/apache/cert.pem"});
  ASSERT_EQ(cert.exit_code, 0) << cert.err;
  work.write("apache/httpd.conf",
             "DefaultRuntimeDir " + d + "/apache/run\nPidFile " + d +
                 "/apache/run/httpd.pid\nErrorLog " + d +
                 "/apache/logs/error.log\n"
                 "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
                 "LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n"
                 "LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n"
                 "User nobody\nGroup nogroup\nServerName localhost\n"
                 "Listen 127.0.0.1:18091\nListen 127.0.0.1:18443\n"
                 "<VirtualHost 127.0.0.1:18091>\n  ServerName plain.test\n  DocumentRoot " +
                 d +
                 "/www-a2\n</VirtualHost>\n<VirtualHost 127.0.0.1:18443>\n"
                 "  ServerName secure.test\n  DocumentRoot " +
                 d + "/www-s\n  SSLEngine on\n  SSLCertificateFile " + d +
                 "/apache/cert.pem\n  SSLCertificateKeyFile " + d +
                 "/apache/key.pem\n</VirtualHost>\n");

  // Tomcat 10: its own base with one Host; `shop` unpacked with Debian's Spring jars (one linked
  // into /usr/share/java, as Debian's packaging does), `packed.war` left packed.
  fs::create_directories(dir / "tomcat/conf");
  fs::copy_file("/etc/tomcat10/web.xml", dir / "tomcat/conf/web.xml");
  fs::copy_file("/etc/tomcat10/catalina.properties", dir / "tomcat/conf/catalina.properties");
  work.write("tomcat/conf/server.xml",
             "<?xml version=\"1.0\"?>\n<Server port=\"-1\" shutdown=\"SHUTDOWN\">\n"
             "  <Service name=\"Catalina\">\n"
             "    <Connector port=\"18880\" address=\"127.0.0.1\" protocol=\"HTTP/1.1\"/>\n"
             "    <Engine name=\"Catalina\" defaultHost=\"localhost\">\n"
             "      <Host name=\"localhost\" appBase=\"webapps\" unpackWARs=\"false\" "
             "autoDeploy=\"false\"/>\n"
             "    </Engine>\n  </Service>\n</Server>\n");
  const fs::path shop_lib = dir / "tomcat/webapps/shop/WEB-INF/lib";
  fs::create_symlink(fs::canonical("/usr/share/java/spring3-core.jar"),
                     shop_lib / "spring-core.jar");
  fs::copy_file(fs::canonical("/usr/share/java/spring3-web.jar"), shop_lib / "spring-web.jar");
  fs::copy_file(fs::canonical("/usr/share/java/spring3-context.jar"),
                shop_lib / "spring-context.jar");
  work.write("tomcat/webapps/shop/index.html", "shop\n");
  work.write("war/index.html", "packed\n");
  fs::copy_file(fs::canonical("/usr/share/java/spring3-beans.jar"),
                dir / "war/WEB-INF/lib/spring-beans.jar");
  auto war = test::run_program({"/usr/bin/jar", "--create", "--file",
                                d + "/tomcat/webapps/packed.war", "-C", d + "/war", "."});
  ASSERT_EQ(war.exit_code, 0) << war.err;

  // The fat JAR: a main class that sleeps, Debian's Spring and Jackson jars in BOOT-INF/lib.
  work.write("fat/src/demo/Main.java",
             "package demo;\npublic class Main { public static void main(String[] a) throws "
             "Exception {\n  new java.io.File(a[0]).createNewFile(); Thread.sleep(600000); } }\n");
  auto javac = test::run_program(
      {"/usr/bin/javac", "-d", d + "/fat/BOOT-INF/classes", d + "/fat/src/demo/Main.java"});
  ASSERT_EQ(javac.exit_code, 0) << javac.err;
  fs::copy(d + "/fat/BOOT-INF/classes/demo", d + "/fat/demo", fs::copy_options::recursive);
  for (const char* lib : {"spring3-core.jar", "spring3-context.jar", "jackson-databind.jar"})
    fs::copy_file(fs::canonical(fs::path("/usr/share/java") / lib), dir / "fat/BOOT-INF/lib" / lib);
  fs::remove_all(dir / "fat/src");
  auto fat = test::run_program({"/usr/bin/jar", "--create", "--file", d + "/app.jar",
                                "--main-class", "demo.Main", "-C", d + "/fat", "."});
  ASSERT_EQ(fat.exit_code, 0) << fat.err;

  // PostgreSQL's data folder, made by its own initdb as the postgres user.
  const fs::path pg_data = dir / "pg-data";
  fs::create_directories(pg_data);
  const passwd* pg_user = ::getpwnam("postgres");
  ASSERT_NE(pg_user, nullptr) << "the postgresql package makes the postgres user";
  ASSERT_EQ(::chown(pg_data.c_str(), pg_user->pw_uid, pg_user->pw_gid), 0);
  ASSERT_EQ(::chown((dir / "pg-run").c_str(), pg_user->pw_uid, pg_user->pw_gid), 0);
  {
    pid_t initdb = spawn_as("postgres",
                            {(pg_bin / "initdb").string(), "-D", pg_data.string(), "-U", "postgres",
                             "--auth=trust", "--no-sync"},
                            dir / "initdb.out");
    int status = 0;
    ::waitpid(initdb, &status, 0);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << slurp(dir / "initdb.out");
  }

  work.write("flask_app.py",
             "import flask\napp = flask.Flask(__name__)\n"
             "app.run(host='127.0.0.1', port=15000)\n");

  int rc = test::run_in_namespaces([&]() -> int {
    std::vector<pid_t> started;
    auto stop_all = [&] {
      for (pid_t p : started) ::kill(p, SIGKILL);
      for (pid_t p : started) ::waitpid(p, nullptr, 0);
    };
    auto fail = [&](int code, const std::string& why) {
      std::ofstream(dir / "why") << why;
      stop_all();
      return code;
    };
    started.push_back(spawn_logged({"/usr/sbin/nginx", "-e", d + "/nginx/error.log", "-c",
                                    d + "/nginx/nginx.conf", "-g", "daemon off;"},
                                   dir / "nginx.out"));
    started.push_back(spawn_logged(
        {"/usr/sbin/apache2", "-d", d + "/apache", "-f", "httpd.conf", "-D", "FOREGROUND"},
        dir / "apache.out"));
    started.push_back(spawn_logged({"/usr/bin/java", "-Dcatalina.base=" + d + "/tomcat",
                                    "-Dcatalina.home=" + tomcat_home.string(),
                                    "-Djava.io.tmpdir=" + d + "/tomcat/temp", "-classpath",
                                    (tomcat_home / "bin/bootstrap.jar").string() + ":" +
                                        (tomcat_home / "bin/tomcat-juli.jar").string(),
                                    "org.apache.catalina.startup.Bootstrap", "start"},
                                   dir / "tomcat.out"));
    const pid_t tomcat = started.back();
    started.push_back(
        spawn_logged({"/usr/bin/java", "-jar", d + "/app.jar", d + "/fat-ready"}, dir / "fat.out"));
    const pid_t fat_jvm = started.back();
    started.push_back(spawn_logged({"/usr/bin/redis-server", "--port", "16379", "--bind",
                                    "127.0.0.1", "--save", "", "--dir", d + "/redis"},
                                   dir / "redis.out"));
    started.push_back(spawn_as("postgres",
                               {(pg_bin / "postgres").string(), "-D", pg_data.string(), "-p",
                                "15432", "-k", d + "/pg-run", "-c", "listen_addresses=127.0.0.1"},
                               dir / "postgres.out"));
    started.push_back(spawn_logged({"/usr/bin/python3", d + "/flask_app.py"}, dir / "flask.out"));

    auto deadline = std::chrono::steady_clock::now() + 120s;
    for (unsigned short port : {18081, 18082, 18091, 18443, 18880, 16379, 15432, 15000}) {
      while (!accepts_on_loopback(port)) {
        if (std::chrono::steady_clock::now() > deadline)
          return fail(10, "nothing accepts on port " + std::to_string(port));
        std::this_thread::sleep_for(100ms);
      }
    }
    while (!fs::exists(dir / "fat-ready")) {
      if (std::chrono::steady_clock::now() > deadline) return fail(11, "the fat JAR did not start");
      std::this_thread::sleep_for(100ms);
    }
    // Tomcat has deployed both applications once their context logs say so; then wait until the
    // archives it uses stop changing.
    while (slurp(dir / "tomcat.out").find("Server startup in") == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return fail(12, "Tomcat did not start");
      std::this_thread::sleep_for(100ms);
    }

    const fs::path webapps = dir / "tomcat/webapps";
    std::shared_ptr<const Snapshot> snapshot;
    std::set<std::string> truth_jars;
    Scanner scanner(ScanSettings{});
    for (int attempt = 0; attempt < 5; ++attempt) {
      auto before = jars_in_use(tomcat, webapps);
      for (auto& j : jars_in_use(fat_jvm, webapps)) before.insert(j);
      snapshot = scanner.scan_once();
      auto after = jars_in_use(tomcat, webapps);
      for (auto& j : jars_in_use(fat_jvm, webapps)) after.insert(j);
      truth_jars = after;
      if (before == after) break;
      std::this_thread::sleep_for(1s);
    }
    const auto& inv = snapshot->assets;

    std::ofstream out(dir / "found");
    for (const auto& s : snapshot->collectors)
      for (const auto& e : s.errors) out << "error\t" << s.name << "\t" << e << "\n";
    for (const auto& s : *test::part_of<proto::ServiceInstance>(inv)) {
      out << "service\t" << s.product << "\t" << s.exe << "\t" << s.version << "\t";
      for (const auto& p : s.ports) out << collectors::to_string(p.type) << ":" << p.port << " ";
      out << "\n";
    }
    std::set<std::string> sites;
    for (const auto& s : *test::part_of<proto::ServedSite>(inv)) {
      std::string ports;
      for (auto p : s.site.ports) ports += std::to_string(p) + " ";
      std::string domains;
      for (const auto& n : s.site.domains) domains += n + " ";
      sites.insert("site\t" + s.product + "\t" + domains + "\t" + ports + "\t" +
                   s.site.document_root + "\t" + (s.site.tls ? "tls" : "plain"));
    }
    for (const auto& s : sites) out << s << "\n";
    for (const auto& a : *test::part_of<proto::WebApp>(inv))
      out << "app\t" << a.product << "\t" << a.path << "\t" << a.version << "\n";
    for (const auto& f : *test::part_of<proto::WebFramework>(inv))
      out << "framework\t" << f.product << "\t" << f.language << "\t" << f.environment << "\t"
          << f.version << "\n";
    out.close();
    std::set<std::string> jars;
    std::size_t jar_items = 0;
    for (const auto& j : *test::part_of<proto::JarPackage>(inv)) {
      ++jar_items;
      auto bang = j.path.find("!/");
      std::error_code ec;
      auto outer = fs::canonical(j.path.substr(0, bang), ec).string();
      jars.insert(bang == std::string::npos ? outer : outer + j.path.substr(bang));
    }
    std::ofstream(dir / "jars") << joined(jars);
    std::ofstream(dir / "truth_jars") << joined(truth_jars);
    std::ofstream(dir / "jar_items") << jar_items;
    std::ofstream(dir / "snapshot_counts") << snapshot->host.counts_json;

    // The same through the HTTP API of a real agent in these namespaces.
    test::Agent agent;
    if (!agent.ready()) return fail(13, "the agent did not start: " + agent.log_text());
    auto response = test::fetch(agent, "/v5/p/asset/statistics?category=host");
    std::ofstream(dir / "api") << response.body();
    stop_all();
    return 0;
  });
  ASSERT_EQ(rc, 0) << slurp(dir / "why") << "\nnginx: " << slurp(dir / "nginx.out")
                   << "\napache: " << slurp(dir / "apache.out")
                   << "\ntomcat: " << slurp(dir / "tomcat.out")
                   << "\npostgres: " << slurp(dir / "postgres.out")
                   << "\nflask: " << slurp(dir / "flask.out");

  const std::string found = slurp(dir / "found");
  std::string errors, services, sites, apps, frameworks;
  for (const auto& line : lines_of(found)) {
    auto kind = line.substr(0, line.find('\t'));
    (kind == "error"     ? errors
     : kind == "service" ? services
     : kind == "site"    ? sites
     : kind == "app"     ? apps
                         : frameworks) += line + "\n";
  }
  EXPECT_EQ(errors, "");

  // Executables as the kernel names them (/proc/<pid>/exe: Debian's redis-server is a link to
  // redis-check-rdb); Java binds 127.0.0.1 through an IPv6 socket, so its port is TCP6, as `ss`
  // lists it; versions are those of the packages that own the programs (tomcat10-common owns
  // Tomcat's bootstrap.jar).
  const std::string java = fs::canonical("/usr/bin/java").string();
  EXPECT_EQ(services, "service\tNginx\t/usr/sbin/nginx\t" +
                          package_version(owner_of("/usr/sbin/nginx")) +
                          "\tTCP:18081 TCP:18082 \n"
                          "service\tApache httpd\t/usr/sbin/apache2\t" +
                          package_version("apache2-bin") +
                          "\tTCP:18091 TCP:18443 \n"
                          "service\tTomcat\t" +
                          java + "\t" + package_version("tomcat10-common") +
                          "\tTCP6:18880 \n"
                          "service\tRedis\t" +
                          fs::canonical("/usr/bin/redis-server").string() + "\t" +
                          package_version("redis-server") +
                          "\tTCP:16379 \n"
                          "service\tPostgreSQL\t" +
                          (pg_bin / "postgres").string() + "\t" + package_version("postgresql-15") +
                          "\tTCP:15432 \n")
      << found;

  EXPECT_EQ(sites, "site\tApache httpd\tplain.test \t18091 \t" + d +
                       "/www-a2\tplain\n"
                       "site\tApache httpd\tsecure.test \t18443 \t" +
                       d +
                       "/www-s\ttls\n"
                       "site\tNginx\tblog.test \t18081 \t/usr/share/wordpress\tplain\n"
                       "site\tNginx\tstatic.test \t18082 \t" +
                       d +
                       "/www-b\tplain\n"
                       "site\tTomcat\tlocalhost \t18880 \t" +
                       d + "/tomcat/webapps\tplain\n")
      << found;

  // WordPress's version is the upstream part of its Debian package's ("6.1.9+dfsg1-0+deb12u1").
  const std::string wordpress = package_version("wordpress");
  EXPECT_EQ(apps, "app\tWordPress\t/usr/share/wordpress\t" +
                      wordpress.substr(0, wordpress.find_first_of("+-~")) + "\n")
      << found;

  // Java frameworks, one per application; Python's, as Python itself reports them.
  const std::string spring = jar_version("/usr/share/java/spring3-core.jar");
  ASSERT_FALSE(spring.empty());
  std::string expected_frameworks;
  std::map<std::string, std::string> expected = {
      {"Jackson\tjava\t" + d + "/app.jar", "jackson"},
      {"Spring\tjava\t" + d + "/app.jar", spring},
      {"Spring\tjava\t" + d + "/tomcat/webapps/packed.war", spring},
      {"Spring\tjava\t" + d + "/tomcat/webapps/shop", spring},
  };
  for (const auto& py : python_frameworks_by_python()) {
    auto bar = py.find('|');
    expected[py.substr(0, bar) + "\tpython\t/usr"] = py.substr(bar + 1);
  }
  for (auto& [key, version] : expected) {
    if (version == "jackson") version = jar_version("/usr/share/java/jackson-databind.jar");
    expected_frameworks += "framework\t" + key + "\t" + version + "\n";
  }
  // Sorted as the collector sorts: product, language, environment.
  EXPECT_EQ(frameworks, expected_frameworks) << found;
  EXPECT_NE(expected_frameworks.find("Flask\tpython\t/usr"), std::string::npos);

  const std::string jars = slurp(dir / "jars");
  EXPECT_EQ(jars, slurp(dir / "truth_jars"));
  const std::size_t jar_count = lines_of(jars).size();
  EXPECT_EQ(slurp(dir / "jar_items"), std::to_string(jar_count)) << "a JAR listed twice";
  // What the test put there is among them.
  for (const std::string& must : {d + "/app.jar", d + "/app.jar!/BOOT-INF/lib/spring3-core.jar",
                                  d + "/tomcat/webapps/packed.war!/WEB-INF/lib/spring-beans.jar",
                                  d + "/tomcat/webapps/shop/WEB-INF/lib/spring-web.jar",
                                  fs::canonical("/usr/share/java/spring3-core.jar").string(),
                                  fs::canonical(tomcat_home / "bin/bootstrap.jar").string()})
    EXPECT_NE(jars.find(must + "\n"), std::string::npos) << must << "\n" << jars;
  EXPECT_EQ(jars.find("packed.war\n"), std::string::npos) << "a WAR is not a JAR";

  // The counts, through the API.
  const auto api = boost::json::parse(slurp(dir / "api")).as_object();
  EXPECT_EQ(api.at("web_service_num").as_int64(), 3);
  EXPECT_EQ(api.at("database_num").as_int64(), 2);
  EXPECT_EQ(api.at("web_site_num").as_int64(), 5);
  EXPECT_EQ(api.at("web_app_num").as_int64(), 1);
  EXPECT_EQ(api.at("web_framework_num").as_int64(), static_cast<std::int64_t>(expected.size()));
  // The agent's own scan, a moment after the one above, finds the same JARs.
  EXPECT_EQ(api.at("jar_package_num").as_int64(), static_cast<std::int64_t>(jar_count));
}

}  // namespace
}  // namespace hostprint
