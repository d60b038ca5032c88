#include "collectors/auto_start.hpp"
#include "proto/digest.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <utility>
#include <optional>
#include <ostream>
#include <thread>

#include "collectors/io/digest.hpp"
#include "tests/scan_chain.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {

// Readable failures: an item as one line.
void PrintTo(const AutoStartItem& item, std::ostream* out) {
  *out << "{" << to_string(item.type) << ", \"" << item.name << "\", \"" << item.path << "\", \""
       << item.user << "\", \"" << item.command << "\"}";
}

namespace {

namespace fs = std::filesystem;
using namespace std::string_literals;

constexpr auto service = AutoStartType::service;
constexpr auto task = AutoStartType::scheduled_task;
constexpr auto library = AutoStartType::preloaded_library;
constexpr auto startup = AutoStartType::startup_folder;

// --- the collector on fixture roots ---

class Root {
 public:
  const fs::path& path() const { return dir_.path(); }
  void file(const std::string& relative, std::string_view text = "x\n",
            fs::perms mode = fs::perms(0644)) const {
    auto p = dir_.write(relative, text);
    fs::permissions(p, mode, fs::perm_options::replace);
  }
  void unit(const std::string& relative) const { file(relative, "[Unit]\nDescription=test\n"); }
  void link(const std::string& target, const std::string& relative) const {
    fs::create_directories((path() / relative).parent_path());
    fs::create_symlink(target, path() / relative);
  }
  void folder(const std::string& relative) const { fs::create_directories(path() / relative); }

  struct Result {
    Outcome outcome;
    std::vector<AutoStartItem> items;  // without their hashes, which are in `hashes`
    std::map<std::string, std::string> hashes;  // by item name
  };
  Result collect() const {
    AutoStartCollector collector;
    ScanContext context;
    context.root = path();
    Result r;
    r.outcome = collector.collect(context);
    r.items = *collector.items();
    EXPECT_EQ(collector.item_count(), r.items.size());
    for (auto& item : r.items) r.hashes[item.name] = std::exchange(item.hash, {});
    return r;
  }

