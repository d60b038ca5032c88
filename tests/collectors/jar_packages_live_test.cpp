// Real JVMs (the installed JDK) started by the test in a fresh PID namespace: one with a class path
// of an application JAR and a `lib/*` folder, one running a Spring-Boot-style fat JAR whose
// libraries are stored in BOOT-INF/lib. Every JAR they use is listed, once, with its identity.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "tests/scan_chain.hpp"
#include "collectors/jar_packages.hpp"
#include "collectors/processes.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/namespaces.hpp"
#include "tests/temp_dir.hpp"
#include "tests/live_skip.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

pid_t spawn_in(const fs::path& cwd, const std::vector<std::string>& argv, const fs::path& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::chdir(cwd.c_str()) != 0) _exit(126);
    FILE* o = std::freopen(log.c_str(), "a", stdout);
    FILE* e = std::freopen(log.c_str(), "a", stderr);
    (void)o;
    (void)e;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  return pid;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void run(const std::vector<std::string>& argv) {
  auto r = test::run_program(argv);
  ASSERT_EQ(r.exit_code, 0) << argv[0] << ": " << r.out;
}

TEST(JarPackagesLive, ClassPathLibFolderAndFatJar) {
  if (::geteuid() != 0) LIVE_SKIP() << "needs root";
  if (test::run_program({"sh", "-c", "command -v java && command -v javac && command -v jar"})
          .exit_code != 0)
    LIVE_SKIP() << "no JDK";
  test::TempDir work;
  const fs::path dir = work.path();
  const std::string d = dir.string();
  // Main writes <arg>.started in its working folder, then sleeps.
  work.write(
      "src/Main.java",
      "public class Main { public static void main(String[] a) throws Exception {\n"
      "  java.nio.file.Files.writeString(java.nio.file.Path.of(a[0] + \".started\"), \"\");\n"
      "  Thread.sleep(600000); } }\n");
  run({"javac", "-d", d + "/classes", d + "/src/Main.java"});
  run({"jar", "--create", "--file", d + "/app.jar", "--main-class", "Main", "-C", d + "/classes",
       "."});
  work.write("la/META-INF/maven/org.example/a/pom.properties",
             "groupId=org.example\nartifactId=a\nversion=1.0\n");
  work.write("la/a.txt", "a");
  work.write("lb/b.txt", "b");
  work.write("lx/x.txt", "x");
  work.write("ly/y.txt", "y");
  fs::create_directories(dir / "lib");
  fs::create_directories(dir / "fatsrc/BOOT-INF/lib");
  run({"jar", "--create", "--file", d + "/lib/a-1.0.jar", "-C", d + "/la", "."});
  run({"jar", "--create", "--file", d + "/lib/b-2.0.jar", "-C", d + "/lb", "."});
  run({"jar", "--create", "--file", d + "/fatsrc/BOOT-INF/lib/x-3.0.jar", "-C", d + "/lx", "."});
  run({"jar", "--create", "--file", d + "/fatsrc/BOOT-INF/lib/y-4.0.jar", "-C", d + "/ly", "."});
  run({"jar", "--create", "--no-compress", "--file", d + "/fat.jar", "--main-class", "Main", "-C",
       d + "/fatsrc", ".", "-C", d + "/classes", "."});

  int rc = test::run_in_namespaces(
      [&]() -> int {
        std::vector<pid_t> started;
        auto stop_all = [&] {
          for (pid_t p : started) ::kill(p, SIGKILL);
          for (pid_t p : started) ::waitpid(p, nullptr, 0);
        };
        pid_t app = spawn_in(dir, {"java", "-cp", "app.jar:lib/*", "Main", "app"}, dir / "app.out");
        started.push_back(app);
        pid_t fat = spawn_in(dir, {"java", "-jar", "fat.jar", "fat"}, dir / "fat.out");
        started.push_back(fat);
        auto until = std::chrono::steady_clock::now() + 60s;
        while (!(fs::exists(dir / "app.started") && fs::exists(dir / "fat.started"))) {
          if (std::chrono::steady_clock::now() > until) {
            stop_all();
            return 11;
          }
          std::this_thread::sleep_for(50ms);
        }
        ScanContext context;
        context.deadline = std::chrono::steady_clock::now() + 60s;
        ProcessesCollector processes;
        if (!processes.collect(context).complete) {
          stop_all();
          return 12;
        }
        proto::AssetSet found;
        processes.publish(found);
        context.found = &found;
        context.readable.set();  // every kind, as the test arranges them
        JarPackagesCollector jars;
        auto outcome = jars.collect(context);
        std::ofstream out(dir / "result");
        out << "pids\t" << app << "\t" << fat << "\n";
        for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
        for (const auto& j : *jars.items())
          out << "jar\t" << j.path << "\t" << j.name << "\t" << j.version << "\t" << j.group_id
              << "\t" << j.pid << "\t" << j.container_id << "\n";
        out.close();
        std::ofstream facts(dir / "facts");
        for (const auto& j : *jars.items())
          facts << j.path << " " << j.size << " " << j.hash << " " << j.exe << "\n";
        stop_all();
        return outcome.complete ? 0 : 13;
      },
      false);
  ASSERT_EQ(rc, 0) << slurp(dir / "app.out") << slurp(dir / "fat.out") << slurp(dir / "result");
  // Size and SHA-256 (as sha256sum says) of each file, the inflated size and no hash for a nested
  // one (stored, so the member is the very file put in), and the JVM's executable.
  const std::string java = fs::canonical("/usr/bin/java").string();
  auto file_facts = [&](const std::string& path) {
    auto sum = test::run_program({"sha256sum", path});
    return path + " " + std::to_string(fs::file_size(path)) + " " + sum.out.substr(0, 64) + " " +
           java + "\n";
  };
  auto nested_facts = [&](const std::string& name) {
    return d + "/fat.jar!/BOOT-INF/lib/" + name + " " +
           std::to_string(fs::file_size(dir / "fatsrc/BOOT-INF/lib" / name)) + "  " + java + "\n";
  };
  EXPECT_EQ(slurp(dir / "facts"), file_facts(d + "/app.jar") + file_facts(d + "/fat.jar") +
                                      nested_facts("x-3.0.jar") + nested_facts("y-4.0.jar") +
                                      file_facts(d + "/lib/a-1.0.jar") +
                                      file_facts(d + "/lib/b-2.0.jar"));

  std::ifstream in(dir / "result");
  std::string app_pid, fat_pid;
  std::vector<std::string> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, '\t');) f.push_back(x);
    f.resize(7);
    if (f[0] == "pids") {
      app_pid = f[1];
      fat_pid = f[2];
    } else if (f[0] == "jar") {
      rows.push_back(f[1] + " " + f[2] + " " + f[3] + " " + f[4] + " " + f[5] + " [" + f[6] + "]");
    } else {
      ADD_FAILURE() << line;
    }
  }
  // The JDK's own classes come from lib/modules (a jimage, not a JAR): no JDK JAR is opened or
  // mapped by these JVMs, so the list is exactly the test's JARs.
  const std::vector<std::string> expected = {
      d + "/app.jar app   " + app_pid + " []",
      d + "/fat.jar fat   " + fat_pid + " []",
      d + "/fat.jar!/BOOT-INF/lib/x-3.0.jar x 3.0  " + fat_pid + " []",
      d + "/fat.jar!/BOOT-INF/lib/y-4.0.jar y 4.0  " + fat_pid + " []",
      d + "/lib/a-1.0.jar a 1.0 org.example " + app_pid + " []",
      d + "/lib/b-2.0.jar b 2.0  " + app_pid + " []",
  };
  EXPECT_EQ(rows, expected) << slurp(dir / "result");
}

}  // namespace
}  // namespace hostprint::collectors

