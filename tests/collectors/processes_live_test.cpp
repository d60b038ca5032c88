// The processes collector against real processes (needs root): in PID namespaces made here, where
// the test started every process itself and so knows the exact truth, and on the host against ps.
#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/scan_chain.hpp"
#include "collectors/processes.hpp"
#include "proto/digest.hpp"
#include "tests/temp_dir.hpp"
#include "tests/live_skip.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Processes = std::vector<ProcessInfo>;

// ---- plumbing: everything here runs in forked processes, so failures travel as text ----

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void fail(const std::string& what) {
  throw Failure(what + ": " + std::strerror(errno));
}

void write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
}

// Reads `fd` to its end; false when `deadline` came first.
bool read_to_end(int fd, std::string& out, std::chrono::steady_clock::time_point deadline) {
  char buffer[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return false;
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

void reap(pid_t pid) {
  while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
  }
}

// What a namespace reports: named sections of text, "## name" lines before each.
using Sections = std::map<std::string, std::string>;

std::string section(const std::string& name, const std::string& text) {
  return "## " + name + "\n" + text;
}

Sections parse_sections(const std::string& text) {
  Sections out;
  std::string* current = nullptr;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("## ", 0) == 0) {
      current = &out[line.substr(3)];
    } else if (current != nullptr) {
      *current += line + "\n";
    }
  }
  return out;
}

// Runs `body` as pid 1 of a new PID namespace, in a new mount namespace with a fresh /proc, and
// returns its sections. Whatever the body starts dies with the namespace when the body returns
// (the kernel kills every process of a namespace whose init exits), and the namespace dies with
// this process (PR_SET_PDEATHSIG) or when it outlives the timeout, so a failing test leaves
// nothing running.
Sections in_new_pid_namespace(const std::function<std::string()>& body,
                              std::chrono::seconds timeout = 120s) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return {{"error", "pipe2 failed"}};
  pid_t test_pid = ::getpid();
  pid_t outer = ::fork();
  if (outer < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return {{"error", "fork failed"}};
  }
  if (outer == 0) {
    ::close(fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != test_pid) ::_exit(1);
    if (::unshare(CLONE_NEWPID | CLONE_NEWNS) != 0) {
      write_all(fds[1], section("error", std::string("unshare: ") + std::strerror(errno)));
      ::_exit(1);
    }
    pid_t init = ::fork();
    if (init == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      std::string out;
      try {
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
          fail("making mounts private");
        if (::mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
          fail("mounting /proc");
        out = body();
      } catch (const std::exception& e) {
        out = section("error", e.what());
      }
      write_all(fds[1], out);
      ::_exit(0);
    }
    if (init < 0) write_all(fds[1], section("error", std::string("fork: ") + std::strerror(errno)));
    ::close(fds[1]);
    if (init > 0) reap(init);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  bool finished = read_to_end(fds[0], text, std::chrono::steady_clock::now() + timeout);
  ::close(fds[0]);
  if (!finished) ::kill(outer, SIGKILL);
  reap(outer);
  Sections sections = parse_sections(text);
  if (!finished) sections["error"] += "the namespace did not finish in time\n";
  return sections;
}

// Runs `body` in a child process and returns what it returned (inside a namespace).
std::string in_child(const std::function<std::string()>& body) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail("pipe2");
  pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    ::close(fds[0]);
    std::string out;
    try {
      out = body();
    } catch (const std::exception& e) {
      out = section("error", e.what());
    }
    write_all(fds[1], out);
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  read_to_end(fds[0], text, std::chrono::steady_clock::now() + 60s);
  ::close(fds[0]);
  ::kill(pid, SIGKILL);
  reap(pid);
  return text;
}

// Starts `program`; returns once the exec has happened, so /proc shows the program.
pid_t start_program(const fs::path& program, const std::vector<std::string>& args) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail("pipe2");
  pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    ::close(fds[0]);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(program.c_str(), argv.data());
    int err = errno;
    write_all(fds[1], std::string_view(reinterpret_cast<const char*>(&err), sizeof err));
    ::_exit(127);
  }
  ::close(fds[1]);
  int err = 0;
  ssize_t n;
  while ((n = ::read(fds[0], &err, sizeof err)) < 0 && errno == EINTR) {
  }
  ::close(fds[0]);
  if (n > 0) {
    reap(pid);
    errno = err;
    fail("exec " + program.string());
  }
  return pid;
}

pid_t start_sleeper(const fs::path& program) {
  return start_program(program, {program.filename().string(), "600"});
}

