#include "collectors/web_sites.hpp"

#include <gtest/gtest.h>

#include "collectors/formats/java_args.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/formats/python_dist.hpp"
#include "collectors/formats/version_text.hpp"
#include "collectors/io/root_glob.hpp"

#include <filesystem>
#include <map>

#include "tests/scan_chain.hpp"
#include "collectors/io/process_files.hpp"
#include "collectors/services.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;

TEST(WebSites, ApacheEnvvars) {
  auto env = parse_apache_envvars(
      "# comment\n"
      "unset HOME\n"
      "export APACHE_RUN_USER=www-data\n"
      "  export APACHE_LOG_DIR=/var/log/apache2$SUFFIX\n"
      "export APACHE_LOCK_DIR=\"/var/lock/apache2${SUFFIX}\"\n"
      "export LANG\n"
      "APACHE_NOT_EXPORTED=1\n");
  EXPECT_EQ(env, (std::map<std::string, std::string>{{"APACHE_LOCK_DIR", "/var/lock/apache2"},
                                                     {"APACHE_LOG_DIR", "/var/log/apache2"},
                                                     {"APACHE_RUN_USER", "www-data"}}));
}

// Instances found earlier in the scan, with their configuration read inside the root given.
TEST(WebSites, CollectsFromServicesInTheRoot) {
  test::TempDir root;
  root.write("etc/nginx/nginx.conf",
             "events {}\nhttp {\n include /etc/nginx/sites-enabled/*;\n}\n");
  root.write("etc/nginx/sites-enabled/one",
             "server { listen 8080; server_name a.example b.example; root /srv/a; }\n");
  root.write("etc/nginx/sites-available/two", "server { listen 8081; }\n");
  auto services = std::make_shared<std::vector<ServiceInstance>>();
  ServiceInstance nginx;
  nginx.product = "Nginx";
  nginx.config = "nginx";
  nginx.pid = 999'999'999;  // no such process: defaults apply
  nginx.config_file = "/etc/nginx/nginx.conf";
  services->push_back(nginx);
  ServiceInstance redis;
  redis.product = "Redis";
  redis.category = ProductCategory::database;
  redis.pid = 5;
  services->push_back(redis);
  ServiceInstance tomcat;
  tomcat.product = "Tomcat";
  tomcat.config = "tomcat";
  tomcat.pid = 7;
  services->push_back(tomcat);  // no config file known
  proto::AssetSet found;
  found.add<proto::ServiceInstance>(services);
  ScanContext context;
  context.root = root.path();
  context.found = &found;
  context.readable.set();  // every kind, as the test arranges them
  WebSitesCollector collector;
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  ASSERT_EQ(collector.item_count(), 1u);
  const auto& s = collector.items()->front();
  EXPECT_EQ(s.product, "Nginx");
  EXPECT_EQ(s.pid, 999'999'999);
  EXPECT_EQ(s.site.domains, (std::vector<std::string>{"a.example", "b.example"}));
  EXPECT_EQ(s.site.ports, std::vector<unsigned>{8080});
  EXPECT_EQ(s.site.document_root, "/srv/a");
  EXPECT_EQ(s.site.config_file, "/etc/nginx/sites-enabled/one");
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("Tomcat 7"), std::string::npos);
  proto::AssetSet published;
  collector.publish(published);
  EXPECT_EQ(test::part_of<ServedSite>(published), collector.items());
}

