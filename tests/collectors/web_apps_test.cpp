#include "collectors/web_apps.hpp"

#include <gtest/gtest.h>

#include "collectors/formats/java_args.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/formats/python_dist.hpp"
#include "collectors/formats/version_text.hpp"
#include "collectors/io/root_glob.hpp"

#include <filesystem>

#include "tests/scan_chain.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;

std::shared_ptr<const Fingerprints> builtin_rules() {
  return std::make_shared<Fingerprints>(parse_fingerprints(builtin_fingerprints_text()));
}

ServedSite site(const std::string& product, const std::string& document_root) {
  ServedSite s;
  s.product = product;
  s.pid = 0;  // no process known: nothing to read of it
  // What the parser that read the site names it: the instance's configuration kind.
  s.site.server = product == "Tomcat" ? "tomcat" : product == "Apache httpd" ? "apache" : "nginx";
  s.site.document_root = document_root;
  return s;
}

struct Result {
  Outcome outcome;
  std::vector<WebApp> apps;
  std::vector<WebFramework> frameworks;
};

Result collect_sites(const fs::path& root, std::vector<ServedSite> sites) {
  proto::AssetSet found;
  found.add<proto::ServedSite>(std::make_shared<std::vector<ServedSite>>(std::move(sites)));
  found.add<proto::ProcessInfo>(std::make_shared<std::vector<ProcessInfo>>());
  ScanContext context;
  context.root = root;
  context.found = &found;
  context.readable.set();  // every kind, as the test arranges them
  WebAppsCollector collector(builtin_rules());
  Result r;
  r.outcome = collector.collect(context);
  r.apps = *collector.apps();
  r.frameworks = *collector.frameworks();
  return r;
}

TEST(WebApps, WordPressInDocumentRootWithVersion) {
  test::TempDir root;
  root.write("var/www/html/wp-includes/version.php",
             "<?php\n/** The WordPress version string. */\n$wp_version = '6.1.1';\n"
             "$wp_db_version = 53496;\n");
  auto r = collect_sites(root.path(), {site("Nginx", "/var/www/html")});
  EXPECT_TRUE(r.outcome.complete);
  EXPECT_EQ(r.apps, (std::vector<WebApp>{{"WordPress", "/var/www/html", "6.1.1", ""}}));
  EXPECT_TRUE(r.frameworks.empty());
}

TEST(WebApps, ApplicationInImmediateSubfolderAndPhpFramework) {
  test::TempDir root;
  root.write("srv/www/index.html", "hi");
  root.write("srv/www/blog/wp-includes/version.php", "$wp_version = '6.4.2';");
  root.write("srv/www/shop/vendor/laravel/framework/src/Illuminate/Foundation/Application.php",
             "<?php");
  // Two levels down: not checked.
  root.write("srv/www/a/b/wp-includes/version.php", "$wp_version = '1.0';");
  auto r =
      collect_sites(root.path(), {site("Apache httpd", "/srv/www/"), site("Nginx", "/srv/www")});
  EXPECT_TRUE(r.outcome.complete);
  EXPECT_EQ(r.apps, (std::vector<WebApp>{{"WordPress", "/srv/www/blog", "6.4.2", ""}}));
  EXPECT_EQ(
      r.frameworks,
      (std::vector<WebFramework>{{"Laravel", "php", "/srv/www/shop", "/srv/www/shop", "", ""}}));
}

TEST(WebApps, NothingInEmptyOrMissingRoot) {
  test::TempDir root;
  fs::create_directories(root.path() / "var/www/html");
  auto r = collect_sites(root.path(), {site("Nginx", "/var/www/html"), site("Nginx", "/missing")});
  EXPECT_TRUE(r.outcome.complete);
  EXPECT_TRUE(r.apps.empty());
  EXPECT_TRUE(r.frameworks.empty());
  // The control: an application put in the same document root is found.
  root.write("var/www/html/wp-includes/version.php", "$wp_version = '6.4.2';");
  r = collect_sites(root.path(), {site("Nginx", "/var/www/html"), site("Nginx", "/missing")});
  EXPECT_EQ(r.apps, (std::vector<WebApp>{{"WordPress", "/var/www/html", "6.4.2", ""}}));
}

