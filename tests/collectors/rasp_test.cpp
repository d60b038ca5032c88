// The RASP pieces on their own: alarm lines and times, the line splitter, the event window and
// its state file, agent recognition; then RaspCollector counting alarm logs the test writes
// (configured globs, no processes) through appends, copies, rotation, truncation, hostile lines,
// deletion, a restart and a corrupt state file.
#include "collectors/rasp.hpp"

#include <gtest/gtest.h>

#include "collectors/formats/java_args.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/formats/python_dist.hpp"
#include "collectors/formats/version_text.hpp"
#include "collectors/io/root_glob.hpp"
#include <sys/stat.h>
#include <time.h>

#include <filesystem>
#include <fstream>

#include "agent/state_store.hpp"
#include "collectors/services.hpp"
#include "tests/rasp_fixtures.hpp"
#include "tests/scan_chain.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

std::int64_t utc(int y, int mo, int d, int h, int mi, int s) {
  tm parts{};
  parts.tm_year = y - 1900;
  parts.tm_mon = mo - 1;
  parts.tm_mday = d;
  parts.tm_hour = h;
  parts.tm_min = mi;
  parts.tm_sec = s;
  return static_cast<std::int64_t>(::timegm(&parts));
}

std::int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

TEST(RaspAlarmLog, EventTimesWithTheirOffsets) {
  EXPECT_EQ(parse_alarm_time("2018-12-16T10:20:30+0800"), utc(2018, 12, 16, 2, 20, 30));
  EXPECT_EQ(parse_alarm_time("2018-12-16T10:20:30-0530"), utc(2018, 12, 16, 15, 50, 30));
  EXPECT_EQ(parse_alarm_time("2018-12-16T10:20:30+08:00"), utc(2018, 12, 16, 2, 20, 30));
  EXPECT_EQ(parse_alarm_time("2018-12-16T10:20:30.123+0000"), utc(2018, 12, 16, 10, 20, 30));
  EXPECT_EQ(parse_alarm_time("2018-12-16T10:20:30Z"), utc(2018, 12, 16, 10, 20, 30));
  EXPECT_EQ(parse_alarm_time("2024-02-29T00:00:00+0000"), utc(2024, 2, 29, 0, 0, 0));
  EXPECT_EQ(parse_alarm_time("1969-12-31T23:59:59+0000"), -1);
  for (const char* bad :
       {"", "2018-12-16", "2018-12-16T10:20:30", "2018-12-16T10:20:30+08", "2018-12-16T10:20+0800",
        "2018-13-16T10:20:30+0800", "2023-02-29T10:20:30+0800", "2018-12-16T24:20:30+0800",
        "2018-12-16T10:20:30+0800x", "2018-12-16T10:20:30 +0800", "2018-12-16T10:20:30.+0800",
        "2018-12-16T10:20:30+2400", "2018/12/16T10:20:30+0800", "２018-12-16T10:20:30+0800"})
    EXPECT_FALSE(parse_alarm_time(bad)) << bad;
}

