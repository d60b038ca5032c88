// A real `hostprint serve` through faults: processes exiting mid-scan under churn, files that
// grow, shrink, vanish and turn into FIFOs or links while read, every collector run without
// privileges, a state folder that is full, read-only or holds corrupt records, SIGHUP storms,
// and FIFOs nobody writes where collectors read. The agent keeps answering, reports each error
// in /status and loses no RASP event. Needs root (mounts, another user).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <sys/wait.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <random>

#include "tests/sanitized.hpp"
#include "tests/live_skip.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/integration/load_clients.hpp"
#include "tests/rasp_fixtures.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

boost::json::object status(const Agent& agent) {
  auto r = fetch(agent, "/status");
  EXPECT_EQ(r.result_int(), 200) << r.body();
  return boost::json::parse(r.body()).as_object();
}

std::int64_t generation(const Agent& agent) {
  return status(agent).at("generation").as_int64();
}

// Each collector's errors in the latest scan, one line each.
std::map<std::string, std::string> errors_by_collector(const boost::json::object& now) {
  std::map<std::string, std::string> out;
  for (const auto& c : now.at("collectors").as_array()) {
    std::string& text = out[std::string(c.at("name").as_string())];
    for (const auto& e : c.at("errors").as_array()) text += std::string(e.as_string()) + "\n";
  }
  return out;
}

std::string errors_of(const Agent& agent, const std::string& collector) {
  return errors_by_collector(status(agent))[collector];
}

// SIGHUP starts a scan at once; waits until a newer snapshot is served, at most `limit`.
bool rescan(const Agent& agent, std::chrono::seconds limit = 60s) {
  const auto before = generation(agent);
  ::kill(agent.pid(), SIGHUP);
  const auto until = Clock::now() + limit;
  while (generation(agent) <= before) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(20ms);
  }
  return true;
}

std::int64_t blocked_attacks(const Agent& agent) {
  auto r = fetch(agent, "/v5/p1/rasp/statistics");
  EXPECT_EQ(r.result_int(), 200) << r.body();
  return boost::json::parse(r.body()).as_object().at("anti_tampering_num").as_int64();
}

void append(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary | std::ios::app);
  out << text;
}

// The rules without products that match this machine's own processes, and the alarm logs of
// the folder `logs` (read inside the agent's root).
std::string config_with_logs(const TempDir& work, const std::string& logs) {
  const auto rules = work.write(
      "rules.json",
      R"({"version": 1, "products": [{"name": "None", "category": "web_service",)"
      R"( "executables": ["hostprint-test-no-such-program"]}]})");
  return R"({"rules_file": ")" + rules.string() + R"(", "rasp": {"alarm_logs": [")" +
         logs + R"(/*.log*"]}})";
}

// A small root with the files the file collectors read.
void write_fixture_root(const TempDir& root) {
  root.write("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/a:/bin/sh\n");
  root.write("etc/crontab", "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n");
  root.write("etc/cron.d/job", "* * * * * root /usr/bin/true\n");
  root.write("var/lib/dpkg/status",
             "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2\n\n");
  root.write("etc/os-release", "ID=debian\nVERSION_ID=12\n");
}

// Forks children that live 0-20 ms, keeping about 200 alive, until stopped; counts them.
class Churn {
 public:
  Churn() {
    counter_ = static_cast<std::atomic<long>*>(
        ::mmap(nullptr, sizeof(std::atomic<long>), PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0));
    new (counter_) std::atomic<long>(0);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      unsigned seed = static_cast<unsigned>(::getpid());
      int alive = 0;
      for (;;) {
        while (alive < 200) {
          const unsigned life = ::rand_r(&seed) % 20000;
          pid_t child = ::fork();
          if (child == 0) {
            ::usleep(life);
            _exit(0);
          }
          if (child > 0) {
            ++alive;
            counter_->fetch_add(1);
          } else {
            break;
          }
        }
        int status = 0;
        if (::waitpid(-1, &status, 0) > 0) --alive;
        while (::waitpid(-1, &status, WNOHANG) > 0) --alive;
      }
    }
  }
  ~Churn() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    ::munmap(counter_, sizeof(std::atomic<long>));
  }
  long started() const { return counter_->load(); }

 private:
  std::atomic<long>* counter_;
  pid_t pid_ = -1;
};