 private:
  test::TempDir dir_;
};

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

TEST(AutoStartCollector, MissingSourcesAreZeroWithoutErrors) {
  Root root;
  auto r = root.collect();
  EXPECT_TRUE(r.outcome.complete);
  EXPECT_TRUE(r.outcome.errors.empty()) << joined(r.outcome.errors);
  EXPECT_TRUE(r.items.empty());
}

TEST(AutoStartCollector, EnabledServicesAndTimers) {
  Root root;
  const std::string lib = "lib/systemd/system/", etc = "etc/systemd/system/";
  for (auto name : {"a.service", "b.service", "c.service", "getty@.service", "y@.service",
                    "t.timer", "s.socket", "p.path", "m.mount", "x.target", "masked.service",
                    "al.service", "plain.service", "bad name.service"})
    root.unit(lib + name);
  root.unit("usr/lib/systemd/system/moved.service");
  root.file(lib + "empty.service", "");
  root.unit(etc + "local.service");
  root.unit("run/systemd/generator.late/generated.service");
  root.link("/dev/null", etc + "masked.service");
  root.link("/lib/systemd/system/al.service", etc + "al-alias.service");

  const std::string wants = etc + "multi-user.target.wants/";
  root.link("/lib/systemd/system/a.service", wants + "a.service");
  root.link("/lib/systemd/system/a.service", etc + "graphical.target.wants/a.service");  // again
  root.link("/lib/systemd/system/b.service", etc + "foo.target.requires/b.service");
  root.link("../../../../lib/systemd/system/c.service", etc + "bar.target.upholds/c.service");
  root.link("/lib/systemd/system/getty@.service", etc + "getty.target.wants/getty@tty1.service");
  root.link("/lib/systemd/system/getty@.service", etc + "getty.target.wants/getty@tty2.service");
  root.link("/lib/systemd/system/getty@.service", wants + "getty@.service");  // no instance
  root.link("/lib/systemd/system/y@.service", etc + "x@one.service.wants/y@.service");
  root.link("/lib/systemd/system/gone.service", wants + "gone.service");    // dangling
  root.link("/lib/systemd/system/moved.service", wants + "moved.service");  // found by name
  root.link("/lib/systemd/system/masked.service", wants + "masked.service");
  root.link("/dev/null", wants + "nulled.service");
  root.link("/lib/systemd/system/empty.service", wants + "empty.service");
  root.link("/lib/systemd/system/al.service", wants + "al.service");
  root.link("/etc/systemd/system/al-alias.service", wants + "al-alias.service");  // same unit
  root.link("/etc/systemd/system/local.service", wants + "local.service");
  root.link("/run/systemd/generator.late/generated.service", wants + "generated.service");
  root.link("/lib/systemd/system/bad name.service", wants + "bad name.service");
  root.file(wants + "plain.service", "[Unit]\n");  // not a link: systemd ignores it
  root.link("/lib/systemd/system/s.socket", etc + "sockets.target.wants/s.socket");
  root.link("/lib/systemd/system/p.path", etc + "paths.target.wants/p.path");
  root.link("/lib/systemd/system/m.mount", etc + "local-fs.target.wants/m.mount");
  root.link("/lib/systemd/system/x.target", wants + "x.target");
  root.link("/lib/systemd/system/t.timer", etc + "timers.target.wants/t.timer");
  root.link("/lib/systemd/system/a.service", etc + "not-a-dependency-folder/a2.service");

  auto r = root.collect();
  EXPECT_TRUE(r.outcome.complete);
  EXPECT_TRUE(r.outcome.errors.empty()) << joined(r.outcome.errors);
  const std::string w = "/" + wants;
  std::vector<AutoStartItem> expected{
      {service, "c.service", "/etc/systemd/system/bar.target.upholds/c.service", "", ""},
      {service, "b.service", "/etc/systemd/system/foo.target.requires/b.service", "", ""},
      {service, "getty@tty1.service", "/etc/systemd/system/getty.target.wants/getty@tty1.service",
       "", ""},
      {service, "getty@tty2.service", "/etc/systemd/system/getty.target.wants/getty@tty2.service",
       "", ""},
      {service, "a.service", "/etc/systemd/system/graphical.target.wants/a.service", "", ""},
      {service, "al.service", w + "al-alias.service", "", ""},
      {service, "local.service", w + "local.service", "", ""},
      {service, "moved.service", w + "moved.service", "", ""},
      {service, "y@one.service", "/etc/systemd/system/x@one.service.wants/y@.service", "", ""},
      {task, "t.timer", "/etc/systemd/system/timers.target.wants/t.timer", "", ""},
  };
  EXPECT_EQ(r.items, expected);
}

std::string sha256sum(const fs::path& file) {
  std::string out;
  if (FILE* p = ::popen(("sha256sum '" + file.string() + "'").c_str(), "r")) {
    char buffer[256];
    while (std::fgets(buffer, sizeof buffer, p)) out += buffer;
    ::pclose(p);
  }
  return out.substr(0, out.find(' '));
}

TEST(AutoStartCollector, HashesTheFileEachItemRunsOrIsDefinedBy) {
  Root root;
  const std::string unit_text = "[Unit]\nDescription=hashed\n[Service]\nExecStart=/bin/true\n";
  root.file("lib/systemd/system/h.service", unit_text);
  root.link("/lib/systemd/system/h.service", "etc/systemd/system/multi-user.target.wants/h.service");
  const std::string tool = "#!/bin/sh\necho tool\n";
  root.file("usr/bin/tool", tool, fs::perms(0755));
  const std::string table = "* * * * * root /usr/bin/tool --flag >/dev/null\n"
                            "*/5 * * * * root cd / && run-parts x\n"
                            "1 * * * * root /usr/bin/absent\n";
  root.file("etc/cron.d/jobs", table);
  const std::string daily = "#!/bin/sh\nbackup\n";
  root.file("etc/cron.daily/backup", daily, fs::perms(0755));
  const std::string library = "\x7f" "ELF not really";
  root.file("lib/libhook.so", library);
  root.file("etc/ld.so.preload", "/lib/libhook.so /lib/libabsent.so\n");
  const std::string script = "#!/bin/sh\n# legacy\n";
  root.file("etc/init.d/legacy", script, fs::perms(0755));
  root.link("../init.d/legacy", "etc/rc2.d/S01legacy");
  const std::string desktop = "[Desktop Entry]\nName=x\nExec=/usr/bin/x\n";
  root.file("etc/xdg/autostart/x.desktop", desktop);
  const std::string rc_local = "#!/bin/sh\nexit 0\n";
  root.file("etc/rc.local", rc_local, fs::perms(0755));

  auto r = root.collect();
  EXPECT_TRUE(r.outcome.complete);
  EXPECT_TRUE(r.outcome.errors.empty()) << joined(r.outcome.errors);
  EXPECT_EQ(r.hashes["h.service"], proto::sha256_hex(unit_text));
  EXPECT_EQ(r.hashes["h.service"], sha256sum(root.path() / "lib/systemd/system/h.service"));
  EXPECT_EQ(r.hashes["/etc/cron.d/jobs:1"], proto::sha256_hex(tool));  // the program it runs
  EXPECT_EQ(r.hashes["/etc/cron.d/jobs:2"], proto::sha256_hex(table));  // no program path: the table
  EXPECT_EQ(r.hashes["/etc/cron.d/jobs:3"], proto::sha256_hex(table));
  EXPECT_EQ(r.hashes["cron.daily/backup"], proto::sha256_hex(daily));
  EXPECT_EQ(r.hashes["/lib/libhook.so"], proto::sha256_hex(library));
  EXPECT_EQ(r.hashes["/lib/libabsent.so"], "");
  EXPECT_EQ(r.hashes["legacy.service"], proto::sha256_hex(script));
  EXPECT_EQ(r.hashes["x.desktop"], proto::sha256_hex(desktop));
  EXPECT_EQ(r.hashes["rc.local"], proto::sha256_hex(rc_local));
  EXPECT_EQ(r.hashes.size(), 10u);

  // A file changed between scans is hashed anew (a collector keeps what it hashed before).
  AutoStartCollector collector;
  ScanContext context;
  context.root = root.path();
  ASSERT_TRUE(collector.collect(context).complete);
  root.file("etc/rc.local", "#!/bin/sh\nexit 1\n", fs::perms(0755));
  ASSERT_TRUE(collector.collect(context).complete);
  for (const auto& item : *collector.items())
    if (item.name == "rc.local") {
      EXPECT_EQ(item.hash, proto::sha256_hex("#!/bin/sh\nexit 1\n"));
    }
}

TEST(AutoStartCollector, AHashedFileCannotBeOutsideTheRoot) {
  Root root;
  test::TempDir outside;
  outside.write("libevil.so", "evil");
  root.file("etc/ld.so.preload", (outside.path() / "libevil.so").string() + "\n");
  root.link(outside.path() / "libevil.so", "lib/liblink.so");
  root.file("etc/ld.so.preload", (outside.path() / "libevil.so").string() + " /lib/liblink.so\n");
  auto r = root.collect();
  EXPECT_TRUE(r.outcome.complete);
  ASSERT_EQ(r.hashes.size(), 2u);
  for (const auto& [name, hash] : r.hashes) EXPECT_EQ(hash, "") << name;
}

TEST(AutoStartCollector, AliasChainsAndLoopsAreBounded) {
  Root root;
  const std::string etc = "etc/systemd/system/";
  root.unit("lib/systemd/system/real.service");
  root.link("/etc/systemd/system/two.service", etc + "one.service");  // alias of an alias
  root.link("/lib/systemd/system/real.service", etc + "two.service");
  root.link("loop-b.service", etc + "loop-a.service");  // alias loop
  root.link("loop-a.service", etc + "loop-b.service");
  root.link("/etc/systemd/system/one.service", etc + "multi-user.target.wants/one.service");
  root.link("/etc/systemd/system/loop-a.service", etc + "multi-user.target.wants/loop-a.service");
  root.link("self.target.wants", etc + "self.target.wants");  // a folder link to itself
  auto r = root.collect();
  EXPECT_TRUE(r.outcome.complete);
  std::vector<AutoStartItem> expected{
      {service, "real.service", "/etc/systemd/system/multi-user.target.wants/one.service", "", ""}};
  EXPECT_EQ(r.items, expected);
}

TEST(AutoStartCollector, SysvScriptsWithoutNativeUnits) {
  Root root;
  for (auto name : {"legacy", "native", "masked", "hw.sh", "gen", "rl1"})
    root.file("etc/init.d/"s + name, "#!/bin/sh\n", fs::perms(0755));
  root.file("etc/init.d/noexec", "#!/bin/sh\n", fs::perms(0644));
  root.unit("lib/systemd/system/native.service");
  root.link("/dev/null", "etc/systemd/system/masked.service");
  root.unit("run/systemd/generator.late/gen.service");  // what the SysV generator made at boot
  root.link("../init.d/legacy", "etc/rc2.d/S01legacy");
  root.link("../init.d/legacy", "etc/rc3.d/S02legacy");  // the same script again
  root.link("../init.d/legacy", "etc/rc2.d/K01legacy");
  root.link("../init.d/native", "etc/rc2.d/S01native");
  root.link("../init.d/masked", "etc/rc2.d/S01masked");
  root.link("../init.d/noexec", "etc/rc2.d/S01noexec");
  root.link("../init.d/ghost", "etc/rc2.d/S01ghost");
  root.link("../init.d/gen", "etc/rc4.d/S03gen");
  root.link("../init.d/hw.sh", "etc/rc5.d/S20hw.sh");
  root.link("../init.d/rl1", "etc/rc1.d/S01rl1");  // single-user runlevel: not counted
  root.link("../init.d/rl1", "etc/rcS.d/S01rl1");
  auto r = root.collect();
  EXPECT_TRUE(r.outcome.complete);
  EXPECT_TRUE(r.outcome.errors.empty()) << joined(r.outcome.errors);
  std::vector<AutoStartItem> expected{
      {service, "legacy.service", "/etc/rc2.d/S01legacy", "", ""},
      {service, "gen.service", "/etc/rc4.d/S03gen", "", ""},
      {service, "hw.service", "/etc/rc5.d/S20hw.sh", "", ""},
  };
  EXPECT_EQ(r.items, expected);
}

TEST(AutoStartCollector, CronTablesFoldersAndTimers) {
  Root root;
  root.file("etc/crontab",
            "# system crontab\n"
            "SHELL=/bin/sh\n"
            "PATH = /usr/bin:/bin\n"
            "\n"
            "17 * * * * root cd / && run-parts --report /etc/cron.hourly\n"
            "@reboot root /usr/local/bin/at-boot\n" +
                std::string(70 * 1024, '#') + "\n" + "* * * * * root " +
                std::string(70 * 1024, 'x') + "\n" + "0 5 * * 1 backup /usr/bin/weekly\n");
  root.file("etc/cron.d/php", "09,39 * * * * root [ -x /usr/lib/php/sessionclean ] && clean\n");
  root.file("etc/cron.d/with.dot", "* * * * * root ignored\n");
  root.file("etc/cron.d/backup~", "* * * * * root ignored\n");
  root.file("etc/cron.d/.placeholder", "# DO NOT EDIT OR REMOVE\n");
  root.file("etc/cron.d/writable", "* * * * * root ignored\n", fs::perms(0666));
  root.folder("etc/cron.d/folder");
  root.file("var/spool/cron/crontabs/alice", "# DO NOT EDIT\nMAILTO=a\n@hourly /home/alice/x\n",
            fs::perms(0600));
  root.file("var/spool/cron/bob", "30 2 * * * /home/bob/nightly\n", fs::perms(0600));
  root.folder("var/spool/cron/atjobs");
  root.file("etc/cron.daily/logrotate", "#!/bin/sh\n", fs::perms(0755));
  root.file("etc/cron.daily/notexec", "#!/bin/sh\n", fs::perms(0644));
  root.file("etc/cron.daily/.placeholder", "", fs::perms(0755));
  root.file("etc/cron.daily/dotted.sh", "#!/bin/sh\n", fs::perms(0755));
  root.folder("etc/cron.daily/subfolder");
  root.link("../cron.daily/logrotate", "etc/cron.weekly/linked");
  root.link("missing", "etc/cron.monthly/dangling");
  root.file("etc/cron.hourly/groupexec", "#!/bin/sh\n", fs::perms(0654));
  root.unit("lib/systemd/system/tidy.timer");
  root.link("/lib/systemd/system/tidy.timer", "etc/systemd/system/timers.target.wants/tidy.timer");

  auto r = root.collect();
  EXPECT_TRUE(r.outcome.complete);
  ASSERT_EQ(r.outcome.errors.size(), 1u) << joined(r.outcome.errors);
  EXPECT_NE(r.outcome.errors[0].find("etc/crontab: 2 lines longer than 64 KiB skipped"),
            std::string::npos)
      << r.outcome.errors[0];
  std::vector<AutoStartItem> expected{
      {task, "/etc/crontab:5", "/etc/crontab", "root",
       "cd / && run-parts --report /etc/cron.hourly"},
      {task, "/etc/crontab:6", "/etc/crontab", "root", "/usr/local/bin/at-boot"},
      {task, "/etc/crontab:9", "/etc/crontab", "backup", "/usr/bin/weekly"},
      {task, "/etc/cron.d/php:1", "/etc/cron.d/php", "root",
       "[ -x /usr/lib/php/sessionclean ] && clean"},
      {task, "/var/spool/cron/crontabs/alice:3", "/var/spool/cron/crontabs/alice", "alice",
       "/home/alice/x"},
      {task, "/var/spool/cron/bob:1", "/var/spool/cron/bob", "bob", "/home/bob/nightly"},
      {task, "cron.hourly/groupexec", "/etc/cron.hourly/groupexec", "root",
       "/etc/cron.hourly/groupexec"},
      {task, "cron.daily/logrotate", "/etc/cron.daily/logrotate", "root",
       "/etc/cron.daily/logrotate"},
      {task, "cron.weekly/linked", "/etc/cron.weekly/linked", "root", "/etc/cron.weekly/linked"},
      {task, "tidy.timer", "/etc/systemd/system/timers.target.wants/tidy.timer", "", ""},
  };
  EXPECT_EQ(r.items, expected);
}

TEST(AutoStartCollector, PreloadedLibraries) {
  Root root;
  root.file("etc/ld.so.preload",
            "# preload\n  /usr/lib/libfirst.so \t /usr/lib/libsecond.so:/lib/libthird.so\n\n"
            "#/lib/commented-out.so\n");
  auto r = root.collect();
  EXPECT_TRUE(r.outcome.errors.empty()) << joined(r.outcome.errors);
  std::vector<AutoStartItem> expected{
      {library, "/usr/lib/libfirst.so", "/etc/ld.so.preload", "", ""},
      {library, "/usr/lib/libsecond.so", "/etc/ld.so.preload", "", ""},
      {library, "/lib/libthird.so", "/etc/ld.so.preload", "", ""},
  };
  EXPECT_EQ(r.items, expected);
}

TEST(AutoStartCollector, XdgAutostartAndRcLocal) {
  Root root;
  const std::string folder = "etc/xdg/autostart/";
  root.file(folder + "shown.desktop", "[Desktop Entry]\nType=Application\nExec=shown\n");
  root.file(folder + "not-hidden.desktop", "[Desktop Entry]\nExec=x\nHidden=false\n");
  root.file(folder + "hidden.desktop", "[Desktop Entry]\nExec=x\nHidden=true\n");
  root.file(folder + "broken.desktop", "Exec=x\n");
  root.file(folder + "readme.txt", "[Desktop Entry]\n");
  root.file(folder + ".desktop", "[Desktop Entry]\n");
  root.folder(folder + "folder.desktop");
  root.file("etc/rc.local", "#!/bin/sh\nexit 0\n", fs::perms(0755));
  auto r = root.collect();
  EXPECT_TRUE(r.outcome.complete);
  ASSERT_EQ(r.outcome.errors.size(), 1u) << joined(r.outcome.errors);
  EXPECT_NE(r.outcome.errors[0].find("broken.desktop: no [Desktop Entry] group"),
            std::string::npos);
  std::vector<AutoStartItem> expected{
      {startup, "not-hidden.desktop", "/etc/xdg/autostart/not-hidden.desktop", "", ""},
      {startup, "shown.desktop", "/etc/xdg/autostart/shown.desktop", "", ""},
      {startup, "rc.local", "/etc/rc.local", "", ""},
  };
  EXPECT_EQ(r.items, expected);

  fs::permissions(root.path() / "etc/rc.local", fs::perms(0644), fs::perm_options::replace);
  r = root.collect();
  EXPECT_EQ(r.items.size(), 2u);
  EXPECT_EQ(r.items.back().name, "shown.desktop");
}

TEST(AutoStartCollector, SymlinksCannotLeaveTheRoot) {
  test::TempDir outside;
  outside.write("crontab", "* * * * * root leak\n");
  outside.write("cron.d/leak", "* * * * * root leak\n");
  outside.write("unit/leak.service", "[Unit]\n");
  outside.write("autostart/leak.desktop", "[Desktop Entry]\n");
  outside.write("preload", "/lib/leak.so\n");
  auto exe = outside.write("script", "#!/bin/sh\n");
  fs::permissions(exe, fs::perms(0755), fs::perm_options::replace);
  const std::string out = outside.path().string();
  // The same host path, climbing out of the root with ".." instead of starting with "/".
  const std::string climb = "../../../../../../../../../../../../.." + out;

  Root root;
  root.link(out + "/crontab", "etc/crontab");
  root.link(climb + "/cron.d", "etc/cron.d");
  root.link(out + "/preload", "etc/ld.so.preload");
  root.link(out + "/autostart", "etc/xdg/autostart");
  root.link(out + "/script", "etc/rc.local");
  root.link(climb + "/script", "etc/cron.daily/leak");
  root.link(out + "/unit", "usr/lib/systemd/system");
  root.link(out + "/unit/leak.service", "etc/systemd/system/multi-user.target.wants/leak.service");
  root.file("etc/init.d/leak-sysv", "#!/bin/sh\n", fs::perms(0755));
  root.link(out + "/unit/leak.service", "etc/systemd/system/leak-sysv.service");
  root.link("../init.d/leak-sysv", "etc/rc2.d/S01leak-sysv");

  auto r = root.collect();
  EXPECT_TRUE(r.outcome.complete);
  EXPECT_TRUE(r.outcome.errors.empty()) << joined(r.outcome.errors);
  // The SysV script is the root's own; its unit link resolves inside the root, to nothing.
  std::vector<AutoStartItem> expected{
      {service, "leak-sysv.service", "/etc/rc2.d/S01leak-sysv", "", ""}};
  EXPECT_EQ(r.items, expected);
}

// A root on tmpfs where there is one: making 100,001 entries on a disk can take many seconds.
std::unique_ptr<Root> root_on_tmpfs() {
  const char* tmpdir = std::getenv("TMPDIR");
  std::optional<std::string> saved = tmpdir ? std::optional<std::string>(tmpdir) : std::nullopt;
  if (fs::is_directory("/dev/shm")) ::setenv("TMPDIR", "/dev/shm", 1);
  auto root = std::make_unique<Root>();
  if (saved)
    ::setenv("TMPDIR", saved->c_str(), 1);
  else
    ::unsetenv("TMPDIR");
  return root;
}

TEST(AutoStartCollector, TooManyFolderEntriesIsBoundedAndRecorded) {
  auto made = root_on_tmpfs();
  const Root& root = *made;
  root.folder("etc/cron.d");
  for (std::size_t i = 0; i <= AutoStartCollector::max_entries_per_folder; ++i)
    std::ofstream(root.path() / ("etc/cron.d/skip." + std::to_string(i)));
  root.file("etc/crontab", "* * * * * root still-read\n");
  auto r = root.collect();
  EXPECT_TRUE(r.outcome.complete);
  ASSERT_EQ(r.outcome.errors.size(), 1u) << joined(r.outcome.errors);
  EXPECT_NE(r.outcome.errors[0].find("etc/cron.d: more than 100000 entries"), std::string::npos)
      << r.outcome.errors[0];
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0].command, "still-read");
}

