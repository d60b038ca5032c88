// Python distribution names, metadata and version texts.
#include "collectors/formats/python_dist.hpp"
#include "collectors/formats/version_text.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hostprint::collectors {
namespace {

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

}  // namespace
}  // namespace hostprint::collectors