TEST(Faults, ProcessesExitingMidScanUnderChurn) {
  TempDir root;
  write_fixture_root(root);
  AgentOptions options;
  options.args = {"--root", root.path().string()};
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  WellBehavedClient client(agent, "/v5/p1/asset/statistics");
  Churn churn;
  std::this_thread::sleep_for(500ms);
  const long churn_before = churn.started();
  const auto start = Clock::now();
  int scans = 0;
  std::vector<double> scan_ms;
  std::map<std::string, int> scans_with_errors;
  std::string processes_errors;
  while (Clock::now() - start < 15s) {
    ASSERT_TRUE(rescan(agent, 30s)) << "a scan did not finish under churn";
    ++scans;
    auto now = status(agent);
    scan_ms.push_back(static_cast<double>(now.at("scan_duration_us").as_int64()) / 1000);
    for (const auto& [name, errors] : errors_by_collector(now))
      if (!errors.empty()) {
        ++scans_with_errors[name];
        if (name == "processes" && processes_errors.size() < 2000) processes_errors += errors;
      }
    for (const auto& c : now.at("collectors").as_array())
      if (c.at("name").as_string() == "processes") {
        EXPECT_TRUE(c.at("complete").as_bool());
      }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double rate = static_cast<double>(churn.started() - churn_before) / seconds;
  client.stop();
  const auto latencies = client.latencies_ms();
  std::string errors_text;
  for (const auto& [name, n] : scans_with_errors)
    errors_text += (errors_text.empty() ? "" : ", ") + name + " " + std::to_string(n);
  std::ostringstream result;
  result << std::fixed << std::setprecision(1);
  result << rate << " processes started a second; " << scans
         << " scans, each complete (median " << percentile(scan_ms, 50) << " ms, max "
         << percentile(scan_ms, 100) << " ms); scans with an error: "
         << (errors_text.empty() ? "none" : errors_text) << "; client p50 "
         << percentile(latencies, 50) << " ms, p99 " << percentile(latencies, 99) << " ms";
  record_figures("faults", "processes exiting mid-scan under churn",
                 "a process forking children that live 0-20 ms (about 200 alive), SIGHUP rescans "
                 "back to back for 15 s",
                 result.str(),
                 {{"processes_started_per_s", rate},
                  {"scans", scans},
                  {"scan_ms_median", percentile(scan_ms, 50)},
                  {"scan_ms_max", percentile(scan_ms, 100)},
                  {"processes_errors", processes_errors},
                  {"client_p99_ms", percentile(latencies, 99)}});
  // The churn comes from this test program, whose forks a sanitizer build slows about threefold.
  constexpr double least_rate = address_sanitized ? 150 : 500;
  EXPECT_GT(rate, least_rate) << "the churn was too slow to mean anything";
  EXPECT_GE(scans, 3);
  EXPECT_EQ(client.failures(), 0);
  // A process that exits while read is gone, not an error.
  EXPECT_EQ(scans_with_errors["processes"], 0) << processes_errors;
  EXPECT_EQ(agent.stop(SIGTERM), 0) << agent.log_text();
}

// The mutations a file under the root goes through, over and over, while scans read it.
void mutate(const fs::path& file, int step, const std::string& good) {
  std::error_code ec;
  fs::remove(file, ec);
  switch (step % 8) {
    case 0: {  // grows: the good text and 4 MiB more
      std::ofstream out(file, std::ios::binary);
      out << good << std::string(4u << 20, '#') << "\n";
      break;
    }
    case 1: {  // shrinks: cut in the middle of a line
      std::ofstream out(file, std::ios::binary);
      out << good.substr(0, good.size() / 2);
      break;
    }
    case 2:  // vanishes
      break;
    case 3:  // a FIFO nobody writes
      ::mkfifo(file.c_str(), 0644);
      break;
    case 4:  // a link out of the root (resolved inside it: to nothing)
      fs::create_symlink("/etc/shadow", file, ec);
      break;
    case 5:  // a link to itself
      fs::create_symlink(file.filename(), file, ec);
      break;
    case 6:  // a folder
      fs::create_directory(file, ec);
      break;
    default: {  // the good text again
      std::ofstream out(file, std::ios::binary);
      out << good;
    }
  }
}

TEST(Faults, FilesGrowShrinkVanishAndTurnIntoFifosOrLinksWhileRead) {
  TempDir root, work;
  write_fixture_root(root);
  fs::create_directories(root.path() / "logs");
  const std::vector<std::pair<fs::path, std::string>> files{
      {root.path() / "etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"},
      {root.path() / "etc/crontab", "* * * * * root /bin/true\n"},
      {root.path() / "etc/cron.d/job", "* * * * * root /usr/bin/true\n"},
      {root.path() / "var/lib/dpkg/status",
       "Package: bash\nStatus: install ok installed\nArchitecture: amd64\nVersion: 5.2\n\n"},
      {root.path() / "logs/alarm.log", alarm_line("m1", 60)}};
  AgentOptions options;
  options.args = {"--root", root.path().string()};
  options.config = config_with_logs(work, "/logs");
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  WellBehavedClient client(agent, "/v5/p1/asset/statistics");
  std::atomic<bool> done{false};
  std::atomic<long> mutations{0};
  std::thread mutator([&] {
    for (int step = 0; !done; ++step) {
      for (const auto& [file, good] : files) mutate(file, step + static_cast<int>(file.native().size()), good);
      ++mutations;
      std::this_thread::sleep_for(3ms);
    }
  });
  const auto start = Clock::now();
  int scans = 0;
  std::vector<double> scan_ms;
  std::set<std::string> seen;
  while (Clock::now() - start < 15s) {
    ASSERT_TRUE(rescan(agent, 30s)) << "a scan did not finish while files changed";
    ++scans;
    auto now = status(agent);
    scan_ms.push_back(static_cast<double>(now.at("scan_duration_us").as_int64()) / 1000);
    for (const auto& [name, errors] : errors_by_collector(now)) {
      std::istringstream lines(errors);
      std::string line;
      while (std::getline(lines, line)) {
        // The kind of error, without the path: what follows the last ": ".
        auto at = line.rfind(": ");
        seen.insert(name + ": " + (at == std::string::npos ? line : line.substr(at + 2)));
      }
    }
  }
  done = true;
  mutator.join();
  client.stop();
  // Put back whole, the next scan reads them without an error.
  for (const auto& [file, good] : files) mutate(file, 7, good);
  ASSERT_TRUE(rescan(agent));
  const auto after = errors_by_collector(status(agent));
  for (const auto& name : {"accounts", "software", "auto_start"})
    EXPECT_EQ(after.at(name), "") << name;
  EXPECT_EQ(blocked_attacks(agent), 1) << "the alarm event m1, counted once";

  std::string kinds;
  for (const auto& k : seen) kinds += (kinds.empty() ? "" : "; ") + k;
  const auto latencies = client.latencies_ms();
  std::ostringstream result;
  result << std::fixed << std::setprecision(1);
  result << scans << " scans finished (max " << percentile(scan_ms, 100)
         << " ms); errors reported: " << kinds << "; client p99 " << percentile(latencies, 99)
         << " ms, " << client.failures() << " failed";
  record_figures("faults", "files growing, shrinking, vanishing, turned into FIFOs and links",
                 "etc/passwd, etc/crontab, etc/cron.d/job, var/lib/dpkg/status and an alarm log "
                 "cycled every 3 ms through +4 MiB, cut mid-line, removed, FIFO, link out of the "
                 "root, link to itself, folder, good; SIGHUP rescans back to back for 15 s",
                 result.str(),
                 {{"scans", scans},
                  {"mutation_rounds", mutations.load()},
                  {"scan_ms_max", percentile(scan_ms, 100)},
                  {"errors_seen", kinds},
                  {"client_p99_ms", percentile(latencies, 99)}});
  EXPECT_GE(scans, 3);
  EXPECT_EQ(client.failures(), 0);
  EXPECT_EQ(agent.stop(SIGTERM), 0) << agent.log_text();
}

// FIFOs nobody writes where collectors read: each read fails at once with that collector's
// error; the scan ends and the HTTP side answers.
TEST(Faults, AFifoNobodyWritesStopsNothing) {
  TempDir root, work;
  write_fixture_root(root);
  fs::create_directories(root.path() / "logs");
  for (const auto* file : {"etc/passwd", "etc/crontab", "etc/cron.d/job", "var/lib/dpkg/status"}) {
    fs::remove(root.path() / file);
    ASSERT_EQ(::mkfifo((root.path() / file).c_str(), 0644), 0);
  }
  ASSERT_EQ(::mkfifo((root.path() / "logs/alarm.log").c_str(), 0644), 0);
  append(root.path() / "logs/alarm.log.1", alarm_line("f1", 60));
  AgentOptions options;
  options.args = {"--root", root.path().string()};
  options.config = config_with_logs(work, "/logs");
  const auto started = Clock::now();
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  const double first_scan_s = std::chrono::duration<double>(Clock::now() - started).count();
  EXPECT_LT(first_scan_s, 30);
  const auto errors = errors_by_collector(status(agent));
  EXPECT_NE(errors.at("accounts").find("passwd: not a regular file"), std::string::npos)
      << errors.at("accounts");
  EXPECT_NE(errors.at("software").find("status: not a regular file"), std::string::npos)
      << errors.at("software");
  // cron skips a table that is not a regular file, and so does the collector, without a word.
  EXPECT_EQ(errors.at("auto_start"), "");
  EXPECT_NE(errors.at("rasp").find("alarm.log: not a regular file"), std::string::npos)
      << errors.at("rasp");
  EXPECT_EQ(blocked_attacks(agent), 1) << "the other log is read";
  EXPECT_TRUE(rescan(agent, 30s));
  std::string text;
  for (const auto& name : {"accounts", "software", "auto_start", "rasp"})
    text += std::string(name) + ": " +
            (errors.at(name).empty() ? std::string("no error")
                                     : errors.at(name).substr(0, errors.at(name).find('\n'))) +
            "; ";
  record_figures("faults", "a FIFO nobody writes where collectors read",
                 "etc/passwd, etc/crontab, etc/cron.d/job, var/lib/dpkg/status and an alarm log "
                 "made FIFOs with no writer; the agent started and rescanned",
                 "first scan and port open in " + std::to_string(first_scan_s).substr(0, 4) +
                     " s; /status: " + text +
                     "(the cron FIFOs skipped as cron skips them); the other alarm log counted",
                 {{"first_scan_s", first_scan_s}});
}

// A FUSE file system that never answers, as a hung network or FUSE mount does: the kernel holds
// every access until the device is closed, which aborts the connection.
class StalledFuse {
 public:
  explicit StalledFuse(const fs::path& where) : where_(where) {
    fs::create_directories(where);
    fd_ = ::open("/dev/fuse", O_RDWR | O_CLOEXEC);
    if (fd_ < 0) return;
    const std::string options =
        "fd=" + std::to_string(fd_) + ",rootmode=40000,user_id=0,group_id=0,allow_other";
    mounted_ = ::mount("hostprint-stall", where.c_str(), "fuse", 0, options.c_str()) == 0;
  }
  ~StalledFuse() { release(); }
  bool ok() const { return mounted_; }
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (mounted_) ::umount2(where_.c_str(), MNT_DETACH);
    mounted_ = false;
  }

 private:
  fs::path where_;
  int fd_ = -1;
  bool mounted_ = false;
};