TEST(AutoStartCollector, HugeCrontabIsBounded) {
  Root root;
  {
    root.folder("etc");
    std::ofstream out(root.path() / "etc/crontab");
    out << "@reboot root first\n";
    std::string filler;  // 1 MiB of short comment lines
    while (filler.size() < 1024 * 1024) filler += "# padding, padding, padding, padding\n";
    for (std::size_t i = 0; i < AutoStartCollector::max_crontab_bytes / filler.size() + 4; ++i)
      out << filler;
    out << "@reboot root beyond-the-bound\n";
  }
  auto r = root.collect();
  EXPECT_TRUE(r.outcome.complete);
  ASSERT_EQ(r.outcome.errors.size(), 1u) << joined(r.outcome.errors);
  EXPECT_NE(r.outcome.errors[0].find("larger than 16 MiB"), std::string::npos);
  ASSERT_EQ(r.items.size(), 1u);
  EXPECT_EQ(r.items[0].command, "first");
}

TEST(AutoStartCollector, TooManyItemsIsBoundedAndRecorded) {
  Root root;
  std::string table;
  for (std::size_t i = 0; i < AutoStartCollector::max_items + 10; ++i) table += "@daily root j\n";
  root.file("etc/crontab", table);
  root.file("etc/rc.local", "#!/bin/sh\n", fs::perms(0755));
  auto r = root.collect();
  EXPECT_TRUE(r.outcome.complete);
  ASSERT_EQ(r.outcome.errors.size(), 1u) << joined(r.outcome.errors);
  EXPECT_NE(r.outcome.errors[0].find("more than 100000 auto-start items"), std::string::npos);
  EXPECT_EQ(r.items.size(), AutoStartCollector::max_items);
}