TEST(RaspAlarmLog, OnlyBlockCountsAndMalformedLinesAreTold) {
  auto blocked = parse_alarm_line(test::alarm_line("r1", 60));
  ASSERT_TRUE(blocked);
  EXPECT_TRUE(blocked->blocked);
  EXPECT_NEAR(static_cast<double>(blocked->event_time), static_cast<double>(now_s() - 60), 2);
  auto logged = parse_alarm_line(test::alarm_line("r2", 60, "log"));
  ASSERT_TRUE(logged);
  EXPECT_FALSE(logged->blocked);
  EXPECT_FALSE(parse_alarm_line(test::alarm_line("r3", 60, "ignore"))->blocked);
  EXPECT_FALSE(parse_alarm_line(R"({"event_time":"2018-12-16T10:20:30+0800"})")->blocked);
  EXPECT_TRUE(parse_alarm_line(
                  "  {\"event_time\":\"2018-12-16T10:20:30+0800\",\"intercept_state\":\"block\"}\r")
                  ->blocked);
  for (const char* bad : {"", "not json", "[1,2]", "{\"event_time\":", "{}",
                          R"({"event_time":12345,"intercept_state":"block"})",
                          R"({"event_time":"yesterday","intercept_state":"block"})",
                          R"({"event_time":"2018-12-16T10:20:30+0800","intercept_state":1})",
                          R"({"event_time":"2018-12-16T10:20:30+0800"} trailing)"})
    EXPECT_FALSE(parse_alarm_line(bad)) << bad;
  // Deep nesting and overlong lines cost bounded effort.
  EXPECT_FALSE(parse_alarm_line(std::string(100'000, '[')));
  std::string padded = R"({"event_time":"2018-12-16T10:20:30+0800","x":")" +
                       std::string(rasp_alarm_max_line, 'a') + "\"}";
  EXPECT_FALSE(parse_alarm_line(padded));
}

TEST(RaspAlarmLog, IdentityAndFileNames) {
  const std::string line = test::alarm_line("r1", 60);
  EXPECT_EQ(alarm_event_id(line), alarm_event_id(" " + line.substr(0, line.size() - 1) + "\r"));
  EXPECT_NE(alarm_event_id(line), alarm_event_id(test::alarm_line("r2", 60)));
  EXPECT_NE(alarm_event_id(test::alarm_line("r1", 60, "block", "sql")),
            alarm_event_id(test::alarm_line("r1", 60, "block", "xss")));
  EXPECT_TRUE(is_alarm_log_name("alarm.log"));
  EXPECT_TRUE(is_alarm_log_name("alarm.log.2026-11-29"));
  for (const char* other : {"alarm.log.1", "alarm.log.2026-11-29.gz", "alarm.log.2026-1-29",
                            "policy_alarm.log", "alarm.logx", "rasp.log", "alarm.log."})
    EXPECT_FALSE(is_alarm_log_name(other)) << other;
}

TEST(RaspAlarmLog, SplitterKeepsLinesWholeAcrossReadsAndSkipsLongOnes) {
  Strings lines;
  int long_lines = 0;
  auto on_line = [&](std::string_view l) { lines.emplace_back(l); };
  auto on_long = [&] { ++long_lines; };
  AlarmLineSplitter s(false, 8);
  s.feed("ab\ncd", on_line, on_long);
  EXPECT_EQ(lines, (Strings{"ab"}));
  EXPECT_EQ(s.consumed(), 3u);  // "cd" is not settled yet
  s.feed("e\n\n0123456789", on_line, on_long);
  EXPECT_EQ(lines, (Strings{"ab", "cde", ""}));
  EXPECT_EQ(long_lines, 1);
  EXPECT_TRUE(s.in_long_line());
  EXPECT_EQ(s.consumed(), 18u);  // the long line's bytes are settled as they are skipped
  s.feed("more of it", on_line, on_long);
  s.feed("\nok\n", on_line, on_long);
  EXPECT_EQ(lines, (Strings{"ab", "cde", "", "ok"}));
  EXPECT_EQ(long_lines, 1);
  EXPECT_FALSE(s.in_long_line());
  EXPECT_EQ(s.consumed(), 32u);
  // Resumed inside a long line: the rest of it is skipped, not taken for a line.
  AlarmLineSplitter resumed(true, 8);
  resumed.feed("tail\nnext\n", on_line, on_long);
  EXPECT_EQ(lines.back(), "next");
  EXPECT_EQ(resumed.consumed(), 10u);
  // Exactly the bound is not too long; pieces that add up past it are.
  AlarmLineSplitter exact(false, 4);
  exact.feed("ab", on_line, on_long);
  exact.feed("cd\nab", on_line, on_long);
  exact.feed("cde", on_line, on_long);
  EXPECT_EQ(lines.back(), "abcd");
  EXPECT_EQ(long_lines, 2);
}

TEST(RaspEventWindow, CountsOnceWithinSevenDays) {
  RaspEventWindow w;
  const std::int64_t now = 1'800'000'000;
  using A = RaspEventWindow::Added;
  EXPECT_EQ(w.add(1, now - 10, now), A::counted);
  EXPECT_EQ(w.add(1, now - 10, now), A::known);
  EXPECT_EQ(w.add(2, now - rasp_window_seconds + 1, now), A::counted);
  EXPECT_EQ(w.add(3, now - rasp_window_seconds, now), A::outside);
  EXPECT_EQ(w.add(4, now - 8 * 86400, now), A::outside);
  EXPECT_EQ(w.add(5, now + 3600, now), A::counted);  // remembered, counted once it is due
  EXPECT_EQ(w.add(6, now + 2 * 86400, now), A::outside);
  EXPECT_EQ(w.count(now), 2u);
  EXPECT_EQ(w.count(now + 3600), 2u);  // 1 and 5; 2 has left the window by then
  EXPECT_FALSE(w.expire(now));
  EXPECT_TRUE(w.expire(now + 2));  // event 2 left the window
  EXPECT_EQ(w.size(), 2u);
  EXPECT_EQ(w.count(now + 3600), 2u);
}

TEST(RaspEventWindow, StateFileRoundTripsAndRefusesDamage) {
  RaspEventWindow w;
  const std::int64_t now = now_s();
  w.add(0xfedcba9876543210ull, now - 100, now);
  w.add(7, now - 5, now);
  w.cursors()[{2049, 1234}] = {5000, 256, 0xabcdefull, false};
  w.cursors()[{2049, 99}] = {12, 12, 4, true};
  const std::string text = serialize_window(w);
  auto back = parse_window(text);
  ASSERT_TRUE(back.window) << back.error;
  EXPECT_EQ(*back.window, w);
  EXPECT_EQ(serialize_window(*back.window), text);
  EXPECT_TRUE(parse_window(serialize_window(RaspEventWindow{})).window);

  std::string flipped = text;
  flipped[text.find("event ") + 7] ^= 1;
  std::string extra = text;
  extra.insert(text.find("end "), "event 9 9\n");
  for (const auto& bad :
       Strings{"", "garbage", text.substr(0, text.size() - 1), text.substr(0, text.size() / 2),
               flipped, extra, "hostprint rasp event window 1\nend 1 0\n"})
    EXPECT_FALSE(parse_window(bad).window) << bad;

  // Kept by the agent's store as the record's bytes, unchanged.
  test::TempDir dir;
  StateStore store(dir.path());
  EXPECT_EQ(store.save(rasp_state_record, text), "");
  std::string error;
  auto saved = store.load(rasp_state_record, rasp_window_max_record, error);
  ASSERT_TRUE(saved) << error;
  auto loaded = parse_window(*saved);
  ASSERT_TRUE(loaded.window) << loaded.error;
  EXPECT_EQ(*loaded.window, w);
}

// Each event remembers the log it was first found in, so one RASP home's logs give its count;
// the state file keeps that, and a line without a log (an older file) is still read.
TEST(RaspEventWindow, CountsPerLogAndKeepsTheLogAcrossRestarts) {
  RaspEventWindow w;
  const std::int64_t now = now_s();
  const FileIdentity a{2049, 10}, b{2049, 11}, c{2050, 10};
  w.add(1, now - 10, now, a);
  w.add(2, now - 20, now, a);
  w.add(3, now - 30, now, b);
  w.add(3, now - 30, now, c);  // the same event in another log: it stays b's
  w.add(4, now - 40, now);     // from a configured log outside every home
  EXPECT_EQ(w.count(now), 4u);
  EXPECT_EQ(w.count(now, {a}), 2u);
  EXPECT_EQ(w.count(now, {b}), 1u);
  EXPECT_EQ(w.count(now, {c}), 0u);
  EXPECT_EQ(w.count(now, {a, b}), 3u);
  EXPECT_EQ(w.count(now, {}), 0u);
  auto back = parse_window(serialize_window(w));
  ASSERT_TRUE(back.window) << back.error;
  EXPECT_EQ(*back.window, w);
  EXPECT_EQ(back.window->count(now, {a}), 2u);
  EXPECT_EQ(back.window->count(now, {b}), 1u);
  // Expired events leave their home's count too.
  EXPECT_TRUE(w.expire(now + rasp_window_seconds - 15));
  EXPECT_EQ(w.count(now + rasp_window_seconds - 15, {a}), 1u);
  EXPECT_EQ(w.sources().size(), 1u);

  const std::string old = "hostprint rasp event window 1\nevent 5 " + std::to_string(now) + "\n";
  auto older = parse_window(old + "end 2 " + std::to_string(alarm_event_id(old)) + "\n");
  ASSERT_TRUE(older.window) << older.error;
  EXPECT_EQ(older.window->count(now), 1u);
  EXPECT_TRUE(older.window->sources().empty());
}

TEST(RaspAgents, KnownFilesAndJavaAgentArguments) {
  auto rules = parse_fingerprints(builtin_fingerprints_text());
  auto files = rasp_agent_files(&rules, {"/opt/custom/my-rasp.jar", "x.jar"});
  EXPECT_EQ(files.jars.at("rasp.jar"), "OpenRASP");
  EXPECT_EQ(files.jars.at("jrasp-agent.jar"), "JRASP");
  EXPECT_EQ(files.jars.at("SmithAgent.jar"), "Elkeid RASP");
  EXPECT_EQ(files.jars.at("my-rasp.jar"), "my-rasp.jar");
  EXPECT_EQ(files.jars.at("x.jar"), "x.jar");
  EXPECT_EQ(files.libraries.at("openrasp.so"), "OpenRASP");
  EXPECT_FALSE(files.jars.contains("openrasp.so"));

  auto agents = [](std::vector<std::string> argv) { return parse_java_args(argv).agents; };
  EXPECT_EQ(agents({"java", "-Xmx1g", "-javaagent:/opt/t/rasp/rasp.jar=debug",
                    "-javaagent:rel/SmithAgent.jar", "-cp", "-javaagent:x.jar", "Main",
                    "-javaagent:/after/main.jar"}),
            (Strings{"/opt/t/rasp/rasp.jar", "rel/SmithAgent.jar"}));
  EXPECT_EQ(agents({"java", "-jar", "app.jar", "-javaagent:/x/rasp.jar"}), Strings{});
  EXPECT_EQ(agents({"java", "-javaagent:/a/rasp.jar", "-jar", "app.jar"}), Strings{"/a/rasp.jar"});
  EXPECT_EQ(agents({"java", "--source", "21", "@opts", "-javaagent:/b/rasp.jar", "Main.java"}),
            Strings{"/b/rasp.jar"});
  EXPECT_EQ(agents({"java", "-javaagent:", "-javaagent:=x"}), Strings{});
  EXPECT_TRUE(is_php_host("/usr/bin/php8.2"));
  EXPECT_TRUE(is_php_host("/usr/sbin/php-fpm8.2 (deleted)"));
  EXPECT_TRUE(is_php_host("/usr/sbin/apache2"));
  EXPECT_FALSE(is_php_host("/usr/bin/python3"));
  EXPECT_FALSE(is_php_host("/opt/php/bin/node"));

  EXPECT_EQ(rasp_home("/opt/tomcat/rasp/rasp.jar", true, false), "/opt/tomcat/rasp");
  EXPECT_EQ(rasp_home("/opt/tomcat/rasp/rasp.jar", false, false), "/opt/tomcat/rasp");
  EXPECT_EQ(rasp_home("/opt/rasp/lib/openrasp.so", false, true), "/opt/rasp");
  EXPECT_EQ(rasp_home("/opt/rasp/lib/openrasp.so", true, true), "/opt/rasp/lib");
  EXPECT_EQ(rasp_home("/rasp.jar", false, false), "/");
}

// Alarm logs under <root>/logs, found through a configured glob; no processes.
class RaspLogs : public ::testing::Test {
 protected:
  test::TempDir dir;
  fs::path root = dir.path() / "root";
  fs::path logs = root / "logs";
  fs::path state = dir.path() / "state";

  void SetUp() override {
    fs::create_directories(logs);
    fs::create_directories(state);
  }
  // The agent's state store over `state_dir`; none (in memory only) when it is empty.
  RaspCollector collector(const fs::path& state_dir) {
    return RaspCollector(RaspSettings{nullptr, {}, {"/logs/*.log*"}, make_state_store(state_dir)});
  }
  RaspFindings scan(RaspCollector& c, Outcome* outcome = nullptr) {
    ScanContext context;
    context.root = root;
    auto o = c.collect(context);
    EXPECT_TRUE(o.complete);
    if (outcome) *outcome = o;
    return *c.findings();
  }
  void append(const fs::path& file, const std::string& text) {
    std::ofstream out(file, std::ios::binary | std::ios::app);
    out << text;
  }
};

TEST_F(RaspLogs, EachBlockedEventInTheWindowCountsOnce) {
  using test::alarm_line;
  const fs::path log = logs / "alarm.log";
  // Lines written twice are made once: the same event has the very same text.
  const std::string a1 = alarm_line("a1", 3600), a9 = alarm_line("a9", 1);
  append(log, a1 + alarm_line("a2", 2 * 86400, "block", "xss", -300) +
                  alarm_line("a3", 6 * 86400, "block", "rce", 0) + alarm_line("l1", 60, "log") +
                  alarm_line("i1", 60, "ignore") + alarm_line("old", 8 * 86400));
  auto c = collector(state);
  auto f = scan(c);
  EXPECT_EQ(f.blocked_attacks, 3);
  EXPECT_EQ(f.parse_errors, 0u);
  EXPECT_TRUE(f.protected_processes.empty());

  // Read again: nothing new. Appended: only the new event.
  EXPECT_EQ(scan(c).blocked_attacks, 3);
  append(log, alarm_line("a4", 10));
  EXPECT_EQ(scan(c).blocked_attacks, 4);

  // A half-written line waits for its end.
  const std::string a5 = alarm_line("a5", 5);
  append(log, a5.substr(0, 40));
  EXPECT_EQ(scan(c).blocked_attacks, 4);
  append(log, a5.substr(40));
  EXPECT_EQ(scan(c).blocked_attacks, 5);

  // The same events seen again in a copy.
  fs::copy_file(log, logs / "copy.log");
  EXPECT_EQ(scan(c).blocked_attacks, 5);

  // Rotation: the log is renamed to its dated name, written once more, and a new one begins.
  fs::rename(log, logs / "alarm.log.2026-11-29");
  append(logs / "alarm.log.2026-11-29", alarm_line("a6", 4));
  append(log, alarm_line("a7", 3) + a1);
  EXPECT_EQ(scan(c).blocked_attacks, 7);

  // Truncated in place and written anew, longer than before: the new lines are read.
  { std::ofstream out(logs / "copy.log", std::ios::binary | std::ios::trunc); }
  EXPECT_EQ(scan(c).blocked_attacks, 7);
  std::string fresh;
  for (int i = 0; i < 40; ++i) fresh += alarm_line("t" + std::to_string(i), 2, "log");
  fresh += alarm_line("a8", 2);
  append(logs / "copy.log", fresh);
  EXPECT_EQ(scan(c).blocked_attacks, 8);

  // A malformed line and a 10 MB line are skipped and counted; what follows them is read.
  append(log, "{not json\n" + std::string(10u << 20, 'x') + "\n" + a9);
  Outcome outcome;
  f = scan(c, &outcome);
  EXPECT_EQ(f.blocked_attacks, 9);
  EXPECT_EQ(f.parse_errors, 2u);
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("2 malformed or overlong lines"), std::string::npos);

  // Deleted logs: what was counted stays counted.
  fs::remove(logs / "copy.log");
  fs::remove(logs / "alarm.log.2026-11-29");
  EXPECT_EQ(scan(c).blocked_attacks, 9);
  EXPECT_EQ(c.window().cursors().size(), 1u);

  // A restart: the window and where reading stopped come back from the state folder.
  auto again = collector(state);
  EXPECT_EQ(scan(again).blocked_attacks, 9);
  append(log, alarm_line("a10", 1) + a9);
  EXPECT_EQ(scan(again).blocked_attacks, 10);

  // A corrupt state file is reported and the window rebuilt from the logs that remain.
  {
    std::ofstream out(state / "rasp_event_window", std::ios::binary | std::ios::trunc);
    out << "hostprint rasp event window 1\nevent 1 2\n";
  }
  auto rebuilt = collector(state);
  f = scan(rebuilt, &outcome);
  ASSERT_FALSE(outcome.errors.empty());
  EXPECT_NE(outcome.errors[0].find("rebuilt from the logs"), std::string::npos);
  EXPECT_EQ(outcome.errors[0].rfind((state / "rasp_event_window").string() + ": ", 0), 0u)
      << outcome.errors[0];
  // alarm.log still holds a7, a1, a9 and a10, blocked, besides its two bad lines.
  EXPECT_EQ(f.blocked_attacks, 4);
  EXPECT_EQ(scan(rebuilt, &outcome).blocked_attacks, 4);
  EXPECT_TRUE(outcome.errors.empty());
  std::string error;
  auto record = StateStore(state).load(rasp_state_record, rasp_window_max_record, error);
  ASSERT_TRUE(record) << error;
  EXPECT_TRUE(parse_window(*record).window);
}

TEST_F(RaspLogs, AStateFolderThatCannotBeWrittenCostsOnlyPersistence) {
  append(logs / "alarm.log", test::alarm_line("a1", 60));
  auto c = collector(dir.write("not-a-folder", "x"));
  Outcome outcome;
  EXPECT_EQ(scan(c, &outcome).blocked_attacks, 1);
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("cannot save the event window"), std::string::npos);
  append(logs / "alarm.log", test::alarm_line("a2", 60));
  EXPECT_EQ(scan(c, &outcome).blocked_attacks, 2);
  // Said at each scan while it lasts: /status shows the latest scan's errors.
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("cannot save the event window"), std::string::npos);

  // In memory only: nothing is written anywhere.
  auto memory = collector({});
  EXPECT_EQ(scan(memory).blocked_attacks, 2);
  EXPECT_TRUE(fs::is_empty(state));
}