// A folder a collector reads hangs in the kernel for less than the collector's deadline: the
// HTTP side keeps answering from the last scan, and the scan ends with that collector's error
// once the mount fails. (Past the deadline the collector is abandoned: the next test.)
TEST(Faults, AStalledFuseMountHoldsTheScanNotTheHttpSide) {
  if (::geteuid() != 0) LIVE_SKIP() << "needs root";
  TempDir root;
  write_fixture_root(root);
  AgentOptions options;
  options.args = {"--root", root.path().string()};
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  const fs::path mount_point = root.path() / "etc/cron.d";
  fs::remove_all(mount_point);
  StalledFuse stall(mount_point);
  ASSERT_TRUE(stall.ok()) << std::strerror(errno);
  WellBehavedClient client(agent, "/v5/p1/asset/statistics");
  const auto before = generation(agent);
  ::kill(agent.pid(), SIGHUP);
  std::this_thread::sleep_for(5s);
  const auto during = generation(agent) - before;
  const auto answered_during = client.answered();
  stall.release();
  // The held scan ends by itself once the mount fails.
  bool finished = false;
  for (auto until = Clock::now() + 30s; !finished && Clock::now() < until;
       std::this_thread::sleep_for(20ms))
    finished = generation(agent) > before;
  client.stop();
  const auto errors = errors_by_collector(status(agent));
  const auto latencies = client.latencies_ms();
  EXPECT_EQ(during, 0) << "the scan was expected to wait on the stalled mount";
  EXPECT_GT(answered_during, 50) << "the HTTP side stopped with the scan";
  EXPECT_EQ(client.failures(), 0);
  EXPECT_TRUE(finished) << "the scan did not end once the mount failed";
  EXPECT_NE(errors.at("auto_start"), "") << "the failed mount is not reported";
  record_figures("faults", "a stalled FUSE mount where a collector reads",
                 "etc/cron.d made a FUSE mount whose server never answers, a scan started; after "
                 "5 s the FUSE device closed (the mount fails)",
                 "the scan waited in auto_start (" + std::to_string(during) +
                     " scans in 5 s) while HTTP answered " + std::to_string(answered_during) +
                     " requests, p99 " + std::to_string(percentile(latencies, 99)).substr(0, 5) +
                     " ms; once the mount failed the scan ended, /status auto_start: \"" +
                     errors.at("auto_start").substr(0, errors.at("auto_start").find('\n')) +
                     "\". Within its deadline a stalled collector is waited for; past it (plus a "
                     "grace) it is abandoned (see the stall present at start)",
                 {{"scans_during_stall", during},
                  {"answers_during_stall", answered_during},
                  {"client_p99_ms", percentile(latencies, 99)}});
}

