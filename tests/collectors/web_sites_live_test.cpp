// Real Nginx from Debian's package, started by the test as a plain process on loopback ports in
// fresh PID and network namespaces, with two sites enabled and one only available: exactly the two
// enabled sites are found, by the collector and through the agent's statistics. The same for
// Apache httpd (Debian's apache2-bin) with a plain and a TLS virtual host.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <ctime>
#include <thread>

#include "collectors/rules/fingerprints.hpp"
#include "tests/scan_chain.hpp"
#include "collectors/processes.hpp"
#include "collectors/services.hpp"
#include "collectors/software.hpp"
#include "collectors/web_sites.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/namespaces.hpp"
#include "tests/live_skip.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

using test::accepts_on_loopback;
using test::spawn_logged;

std::string join(const auto& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ",";
    if constexpr (std::is_same_v<std::decay_t<decltype(i)>, std::string>)
      out += i;
    else
      out += std::to_string(i);
  }
  return out;
}

TEST(WebSitesLive, NginxEnabledSitesOnly) {
  if (!fs::exists("/usr/sbin/nginx")) LIVE_SKIP() << "nginx is not installed";
  test::TempDir work;
  const fs::path dir = work.path();
  for (const char* sub : {"www-a", "www-b", "www-c", "body", "proxy", "fastcgi", "uwsgi", "scgi"})
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
                                       "  include " +
                                       d +
                                       "/sites-enabled/*;\n"
                                       "}\n");
  work.write("sites-enabled/a",
             "server {\n"
             "  listen 127.0.0.1:18081;\n"
             "  listen 127.0.0.1:18082;\n"
             "  server_name a.test www.a.test;\n"
             "  root " +
                 d +
                 "/www-a;\n"
                 "}\n");
  work.write("sites-enabled/b",
             "server {\n"
             "  listen 127.0.0.1:18083;\n"
             "  server_name b.test;\n"
             "  root " +
                 d +
                 "/www-b;\n"
                 "}\n");
  // Available but not enabled: nginx does not load it, so it is no site.
  work.write("sites-available/c",
             "server { listen 127.0.0.1:18084; server_name c.test; root " + d + "/www-c; }\n");

  int rc = test::run_in_namespaces([&]() -> int {
    std::vector<pid_t> started;
    auto stop_all = [&] {
      for (pid_t p : started) ::kill(p, SIGKILL);
      for (pid_t p : started) ::waitpid(p, nullptr, 0);
    };
    pid_t nginx = spawn_logged(
        {"/usr/sbin/nginx", "-e", d + "/error.log", "-c", conf.string(), "-g", "daemon off;"},
        dir / "nginx.out");
    started.push_back(nginx);
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (
        !(accepts_on_loopback(18081) && accepts_on_loopback(18082) && accepts_on_loopback(18083))) {
      if (std::chrono::steady_clock::now() > deadline) {
        stop_all();
        return 10;
      }
      std::this_thread::sleep_for(50ms);
    }
    if (accepts_on_loopback(18084)) return (stop_all(), 14);

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
    if (!services.collect(context).complete) return (stop_all(), 13);
    services.publish(found);
    WebSitesCollector web_sites;
    auto outcome = web_sites.collect(context);

    std::ofstream out(dir / "result");
    out << "pid\t" << nginx << "\n";
    for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
    for (const auto& s : *web_sites.items())
      out << "site\t" << s.product << "\t" << s.pid << "\t" << s.container_id << "\t"
          << s.site.server << "\t" << join(s.site.domains) << "\t" << join(s.site.ports) << "\t"
          << s.site.document_root << "\t" << (s.site.tls ? "tls" : "plain") << "\t"
          << s.site.config_file << "\n";
    out.close();
    auto query = test::run_program({test::hostprint_binary(), "query", "--state-dir",
                                    (dir / "state").string(), "/v5/p/asset/statistics"});
    std::ofstream(dir / "query") << query.out;
    stop_all();
    return outcome.complete ? 0 : 15;
  });
  auto slurp = [&](const char* name) {
    std::ifstream in(dir / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  ASSERT_EQ(rc, 0) << slurp("nginx.out") << slurp("error.log") << slurp("result");

  std::ifstream in(dir / "result");
  std::string pid;
  std::vector<std::string> sites;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("pid\t"))
      pid = line.substr(4);
    else if (line.starts_with("site\t"))
      sites.push_back(line);
    else
      ADD_FAILURE() << line;
  }
  ASSERT_FALSE(pid.empty());
  EXPECT_EQ(sites, (std::vector<std::string>{"site\tNginx\t" + pid +
                                                 "\t\tnginx\ta.test,www.a.test\t18081,18082\t" + d +
                                                 "/www-a\tplain\t" + d + "/sites-enabled/a",
                                             "site\tNginx\t" + pid + "\t\tnginx\tb.test\t18083\t" +
                                                 d + "/www-b\tplain\t" + d + "/sites-enabled/b"}))
      << slurp("result");
  auto counts = boost::json::parse(slurp("query")).as_object();
  EXPECT_EQ(counts.at("web_site_num").as_int64(), 2) << slurp("query");
  EXPECT_EQ(counts.at("web_service_num").as_int64(), 1) << slurp("query");
}