TEST_F(RaspLogs, OldLogsAreNotReadAndAnInodeUsedAgainIsReadFromItsStart) {
  append(logs / "alarm.log.2026-01-01", test::alarm_line("old", 60));
  const auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(24 * 8);
  fs::last_write_time(logs / "alarm.log.2026-01-01", old_time);
  auto c = collector({});
  EXPECT_EQ(scan(c).blocked_attacks, 0);
  EXPECT_TRUE(c.window().cursors().empty());

  // Same length, other first bytes: not the file that was read.
  const fs::path log = logs / "alarm.log";
  append(log, test::alarm_line("r1", 60));
  EXPECT_EQ(scan(c).blocked_attacks, 1);
  std::string other = test::alarm_line("r2", 60);
  const auto size = fs::file_size(log);
  other.resize(size, ' ');
  other.back() = '\n';
  {
    std::ofstream out(log, std::ios::binary | std::ios::in | std::ios::out);
    out << other;
  }
  ASSERT_EQ(fs::file_size(log), size);
  EXPECT_EQ(scan(c).blocked_attacks, 2);
}

TEST_F(RaspLogs, ALongLineUnfinishedAtAScanIsSkippedOnceWhenItEnds) {
  const fs::path log = logs / "alarm.log";
  append(log, test::alarm_line("a1", 60) + std::string(rasp_alarm_max_line + 10, 'x'));
  auto c = collector(state);
  auto f = scan(c);
  EXPECT_EQ(f.blocked_attacks, 1);
  EXPECT_EQ(f.parse_errors, 1u);
  // The state remembers that reading stopped inside that line, across a restart too.
  auto again = collector(state);
  append(log, std::string(100, 'y') + "\n" + test::alarm_line("a2", 60));
  f = scan(again);
  EXPECT_EQ(f.blocked_attacks, 2);
  EXPECT_EQ(f.parse_errors, 0u);
  EXPECT_EQ(again.window().cursors().begin()->second.offset, fs::file_size(log));
}

TEST_F(RaspLogs, AFifoOrALinkOutOfTheRootIsNotFollowed) {
  ASSERT_EQ(::mkfifo((logs / "fifo.log").c_str(), 0600), 0);
  // An absolute link resolves inside the root, where there is no such file.
  test::TempDir outside;
  const fs::path secret = outside.write("alarm.log", test::alarm_line("outside", 60));
  fs::create_symlink(secret, logs / "link.log");
  append(logs / "alarm.log", test::alarm_line("inside", 60));
  auto c = collector({});
  Outcome outcome;
  EXPECT_EQ(scan(c, &outcome).blocked_attacks, 1);
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("fifo.log: not a regular file"), std::string::npos)
      << outcome.errors[0];
}

}  // namespace
}  // namespace hostprint::collectors
