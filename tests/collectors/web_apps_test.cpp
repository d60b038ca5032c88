#include "collectors/web_apps.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "collectors/inventory.hpp"
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
  s.pid = 1;
  s.site.server = product;
  s.site.document_root = document_root;
  return s;
}

struct Result {
  Outcome outcome;
  std::vector<WebApp> apps;
  std::vector<WebFramework> frameworks;
};

Result collect_sites(const fs::path& root, std::vector<ServedSite> sites) {
  Inventory found;
  found.web_sites = std::make_shared<std::vector<ServedSite>>(std::move(sites));
  found.processes = std::make_shared<std::vector<ProcessInfo>>();
  ScanContext context;
  context.root = root;
  context.found = &found;
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

TEST(WebApps, FolderEntriesAreBounded) {
  test::TempDir root;
  for (std::size_t i = 0; i < web_apps_max_dir_entries + 5; ++i)
    fs::create_directories(root.path() / "www" / ("d" + std::to_string(i)));
  auto r = collect_sites(root.path(), {site("Nginx", "/www")});
  EXPECT_TRUE(r.outcome.complete);
  ASSERT_EQ(r.outcome.errors.size(), 1u);
  EXPECT_NE(r.outcome.errors[0].find("more than 1000"), std::string::npos);
}

TEST(WebApps, Pep503Normalization) {
  EXPECT_EQ(normalize_python_name("Flask"), "flask");
  EXPECT_EQ(normalize_python_name("web.py"), "web-py");
  EXPECT_EQ(normalize_python_name("Foo__Bar-.-baz"), "foo-bar-baz");
  EXPECT_EQ(normalize_python_name("zope.interface"), "zope-interface");
  EXPECT_EQ(normalize_python_name("web_py"), normalize_python_name("Web.Py"));
}

TEST(WebApps, DistInfoNames) {
  auto a = parse_dist_info_name("Flask-2.2.2.dist-info");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->name, "Flask");
  EXPECT_EQ(a->version, "2.2.2");
  auto b = parse_dist_info_name("Flask-2.2.2.egg-info");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->version, "2.2.2");
  auto c = parse_dist_info_name("tornado-6.2-py3.11.egg-info");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->name, "tornado");
  EXPECT_EQ(c->version, "6.2");
  auto d = parse_dist_info_name("web.py.egg-info");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->name, "web.py");
  EXPECT_EQ(d->version, "");
  auto e = parse_dist_info_name("typing_extensions-4.4.0.dist-info");
  ASSERT_TRUE(e);
  EXPECT_EQ(normalize_python_name(e->name), "typing-extensions");
  EXPECT_FALSE(parse_dist_info_name("flask"));
  EXPECT_FALSE(parse_dist_info_name(".dist-info"));
}

TEST(WebApps, MetadataAndVersionText) {
  EXPECT_EQ(metadata_version("Metadata-Version: 2.1\nName: Flask\nVersion: 2.2.2\n\nVersion: 9\n"),
            "2.2.2");
  EXPECT_EQ(metadata_version("Name: x\n\nVersion: 1\n"), "");
  EXPECT_EQ(version_from_text("$wp_version = '6.1.1';", "$wp_version = '"), "6.1.1");
  EXPECT_EQ(version_from_text("define('ZABBIX_VERSION',\t\t'6.0.14');", "define('ZABBIX_VERSION',"),
            "6.0.14");
  EXPECT_EQ(version_from_text("20180109\n", ""), "20180109");
  EXPECT_EQ(version_from_text("nothing here", "$wp_version = '"), "");
  EXPECT_EQ(version_from_text("$wp_version = '6.1.1", "$wp_version = '"), "");
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