TEST(WebApps, SymlinkOutOfTheRootIsNotFollowed) {
  test::TempDir outside;
  outside.write("wp/wp-includes/version.php", "$wp_version = '9.9';");
  test::TempDir root;
  fs::create_directories(root.path() / "var/www/html");
  // Absolute and relative links that point outside the root.
  fs::create_directory_symlink(outside.path() / "wp", root.path() / "var/www/html/abs");
  fs::create_directory_symlink(fs::relative(outside.path() / "wp", root.path() / "var/www/html"),
                               root.path() / "var/www/html/rel");
  fs::create_directory_symlink(outside.path() / "wp/wp-includes",
                               root.path() / "var/www/html/wp-includes");
  auto r = collect_sites(root.path(), {site("Nginx", "/var/www/html")});
  EXPECT_TRUE(r.apps.empty()) << r.apps.front().path;
}

TEST(WebApps, SymlinkInsideTheRootIsResolvedInIt) {
  test::TempDir root;
  root.write("usr/share/wordpress/wp-includes/version.php", "$wp_version = '6.1.1';");
  fs::create_directories(root.path() / "var/www/html");
  fs::create_directory_symlink("/usr/share/wordpress", root.path() / "var/www/html/wordpress");
  auto r = collect_sites(root.path(), {site("Nginx", "/var/www/html")});
  EXPECT_EQ(r.apps, (std::vector<WebApp>{{"WordPress", "/var/www/html/wordpress", "6.1.1", ""}}));
}

TEST(WebApps, TomcatAppBaseSubfoldersAreApplications) {
  test::TempDir root;
  root.write("var/lib/tomcat10/webapps/jenkins/WEB-INF/lib/jenkins-core.jar", "PK");
  root.write("var/lib/tomcat10/webapps/blog/WEB-INF/lib/jpress-core.jar", "PK");
  root.write("var/lib/tomcat10/webapps/ROOT/index.html", "hi");
  // A marker directly in the appBase is no application.
  root.write("var/lib/tomcat10/webapps/WEB-INF/lib/jenkins-core.jar", "PK");
  auto r = collect_sites(root.path(), {site("Tomcat", "/var/lib/tomcat10/webapps")});
  EXPECT_TRUE(r.outcome.complete);
  EXPECT_EQ(r.apps,
            (std::vector<WebApp>{{"JPress", "/var/lib/tomcat10/webapps/blog", "", ""},
                                 {"Jenkins", "/var/lib/tomcat10/webapps/jenkins", "", ""}}));
}

// A Tomcat-kind product that only a replaced rules file names: its sites come from the Tomcat
// parser, so its appBase's subfolders are the applications and the appBase itself is none.
TEST(WebApps, TomcatKindChosenByTheSiteNotTheProductName) {
  test::TempDir root;
  root.write("opt/mytomcat/webapps/jenkins/WEB-INF/lib/jenkins-core.jar", "PK");
  root.write("opt/mytomcat/webapps/WEB-INF/lib/jenkins-core.jar", "PK");
  ServedSite s = site("Tomcat", "/opt/mytomcat/webapps");
  s.product = "MyTomcat";
  auto r = collect_sites(root.path(), {s});
  EXPECT_EQ(r.apps, (std::vector<WebApp>{{"Jenkins", "/opt/mytomcat/webapps/jenkins", "", ""}}));
}