// A stall present at start, past the collector's deadline: the first scan abandons auto_start
// (left blocked on its thread) and ends with the other collectors' results; the port opens;
// /status names the stuck collector; a rescan goes on without starting it again.
TEST(Faults, AStallAtStartIsAbandonedAndTheOthersReport) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  TempDir root;
  write_fixture_root(root);
  const fs::path mount_point = root.path() / "etc/cron.d";
  fs::remove_all(mount_point);
  StalledFuse stall(mount_point);
  ASSERT_TRUE(stall.ok()) << std::strerror(errno);
  AgentOptions options;
  options.args = {"--root", root.path().string()};
  const auto started = Clock::now();
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << "the port never opened: " << agent.log_text();
  const double port_open_s = std::chrono::duration<double>(Clock::now() - started).count();
  // Until the first scan ends: /status says it runs, the statistics are 503 HSS.0002.
  bool saw_running = false;
  boost::json::object now;
  for (auto until = Clock::now() + 40s; Clock::now() < until; std::this_thread::sleep_for(50ms)) {
    now = status(agent);
    if (now.at("generation").as_int64() > 0) break;
    saw_running = true;
    EXPECT_NE(now.at("first_scan_running_since").as_string(), "");
    auto early = fetch(agent, "/v5/p1/asset/statistics");
    if (early.result_int() == 503) {
      EXPECT_NE(early.body().find("HSS.0002"), std::string::npos) << early.body();
    }
  }
  ASSERT_GT(now.at("generation").as_int64(), 0) << "the first scan never ended";
  const double first_scan_s = std::chrono::duration<double>(Clock::now() - started).count();
  auto stats = fetch(agent, "/v5/p1/asset/statistics");
  ASSERT_EQ(stats.result_int(), 200) << stats.body();
  const auto counts = boost::json::parse(stats.body()).as_object();
  EXPECT_GT(counts.at("account_num").as_int64(), 0) << stats.body();
  EXPECT_GT(counts.at("process_num").as_int64(), 0) << stats.body();
  auto errors = errors_by_collector(now);
  EXPECT_NE(errors.at("auto_start").find("stuck in a read"), std::string::npos)
      << errors.at("auto_start");
  EXPECT_EQ(errors.at("accounts"), "");
  // A rescan is not held by it, and does not start it again.
  const auto rescan_start = Clock::now();
  EXPECT_TRUE(rescan(agent, 10s));
  const double rescan_s = std::chrono::duration<double>(Clock::now() - rescan_start).count();
  errors = errors_by_collector(status(agent));
  EXPECT_EQ(errors["auto_start"].rfind("stuck in a read for ", 0), 0u) << errors["auto_start"];
  // Once the mount fails, the blocked read returns and the collector runs again.
  stall.release();
  bool ran_again = false;
  for (auto until = Clock::now() + 30s; !ran_again && Clock::now() < until;) {
    ASSERT_TRUE(rescan(agent, 30s));
    ran_again = errors_of(agent, "auto_start").find("stuck") == std::string::npos;
  }
  EXPECT_TRUE(ran_again) << errors_of(agent, "auto_start");
  record_figures("faults", "a stalled FUSE mount present at start",
                 "etc/cron.d a FUSE mount whose server never answers before the agent starts; "
                 "after the first scan and a rescan, the FUSE device closed",
                 "port open in " + std::to_string(port_open_s).substr(0, 4) +
                     " s, first scan (auto_start abandoned) in " +
                     std::to_string(first_scan_s).substr(0, 4) + " s with accounts and processes; "
                     "rescan in " + std::to_string(rescan_s).substr(0, 4) +
                     " s without starting auto_start again; it ran again once the mount failed",
                 {{"port_open_s", port_open_s},
                  {"first_scan_s", first_scan_s},
                  {"rescan_s", rescan_s},
                  {"saw_first_scan_running", saw_running ? 1.0 : 0.0}});
}