// A fork of this test binary that only waits.
pid_t start_waiter() {
  pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    for (;;) ::pause();
  }
  return pid;
}

// A child that has exited and that nobody reaped.
pid_t make_zombie() {
  pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) ::_exit(0);
  siginfo_t info{};
  if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOWAIT) != 0) fail("waitid");
  return pid;
}

void end_process(pid_t pid) {
  ::kill(pid, SIGKILL);
  reap(pid);
}

std::shared_ptr<const Processes> scan(ProcessesCollector& collector) {
  Outcome outcome = collector.collect(ScanContext{});
  std::string errors;
  for (const auto& e : outcome.errors) errors += e + "; ";
  if (!outcome.complete) throw Failure("the scan failed: " + errors);
  if (!errors.empty()) throw Failure("the scan reported errors: " + errors);
  return collector.items();
}

std::string encode(const Processes& processes) {
  std::string out;
  for (const auto& p : processes)
    out += std::to_string(p.pid) + "\t" + std::to_string(p.start_ticks) + "\t" + p.exe.str() + "\n";
  return out;
}

Processes decode(const std::string& text) {
  Processes out;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    auto tab1 = line.find('\t');
    auto tab2 = line.find('\t', tab1 + 1);
    if (tab1 == std::string::npos || tab2 == std::string::npos) continue;
    out.push_back({std::stoi(line.substr(0, tab1)),
                   std::stoull(line.substr(tab1 + 1, tab2 - tab1 - 1)),
                   line.substr(tab2 + 1),
                   {}});
  }
  return out;
}

std::map<std::string, int> count_by_exe(const Processes& processes) {
  std::map<std::string, int> out;
  for (const auto& p : processes) ++out[p.exe.str()];
  return out;
}

const ProcessInfo* find_pid(const Processes& processes, int pid) {
  for (const auto& p : processes)
    if (p.pid == pid) return &p;
  return nullptr;
}

bool sorted_by_unique_pid(const Processes& processes) {
  return std::adjacent_find(processes.begin(), processes.end(), [](const auto& a, const auto& b) {
           return a.pid >= b.pid;
         }) == processes.end();
}

fs::path self_exe() {
  return fs::read_symlink("/proc/self/exe");
}

// Copies of /bin/sleep under distinct names, in a folder removed after the test.
class Programs {
 public:
  fs::path add(const std::string& name) {
    fs::path path = dir_.path() / name;
    fs::copy_file("/bin/sleep", path);
    fs::permissions(path, fs::perms::owner_all, fs::perm_options::replace);
    return path;
  }

 private:
  test::TempDir dir_;
};

#define EXPECT_NO_NAMESPACE_ERROR(sections) \
  ASSERT_EQ((sections).count("error"), 0u) << (sections)["error"]

// ---- in a PID namespace of our own ----

TEST(ProcessesInNamespace, CountsExactlyWhatRuns) {
  Programs programs;
  auto a = programs.add("a"), b = programs.add("b"), c = programs.add("c");
  auto doomed = programs.add("doomed");
  auto sections = in_new_pid_namespace([&] {
    for (int i = 0; i < 3; ++i) start_sleeper(a);
    start_sleeper(b);
    start_sleeper(c);
    pid_t deleted = start_sleeper(doomed);
    fs::remove(doomed);
    pid_t zombie = make_zombie();
    pid_t waiter = start_waiter();
    // The collector runs in a process of its own, as the agent would.
    std::string scanned = in_child([] {
      ProcessesCollector collector;
      return section("scan", encode(*scan(collector))) +
             section("self", std::to_string(::getpid()) + "\n");
    });
    return scanned + section("deleted", std::to_string(deleted) + "\n") +
           section("zombie", std::to_string(zombie) + "\n") +
           section("waiter", std::to_string(waiter) + "\n");
  });
  EXPECT_NO_NAMESPACE_ERROR(sections);
  Processes found = decode(sections["scan"]);

  // 3 a, b, c, the deleted one, the zombie, and three forks of this binary: pid 1, the waiter
  // and the collector's own process.
  std::map<std::string, int> expected{{a.string(), 3}, {b.string(), 1},
                                      {c.string(), 1}, {doomed.string(), 1},
                                      {"", 1},         {self_exe().string(), 3}};
  EXPECT_EQ(count_by_exe(found), expected);
  EXPECT_EQ(found.size(), 10u);
  EXPECT_TRUE(sorted_by_unique_pid(found));
  ASSERT_FALSE(found.empty());
  EXPECT_EQ(found.front().pid, 1);
  EXPECT_EQ(found.front().exe, self_exe().string());

  auto pid_of = [&](const char* name) { return std::stoi(sections[name]); };
  ASSERT_NE(find_pid(found, pid_of("deleted")), nullptr);
  EXPECT_EQ(find_pid(found, pid_of("deleted"))->exe, doomed.string()) << "without \" (deleted)\"";
  ASSERT_NE(find_pid(found, pid_of("zombie")), nullptr);
  EXPECT_EQ(find_pid(found, pid_of("zombie"))->exe, "");
  ASSERT_NE(find_pid(found, pid_of("self")), nullptr);
  ASSERT_NE(find_pid(found, pid_of("waiter")), nullptr);
  for (const auto& p : found) EXPECT_GT(p.start_ticks, 0u) << p.pid;
}