// Apache httpd from Debian's apache2-bin, started with `-d`, `-f` and `-D`, with an environment
// variable used by the configuration: one plain and one TLS virtual host, included with a glob.
TEST(WebSitesLive, ApacheTwoVirtualHostsOneTls) {
  if (!fs::exists("/usr/sbin/apache2") || !fs::exists("/usr/bin/openssl"))
    LIVE_SKIP() << "apache2 (apache2-bin) and openssl are not installed";
  test::TempDir work;
  const fs::path dir = work.path();
  for (const char* sub : {"www-a", "www-s", "run", "logs"}) fs::create_directories(dir / sub);
  const std::string d = dir.string();
  auto cert = test::run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                 "-nodes", "-days", "2", "-subj", "/CN=secure.test", "-keyout",
                                 d + "/key.pem", "-out", d + "/cert.pem"});
  ASSERT_EQ(cert.exit_code, 0) << cert.out;
  const fs::path conf =
      work.write("conf/httpd.conf",
                 "DefaultRuntimeDir " + d +
                     "/run\n"
                     "PidFile " +
                     d +
                     "/run/httpd.pid\n"
                     "ErrorLog " +
                     d +
                     "/logs/error.log\n"
                     "LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so\n"
                     "LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so\n"
                     "<IfDefine TLS_SITE>\n"
                     "  LoadModule ssl_module /usr/lib/apache2/modules/mod_ssl.so\n"
                     "</IfDefine>\n"
                     "User nobody\n"
                     "Group nogroup\n"
                     "ServerName localhost\n"
                     "Listen 127.0.0.1:18091\n"
                     "IncludeOptional sites/*.conf\n");
  work.write("sites/a.conf",
             "<VirtualHost 127.0.0.1:18091>\n"
             "  ServerName a.test\n"
             "  ServerAlias www.a.test\n"
             "  DocumentRoot ${WEB_SITES_TEST_DIR}/www-a\n"
             "</VirtualHost>\n");
  work.write("sites/s.conf",
             "<IfDefine TLS_SITE>\n"
             "Listen 127.0.0.1:18443\n"
             "<VirtualHost 127.0.0.1:18443>\n"
             "  ServerName secure.test\n"
             "  DocumentRoot " +
                 d +
                 "/www-s\n"
                 "  SSLEngine on\n"
                 "  SSLCertificateFile " +
                 d +
                 "/cert.pem\n"
                 "  SSLCertificateKeyFile " +
                 d +
                 "/key.pem\n"
                 "</VirtualHost>\n"
                 "</IfDefine>\n");
  work.write("sites/disabled.conf.off",
             "<VirtualHost 127.0.0.1:18092>\n  ServerName off.test\n</VirtualHost>\n");

  int rc = test::run_in_namespaces([&]() -> int {
    std::vector<pid_t> started;
    auto stop_all = [&] {
      for (pid_t p : started) ::kill(p, SIGKILL);
      for (pid_t p : started) ::waitpid(p, nullptr, 0);
    };
    ::setenv("WEB_SITES_TEST_DIR", d.c_str(), 1);
    pid_t httpd = spawn_logged({"/usr/sbin/apache2", "-d", d, "-f", "conf/httpd.conf", "-D",
                                "TLS_SITE", "-D", "FOREGROUND"},
                               dir / "httpd.out");
    started.push_back(httpd);
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!(accepts_on_loopback(18091) && accepts_on_loopback(18443))) {
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
    if (!services.collect(context).complete) return (stop_all(), 13);
    services.publish(found);
    WebSitesCollector web_sites;
    auto outcome = web_sites.collect(context);

    std::ofstream out(dir / "result");
    out << "pid\t" << httpd << "\n";
    for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
    for (const auto& s : *web_sites.items())
      out << "site\t" << s.product << "\t" << s.pid << "\t" << s.container_id << "\t"
          << s.site.server << "\t" << join(s.site.domains) << "\t" << join(s.site.ports) << "\t"
          << s.site.document_root << "\t" << (s.site.tls ? "tls" : "plain") << "\t"
          << s.site.config_file << "\n";
    out.close();
    std::ofstream certs(dir / "certs");
    for (const auto& s : *web_sites.items())
      certs << s.site.domains.at(0) << " [" << s.site.bind_address << "] [" << s.cert_issuer
            << "] [" << s.cert_subject << "] "
            << (s.cert_not_after_ms - s.cert_not_before_ms) / 1000 << "\n";
    certs.close();
    auto query = test::run_program({test::hostprint_binary(), "query", "--state-dir",
                                    (dir / "state").string(), "/v5/p/asset/statistics"});
    std::ofstream(dir / "query") << query.out;
    stop_all();
    return outcome.complete ? 0 : 15;
  });
  auto slurp = [&](const std::string& name) {
    std::ifstream in(dir / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  ASSERT_EQ(rc, 0) << slurp("httpd.out") << slurp("logs/error.log") << slurp("result");

  std::ifstream in(dir / "result");
  std::string pid;
  std::vector<std::string> sites;
  for (std::string line; std::getline(in, line);) {
    if (line.starts_with("pid\t"))
      pid = line.substr(4);
    else if (line.starts_with("site\t"))
      sites.push_back(line);
    else
      ADD_FAILURE() << line;
  }
  ASSERT_FALSE(pid.empty());
  EXPECT_EQ(sites, (std::vector<std::string>{
                       "site\tApache httpd\t" + pid + "\t\tapache\ta.test,www.a.test\t18091\t" + d +
                           "/www-a\tplain\t" + d + "/sites/a.conf",
                       "site\tApache httpd\t" + pid + "\t\tapache\tsecure.test\t18443\t" + d +
                           "/www-s\ttls\t" + d + "/sites/s.conf"}))
      << slurp("result");
  // The TLS host's certificate (self-signed, made for 2 days) from its SSLCertificateFile.
  EXPECT_EQ(slurp("certs"), "a.test [127.0.0.1] [] [] 0\n"
                            "secure.test [127.0.0.1] [CN=secure.test] [CN=secure.test] 172800\n");
  auto counts = boost::json::parse(slurp("query")).as_object();
  EXPECT_EQ(counts.at("web_site_num").as_int64(), 2) << slurp("query");
  EXPECT_EQ(counts.at("web_service_num").as_int64(), 1) << slurp("query");
}

// The date `openssl x509 -noout -startdate` (or -enddate) prints, as epoch milliseconds.
std::int64_t openssl_date_ms(const std::string& file, const char* which) {
  auto r = test::run_program({"/usr/bin/openssl", "x509", "-in", file, "-noout", which});
  const auto eq = r.out.find('=');
  if (r.exit_code != 0 || eq == std::string::npos) return -1;
  std::tm tm{};
  if (!::strptime(r.out.c_str() + eq + 1, "%b %d %H:%M:%S %Y GMT", &tm)) return -1;
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000;
}

// nginx serving one TLS site with a certificate the openssl CLI made, bound to 127.0.0.1: the
// collector reads the certificate's names and dates, and `hostprint query` lists them with the
// bind address and the instance's executable.
TEST(WebSitesLive, NginxTlsSiteCertificateAndBindAddress) {
  if (!fs::exists("/usr/sbin/nginx") || !fs::exists("/usr/bin/openssl"))
    LIVE_SKIP() << "nginx and openssl are not installed";
  std::string host_id;
  std::getline(std::ifstream("/etc/machine-id"), host_id);
  if (host_id.empty()) LIVE_SKIP() << "no /etc/machine-id to name the host";
  test::TempDir work;
  const fs::path dir = work.path();
  for (const char* sub : {"www", "body", "proxy", "fastcgi", "uwsgi", "scgi"})
    fs::create_directories(dir / sub);
  const std::string d = dir.string();
  auto cert = test::run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                 "-nodes", "-days", "3", "-subj", "/O=Hostprint Live/CN=tls.test",
                                 "-keyout", d + "/key.pem", "-out", d + "/cert.pem"});
  ASSERT_EQ(cert.exit_code, 0) << cert.out;
  const std::int64_t not_before = openssl_date_ms(d + "/cert.pem", "-startdate");
  const std::int64_t not_after = openssl_date_ms(d + "/cert.pem", "-enddate");
  ASSERT_GT(not_before, 0);
  ASSERT_EQ(not_after - not_before, 3 * 86400 * 1000LL);
  const fs::path conf = work.write(
      "nginx.conf", "pid " + d + "/nginx.pid;\nerror_log " + d +
                        "/error.log;\nevents { worker_connections 16; }\nhttp {\n  access_log off;\n"
                        "  client_body_temp_path " + d + "/body;\n  proxy_temp_path " + d +
                        "/proxy;\n  fastcgi_temp_path " + d + "/fastcgi;\n  uwsgi_temp_path " + d +
                        "/uwsgi;\n  scgi_temp_path " + d + "/scgi;\n"
                        "  server { listen 127.0.0.1:18446 ssl; server_name tls.test; root " + d +
                        "/www;\n    ssl_certificate cert.pem; ssl_certificate_key key.pem; }\n}\n");
  int rc = test::run_in_namespaces([&]() -> int {
    pid_t server = spawn_logged(
        {"/usr/sbin/nginx", "-e", d + "/error.log", "-c", conf.string(), "-g", "daemon off;"},
        dir / "nginx.out");
    auto stop = [&] {
      ::kill(server, SIGKILL);
      ::waitpid(server, nullptr, 0);
    };
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!accepts_on_loopback(18446)) {
      if (std::chrono::steady_clock::now() > deadline) return (stop(), 10);
      std::this_thread::sleep_for(50ms);
    }
    ScanContext context;
    proto::AssetSet found;
    ProcessesCollector processes;
    if (!processes.collect(context).complete) return (stop(), 11);
    processes.publish(found);
    context.found = &found;
    context.readable.set();  // every kind, as the test arranges them
    auto rules = std::make_shared<Fingerprints>(parse_fingerprints(builtin_fingerprints_text()));
    ServicesCollector services(rules);
    if (!services.collect(context).complete) return (stop(), 12);
    services.publish(found);
    WebSitesCollector web_sites;
    auto outcome = web_sites.collect(context);
    std::ofstream out(dir / "result");
    out << "pid\t" << server << "\n";
    for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
    for (const auto& s : *web_sites.items())
      out << "site\t" << join(s.site.domains) << "\t" << s.site.bind_address << "\t" << s.exe
          << "\t" << s.site.certificate_file << "\t" << s.cert_issuer << "\t" << s.cert_subject
          << "\t" << s.cert_not_before_ms << "\t" << s.cert_not_after_ms << "\n";
    out.close();
    auto query = test::run_program({test::hostprint_binary(), "query", "--state-dir",
                                    (dir / "state").string(),
                                    "/v5/p/asset/" + host_id + "/web-site"});
    std::ofstream(dir / "query") << query.out;
    stop();
    return outcome.complete ? 0 : 13;
  });
  auto slurp = [&](const std::string& name) {
    std::ifstream in(dir / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  ASSERT_EQ(rc, 0) << slurp("nginx.out") << slurp("error.log") << slurp("result");
  const std::string result = slurp("result");
  const std::string pid = result.substr(4, result.find('\n') - 4);
  const std::string when = std::to_string(not_before) + "\t" + std::to_string(not_after);
  EXPECT_EQ(result, "pid\t" + pid + "\nsite\ttls.test\t127.0.0.1\t/usr/sbin/nginx\t" + d +
                        "/cert.pem\tCN=tls.test,O=Hostprint Live\tCN=tls.test,O=Hostprint Live\t" +
                        when + "\n");

  auto page = boost::json::parse(slurp("query")).as_object();
  ASSERT_EQ(page.at("total_num").as_int64(), 1) << slurp("query");
  const auto& site = page.at("data_list").as_array().at(0).as_object();
  EXPECT_EQ(site.at("domain").as_string(), "tls.test");
  EXPECT_EQ(site.at("port").as_int64(), 18446);
  EXPECT_EQ(site.at("bind_addr").as_string(), "127.0.0.1");
  EXPECT_EQ(site.at("is_https").as_bool(), true);
  EXPECT_EQ(site.at("proc_path").as_string(), "/usr/sbin/nginx");
  EXPECT_EQ(site.at("cert_issuer").as_string(), "CN=tls.test,O=Hostprint Live");
  EXPECT_EQ(site.at("cert_user").as_string(), "CN=tls.test,O=Hostprint Live");
  EXPECT_EQ(site.at("cert_issue_time").as_int64(), not_before);
  EXPECT_EQ(site.at("cert_expired_time").as_int64(), not_after);
}

// Debian's Tomcat 10 with a TLS connector whose certificate is a PEM file (JSSE reads it): the
// site's certificate fields come from that file, its bind address from the connector.
TEST(WebSitesLive, TomcatPemConnectorCertificate) {
  const fs::path home = "/usr/share/tomcat10";
  if (!fs::exists(home / "bin/bootstrap.jar") || !fs::exists("/usr/bin/openssl") ||
      !fs::exists("/etc/tomcat10/web.xml"))
    LIVE_SKIP() << "tomcat10 and openssl are not installed";
  test::TempDir work;
  const fs::path dir = work.path();
  const std::string d = dir.string();
  for (const char* sub : {"base/conf", "base/logs", "base/temp", "base/work", "base/webapps/ROOT"})
    fs::create_directories(dir / sub);
  fs::copy_file("/etc/tomcat10/web.xml", dir / "base/conf/web.xml");
  fs::copy_file("/etc/tomcat10/catalina.properties", dir / "base/conf/catalina.properties");
  auto cert = test::run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "rsa:2048",
                                 "-nodes", "-days", "5", "-subj", "/O=Hostprint Cat/CN=cat.test",
                                 "-keyout", d + "/base/conf/key.pem", "-out",
                                 d + "/base/conf/cert.pem"});
  ASSERT_EQ(cert.exit_code, 0) << cert.out;
  work.write("base/conf/server.xml",
             "<?xml version=\"1.0\"?>\n<Server port=\"-1\" shutdown=\"SHUTDOWN\">\n"
             "  <Service name=\"Catalina\">\n"
             "    <Connector port=\"18843\" address=\"127.0.0.1\" SSLEnabled=\"true\"\n"
             "               protocol=\"org.apache.coyote.http11.Http11NioProtocol\">\n"
             "      <SSLHostConfig><Certificate certificateFile=\"conf/cert.pem\"\n"
             "          certificateKeyFile=\"conf/key.pem\" type=\"RSA\"/></SSLHostConfig>\n"
             "    </Connector>\n"
             "    <Engine name=\"Catalina\" defaultHost=\"cat.test\">\n"
             "      <Host name=\"cat.test\" appBase=\"webapps\" unpackWARs=\"false\" "
             "autoDeploy=\"false\"/>\n"
             "    </Engine>\n  </Service>\n</Server>\n");
  int rc = test::run_in_namespaces([&]() -> int {
    pid_t server = spawn_logged(
        {"/usr/bin/java", "-Dcatalina.base=" + d + "/base", "-Dcatalina.home=" + home.string(),
         "-Djava.io.tmpdir=" + d + "/base/temp", "-classpath",
         (home / "bin/bootstrap.jar").string() + ":" + (home / "bin/tomcat-juli.jar").string(),
         "org.apache.catalina.startup.Bootstrap", "start"},
        dir / "tomcat.out");
    auto stop = [&] {
      ::kill(server, SIGKILL);
      ::waitpid(server, nullptr, 0);
    };
    auto deadline = std::chrono::steady_clock::now() + 90s;
    while (!accepts_on_loopback(18843)) {
      if (std::chrono::steady_clock::now() > deadline) return (stop(), 10);
      std::this_thread::sleep_for(100ms);
    }
    ScanContext context;
    proto::AssetSet found;
    ProcessesCollector processes;
    if (!processes.collect(context).complete) return (stop(), 11);
    processes.publish(found);
    context.found = &found;
    context.readable.set();  // every kind, as the test arranges them
    auto rules = std::make_shared<Fingerprints>(parse_fingerprints(builtin_fingerprints_text()));
    ServicesCollector services(rules);
    if (!services.collect(context).complete) return (stop(), 12);
    services.publish(found);
    WebSitesCollector web_sites;
    auto outcome = web_sites.collect(context);
    std::ofstream out(dir / "result");
    for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
    for (const auto& s : *web_sites.items())
      out << "site\t" << s.product << "\t" << join(s.site.domains) << "\t" << join(s.site.ports)
          << "\t" << s.site.bind_address << "\t" << s.site.certificate_file << "\t"
          << s.cert_issuer << "\t" << s.cert_subject << "\t" << s.cert_not_before_ms << "\t"
          << s.cert_not_after_ms << "\n";
    out.close();
    stop();
    return outcome.complete ? 0 : 13;
  });
  auto slurp = [&](const std::string& name) {
    std::ifstream in(dir / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  ASSERT_EQ(rc, 0) << slurp("tomcat.out") << slurp("result");
  const std::int64_t not_before = openssl_date_ms(d + "/base/conf/cert.pem", "-startdate");
  const std::int64_t not_after = openssl_date_ms(d + "/base/conf/cert.pem", "-enddate");
  ASSERT_GT(not_before, 0);
  EXPECT_EQ(slurp("result"), "site\tTomcat\tcat.test\t18843\t127.0.0.1\t" + d +
                                 "/base/conf/cert.pem\tCN=cat.test,O=Hostprint Cat\t"
                                 "CN=cat.test,O=Hostprint Cat\t" +
                                 std::to_string(not_before) + "\t" + std::to_string(not_after) +
                                 "\n");
}

// A product that only a replaced rules file names ("mynginx", run from a copy of nginx under that
// name, `config: nginx`) gets its sites: the parser is chosen by the rule, not by product name.
TEST(WebSitesLive, ProductOfAReplacedRulesFileGetsItsSites) {
  if (!fs::exists("/usr/sbin/nginx")) LIVE_SKIP() << "nginx is not installed";
  test::TempDir work;
  const fs::path dir = work.path();
  for (const char* sub : {"www", "body", "proxy", "fastcgi", "uwsgi", "scgi"})
    fs::create_directories(dir / sub);
  const std::string d = dir.string();
  fs::copy_file("/usr/sbin/nginx", dir / "mynginx");
  fs::permissions(dir / "mynginx", fs::perms::owner_all);
  const fs::path conf = work.write(
      "nginx.conf", "pid " + d + "/nginx.pid;\nerror_log " + d +
                        "/error.log;\nevents { worker_connections 16; }\nhttp {\n  access_log off;\n"
                        "  client_body_temp_path " + d + "/body;\n  proxy_temp_path " + d +
                        "/proxy;\n  fastcgi_temp_path " + d + "/fastcgi;\n  uwsgi_temp_path " + d +
                        "/uwsgi;\n  scgi_temp_path " + d + "/scgi;\n"
                        "  server { listen 127.0.0.1:18085; server_name my.test; root " + d +
                        "/www; }\n}\n");
  auto rules = std::make_shared<Fingerprints>(parse_fingerprints(
      R"({"version": 1, "products": [{"name": "mynginx", "category": "web_service",
          "executables": ["mynginx"], "config": "nginx"}]})"));
  int rc = test::run_in_namespaces([&]() -> int {
    pid_t server = spawn_logged({d + "/mynginx", "-e", d + "/error.log", "-c", conf.string(), "-g",
                                 "daemon off; master_process off;"},
                                dir / "nginx.out");
    auto stop = [&] {
      ::kill(server, SIGKILL);
      ::waitpid(server, nullptr, 0);
    };
    auto deadline = std::chrono::steady_clock::now() + 15s;
    while (!accepts_on_loopback(18085)) {
      if (std::chrono::steady_clock::now() > deadline) return (stop(), 10);
      std::this_thread::sleep_for(50ms);
    }
    ScanContext context;
    proto::AssetSet found;
    ProcessesCollector processes;
    if (!processes.collect(context).complete) return (stop(), 11);
    processes.publish(found);
    context.found = &found;
    context.readable.set();  // every kind, as the test arranges them
    ServicesCollector services(rules);
    if (!services.collect(context).complete) return (stop(), 12);
    services.publish(found);
    WebSitesCollector web_sites;
    auto outcome = web_sites.collect(context);
    std::ofstream out(dir / "result");
    for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
    for (const auto& s : *web_sites.items())
      out << "site\t" << s.product << "\t" << s.site.server << "\t" << join(s.site.domains) << "\t"
          << join(s.site.ports) << "\t" << s.site.document_root << "\n";
    out.close();
    stop();
    return outcome.complete ? 0 : 13;
  });
  std::ifstream in(dir / "result");
  std::string all(std::istreambuf_iterator<char>(in), {});
  ASSERT_EQ(rc, 0) << all;
  EXPECT_EQ(all, "site\tmynginx\tnginx\tmy.test\t18085\t" + d + "/www\n");
}