TEST(Faults, EveryCollectorUnprivileged) {
  if (::geteuid() != 0) LIVE_SKIP() << "needs root";
  TempDir root;
  write_fixture_root(root);
  fs::create_directories(root.path() / "etc/systemd/system/multi-user.target.wants");
  // Readable by root alone: the agent, run as nobody, gets EACCES on each.
  for (const auto* file : {"etc/passwd", "etc/crontab", "var/lib/dpkg/status", "etc/os-release"})
    ::chmod((root.path() / file).c_str(), 0600);
  for (const auto* dir : {"etc/cron.d", "etc/systemd/system"})
    ::chmod((root.path() / dir).c_str(), 0700);
  ::chmod(root.path().c_str(), 0755);
  AgentOptions options;
  options.args = {"--root", root.path().string()};
  options.prefix = {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                    "--inh-caps=-all", "--"};
  options.before_start = [](const TempDir& dir) {
    for (const auto& entry : fs::recursive_directory_iterator(dir.path()))
      ::chown(entry.path().c_str(), 65534, 65534);
    ::chown(dir.path().c_str(), 65534, 65534);
  };
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  const auto errors = errors_by_collector(status(agent));
  std::string summary;
  std::string quiet;
  const auto now = status(agent);
  for (const auto& c : now.at("collectors").as_array())
    if (c.at("errors").as_array().empty())
      quiet += (quiet.empty() ? "" : ", ") + std::string(c.at("name").as_string()) + " (" +
               std::to_string(c.at("item_count").as_int64()) + " items)";
  for (const auto& [name, text] : errors) {
    if (text.empty()) continue;
    const auto first = text.substr(0, text.find('\n'));
    const auto lines = std::count(text.begin(), text.end(), '\n');
    summary += name + ": " + first + (lines > 1 ? " (+" + std::to_string(lines - 1) + " more)" : "") + "; ";
  }
  for (const auto* name : {"accounts", "software", "auto_start"})
    EXPECT_NE(errors.at(name).find("Permission denied"), std::string::npos)
        << name << ": " << errors.at(name);
  EXPECT_EQ(fetch(agent, "/v5/p1/asset/statistics").result_int(), 200);
  EXPECT_TRUE(rescan(agent));
  record_figures("faults", "every collector unprivileged",
                 "the agent run as nobody (setpriv --reuid=65534 --inh-caps=-all) over a root "
                 "whose files are root's, mode 0600/0700, and this host's /proc",
                 "/status: " + summary + "no error: " + quiet, {});
}