TEST(AutoStartCollector, DeadlineKeepsTheLastGoodResult) {
  Root root;
  root.file("etc/crontab", "* * * * * root job\n");
  AutoStartCollector collector;
  ScanContext context;
  context.root = root.path();
  ASSERT_TRUE(collector.collect(context).complete);
  ASSERT_EQ(collector.item_count(), 1u);
  root.file("etc/crontab", "* * * * * root job\n* * * * * root another\n");
  context.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  auto outcome = collector.collect(context);
  EXPECT_FALSE(outcome.complete);
  EXPECT_EQ(collector.item_count(), 1u);
}

// A spool entry that is a symlink is followed inside the root, and what the mode and type check
// sees is the file that is read: a link to a private table counts, one to a table others may
// write, to a folder or to a FIFO (which must not block the scan) does not.
TEST(AutoStartCollector, SymlinkedCrontabsAreCheckedAsTheFileTheyLeadTo) {
  Root root;
  root.file("home/bob/tab", "* * * * * bob-job\n", fs::perms(0600));
  root.file("home/carol/tab", "* * * * * carol-job\n", fs::perms(0666));
  root.folder("home/dave");
  root.folder("home/eve");
  ASSERT_EQ(::mkfifo((root.path() / "home/eve/fifo").c_str(), 0600), 0);
  root.link("/home/bob/tab", "var/spool/cron/crontabs/bob");
  root.link("../../../../home/carol/tab", "var/spool/cron/crontabs/carol");
  root.link("/home/dave", "var/spool/cron/crontabs/dave");
  root.link("/home/eve/fifo", "var/spool/cron/crontabs/eve");
  root.link("/home/bob/tab", "etc/cron.d/linked");  // a system table: no user field, malformed
  auto start = std::chrono::steady_clock::now();
  auto r = root.collect();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(r.items, (std::vector<AutoStartItem>{{task, "/var/spool/cron/crontabs/bob:1",
                                                  "/var/spool/cron/crontabs/bob", "bob",
                                                  "bob-job"}}));
  EXPECT_TRUE(joined(r.outcome.errors).find("etc/cron.d/linked: 1 malformed") !=
              std::string::npos)
      << joined(r.outcome.errors);
}