TEST(ProcessesInNamespace, RescanWithNothingChangedIsIdentical) {
  Programs programs;
  auto a = programs.add("a"), b = programs.add("b");
  auto sections = in_new_pid_namespace([&] {
    start_sleeper(a);
    start_sleeper(a);
    start_sleeper(b);
    make_zombie();
    ProcessesCollector collector;
    auto first = scan(collector);
    auto second = scan(collector);
    auto third = scan(collector);
    bool shared = first == second && second == third;
    return section("first", encode(*first)) + section("second", encode(*second)) +
           section("third", encode(*third)) + section("shared", shared ? "yes\n" : "no\n");
  });
  EXPECT_NO_NAMESPACE_ERROR(sections);
  Processes first = decode(sections["first"]);
  EXPECT_EQ(first.size(), 5u);  // a, a, b, the zombie, pid 1
  EXPECT_EQ(sections["second"], sections["first"]);
  EXPECT_EQ(sections["third"], sections["first"]);
  EXPECT_EQ(sections["shared"], "yes\n") << "an unchanged table is handed on, not rebuilt";
}

TEST(ProcessesInNamespace, AnExitedProcessTurnsZombieThenDisappears) {
  Programs programs;
  auto a = programs.add("a"), b = programs.add("b");
  auto sections = in_new_pid_namespace([&] {
    pid_t leaving = start_sleeper(a);
    start_sleeper(b);
    ProcessesCollector collector;
    auto before = scan(collector);
    ::kill(leaving, SIGKILL);
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(leaving), &info, WEXITED | WNOWAIT) != 0) fail("waitid");
    auto zombie = scan(collector);
    reap(leaving);
    auto after = scan(collector);
    return section("before", encode(*before)) + section("zombie", encode(*zombie)) +
           section("after", encode(*after)) + section("leaving", std::to_string(leaving) + "\n");
  });
  EXPECT_NO_NAMESPACE_ERROR(sections);
  int leaving = std::stoi(sections["leaving"]);
  Processes before = decode(sections["before"]);
  Processes zombie = decode(sections["zombie"]);
  Processes after = decode(sections["after"]);

  ASSERT_NE(find_pid(before, leaving), nullptr);
  EXPECT_EQ(find_pid(before, leaving)->exe, a.string());
  ASSERT_NE(find_pid(zombie, leaving), nullptr) << "a zombie is still a process";
  EXPECT_EQ(find_pid(zombie, leaving)->exe, "") << "a zombie has no executable";
  EXPECT_EQ(find_pid(zombie, leaving)->start_ticks, find_pid(before, leaving)->start_ticks);
  EXPECT_EQ(find_pid(after, leaving), nullptr);

  Processes expected;
  for (const auto& p : before)
    if (p.pid != leaving) expected.push_back(p);
  EXPECT_EQ(encode(after), encode(expected));
  EXPECT_EQ(after.size(), 2u);  // b and pid 1
}

