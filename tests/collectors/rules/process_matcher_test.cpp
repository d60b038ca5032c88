#include "collectors/rules/process_matcher.hpp"

#include <gtest/gtest.h>

namespace hostprint::collectors {
namespace {

ProductRule rule(std::string name, auto&& fill) {
  ProductRule r;
  r.name = std::move(name);
  fill(r);
  return r;
}

TEST(ProcessMatcher, OneMatcherForEveryWayARuleNamesAProcess) {
  const std::vector<ProductRule> rules{
      rule("IHS", [](ProductRule& r) {
        r.executables = {"httpd"};
        r.path_contains = {"/IBMIHS/"};
      }),
      rule("Apache", [](ProductRule& r) { r.executables = {"httpd", "apache2"}; }),
      rule("Oracle", [](ProductRule& r) { r.argv0 = {"ora_pmon_"}; }),
      rule("Tomcat", [](ProductRule& r) { r.main_classes = {"org.apache.catalina.startup.Bootstrap"}; }),
      rule("Jenkins", [](ProductRule& r) { r.jars = {"jenkins.war"}; }),
      rule("Jetty", [](ProductRule& r) { r.jars = {"start.jar"}; }),
  };
  std::vector<const ProductRule*> all;
  for (const auto& r : rules) all.push_back(&r);
  auto name = [&](std::string_view exe, std::vector<std::string> argv) {
    auto m = match_process(all, exe, argv);
    return m.rule ? m.rule->name + "|" + m.path : std::string("-");
  };
  // path_contains narrows the first rule; the next one takes the ordinary httpd.
  EXPECT_EQ(name("/opt/IBMIHS/bin/httpd", {"httpd"}), "IHS|/opt/IBMIHS/bin/httpd");
  EXPECT_EQ(name("/usr/sbin/httpd", {"httpd"}), "Apache|/usr/sbin/httpd");
  // Started through a link under another name: argv[0]'s file name, also from a rewritten title.
  EXPECT_EQ(name("/usr/sbin/other", {"/usr/sbin/apache2 -k start"}), "Apache|/usr/sbin/other");
  EXPECT_EQ(name("/u01/bin/oracle", {"ora_pmon_ORCL"}), "Oracle|/u01/bin/oracle");
  // JVMs: main class (the executable), -jar and class path entries (the jar that matched).
  EXPECT_EQ(name("/usr/bin/java", {"java", "-cp", "/b.jar", "org.apache.catalina.startup.Bootstrap"}),
            "Tomcat|/usr/bin/java");
  EXPECT_EQ(name("/usr/bin/java", {"java", "-jar", "/srv/jenkins.war"}), "Jenkins|/srv/jenkins.war");
  EXPECT_EQ(name("/usr/bin/java", {"java", "-cp", "/a.jar:/opt/jetty/start.jar", "x.Main"}),
            "Jetty|/opt/jetty/start.jar");
  // Not a JVM: its arguments name no class or jar.
  EXPECT_EQ(name("/usr/bin/python3", {"python3", "-jar", "/srv/jenkins.war"}), "-");
  EXPECT_EQ(name("", {}), "-");
}

}  // namespace
}  // namespace hostprint::collectors