// A container's site whose instance's pid was reused since the process table was read (another
// start time) is not read: its /proc/<pid>/root now leads to another process's tree.
TEST(WebApps, ContainerSiteWithAReusedPidIsNotRead) {
  test::TempDir work;
  for (const char* tree : {"a", "b"})
    work.write(std::string(tree) + "/var/www/html/wp-includes/version.php",
               "<?php\n$wp_version = '6.1.1';\n");
  for (auto [pid, ticks] : {std::pair{80, 5}, std::pair{81, 9}}) {  // the table recorded 5 and 8
    work.write("proc/" + std::to_string(pid) + "/stat",
               std::to_string(pid) + " (nginx) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 " +
                   std::to_string(ticks) + " 0 0\n");
    fs::create_directory_symlink(work.path() / (pid == 80 ? "a" : "b"),
                                 work.path() / "proc" / std::to_string(pid) / "root");
    work.write("proc/" + std::to_string(pid) + "/status",
               "Name:\tnginx\nUid:\t0\t101\t101\t101\nGid:\t0\t102\t102\t102\n");
  }
  std::vector<ServedSite> sites;
  for (int pid : {80, 81}) {
    ServedSite s = site("Nginx", "/var/www/html");
    s.pid = pid;
    s.exe = "/usr/sbin/nginx";
    s.container_id = "c" + std::to_string(pid);
    sites.push_back(s);
  }
  proto::AssetSet found;
  found.add<proto::ServedSite>(std::make_shared<std::vector<ServedSite>>(std::move(sites)));
  found.add<proto::ProcessInfo>(std::make_shared<std::vector<ProcessInfo>>(std::vector<ProcessInfo>{
      {80, 5, "/usr/sbin/nginx", "c80"}, {81, 8, "/usr/sbin/nginx", "c81"}}));
  ScanContext context;
  context.root = work.path() / "host";
  context.proc = work.path() / "proc";
  context.found = &found;
  context.readable.set();  // every kind, as the test arranges them
  WebAppsCollector collector(builtin_rules());
  EXPECT_TRUE(collector.collect(context).complete);
  // Served by the site's instance: its pid, executable and (from its status) uid and gid.
  EXPECT_EQ(*collector.apps(), (std::vector<WebApp>{{"WordPress", "/var/www/html", "6.1.1", "c80",
                                                     80, "/usr/sbin/nginx", 101, 102}}));
}

TEST(WebApps, FolderEntriesAreBounded) {
  test::TempDir root;
  for (std::size_t i = 0; i < web_apps_max_dir_entries + 5; ++i)
    fs::create_directories(root.path() / "www" / ("d" + std::to_string(i)));
  auto r = collect_sites(root.path(), {site("Nginx", "/www")});
  EXPECT_TRUE(r.outcome.complete);
  ASSERT_EQ(r.outcome.errors.size(), 1u);
  EXPECT_NE(r.outcome.errors[0].find("more than 1000"), std::string::npos);
}

TEST(WebApps, PythonEnvironments) {
  test::TempDir root;
  root.write("usr/lib/python3/dist-packages/Flask-2.2.2.egg-info/PKG-INFO", "Version: 2.2.2\n");
  root.write("usr/local/lib/python3.11/dist-packages/Django-4.2.dist-info/METADATA", "");
  root.write("opt/app/venv/pyvenv.cfg", "home = /usr/bin\n");
  root.write("opt/app/venv/lib/python3.11/site-packages/fastapi-0.100.0.dist-info/METADATA", "");
  auto sys = python_environment(root.path().string(), "/usr/bin/python3.11", "python3");
  EXPECT_EQ(sys.environment, "/usr");
  EXPECT_EQ(sys.package_dirs, (std::vector<std::string>{"/usr/local/lib/python3.11/dist-packages",
                                                        "/usr/lib/python3/dist-packages"}));
  auto venv =
      python_environment(root.path().string(), "/usr/bin/python3.11", "/opt/app/venv/bin/python");
  EXPECT_EQ(venv.environment, "/opt/app/venv");
  EXPECT_EQ(venv.package_dirs,
            (std::vector<std::string>{"/opt/app/venv/lib/python3.11/site-packages"}));
}

}  // namespace
}  // namespace hostprint::collectors