TEST(ProcessesInNamespace, ExecBetweenScansShowsTheNewExecutable) {
  Programs programs;
  auto b = programs.add("b");
  auto sections = in_new_pid_namespace([&] {
    // A fork of this binary that, when told to, execs b: same pid, same start time.
    int go[2], execed[2];
    if (::pipe2(go, O_CLOEXEC) != 0 || ::pipe2(execed, O_CLOEXEC) != 0) fail("pipe2");
    pid_t changer = ::fork();
    if (changer < 0) fail("fork");
    if (changer == 0) {
      ::close(go[1]);
      ::close(execed[0]);
      char byte;
      while (::read(go[0], &byte, 1) < 0 && errno == EINTR) {
      }
      ::execl(b.c_str(), "b", "600", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(go[0]);
    ::close(execed[1]);
    ProcessesCollector collector;
    auto before = scan(collector);
    write_all(go[1], "x");
    char byte;
    ssize_t n;
    while ((n = ::read(execed[0], &byte, 1)) < 0 && errno == EINTR) {
    }
    if (n != 0) throw Failure("the exec did not happen");
    auto after = scan(collector);
    return section("before", encode(*before)) + section("after", encode(*after)) +
           section("changer", std::to_string(changer) + "\n");
  });
  EXPECT_NO_NAMESPACE_ERROR(sections);
  int changer = std::stoi(sections["changer"]);
  Processes before = decode(sections["before"]);
  Processes after = decode(sections["after"]);
  ASSERT_NE(find_pid(before, changer), nullptr);
  ASSERT_NE(find_pid(after, changer), nullptr);
  EXPECT_EQ(find_pid(before, changer)->exe, self_exe().string());
  EXPECT_EQ(find_pid(after, changer)->exe, b.string());
  EXPECT_EQ(find_pid(after, changer)->start_ticks, find_pid(before, changer)->start_ticks);
  EXPECT_EQ(after.size(), before.size());
}

TEST(ProcessesInNamespace, AReusedPidIsReadAgain) {
  Programs programs;
  auto a = programs.add("a");
  auto sections = in_new_pid_namespace([&] {
    pid_t first_pid = start_sleeper(a);
    ProcessesCollector collector;
    auto before = scan(collector);
    end_process(first_pid);
    std::this_thread::sleep_for(50ms);  // start times count 1/100 s
    // The next fork of this namespace gets the pid that was just freed.
    {
      int fd = ::open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
      if (fd < 0) return section("skip", "ns_last_pid cannot be written\n");
      std::string last = std::to_string(first_pid - 1);
      bool written = ::write(fd, last.data(), last.size()) == static_cast<ssize_t>(last.size());
      ::close(fd);
      if (!written) return section("skip", "ns_last_pid cannot be written\n");
    }
    pid_t second_pid = start_sleeper(a);
    if (second_pid != first_pid) return section("skip", "the pid was not reused\n");
    auto after = scan(collector);
    return section("before", encode(*before)) + section("after", encode(*after)) +
           section("pid", std::to_string(first_pid) + "\n");
  });
  EXPECT_NO_NAMESPACE_ERROR(sections);
  if (sections.count("skip")) LIVE_SKIP() << sections["skip"];
  int pid = std::stoi(sections["pid"]);
  Processes before = decode(sections["before"]);
  Processes after = decode(sections["after"]);
  ASSERT_NE(find_pid(before, pid), nullptr);
  ASSERT_NE(find_pid(after, pid), nullptr);
  EXPECT_EQ(find_pid(after, pid)->exe, a.string());
  EXPECT_GT(find_pid(after, pid)->start_ticks, find_pid(before, pid)->start_ticks)
      << "the new process under the old pid must not inherit the old one's start time";
}

TEST(ProcessesInNamespace, ProcessesItMayNotInspectStillCount) {
  Programs programs;
  auto a = programs.add("a");
  auto sections = in_new_pid_namespace([&] {
    start_sleeper(a);
    start_sleeper(a);
    return in_child([] {
      // Without root, another user's executable link is closed (EACCES).
      if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)
        fail("dropping to nobody");
      ProcessesCollector collector;
      return section("scan", encode(*scan(collector)));
    });
  });
  EXPECT_NO_NAMESPACE_ERROR(sections);
  Processes found = decode(sections["scan"]);
  // The two sleepers and pid 1 belong to root; the collector's process is its own.
  std::map<std::string, int> expected{{"", 3}, {self_exe().string(), 1}};
  EXPECT_EQ(count_by_exe(found), expected);
  EXPECT_EQ(found.size(), 4u);
}

TEST(ProcessesInNamespace, ManyNewPidsAreReadInBatches) {
  auto sections = in_new_pid_namespace([&] {
    std::vector<pid_t> started;
    for (int i = 0; i < 600; ++i) started.push_back(start_waiter());
    ProcessesCollector collector;
    auto first = scan(collector);  // all new: one read of the whole table
    for (int i = 0; i < 300; ++i) started.push_back(start_waiter());
    auto second = scan(collector);  // a third new: selected by pid, in batches of 255
    std::string ended;
    for (int i = 0; i < 100; ++i) {
      end_process(started[static_cast<std::size_t>(i) * 3]);
      ended += std::to_string(started[static_cast<std::size_t>(i) * 3]) + "\n";
    }
    auto third = scan(collector);
    std::string all;
    for (pid_t pid : started) all += std::to_string(pid) + "\n";
    return section("first", encode(*first)) + section("second", encode(*second)) +
           section("third", encode(*third)) + section("started", all) + section("ended", ended);
  });
  EXPECT_NO_NAMESPACE_ERROR(sections);
  std::vector<int> started, ended;
  {
    std::istringstream in(sections["started"]);
    for (int pid; in >> pid;) started.push_back(pid);
    std::istringstream out(sections["ended"]);
    for (int pid; out >> pid;) ended.push_back(pid);
  }
  ASSERT_EQ(started.size(), 900u);
  auto pids = [](const Processes& processes) {
    std::set<int> out;
    for (const auto& p : processes) out.insert(p.pid);
    return out;
  };
  std::set<int> expected_first{1}, expected_second{1};
  for (std::size_t i = 0; i < started.size(); ++i) {
    if (i < 600) expected_first.insert(started[i]);
    expected_second.insert(started[i]);
  }
  std::set<int> expected_third = expected_second;
  for (int pid : ended) expected_third.erase(pid);

  Processes first = decode(sections["first"]);
  Processes second = decode(sections["second"]);
  Processes third = decode(sections["third"]);
  EXPECT_EQ(pids(first), expected_first);
  EXPECT_EQ(pids(second), expected_second);
  EXPECT_EQ(pids(third), expected_third);
  EXPECT_EQ(third.size(), 801u);
  for (const auto* list : {&first, &second, &third}) {
    EXPECT_TRUE(sorted_by_unique_pid(*list));
    EXPECT_EQ(count_by_exe(*list).size(), 1u) << "every process here is a fork of this binary";
  }
}

TEST(ProcessesInNamespace, WithoutProcMountedItFailsReadably) {
  auto sections = in_new_pid_namespace([&] {
    if (::mount("tmpfs", "/proc", "tmpfs", 0, nullptr) != 0) fail("mounting a tmpfs on /proc");
    ProcessesCollector collector;
    Outcome outcome = collector.collect(ScanContext{});
    std::string errors;
    for (const auto& e : outcome.errors) errors += e + "\n";
    return section("complete", outcome.complete ? "yes\n" : "no\n") + section("errors", errors) +
           section("count", std::to_string(collector.item_count()) + "\n");
  });
  EXPECT_NO_NAMESPACE_ERROR(sections);
  EXPECT_EQ(sections["complete"], "no\n");
  EXPECT_NE(sections["errors"].find("not a mounted proc filesystem"), std::string::npos)
      << sections["errors"];
  EXPECT_EQ(sections["count"], "0\n");
}

// ---- the collector's own contract, on the host ----

TEST(ProcessesCollectorLive, APassedDeadlineKeepsTheLastGoodResult) {
  ProcessesCollector collector;
  ScanContext late;
  late.deadline = std::chrono::steady_clock::now() - 1s;
  Outcome missed = collector.collect(late);
  EXPECT_FALSE(missed.complete);
  ASSERT_FALSE(missed.errors.empty());
  EXPECT_NE(missed.errors.front().find("deadline"), std::string::npos) << missed.errors.front();
  EXPECT_EQ(collector.item_count(), 0u);

  Outcome good = collector.collect(ScanContext{});
  ASSERT_TRUE(good.complete);
  ASSERT_GT(collector.item_count(), 0u);
  const auto kept = collector.items();

  Outcome missed_again = collector.collect(late);
  EXPECT_FALSE(missed_again.complete);
  EXPECT_EQ(collector.items(), kept);
}

TEST(ProcessesCollectorLive, RefusesAProcOtherThanLibproc2s) {
  test::TempDir elsewhere;
  ProcessesCollector collector;
  ScanContext context;
  context.proc = elsewhere.path();
  Outcome outcome = collector.collect(context);
  EXPECT_FALSE(outcome.complete);
  ASSERT_FALSE(outcome.errors.empty());
  EXPECT_NE(outcome.errors.front().find("/proc"), std::string::npos) << outcome.errors.front();
  EXPECT_EQ(collector.item_count(), 0u);
}

// ---- on the host, against ps ----

std::set<int> pids_from_ps(const std::string& arguments) {
  std::set<int> out;
  std::string command = "ps " + arguments + " 2>/dev/null";
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  if (!pipe) return out;
  char line[256];
  while (std::fgets(line, sizeof line, pipe.get()) != nullptr) out.insert(std::atoi(line));
  out.erase(0);
  return out;
}

TEST(ProcessesOnHost, MatchesPsExceptProcessesThatCameOrWent) {
  std::string last_failure;
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto kernel_threads = pids_from_ps("--ppid 2 -p 2 --no-headers -o pid=");
    auto before = pids_from_ps("-e --no-headers -o pid=");
    ProcessesCollector collector;
    Outcome outcome = collector.collect(ScanContext{});
    auto after = pids_from_ps("-e --no-headers -o pid=");
    for (int pid : pids_from_ps("--ppid 2 -p 2 --no-headers -o pid=")) kernel_threads.insert(pid);
    ASSERT_TRUE(outcome.complete);
    ASSERT_FALSE(before.empty());
    ASSERT_TRUE(sorted_by_unique_pid(*collector.items()));
    std::set<int> found;
    for (const auto& p : *collector.items()) found.insert(p.pid);

    std::ostringstream why;
    // Whatever ps saw before and after the scan was there during it.
    for (int pid : before)
      if (after.contains(pid) && !kernel_threads.contains(pid) && !found.contains(pid))
        why << " missing " << pid << ";";
    // Nothing else, except processes that came and went in between.
    for (int pid : found) {
      if (kernel_threads.contains(pid)) why << " kernel thread " << pid << ";";
      bool seen = before.contains(pid) || after.contains(pid);
      if (!seen && ::kill(pid, 0) == 0) why << " unknown to ps yet alive " << pid << ";";
    }
    if (!found.contains(::getpid())) why << " not itself;";
    if (why.str().empty()) {
      const ProcessInfo* me = find_pid(*collector.items(), ::getpid());
      ASSERT_NE(me, nullptr);
      EXPECT_EQ(me->exe, self_exe().string());
      EXPECT_FALSE(found.contains(2)) << "kthreadd";
      return;
    }
    last_failure = why.str();
    std::this_thread::sleep_for(200ms);
  }
  FAIL() << "the collector and ps disagreed on every attempt; last:" << last_failure;
}

