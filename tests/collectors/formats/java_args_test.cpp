// A JVM's command line.
#include "collectors/formats/java_args.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hostprint::collectors {
namespace {

using Args = std::vector<std::string>;

TEST(ServicesJava, MainClassAfterClassPath) {
  auto l = parse_java_args({"/usr/bin/java", "-Xmx1g", "-cp", "/a/b.jar:/c/d.jar", "-Dx=y",
                            "org.apache.catalina.startup.Bootstrap", "start"});
  EXPECT_EQ(l.main_class, "org.apache.catalina.startup.Bootstrap");
  EXPECT_EQ(l.class_path, (Args{"/a/b.jar", "/c/d.jar"}));
  EXPECT_EQ(l.jar, "");
}

TEST(ServicesJava, ClassPathSpellings) {
  EXPECT_EQ(parse_java_args({"java", "-classpath", "x.jar", "Main"}).class_path, (Args{"x.jar"}));
  EXPECT_EQ(parse_java_args({"java", "--class-path", "x.jar", "Main"}).main_class, "Main");
  EXPECT_EQ(parse_java_args({"java", "--class-path=y.jar", "Main"}).class_path, (Args{"y.jar"}));
}

TEST(ServicesJava, OptionsWithValuesAreSkipped) {
  auto l = parse_java_args({"java", "--add-opens", "java.base/java.lang=ALL-UNNAMED", "-p", "mods",
                            "--add-modules", "ALL-SYSTEM", "--add-exports", "a/b=c",
                            "weblogic.Server", "-cp", "ignored"});
  EXPECT_EQ(l.main_class, "weblogic.Server");
  EXPECT_TRUE(l.class_path.empty());  // after the main class: the program's own arguments
}

TEST(ServicesJava, Jar) {
  auto l =
      parse_java_args({"java", "-Xms1g", "-jar", "/opt/jetty/start.jar", "jetty.http.port=8080"});
  EXPECT_EQ(l.jar, "/opt/jetty/start.jar");
  EXPECT_EQ(l.main_class, "");
}

TEST(ServicesJava, Module) {
  auto l = parse_java_args({"java", "--module-path", "mods", "-m", "app.server/com.x.Main", "-cp"});
  EXPECT_EQ(l.module, "app.server");
  EXPECT_EQ(l.main_class, "com.x.Main");
  auto bare = parse_java_args({"java", "--module=app.only"});
  EXPECT_EQ(bare.module, "app.only");
  EXPECT_EQ(bare.main_class, "");
}

TEST(ServicesJava, ArgFilesAreLeftAlone) {
  auto l = parse_java_args({"java", "@/etc/app/jvm.args", "@more", "com.x.Main"});
  EXPECT_EQ(l.main_class, "com.x.Main");
  EXPECT_EQ(parse_java_args({"java", "@only"}).main_class, "");
  EXPECT_EQ(parse_java_args({"java", "-cp"}).main_class, "");  // value missing: nothing
}

TEST(JavaProperty, LastValueOfTheNamedProperty) {
  const std::vector<std::string> argv = {"java",
                                         "-Dcatalina.home=/a",
                                         "-Dcatalina.homes=/x",
                                         "-Dcatalina.base=/b",
                                         "-Dcatalina.home=/c",
                                         "Main"};
  EXPECT_EQ(java_property(argv, "catalina.home"), "/c");
  EXPECT_EQ(java_property(argv, "catalina.base"), "/b");
  EXPECT_EQ(java_property(argv, "jetty.home"), "");
  EXPECT_EQ(java_property({"-Dcatalina.home=/argv0-is-the-launcher"}, "catalina.home"), "");
}

}  // namespace
}  // namespace hostprint::collectors