namespace hostprint::collectors {
namespace {

// A Tomcat-like JVM (-Dcatalina.base and -Dcatalina.home): both lib folders; an application that
// Tomcat expanded (shop/ beside shop.war) read once, from the folder; a packed-only WAR's libraries
// counted, the WAR itself not; a JAR on the class path that a lib folder reaches again through a
// symlink counted once, under its class path name.
TEST(JarPackagesLive, TomcatFoldersExpandedWarAndSymlinkedJar) {
  if (::geteuid() != 0) LIVE_SKIP() << "needs root";
  if (test::run_program({"sh", "-c", "command -v java && command -v javac && command -v jar"})
          .exit_code != 0)
    LIVE_SKIP() << "no JDK";
  test::TempDir work;
  const fs::path dir = work.path();
  const std::string d = dir.string();
  work.write("src/Main.java",
             "public class Main { public static void main(String[] a) throws Exception {\n"
             "  java.nio.file.Files.writeString(java.nio.file.Path.of(a[0]), \"\");\n"
             "  Thread.sleep(600000); } }\n");
  run({"javac", "-d", d + "/classes", d + "/src/Main.java"});
  for (const char* name : {"shared-1.0", "base-2.0", "home-3.0", "shop-lib-4.0", "blog-lib-5.0"}) {
    work.write(std::string("content/") + name + "/x.txt", name);
    fs::create_directories(dir / "jars");
    run({"jar", "--create", "--file", d + "/jars/" + name + ".jar", "-C", d + "/content/" + name,
         "."});
  }
  for (const char* sub : {"base/lib", "home/lib", "base/webapps/shop/WEB-INF/lib",
                          "shopwar/WEB-INF/lib", "blogwar/WEB-INF/lib"})
    fs::create_directories(dir / sub);
  fs::copy_file(dir / "jars/base-2.0.jar", dir / "base/lib/base-2.0.jar");
  fs::copy_file(dir / "jars/home-3.0.jar", dir / "home/lib/home-3.0.jar");
  fs::create_symlink(dir / "jars/shared-1.0.jar", dir / "base/lib/shared.jar");
  fs::copy_file(dir / "jars/shop-lib-4.0.jar",
                dir / "base/webapps/shop/WEB-INF/lib/shop-lib-4.0.jar");
  fs::copy_file(dir / "jars/shop-lib-4.0.jar", dir / "shopwar/WEB-INF/lib/shop-lib-4.0.jar");
  fs::copy_file(dir / "jars/blog-lib-5.0.jar", dir / "blogwar/WEB-INF/lib/blog-lib-5.0.jar");
  run({"jar", "--create", "--file", d + "/base/webapps/shop.war", "-C", d + "/shopwar", "."});
  run({"jar", "--create", "--file", d + "/base/webapps/blog.war", "-C", d + "/blogwar", "."});

  int rc = test::run_in_namespaces(
      [&]() -> int {
        pid_t jvm =
            spawn_in(dir,
                     {"java", "-Dcatalina.base=" + d + "/base", "-Dcatalina.home=" + d + "/home",
                      "-cp", d + "/classes:" + d + "/jars/shared-1.0.jar", "Main", d + "/ready"},
                     dir / "jvm.out");
        auto stop = [&] {
          ::kill(jvm, SIGKILL);
          ::waitpid(jvm, nullptr, 0);
        };
        auto until = std::chrono::steady_clock::now() + 60s;
        while (!fs::exists(dir / "ready")) {
          if (std::chrono::steady_clock::now() > until) return (stop(), 11);
          std::this_thread::sleep_for(50ms);
        }
        ScanContext context;
        ProcessesCollector processes;
        if (!processes.collect(context).complete) return (stop(), 12);
        proto::AssetSet found;
        processes.publish(found);
        context.found = &found;
        context.readable.set();  // every kind, as the test arranges them
        JarPackagesCollector jars;
        auto outcome = jars.collect(context);
        std::ofstream out(dir / "result");
        for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
        for (const auto& j : *jars.items()) out << j.path << " " << j.version << "\n";
        out.close();
        stop();
        return outcome.complete ? 0 : 13;
      },
      false);
  ASSERT_EQ(rc, 0) << slurp(dir / "jvm.out") << slurp(dir / "result");
  EXPECT_EQ(slurp(dir / "result"),
            d + "/base/lib/base-2.0.jar 2.0\n" +  //
                d + "/base/webapps/blog.war!/WEB-INF/lib/blog-lib-5.0.jar 5.0\n" + d +
                "/base/webapps/shop/WEB-INF/lib/shop-lib-4.0.jar 4.0\n" + d +
                "/home/lib/home-3.0.jar 3.0\n" +  //
                d + "/jars/shared-1.0.jar 1.0\n");
}

}  // namespace
}  // namespace hostprint::collectors