std::string shell_output(const std::string& command) {
  std::string out;
  if (FILE* p = ::popen(command.c_str(), "r")) {
    char buffer[4096];
    while (std::fgets(buffer, sizeof buffer, p)) out += buffer;
    ::pclose(p);
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

TEST(ProcessesOnHost, ListFieldsAgreeWithPsStatAndSha256sum) {
  // A shell that stays itself (the `; :` keeps it from exec'ing sleep), with known arguments.
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::setpgid(0, 0);  // so that its sleep goes with it
    ::execl("/bin/sh", "/bin/sh", "-c", "sleep 1000; :", "sh", "a  b", "c", nullptr);
    ::_exit(127);
  }
  ::setpgid(child, child);
  std::unique_ptr<void, std::function<void(void*)>> stop(reinterpret_cast<void*>(1), [&](void*) {
    ::kill(-child, SIGKILL);
    reap(child);
  });
  std::this_thread::sleep_for(300ms);
  ProcessesCollector collector;
  ASSERT_TRUE(collector.collect(ScanContext{}).complete);
  const ProcessInfo* p = find_pid(*collector.items(), child);
  ASSERT_NE(p, nullptr);
  const std::string pid = std::to_string(child);
  EXPECT_EQ(p->command_line, "/bin/sh -c sleep 1000; : sh a  b c");
  EXPECT_EQ(p->exe, shell_output("readlink /proc/" + pid + "/exe"));
  EXPECT_EQ(proto::file_mode_text(p->exe_mode), shell_output("stat -L -c %A /proc/" + pid + "/exe"));
  EXPECT_EQ(proto::sha256_hex(p->exe),
            shell_output("printf %s '" + p->exe.str() + "' | sha256sum | cut -d' ' -f1"));
  EXPECT_EQ(p->start_ms / 1000,
            std::stoll(shell_output("date -d \"$(ps -o lstart= -p " + pid + ")\" +%s")));
  // Its command line as ps shows it (ps joins the arguments the same way).
  EXPECT_EQ(p->command_line, shell_output("ps -o args= -p " + pid));
  // A rescan keeps what it read: the very same list.
  const auto first = collector.items();  // keeps `p` alive across the rescan
  ASSERT_NE(first, nullptr);
  ASSERT_TRUE(collector.collect(ScanContext{}).complete);
  const ProcessInfo* again = find_pid(*collector.items(), child);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(*again, *p);
}

}  // namespace
}  // namespace hostprint::collectors