// A crontab renamed over, back and forth, between a private table and one others may write (as
// someone racing the scan would): the job of the writable one is never counted, because its mode
// is checked on the descriptor that is read.
TEST(AutoStartCollector, ACrontabSwappedDuringTheScanIsCheckedOnWhatIsRead) {
  Root root;
  root.file("stash/private", "* * * * * private-job\n", fs::perms(0600));
  root.file("stash/writable", "* * * * * writable-job\n", fs::perms(0666));
  root.file("var/spool/cron/crontabs/alice", "* * * * * private-job\n", fs::perms(0600));
  const fs::path tab = root.path() / "var/spool/cron/crontabs/alice";
  const fs::path next = root.path() / "var/spool/cron/crontabs/.next";
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    for (bool writable = true; !stop.load(); writable = !writable) {
      const fs::path source = root.path() / (writable ? "stash/writable" : "stash/private");
      if (::link(source.c_str(), next.c_str()) == 0) ::rename(next.c_str(), tab.c_str());
    }
  });
  std::size_t private_seen = 0, writable_seen = 0, rounds = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < until) {
    ++rounds;
    for (const auto& item : root.collect().items) {
      private_seen += item.command == "private-job";
      writable_seen += item.command == "writable-job";
    }
  }
  stop = true;
  swapper.join();
  EXPECT_EQ(writable_seen, 0u) << "in " << rounds << " scans";
  EXPECT_GT(private_seen, 0u) << "in " << rounds << " scans";
}

TEST(AutoStartCollector, MissingRootFails) {
  AutoStartCollector collector;
  ScanContext context;
  context.root = "/nonexistent/hostprint-auto-start-root";
  EXPECT_FALSE(collector.collect(context).complete);
  EXPECT_EQ(collector.item_count(), 0u);
}

}  // namespace
}  // namespace hostprint::collectors