// A tmpfs mounted for the test, unmounted (lazily) whatever happens.
class SmallTmpfs {
 public:
  SmallTmpfs(const fs::path& where, const std::string& size) : where_(where) {
    fs::create_directories(where);
    ok_ = ::mount("hostprint-test", where.c_str(), "tmpfs", 0,
                  ("size=" + size + ",mode=0700").c_str()) == 0;
  }
  ~SmallTmpfs() {
    if (ok_) ::umount2(where_.c_str(), MNT_DETACH);
  }
  bool ok() const { return ok_; }
  bool remount(bool read_only) {
    return ::mount(nullptr, where_.c_str(), nullptr,
                   MS_REMOUNT | (read_only ? MS_RDONLY : 0), nullptr) == 0;
  }

 private:
  fs::path where_;
  bool ok_ = false;
};

// Fills the file system of `folder` to the last byte.
void fill(const fs::path& folder) {
  std::ofstream out(folder / "filler", std::ios::binary);
  const std::string block(512, 'x');
  for (int i = 0; i < 100000 && out; ++i) out.write(block.data(), block.size());
}

TEST(Faults, AStateFolderFullThenReadOnlyLosesNoRaspEvent) {
  if (::geteuid() != 0) LIVE_SKIP() << "needs root";
  TempDir work;
  const fs::path logs = work.path() / "logs", state = work.path() / "state";
  fs::create_directories(logs);
  SmallTmpfs tmpfs(state, "8k");
  ASSERT_TRUE(tmpfs.ok()) << std::strerror(errno);
  AgentOptions options;
  options.args = {"--state-dir", state.string()};
  options.config = config_with_logs(work, logs.string());
  append(logs / "alarm.log.2026-12-01", alarm_line("s1", 3600) + alarm_line("s2", 1800));
  append(logs / "alarm.log", alarm_line("s3", 600));
  std::string full_error, readonly_error, readonly_start_error;
  {
    Agent agent(options);
    ASSERT_TRUE(agent.ready()) << agent.log_text();
    ASSERT_EQ(blocked_attacks(agent), 3);
    ASSERT_TRUE(fs::exists(state / "rasp_event_window"));

    // Full: new events counted, the failure in /status at every scan while it lasts.
    fill(state);
    append(logs / "alarm.log", alarm_line("s4", 300));
    ASSERT_TRUE(rescan(agent));
    EXPECT_EQ(blocked_attacks(agent), 4);
    full_error = errors_of(agent, "rasp");
    EXPECT_NE(full_error.find("No space left on device"), std::string::npos) << full_error;
    append(logs / "alarm.log", alarm_line("s5", 200));
    ASSERT_TRUE(rescan(agent));
    EXPECT_EQ(blocked_attacks(agent), 5);
    EXPECT_NE(errors_of(agent, "rasp").find("No space left on device"), std::string::npos)
        << "the second scan that cannot save says so too";

    // Room again: saved, the error gone.
    fs::remove(state / "filler");
    ASSERT_TRUE(rescan(agent));
    EXPECT_EQ(errors_of(agent, "rasp"), "");

    // Read-only: the same.
    ASSERT_TRUE(tmpfs.remount(true)) << std::strerror(errno);
    append(logs / "alarm.log", alarm_line("s6", 100));
    ASSERT_TRUE(rescan(agent));
    EXPECT_EQ(blocked_attacks(agent), 6);
    readonly_error = errors_of(agent, "rasp");
    EXPECT_NE(readonly_error.find("Read-only file system"), std::string::npos) << readonly_error;
    EXPECT_EQ(agent.stop(SIGTERM), 0);
  }
  // The dated log deleted after it was counted, and a restart with the folder still read-only:
  // the saved window is read, so s1 and s2 still count (s6 comes back from alarm.log).
  fs::remove(logs / "alarm.log.2026-12-01");
  {
    Agent agent(options);
    ASSERT_TRUE(agent.ready()) << agent.log_text();
    EXPECT_EQ(blocked_attacks(agent), 6) << agent.log_text();
    readonly_start_error = errors_of(agent, "rasp");
    EXPECT_NE(readonly_start_error.find("Read-only file system"), std::string::npos)
        << readonly_start_error << agent.log_text();
    EXPECT_EQ(agent.stop(SIGTERM), 0);
  }
  ASSERT_TRUE(tmpfs.remount(false));
  {
    Agent agent(options);
    ASSERT_TRUE(agent.ready()) << agent.log_text();
    EXPECT_EQ(blocked_attacks(agent), 6);
    EXPECT_EQ(errors_of(agent, "rasp"), "");
  }
  auto first_line = [](const std::string& s) { return s.substr(0, s.find('\n')); };
  record_figures("faults", "state folder full, then read-only",
                 "state_dir on an 8 KiB tmpfs: filled to the last byte, then remounted "
                 "read-only, restarted read-only after a counted log was deleted, then writable",
                 "full: /status rasp \"" + first_line(full_error) +
                     "\" at each scan, events still counted; read-only: \"" +
                     first_line(readonly_error) + "\"; restarted read-only: window read, \"" +
                     first_line(readonly_start_error) + "\"; 6 of 6 events counted throughout",
                 {{"events_expected", 6}, {"events_counted", 6}});
}