namespace hostprint::collectors {
namespace {

JarPackage jar(std::string path, std::string name, std::string version, int pid,
               std::string container = "") {
  return JarPackage{std::move(path),      std::move(name), std::move(version), "", pid,
                    std::move(container), "/usr/bin/java"};
}

TEST(WebApps, WsgiAndAsgiServersOnTheCommandLine) {
  using Args = std::vector<std::string>;
  EXPECT_TRUE(runs_under_web_server(Args{"/usr/bin/python3", "/usr/bin/gunicorn", "app:app"}));
  EXPECT_TRUE(runs_under_web_server(Args{"gunicorn: worker [app:app]"}));  // setproctitle
  EXPECT_TRUE(runs_under_web_server(Args{"/srv/venv/bin/uvicorn", "main:app"}));
  EXPECT_TRUE(runs_under_web_server(Args{"python3", "-u", "-m", "hypercorn", "main:app"}));
  EXPECT_TRUE(runs_under_web_server(Args{"python3.11", "-mdaphne", "proj.asgi:application"}));
  EXPECT_TRUE(runs_under_web_server(Args{"python3", "-X", "dev", "/usr/bin/waitress-serve", "a"}));
  EXPECT_TRUE(runs_under_web_server(Args{"/usr/bin/gunicorn3", "app:app"}));
  EXPECT_TRUE(runs_under_web_server(Args{"uwsgi", "--http", ":8000"}));
  // Scripts and tools that are no server, and servers named only as an argument.
  EXPECT_FALSE(runs_under_web_server(Args{"/usr/bin/python3", "/usr/bin/pip", "list"}));
  EXPECT_FALSE(runs_under_web_server(Args{"python3", "-c", "import gunicorn"}));
  EXPECT_FALSE(runs_under_web_server(Args{"python3", "manage.py", "gunicorn"}));
  EXPECT_FALSE(runs_under_web_server(Args{"python3", "-m", "pip", "install", "gunicorn"}));
  EXPECT_FALSE(runs_under_web_server(Args{"python3", "-W", "gunicorn", "tool.py"}));
  EXPECT_FALSE(runs_under_web_server(Args{"/usr/bin/python3"}));
  EXPECT_FALSE(runs_under_web_server(Args{}));
}

TEST(WebApps, ListeningTcpInodes) {
  const std::string text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:4745 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 111 1 0000000000000000 100 0 0 10 0\n"
      "   1: 0100007F:4745 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        "
      "0 222 1 0000000000000000 20 4 30 10 -1\n"
      "   2: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 333 1 0000000000000000 100 0 0 10 0\n"
      "garbage\n";
  EXPECT_EQ(listening_tcp_inodes(text), (std::set<std::uint64_t>{111, 333}));
  EXPECT_TRUE(listening_tcp_inodes("").empty());
}

TEST(WebApps, JavaApplicationOfAJar) {
  EXPECT_EQ(
      java_application(jar("/srv/app.jar!/BOOT-INF/lib/spring-core.jar", "spring-core", "", 7)),
      "/srv/app.jar");
  EXPECT_EQ(java_application(jar("/t/webapps/shop.war!/WEB-INF/lib/a.jar", "a", "", 7)),
            "/t/webapps/shop.war");
  EXPECT_EQ(java_application(jar("/t/webapps/shop/WEB-INF/lib/a.jar", "a", "", 7)),
            "/t/webapps/shop");
  EXPECT_EQ(java_application(jar("/usr/share/java/a.jar", "a", "", 7)), "pid 7");
}

TEST(WebApps, JavaFrameworksOnePerApplication) {
  auto rules = builtin_rules();
  auto frameworks = rules->in_category(ProductCategory::web_framework);
  std::vector<JarPackage> jars = {
      // One application with three Spring artifacts: one Spring, versioned by spring-core (the
      // rule's first artifact), whichever JAR comes first.
      jar("/t/webapps/shop/WEB-INF/lib/spring-web-5.3.jar", "spring-web", "5.3.1", 9),
      jar("/t/webapps/shop/WEB-INF/lib/spring-core-5.3.jar", "spring-core", "5.3.2", 9),
      jar("/t/webapps/shop/WEB-INF/lib/jackson-databind.jar", "jackson-databind", "2.14", 9),
      jar("/t/webapps/shop/WEB-INF/lib/commons-io.jar", "commons-io", "2.11", 9),
      // The same in another application of the same JVM, and in a fat JAR: counted again.
      jar("/t/webapps/blog.war!/WEB-INF/lib/spring-beans.jar", "spring-beans", "5.3.2", 9),
      jar("/srv/app.jar!/BOOT-INF/lib/spring-context.jar", "spring-context", "6.0", 10),
      jar("/srv/app.jar", "app", "1.0", 10),
      // On a plain class path: the JVM is the application.
      jar("/usr/share/java/spring3-core.jar", "spring-core", "4.3.30", 11),
      jar("/usr/share/java/spring3-web.jar", "spring-web", "4.3.30", 11),
      // A container's copy of the fat JAR counts on its own.
      jar("/srv/app.jar!/BOOT-INF/lib/spring-context.jar", "spring-context", "6.0", 12, "c1"),
      // Lookalike artifact names do not count.
      jar("/srv/other.jar", "spring-core-tests", "1", 13),
      jar("/srv/other2.jar", "fastjson-extra", "1", 13),
  };
  std::string text;
  for (const auto& f : java_frameworks(jars, frameworks))
    text += f.container_id + "|" + f.product + "|" + f.language + "|" + f.environment + "|" +
            f.path + "|" + f.version + "\n";
  EXPECT_EQ(text,
            "|Jackson|java|/t/webapps/shop|/t/webapps/shop/WEB-INF/lib/jackson-databind.jar|2.14\n"
            "|Spring|java|/srv/app.jar|/srv/app.jar!/BOOT-INF/lib/spring-context.jar|6.0\n"
            "|Spring|java|/t/webapps/blog.war|/t/webapps/blog.war!/WEB-INF/lib/spring-beans.jar|"
            "5.3.2\n"
            "|Spring|java|/t/webapps/shop|/t/webapps/shop/WEB-INF/lib/spring-core-5.3.jar|5.3.2\n"
            "|Spring|java|pid 11|/usr/share/java/spring3-core.jar|4.3.30\n"
            "c1|Spring|java|/srv/app.jar|/srv/app.jar!/BOOT-INF/lib/spring-context.jar|6.0\n");
}

TEST(WebApps, JavaFrameworksThroughTheCollector) {
  proto::AssetSet found;
  found.add<proto::JarPackage>(std::make_shared<std::vector<JarPackage>>(std::vector<JarPackage>{
      jar("/srv/app.jar!/BOOT-INF/lib/struts2-core.jar", "struts2-core", "2.5.30", 4)}));
  found.add<proto::ProcessInfo>(std::make_shared<std::vector<ProcessInfo>>());
  ScanContext context;
  context.found = &found;
  context.readable.set();  // every kind, as the test arranges them
  WebAppsCollector collector(builtin_rules());
  ASSERT_TRUE(collector.collect(context).complete);
  ASSERT_EQ(collector.frameworks()->size(), 1u);
  EXPECT_EQ(collector.frameworks()->front().product, "Struts2");
  EXPECT_EQ(collector.frameworks()->front().pid, 4);  // the JVM of the JAR that shows it
  EXPECT_EQ(collector.frameworks()->front().exe, "/usr/bin/java");
  EXPECT_EQ(collector.frameworks()->front().version, "2.5.30");
  EXPECT_TRUE(collector.apps()->empty());
}

}  // namespace
}  // namespace hostprint::collectors
