#include "collectors/rules/fingerprints.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <set>

namespace hostprint::collectors {
namespace {

std::string shipped_rules() {
  const char* source_root = std::getenv("HOSTPRINT_SOURCE_ROOT");
  std::ifstream in(std::string(source_root ? source_root : "..") + "/collectors/rules/fingerprints.json");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string error_of(std::string_view text) {
  try {
    parse_fingerprints(text);
  } catch (const RulesError& e) {
    return e.what();
  }
  return "";
}

TEST(Fingerprints, ShippedRulesCoverEveryProductOfTheSpec) {
  auto rules = parse_fingerprints(shipped_rules());
  std::set<std::string> names;
  for (const auto& p : rules.products) names.insert(p.name);
  // Every product named in assets.md, by category.
  for (auto name : {"Nginx", "Tengine", "OpenResty", "Apache httpd", "Tomcat", "Jetty", "WebLogic",
                    "WebSphere", "JBoss/WildFly", "IHS", "Lighttpd", "Caddy"})
    EXPECT_TRUE(names.contains(name)) << name;
  for (auto name : {"MySQL", "MariaDB", "PostgreSQL", "Redis", "MongoDB", "Memcached", "Elasticsearch",
                    "OpenSearch", "Oracle", "SQL Server", "Cassandra", "ClickHouse", "etcd", "InfluxDB",
                    "TiDB", "HBase", "DB2", "Sybase", "Neo4j", "CouchDB"})
    EXPECT_TRUE(names.contains(name)) << name;
  for (auto name : {"WordPress", "phpMyAdmin", "Jenkins", "Zabbix", "Discuz!", "DedeCMS", "ThinkPHP",
                    "ThinkCMF", "PHPMailer", "BigTree", "JPress", "Nextcloud", "GitLab", "Grafana",
                    "Kibana", "Nexus", "Confluence", "Jira"})
    EXPECT_TRUE(names.contains(name)) << name;
  for (auto name : {"Spring", "Struts", "Struts2", "Hibernate", "MyBatis", "Shiro", "fastjson", "Jackson",
                    "Jersey", "Vert.x", "Wicket", "Vaadin", "JFinal", "Velocity", "FreeMarker", "Quartz",
                    "Django", "Flask", "Tornado", "FastAPI", "web.py", "web2py", "Laravel", "Symfony",
                    "CodeIgniter", "Yii"})
    EXPECT_TRUE(names.contains(name)) << name;
  for (auto name : {"OpenRASP", "JRASP", "Elkeid RASP"}) EXPECT_TRUE(names.contains(name)) << name;
}

TEST(Fingerprints, BuiltInCopyIsTheShippedFile) {
  EXPECT_EQ(builtin_fingerprints_text(), shipped_rules());
}

TEST(Fingerprints, CategoriesAreSelectable) {
  auto rules = parse_fingerprints(shipped_rules());
  for (const auto* p : rules.in_category(ProductCategory::database))
    EXPECT_EQ(p->category, ProductCategory::database);
  EXPECT_GE(rules.in_category(ProductCategory::web_service).size(), 12u);
}

TEST(Fingerprints, BadRulesNameTheKey) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (auto [text, message] : std::initializer_list<Case>{
           {"[]", "one JSON object"},
           {"{", "not valid JSON"},
           {R"({"version": 2, "products": []})", "version: must be 1"},
           {R"({"version": 1})", "products: is required"},
           {R"({"products": [], "extra": 1})", "extra: unknown key"},
           {R"({"products": [{"category": "database", "executables": ["x"]}]})", "products[0].name: is required"},
           {R"({"products": [{"name": "a", "executables": ["x"]}]})", "products[0].category: is required"},
           {R"({"products": [{"name": "a", "category": "db", "executables": ["x"]}]})", "products[0].category: 'db'"},
           {R"({"products": [{"name": "a", "category": "database"}]})", "products[0]: a database needs"},
           {R"({"products": [{"name": "a", "category": "database", "executable": ["x"]}]})", "products[0].executable: unknown key"},
           {R"({"products": [{"name": "a", "category": "database", "executables": "x"}]})", "products[0].executables: must be an array"},
           {R"({"products": [{"name": "a", "category": "database", "executables": [""]}]})", "products[0].executables: must be an array of non-empty"},
           {R"({"products": [{"name": "a", "category": "web_app", "markers": ["/etc/passwd"]}]})", "products[0].markers: '/etc/passwd' must be a relative path"},
           {R"({"products": [{"name": "a", "category": "web_app", "markers": ["a/../../x"]}]})", "must not climb"},
           {R"({"products": [{"name": "a", "category": "web_service", "executables": ["x"], "config": "iis"}]})", "products[0].config: 'iis'"},
           {R"({"products": [{"name": "a", "category": "database", "executables": ["x"]}, {"name": "a", "category": "database", "executables": ["y"]}]})", "products[1].name: 'a' is listed twice"},
       }) {
    auto error = error_of(text);
    EXPECT_NE(error.find(message), std::string::npos) << text << " -> " << error;
    EXPECT_EQ(error.rfind("rules: ", 0), 0u) << error;
  }
}

TEST(Fingerprints, HostileTextIsBounded) {
  EXPECT_FALSE(error_of(std::string(100000, '[') + std::string(100000, ']')).empty());
  EXPECT_FALSE(error_of(std::string(17 << 20, ' ')).empty());
}

}  // namespace
}  // namespace hostprint::collectors