// A TLS site's certificate is read from the file its configuration names, inside the root: a
// garbage file, a missing one and a symlink leading out of the root leave ""/0 and an error.
TEST(WebSites, CertificateFieldsFromTheFileInTheRoot) {
  test::TempDir root;
  // The leaf of tests/collectors/formats/x509_pem_test.cpp.
  root.write("etc/ssl/good.pem", R"(-----BEGIN CERTIFICATE-----
MIIBVDCB/AIBBzAKBggqhkjOPQQDAjAwMRIwEAYDVQQKDAlIb3N0cHJpbnQxGjAY
BgNVBAMMEUhvc3RwcmludCBUZXN0IENBMB4XDTI2MTIwNDIyNDQxNloXDTI3MDEw
MzIyNDQxNlowPjELMAkGA1UEBhMCREUxFDASBgNVBAoMC0V4YW1wbGUgT3JnMRkw
FwYDVQQDDBB3d3cuZXhhbXBsZS50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD
QgAEerqeaRVCVIY+0cTTw0fIr0d2gMTbxeqT0hZGW6bDHY6uGZnvRQolpxyzMOYN
4IeeyUdO1F4ilHw1dI2iBg6w+zAKBggqhkjOPQQDAgNHADBEAiAguY2l2i+Zxfe/
RcFlrE5J0cF8KpJlxzFPhzCEKcqoSwIgWFAvt3Hu79uCW7C0xQY8ib1kREEaOZuk
aLbJtF2B0WU=
-----END CERTIFICATE-----
)");
  root.write("etc/ssl/bad.pem", "not a certificate\n");
  // Outside the root this names the good file; inside it, nothing.
  fs::create_symlink(root.path() / "etc/ssl/good.pem", root.path() / "etc/ssl/escape.pem");
  root.write("etc/nginx/nginx.conf",
             "events {}\nhttp {\n"
             " server { listen 127.0.0.1:443 ssl; server_name good; ssl_certificate ../ssl/good.pem; }\n"
             " server { listen 8443 ssl; server_name shared; ssl_certificate /etc/ssl/good.pem; }\n"
             " server { listen 443 ssl; server_name bad; ssl_certificate /etc/ssl/bad.pem; }\n"
             " server { listen 443 ssl; server_name gone; ssl_certificate /etc/ssl/gone.pem; }\n"
             " server { listen 443 ssl; server_name out; ssl_certificate /etc/ssl/escape.pem; }\n"
             " server { listen 80; server_name plain; }\n"
             "}\n");
  auto services = std::make_shared<std::vector<ServiceInstance>>();
  ServiceInstance nginx;
  nginx.product = "Nginx";
  nginx.config = "nginx";
  nginx.pid = 999'999'999;  // no such process: defaults apply
  nginx.exe = "/usr/sbin/nginx";
  nginx.config_file = "/etc/nginx/nginx.conf";
  services->push_back(nginx);
  proto::AssetSet found;
  found.add<proto::ServiceInstance>(services);
  ScanContext context;
  context.root = root.path();
  context.found = &found;
  context.readable.set();
  WebSitesCollector collector;
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  std::map<std::string, const ServedSite*> by_name;
  for (const auto& s : *collector.items()) by_name[s.site.domains.at(0)] = &s;
  ASSERT_EQ(by_name.size(), 6u);
  for (const char* name : {"good", "shared"}) {
    const auto& s = *by_name.at(name);
    EXPECT_EQ(s.cert_issuer, "CN=Hostprint Test CA,O=Hostprint") << name;
    EXPECT_EQ(s.cert_subject, "CN=www.example.test,O=Example Org,C=DE") << name;
    EXPECT_EQ(s.cert_not_before_ms, 1796424256000) << name;
    EXPECT_EQ(s.cert_not_after_ms, 1799016256000) << name;
    EXPECT_EQ(s.exe, "/usr/sbin/nginx");
  }
  EXPECT_EQ(by_name.at("good")->site.bind_address, "127.0.0.1");
  EXPECT_EQ(by_name.at("shared")->site.bind_address, "");
  for (const char* name : {"bad", "gone", "out", "plain"}) {
    const auto& s = *by_name.at(name);
    EXPECT_EQ(s.cert_issuer, "") << name;
    EXPECT_EQ(s.cert_subject, "") << name;
    EXPECT_EQ(s.cert_not_before_ms, 0) << name;
    EXPECT_EQ(s.cert_not_after_ms, 0) << name;
  }
  std::string errors;
  for (const auto& e : outcome.errors) errors += e + "\n";
  EXPECT_EQ(outcome.errors.size(), 3u) << errors;
  EXPECT_NE(errors.find("certificate /etc/ssl/bad.pem not read: no PEM certificate"),
            std::string::npos) << errors;
  EXPECT_NE(errors.find("certificate /etc/ssl/gone.pem not read: missing"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("certificate /etc/ssl/escape.pem not read"), std::string::npos) << errors;
}

// A /proc/<pid>/stat whose start time (field 22) is `ticks`.
void write_stat(const test::TempDir& dir, int pid, std::uint64_t ticks) {
  dir.write("proc/" + std::to_string(pid) + "/stat",
            std::to_string(pid) + " (nginx) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " +
                std::to_string(ticks) + " 0 0\n");
}

// The reader of a held root keeps reading the tree the root was opened on: after the folder the
// process's root led to is renamed away and another put in its place, reads and globs still see
// the first one (a reader by path would see the second).
TEST(WebSites, HeldRootKeepsTheTreeItWasOpenedOn) {
  test::TempDir work;
  write_stat(work, 60, 3);
  work.write("image/etc/nginx/nginx.conf", "inside\n");
  fs::create_directory_symlink(work.path() / "image", work.path() / "proc/60/root");
  auto held = hold_process(work.path() / "proc", 60, 3, true);
  ASSERT_TRUE(held);
  fs::rename(work.path() / "image", work.path() / "image.old");
  work.write("image/etc/nginx/nginx.conf", "decoy\n");
  work.write("image/etc/nginx/decoy.conf", "decoy\n");
  auto files = file_source_in_root(held->root_path());
  EXPECT_EQ(files.read("/etc/nginx/nginx.conf", 100), std::optional<std::string>("inside\n"));
  EXPECT_EQ(files.glob("/etc/nginx/*.conf", 10), std::vector<std::string>{"/etc/nginx/nginx.conf"});
  EXPECT_EQ(file_source_in_root(work.path() / "proc/60/root").read("/etc/nginx/nginx.conf", 100),
            std::optional<std::string>("decoy\n"));
  // Another start time than the table's (the pid reused), or no such process: nothing held.
  EXPECT_FALSE(hold_process(work.path() / "proc", 60, 4, true));
  EXPECT_FALSE(hold_process(work.path() / "proc", 61, std::nullopt, true));
}

// A container's instance whose pid was reused since the process table was read (another start
// time) is not read: its /proc/<pid>/root now leads to another process's tree.
TEST(WebSites, ContainerInstanceWithAReusedPidIsNotRead) {
  test::TempDir work;
  const std::string conf = "events {}\nhttp {\n server { listen 80; server_name ";
  work.write("a/etc/nginx/nginx.conf", conf + "a.test; }\n}\n");
  work.write("b/etc/nginx/nginx.conf", conf + "b.test; }\n}\n");
  write_stat(work, 70, 5);
  write_stat(work, 71, 9);  // the table recorded 8
  fs::create_directory_symlink(work.path() / "a", work.path() / "proc/70/root");
  fs::create_directory_symlink(work.path() / "b", work.path() / "proc/71/root");
  auto services = std::make_shared<std::vector<ServiceInstance>>();
  for (int pid : {70, 71}) {
    ServiceInstance nginx;
    nginx.product = "Nginx";
    nginx.config = "nginx";
    nginx.pid = pid;
    nginx.container_id = "c" + std::to_string(pid);
    nginx.config_file = "/etc/nginx/nginx.conf";
    services->push_back(nginx);
  }
  proto::AssetSet found;
  found.add<proto::ServiceInstance>(services);
  found.add<proto::ProcessInfo>(std::make_shared<std::vector<ProcessInfo>>(std::vector<ProcessInfo>{
      {70, 5, "/usr/sbin/nginx", "c70"}, {71, 8, "/usr/sbin/nginx", "c71"}}));
  ScanContext context;
  context.root = work.path() / "host";
  context.proc = work.path() / "proc";
  context.found = &found;
  context.readable.set();  // every kind, as the test arranges them
  WebSitesCollector collector;
  EXPECT_TRUE(collector.collect(context).complete);
  ASSERT_EQ(collector.item_count(), 1u);
  EXPECT_EQ(collector.items()->front().container_id, "c70");
  EXPECT_EQ(collector.items()->front().site.domains, std::vector<std::string>{"a.test"});
}

TEST(WebSites, NothingWithoutServices) {
  test::TempDir root;
  root.write("etc/nginx/nginx.conf", "events {}\nhttp { server { listen 80; server_name a; } }\n");
  proto::AssetSet found;
  found.add<proto::ServiceInstance>(std::make_shared<std::vector<ServiceInstance>>());
  ScanContext context;
  context.root = root.path();
  context.found = &found;
  context.readable.set();
  WebSitesCollector collector;
  EXPECT_TRUE(collector.collect(context).complete);
  EXPECT_EQ(collector.item_count(), 0u);
  // The control: the same root, with the service that reads it, has its site.
  ServiceInstance nginx;
  nginx.product = "Nginx";
  nginx.config = "nginx";
  nginx.pid = 999'999'999;  // no such process: defaults apply
  nginx.exe = "/usr/sbin/nginx";
  nginx.config_file = "/etc/nginx/nginx.conf";
  proto::AssetSet with_nginx;
  with_nginx.add<proto::ServiceInstance>(std::make_shared<std::vector<ServiceInstance>>(1, nginx));
  context.found = &with_nginx;
  EXPECT_TRUE(collector.collect(context).complete);
  ASSERT_EQ(collector.item_count(), 1u);
  EXPECT_EQ(collector.items()->front().site.domains, std::vector<std::string>{"a"});
}

}  // namespace
}  // namespace hostprint::collectors
