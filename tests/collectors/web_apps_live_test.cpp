// A Python process importing Flask from Debian's python3-flask, started by the test in fresh PID
// and mount namespaces: exactly one Flask framework item, in the /usr environment, with the version
// Debian's Python itself reports (importlib.metadata), which is the upstream part of the package's
// version.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "collectors/fingerprints.hpp"
#include "tests/scan_chain.hpp"
#include "collectors/processes.hpp"
#include "collectors/web_apps.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/namespaces.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* python = "/usr/bin/python3";

TEST(WebAppsLive, FlaskFromDebianInPythonEnvironment) {
  auto dpkg =
      test::run_program({"/usr/bin/dpkg-query", "-W", "-f=${Status}\t${Version}", "python3-flask"});
  if (dpkg.exit_code != 0 || !dpkg.out.starts_with("install ok installed"))
    GTEST_SKIP() << "python3-flask is not installed";
  // The independent truth: what Debian's Python reports, and the package's upstream version.
  auto truth = test::run_program(
      {python, "-c", "import importlib.metadata as m; print(m.version('flask'), end='')"});
  ASSERT_EQ(truth.exit_code, 0) << truth.err;
  std::string upstream = dpkg.out.substr(dpkg.out.find('\t') + 1);
  if (auto colon = upstream.find(':'); colon != std::string::npos) upstream.erase(0, colon + 1);
  upstream = upstream.substr(0, upstream.rfind('-'));
  if (auto plus = upstream.find("+dfsg"); plus != std::string::npos) upstream.erase(plus);
  ASSERT_EQ(truth.out, upstream);

  test::TempDir work;
  const fs::path dir = work.path();
  int rc = test::run_in_namespaces(
      [&]() -> int {
        const std::string ready = (dir / "ready").string();
        pid_t child = ::fork();
        if (child == 0) {
          const char* argv[] = {python, "-c",
                                "import flask, sys, time; open(sys.argv[1], 'w').close(); "
                                "time.sleep(60)",
                                ready.c_str(), nullptr};
          ::execv(python, const_cast<char* const*>(argv));
          _exit(127);
        }
        auto stop = [&] {
          ::kill(child, SIGKILL);
          ::waitpid(child, nullptr, 0);
        };
        auto deadline = std::chrono::steady_clock::now() + 30s;
        while (!fs::exists(dir / "ready")) {
          if (std::chrono::steady_clock::now() > deadline) return (stop(), 10);
          std::this_thread::sleep_for(20ms);
        }
        ScanContext context;
        proto::AssetSet found;
        ProcessesCollector processes;
        if (!processes.collect(context).complete) return (stop(), 11);
        processes.publish(found);
        found.add<proto::ServedSite>(std::make_shared<std::vector<ServedSite>>());
        context.found = &found;
        context.readable.set();  // every kind, as the test arranges them
        auto rules =
            std::make_shared<Fingerprints>(parse_fingerprints(builtin_fingerprints_text()));
        WebAppsCollector collector(rules);
        auto outcome = collector.collect(context);
        std::ofstream out(dir / "result");
        for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
        for (const auto& a : *collector.apps())
          out << "app\t" << a.product << "\t" << a.path << "\t" << a.version << "\n";
        for (const auto& f : *collector.frameworks())
          out << "framework\t" << f.product << "\t" << f.language << "\t" << f.path << "\t"
              << f.environment << "\t" << f.version << "\t" << f.container_id << "\n";
        out.close();
        stop();
        return outcome.complete ? 0 : 12;
      },
      false);
  std::ifstream in(dir / "result");
  std::string all(std::istreambuf_iterator<char>(in), {});
  ASSERT_EQ(rc, 0) << all;
  std::vector<std::string> lines;
  std::istringstream split(all);
  for (std::string line; std::getline(split, line);) lines.push_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{"framework\tFlask\tpython\t/usr/lib/python3/"
                                             "dist-packages\t/usr\t" +
                                             truth.out + "\t"}))
      << all;
}

// Process signatures: an executable named grafana-server (a copy of sleep) and a JVM whose class
// path holds jenkins.war (Java's source launcher running a class that sleeps), each one application
// whose path is the executable / the JAR.
TEST(WebAppsLive, ProcessSignatures) {
  if (!fs::exists("/usr/bin/java")) GTEST_SKIP() << "java is not installed";
  test::TempDir work;
  const fs::path dir = work.path();
  fs::copy_file("/usr/bin/sleep", dir / "grafana-server");
  fs::permissions(dir / "grafana-server", fs::perms::owner_all);
  work.write("Sleep.java",
             "public class Sleep { public static void main(String[] a) throws Exception {\n"
             "  new java.io.File(a[0]).createNewFile(); Thread.sleep(60000); } }\n");
  const std::string d = dir.string();
  int rc = test::run_in_namespaces(
      [&]() -> int {
        std::vector<pid_t> started;
        auto start = [&](std::vector<std::string> argv) {
          pid_t pid = ::fork();
          if (pid == 0) {
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            _exit(127);
          }
          started.push_back(pid);
        };
        auto stop = [&] {
          for (pid_t p : started) ::kill(p, SIGKILL);
          for (pid_t p : started) ::waitpid(p, nullptr, 0);
        };
        start({d + "/grafana-server", "60"});
        start({"/usr/bin/java", "-cp", d + "/jenkins.war", d + "/Sleep.java", d + "/ready"});
        auto deadline = std::chrono::steady_clock::now() + 60s;
        while (!fs::exists(dir / "ready")) {
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
        WebAppsCollector collector(
            std::make_shared<Fingerprints>(parse_fingerprints(builtin_fingerprints_text())));
        auto outcome = collector.collect(context);
        std::ofstream out(dir / "result");
        for (const auto& e : outcome.errors) out << "error\t" << e << "\n";
        for (const auto& a : *collector.apps())
          out << "app\t" << a.product << "\t" << a.path << "\t" << a.version << "\n";
        for (const auto& f : *collector.frameworks())
          out << "framework\t" << f.product << "\t" << f.path << "\n";
        out.close();
        stop();
        return outcome.complete ? 0 : 12;
      },
      false);
  std::ifstream in(dir / "result");
  std::string all(std::istreambuf_iterator<char>(in), {});
  ASSERT_EQ(rc, 0) << all;
  EXPECT_EQ(all,
            "app\tGrafana\t" + d + "/grafana-server\t\napp\tJenkins\t" + d + "/jenkins.war\t\n");
}

}  // namespace
}  // namespace hostprint::collectors
