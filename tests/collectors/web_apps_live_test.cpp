// Flask from Debian's python3-flask counts only where a Python process serves the web, in fresh
// PID, mount and network namespaces: a script that serves nothing does not make it count; Flask's
// own server listening on a TCP port does, and so does Debian's gunicorn serving on a Unix socket
// (no TCP port: it counts as a WSGI server). Each time exactly one Flask item, in the /usr
// environment, with the version Debian's Python itself reports (importlib.metadata), which is the
// upstream part of the package's version.
#include <gtest/gtest.h>

#include "collectors/formats/java_args.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/formats/python_dist.hpp"
#include "collectors/formats/version_text.hpp"
#include "collectors/io/root_glob.hpp"
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include "collectors/rules/fingerprints.hpp"
#include "tests/scan_chain.hpp"
#include "collectors/processes.hpp"
#include "collectors/web_apps.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/namespaces.hpp"
#include "tests/temp_dir.hpp"
#include "tests/live_skip.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr const char* python = "/usr/bin/python3";

TEST(WebAppsLive, FlaskCountsOnlyWhereAPythonProcessServesTheWeb) {
  auto dpkg =
      test::run_program({"/usr/bin/dpkg-query", "-W", "-f=${Status}\t${Version}", "python3-flask"});
  if (dpkg.exit_code != 0 || !dpkg.out.starts_with("install ok installed"))
    LIVE_SKIP() << "python3-flask is not installed";
  if (!fs::exists("/usr/bin/gunicorn")) LIVE_SKIP() << "gunicorn is not installed";
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
  const std::string d = dir.string();
  work.write("app.py",
             "import sys, flask\napp = flask.Flask(__name__)\n"
             "@app.route('/')\ndef index():\n    return 'hi'\n"
             "if __name__ == '__main__':\n    app.run(host='127.0.0.1', port=18181)\n");
  // Each scan by a fresh collector, its frameworks as one line.
  auto scan = [&](std::ofstream& out, const char* name) {
    test::ScanChain chain;
    ProcessesCollector processes;
    if (!chain.run(processes).complete) return false;
    WebAppsCollector collector(
        std::make_shared<Fingerprints>(parse_fingerprints(builtin_fingerprints_text())));
    auto outcome = chain.run(collector);
    out << name << ":";
    for (const auto& e : outcome.errors) out << " error " << e;
    for (const auto& f : *collector.frameworks())
      out << " " << f.product << "|" << f.language << "|" << f.path << "|" << f.environment << "|"
          << f.version << "|" << f.container_id << "|" << f.pid << "|" << f.exe;
    out << "\n";
    return outcome.complete;
  };
  int rc = test::run_in_namespaces([&]() -> int {
    std::vector<pid_t> started;
    auto stop = [&](pid_t pid) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    };
    auto stop_all = [&] {
      for (pid_t p : started) stop(p);
    };
    auto wait_for = [&](const std::function<bool()>& ready) {
      auto deadline = std::chrono::steady_clock::now() + 30s;
      while (!ready()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(50ms);
      }
      return true;
    };
    std::ofstream out(dir / "result");
    // A script in the same environment that imports nothing and serves nothing.
    started.push_back(test::spawn_logged(
        {python, "-c", "import sys, time; open(sys.argv[1], 'w').close(); time.sleep(60)",
         d + "/ready"},
        dir / "script.out"));
    if (!wait_for([&] { return fs::exists(dir / "ready"); })) return (stop_all(), 10);
    if (!scan(out, "script")) return (stop_all(), 11);
    // Flask's own server, listening on a TCP port.
    pid_t flask = test::spawn_logged({python, d + "/app.py"}, dir / "flask.out");
    std::ofstream(dir / "flask.pid") << flask;
    if (!wait_for([] { return test::accepts_on_loopback(18181); })) return (stop_all(), 12);
    if (!scan(out, "listening")) return (stop(flask), stop_all(), 13);
    stop(flask);
    // Gunicorn on a Unix socket: no TCP port, it serves as a WSGI server.
    started.push_back(test::spawn_logged({"/usr/bin/gunicorn", "--chdir", d, "--workers", "2",
                                          "--bind", "unix:" + d + "/g.sock", "app:app"},
                                         dir / "gunicorn.out"));
    std::ofstream(dir / "gunicorn.pid") << started.back();
    if (!wait_for([&] { return fs::exists(dir / "g.sock"); })) return (stop_all(), 14);
    if (!scan(out, "gunicorn")) return (stop_all(), 15);
    stop_all();
    return 0;
  });
  auto slurp = [&](const char* name) {
    std::ifstream in(dir / name);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  ASSERT_EQ(rc, 0) << slurp("result") << slurp("flask.out") << slurp("gunicorn.out");
  const std::string flask = " Flask|python|/usr/lib/python3/dist-packages|/usr|" + truth.out + "|";
  // The process that serves it: Flask's own, then gunicorn's master (the first to serve).
  const std::string interpreter = fs::canonical(python).string();
  EXPECT_EQ(slurp("result"), "script:\nlistening:" + flask + "|" + slurp("flask.pid") + "|" +
                                 interpreter + "\ngunicorn:" + flask + "|" +
                                 slurp("gunicorn.pid") + "|" + interpreter + "\n");
}

// Process signatures: an executable named grafana-server (a copy of sleep) and a JVM whose class
// path holds jenkins.war (Java's source launcher running a class that sleeps), each one application
// whose path is the executable / the JAR.
TEST(WebAppsLive, ProcessSignatures) {
  if (!fs::exists("/usr/bin/java")) LIVE_SKIP() << "java is not installed";
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