TEST(Faults, CorruptStateRecords) {
  TempDir work;
  const fs::path logs = work.path() / "logs", state = work.path() / "state";
  fs::create_directories(logs);
  AgentOptions options;
  options.args = {"--state-dir", state.string()};
  options.config = config_with_logs(work, logs.string());
  append(logs / "alarm.log", alarm_line("c1", 600) + alarm_line("c2", 60));
  {
    Agent agent(options);
    ASSERT_TRUE(agent.ready()) << agent.log_text();
    ASSERT_EQ(blocked_attacks(agent), 2);
  }
  const fs::path record = state / "rasp_event_window";
  const std::string good = [&] {
    std::ifstream in(record, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  ASSERT_FALSE(good.empty());
  std::mt19937 random(7);
  std::string random_bytes(4096, '\0');
  for (auto& c : random_bytes) c = static_cast<char>(random());
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x20;
  const std::vector<std::pair<std::string, std::function<void()>>> corruptions{
      {"random bytes", [&] { work.write("state/rasp_event_window", random_bytes); }},
      {"cut in half", [&] { work.write("state/rasp_event_window", good.substr(0, good.size() / 2)); }},
      {"one bit flipped", [&] { work.write("state/rasp_event_window", flipped); }},
      {"empty", [&] { work.write("state/rasp_event_window", ""); }},
      {"65 MiB of digits",
       [&] { work.write("state/rasp_event_window", std::string(65u << 20, '7')); }},
      {"a FIFO", [&] { fs::remove(record); ::mkfifo(record.c_str(), 0600); }},
      {"a link to /dev/zero", [&] { fs::remove(record); fs::create_symlink("/dev/zero", record); }},
      {"a folder", [&] { fs::remove(record); fs::create_directory(record); }},
      {"item times garbage", [&] { work.write("state/rasp_event_window", good);
                                   work.write("state/item-times", random_bytes); }},
  };
  std::string outcomes;
  for (const auto& [name, corrupt] : corruptions) {
    std::error_code ec;
    fs::remove_all(record, ec);
    corrupt();
    Agent agent(options);
    ASSERT_TRUE(agent.ready()) << name << ": " << agent.log_text();
    EXPECT_EQ(blocked_attacks(agent), 2) << name << " lost or doubled an event";
    const auto errors = errors_of(agent, "rasp");
    if (name != "item times garbage") {
      EXPECT_NE(errors, "") << name << ": no error in /status";
    }
    std::string said = errors.substr(0, errors.find('\n'));
    if (name == "item times garbage") {
      const auto log = agent.log_text();
      EXPECT_NE(log.find("item-times"), std::string::npos)
          << "the corrupt item times are not logged: " << log;
      const auto times = status(agent).at("item_times").as_object();
      said = "item_times: " + std::string(times.at("error").as_string());
      EXPECT_NE(said.find("item-times"), std::string::npos) << "not in /status: " << said;
      EXPECT_FALSE(times.at("error_at").as_string().empty());
    }
    outcomes += name + ": \"" + said + "\"; ";
    EXPECT_TRUE(rescan(agent)) << name;
    EXPECT_EQ(blocked_attacks(agent), 2) << name;
    EXPECT_EQ(agent.stop(SIGTERM), 0) << name;
  }
  record_figures("faults", "corrupt state records",
                 "rasp_event_window replaced by random bytes, cut in half, one bit flipped, "
                 "empty, 65 MiB, a FIFO, a link to /dev/zero, a folder; item-times garbage; "
                 "agent restarted on each",
                 "2 of 2 events counted after each; /status rasp: " + outcomes, {});
}

TEST(Faults, ASighupStormDuringScans) {
  TempDir root;
  write_fixture_root(root);
  AgentOptions options;
  options.args = {"--root", root.path().string()};
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  WellBehavedClient client(agent, "/v5/p1/asset/statistics");
  const auto before = generation(agent);
  const auto start = Clock::now();
  int sent = 0;
  while (Clock::now() - start < 3s) {
    ::kill(agent.pid(), SIGHUP);
    ++sent;
    std::this_thread::sleep_for(500us);
  }
  const auto during = generation(agent) - before;
  // The storm is over: what it queued must end soon, not a scan per signal.
  std::this_thread::sleep_for(2s);
  const auto settled = generation(agent);
  std::this_thread::sleep_for(3s);
  const auto after = generation(agent) - settled;
  client.stop();
  const auto latencies = client.latencies_ms();
  std::ostringstream result;
  result << std::fixed << std::setprecision(1);
  result << sent << " SIGHUPs in 3 s: " << during << " scans during the storm, " << after
         << " in the 3 s starting 2 s after it; client p50 " << percentile(latencies, 50)
         << " ms, p99 " << percentile(latencies, 99) << " ms, " << client.failures()
         << " failed";
  record_figures("faults", "SIGHUP storm during scans",
                 "SIGHUP every 0.5 ms for 3 s to an agent scanning this host", result.str(),
                 {{"signals", sent},
                  {"scans_during", during},
                  {"scans_after", after},
                  {"client_p50_ms", percentile(latencies, 50)},
                  {"client_p99_ms", percentile(latencies, 99)}});
  EXPECT_EQ(client.failures(), 0);
  EXPECT_GT(client.answered(), 10);
  EXPECT_LE(after, 1) << "the storm left a backlog of scans";
  EXPECT_EQ(agent.stop(SIGTERM), 0) << agent.log_text();
}

}  // namespace
}  // namespace hostprint::test