// A container's Apache started without -f loads its compiled-in default, which is looked for in
// the container's own root: a RHEL-like image with /etc/httpd/conf/httpd.conf, while the scan's
// host root holds a Debian /etc/apache2/apache2.conf decoy. The container is a process chrooted
// into the image (busybox copied as /usr/sbin/httpd, run as its sleep applet), marked as a
// container's in the process table.
TEST(WebSitesLive, ContainerApacheDefaultConfigurationInsideItsRoot) {
  if (!fs::exists("/bin/busybox")) LIVE_SKIP() << "busybox-static is not installed";
  test::TempDir image, host;
  fs::create_directories(image.path() / "usr/sbin");
  fs::copy_file("/bin/busybox", image.path() / "usr/sbin/httpd");
  fs::permissions(image.path() / "usr/sbin/httpd", fs::perms::owner_all);
  image.write("etc/httpd/conf/httpd.conf",
              "ServerRoot /etc/httpd\nListen 8088\n"
              "<VirtualHost *:8088>\n  ServerName inside.test\n  DocumentRoot /var/www/in\n"
              "</VirtualHost>\n");
  host.write("etc/apache2/apache2.conf",
             "Listen 8099\n<VirtualHost *:8099>\n  ServerName decoy.test\n"
             "  DocumentRoot /var/www/decoy\n</VirtualHost>\n");
  const fs::path result = host.path() / "result";
  int rc = test::run_in_namespaces([&]() -> int {
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) return 10;
    pid_t child = ::fork();
    if (child == 0) {
      if (::chroot(image.path().c_str()) != 0 || ::chdir("/") != 0) _exit(120);
      if (::write(ready[1], "r", 1) != 1) _exit(121);
      ::execl("/usr/sbin/httpd", "sleep", "60", nullptr);
      _exit(122);
    }
    ::close(ready[1]);
    char byte = 0;
    const bool started = ::read(ready[0], &byte, 1) == 1;
    ::close(ready[0]);
    auto stop = [&] {
      ::kill(child, SIGKILL);
      ::waitpid(child, nullptr, 0);
    };
    if (!started) return (stop(), 11);
    std::this_thread::sleep_for(100ms);  // the exec done
    ProcessesCollector processes;
    if (!processes.collect(ScanContext{}).complete) return (stop(), 12);
    auto table = std::make_shared<std::vector<ProcessInfo>>(*processes.items());
    for (auto& p : *table)
      if (p.pid == child) p.container_id = "c1";
    proto::AssetSet found;
    found.add<ProcessInfo>(table);
    ScanContext context;
    context.root = host.path();
    context.found = &found;
    context.readable.set();  // every kind, as the test arranges them
    auto rules = std::make_shared<Fingerprints>(parse_fingerprints(builtin_fingerprints_text()));
    ServicesCollector services(rules);
    if (!services.collect(context).complete) return (stop(), 13);
    services.publish(found);
    WebSitesCollector web_sites;
    auto outcome = web_sites.collect(context);
    std::ofstream out(result);
    for (const auto& s : *services.items())
      out << "service\t" << s.product << "\t" << s.container_id << "\t" << s.config_file << "\n";
    for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
    for (const auto& s : *web_sites.items())
      out << "site\t" << s.product << "\t" << s.container_id << "\t" << join(s.site.domains)
          << "\t" << join(s.site.ports) << "\t" << s.site.document_root << "\t"
          << s.site.config_file << "\n";
    out.close();
    stop();
    return outcome.complete ? 0 : 14;
  });
  std::ifstream in(result);
  std::string all(std::istreambuf_iterator<char>(in), {});
  ASSERT_EQ(rc, 0) << all;
  EXPECT_EQ(all,
            "service\tApache httpd\tc1\t/etc/httpd/conf/httpd.conf\n"
            "site\tApache httpd\tc1\tinside.test\t8088\t/var/www/in\t/etc/httpd/conf/httpd.conf\n");
}

}  // namespace
}  // namespace hostprint::collectors
