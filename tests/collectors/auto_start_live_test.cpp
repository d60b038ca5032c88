// Auto-start items against what systemd's own tools say, on this machine and on roots that the
// tests make with those tools: systemctl for enabled units, systemd's SysV generator for SysV
// scripts, run-parts for the periodic cron folders.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <set>
#include <sstream>

#include "collectors/auto_start.hpp"
#include "tests/scan_chain.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/temp_dir.hpp"
#include "tests/live_skip.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;
using Names = std::set<std::string>;

std::string joined(const Names& names) {
  std::string out;
  for (const auto& n : names) out += "  " + n + "\n";
  return out;
}

std::vector<AutoStartItem> collect(const fs::path& root) {
  AutoStartCollector collector;
  ScanContext context;
  context.root = root;
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  for (const auto& e : outcome.errors) ADD_FAILURE() << "collector error: " << e;
  return *collector.items();
}

// The services and timers the collector found through systemd's links.
Names systemd_units(const std::vector<AutoStartItem>& items) {
  Names out;
  for (const auto& item : items) {
    if (!item.path.starts_with("/etc/systemd/system/")) continue;
    if (item.type == AutoStartType::service ||
        (item.type == AutoStartType::scheduled_task && item.name.ends_with(".timer")))
      out.insert(item.name);
  }
  return out;
}

Names sysv_units(const std::vector<AutoStartItem>& items) {
  Names out;
  for (const auto& item : items)
    if (item.type == AutoStartType::service && item.path.starts_with("/etc/rc"))
      out.insert(item.name);
  return out;
}

std::vector<std::string> systemctl_argv(const fs::path& root) {
  if (root == "/") return {"systemctl"};
  return {"systemctl", "--root=" + root.string()};
}

// systemctl reading the unit files itself (no running systemd is needed for this).
test::RunResult systemctl(const fs::path& root, std::vector<std::string> args) {
  auto argv = systemctl_argv(root);
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = test::run_program(argv);
  if (r.exit_code != 0 && root == "/") {  // without a running systemd some versions need --root
    argv = {"systemctl", "--root=/"};
    argv.insert(argv.end(), args.begin(), args.end());
    r = test::run_program(argv);
  }
  return r;
}

bool is_template(std::string_view name) {
  auto at = name.find('@');
  return at != std::string_view::npos && name.substr(at + 1).starts_with(".");
}

// What systemctl reports enabled, services and timers only, with a template replaced by its
// instances as the links under etc/systemd/system name them, each confirmed by systemctl.
Names enabled_by_systemctl(const fs::path& root) {
  auto listing = systemctl(root, {"list-unit-files", "--state=enabled", "--no-legend"});
  EXPECT_EQ(listing.exit_code, 0) << listing.err;
  Names out;
  std::istringstream lines(listing.out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string unit;
    words >> unit;
    if (!unit.ends_with(".service") && !unit.ends_with(".timer")) continue;
    if (!is_template(unit)) out.insert(unit);
  }
  std::error_code ec;
  for (const auto& folder : fs::directory_iterator(root / "etc/systemd/system", ec)) {
    auto folder_name = folder.path().filename().string();
    if (!folder_name.ends_with(".wants") && !folder_name.ends_with(".requires")) continue;
    for (const auto& link : fs::directory_iterator(folder.path(), ec)) {
      auto name = link.path().filename().string();
      if (!link.is_symlink() || name.find('@') == std::string::npos || is_template(name)) continue;
      if (!name.ends_with(".service") && !name.ends_with(".timer")) continue;
      auto state = systemctl(root, {"is-enabled", name});
      if (state.out == "enabled\n") out.insert(name);
    }
  }
  return out;
}

TEST(AutoStartLive, HostServicesAndTimersMatchSystemctl) {
  if (test::run_program({"systemctl", "--version"}).exit_code != 0)
    LIVE_SKIP() << "systemctl is not installed";
  std::error_code ec;
  for (const auto& folder : fs::directory_iterator("/etc/systemd/system", ec))
    if (folder.path().filename().string().ends_with(".upholds"))
      LIVE_SKIP() << "systemctl does not report units enabled by .upholds links";
  auto expected = enabled_by_systemctl("/");
  auto found = systemd_units(collect("/"));
  EXPECT_EQ(found, expected) << "hostprint:\n"
                             << joined(found) << "systemctl:\n"
                             << joined(expected);
}

std::string sysv_generator() {
  for (auto p : {"/usr/lib/systemd/system-generators/systemd-sysv-generator",
                 "/lib/systemd/system-generators/systemd-sysv-generator"})
    if (::access(p, X_OK) == 0) return p;
  return {};
}

// The units systemd's SysV generator adds to the runlevel 2-5 targets (rc1.d goes to
// rescue.target, which is not counted).
Names generated_sysv_units(const std::vector<std::string>& env) {
  test::TempDir out;
  std::vector<std::string> argv{"env"};
  argv.insert(argv.end(), env.begin(), env.end());
  for (const auto& a :
       {sysv_generator(), out.path().string(), out.path().string(), out.path().string()})
    argv.push_back(a);
  auto r = test::run_program(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  Names units;
  std::error_code ec;
  for (auto target : {"multi-user.target.wants", "graphical.target.wants"})
    for (const auto& link : fs::directory_iterator(out.path() / target, ec))
      units.insert(link.path().filename().string());
  return units;
}

TEST(AutoStartLive, HostSysvScriptsMatchTheGenerator) {
  if (sysv_generator().empty()) LIVE_SKIP() << "systemd's SysV generator is not installed";
  auto expected = generated_sysv_units({});
  auto found = sysv_units(collect("/"));
  EXPECT_EQ(found, expected) << "hostprint:\n"
                             << joined(found) << "generator:\n"
                             << joined(expected);
}

Names run_parts_test(const fs::path& folder) {
  Names out;
  if (!fs::is_directory(folder)) return out;
  auto r = test::run_program({"run-parts", "--test", folder.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) out.insert(line.substr(line.rfind('/') + 1));
  return out;
}

void expect_periodic_cron_matches_run_parts(const fs::path& root) {
  auto items = collect(root);
  for (std::string folder : {"cron.hourly", "cron.daily", "cron.weekly", "cron.monthly"}) {
    Names found;
    for (const auto& item : items)
      if (item.type == AutoStartType::scheduled_task && item.name.starts_with(folder + "/"))
        found.insert(item.name.substr(folder.size() + 1));
    auto expected = run_parts_test(root / "etc" / folder);
    EXPECT_EQ(found, expected) << folder << "\nhostprint:\n"
                               << joined(found) << "run-parts:\n"
                               << joined(expected);
  }
}

TEST(AutoStartLive, HostPeriodicCronFoldersMatchRunParts) {
  if (test::run_program({"run-parts", "--version"}).exit_code != 0)
    LIVE_SKIP() << "run-parts is not installed";
  expect_periodic_cron_matches_run_parts("/");
}

void write_unit(const test::TempDir& root, const std::string& name, const std::string& text) {
  root.write("usr/lib/systemd/system/" + name, text);
}

TEST(AutoStartLive, UnitsEnabledBySystemctlInATemporaryRoot) {
  if (test::run_program({"systemctl", "--version"}).exit_code != 0)
    LIVE_SKIP() << "systemctl is not installed";
  test::TempDir root;
  const std::string service = "[Service]\nExecStart=/bin/true\n";
  write_unit(root, "alpha.service",
             service + "[Install]\nWantedBy=multi-user.target\nAlias=alpha-alias.service\n");
  write_unit(root, "beta.service", service + "[Install]\nRequiredBy=foo.target\n");
  write_unit(root, "x@.service", service + "[Install]\nWantedBy=multi-user.target\n");
  write_unit(root, "y@.service",
             service + "[Install]\nWantedBy=multi-user.target\nDefaultInstance=def\n");
  write_unit(root, "g.service", service);
  write_unit(root, "g.timer", "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n");
  write_unit(root, "d.socket", "[Socket]\nListenStream=9\n[Install]\nWantedBy=sockets.target\n");
  write_unit(root, "d.service", service);
  write_unit(root, "p.path", "[Path]\nPathExists=/x\n[Install]\nWantedBy=paths.target\n");
  write_unit(root, "tgt.target", "[Unit]\nDescription=t\n[Install]\nWantedBy=multi-user.target\n");
  write_unit(root, "off.service", service + "[Install]\nWantedBy=multi-user.target\n");
  write_unit(root, "gone.service", service + "[Install]\nWantedBy=multi-user.target\n");
  write_unit(root, "masked.service", service + "[Install]\nWantedBy=multi-user.target\n");
  auto enable = systemctl(root.path(), {"enable", "alpha.service", "beta.service", "x@a.service",
                                        "x@b.service", "y@.service", "g.timer", "d.socket",
                                        "p.path", "tgt.target", "gone.service", "masked.service"});
  ASSERT_EQ(enable.exit_code, 0) << enable.err;
  // A link left dangling by a removed package, and an enabled unit masked afterwards.
  fs::remove(root.path() / "usr/lib/systemd/system/gone.service");
  auto mask = systemctl(root.path(), {"mask", "masked.service"});
  ASSERT_EQ(mask.exit_code, 0) << mask.err;

  auto expected = enabled_by_systemctl(root.path());
  EXPECT_EQ(expected, (Names{"alpha.service", "beta.service", "g.timer", "x@a.service",
                             "x@b.service", "y@def.service"}))
      << "the tools' own view, for the record";
  auto items = collect(root.path());
  auto found = systemd_units(items);
  EXPECT_EQ(found, expected) << "hostprint:\n"
                             << joined(found) << "systemctl:\n"
                             << joined(expected);

  // The whole count through the executable: the root holds nothing else that starts.
  test::TempDir state;
  auto r = test::run_program({test::hostprint_binary(), "query", "--root", root.path().string(),
                              "--state-dir", (state.path() / "state").string(),
                              "/v5/p/asset/statistics"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto stats = boost::json::parse(r.out).as_object();
  EXPECT_EQ(stats.at("auto_launch_num").as_int64(), static_cast<std::int64_t>(expected.size()));
}

TEST(AutoStartLive, SysvScriptsInATemporaryRootMatchTheGenerator) {
  if (sysv_generator().empty()) LIVE_SKIP() << "systemd's SysV generator is not installed";
  test::TempDir root;
  auto script = [&](const std::string& name, fs::perms mode) {
    auto p = root.write("etc/init.d/" + name, "#!/bin/sh\n");
    fs::permissions(p, mode, fs::perm_options::replace);
  };
  auto rc_link = [&](const std::string& level, const std::string& link, const std::string& name) {
    fs::create_directories(root.path() / ("etc/rc" + level + ".d"));
    fs::create_symlink("../init.d/" + name, root.path() / ("etc/rc" + level + ".d") / link);
  };
  for (auto name : {"legacy", "native", "masked", "hw.sh", "late", "single", "etc-unit"})
    script(name, fs::perms(0755));
  script("noexec", fs::perms(0644));
  script("groupexec", fs::perms(0654));  // the generator wants the owner's execute bit
  root.write("usr/lib/systemd/system/native.service", "[Service]\nExecStart=/bin/true\n");
  root.write("etc/systemd/system/etc-unit.service", "[Service]\nExecStart=/bin/true\n");
  fs::create_directories(root.path() / "etc/systemd/system");
  fs::create_symlink("/dev/null", root.path() / "etc/systemd/system/masked.service");
  for (auto name : {"legacy", "native", "masked", "noexec", "groupexec", "ghost", "etc-unit"})
    rc_link("2", std::string("S01") + name, name);
  rc_link("2", "K01legacy", "legacy");
  rc_link("3", "S02legacy", "legacy");
  rc_link("4", "S10late", "late");
  rc_link("5", "S20hw.sh", "hw.sh");
  rc_link("1", "S01single", "single");

  const std::string r = root.path().string();
  auto expected = generated_sysv_units(
      {"SYSTEMD_SYSVINIT_PATH=" + r + "/etc/init.d", "SYSTEMD_SYSVRCND_PATH=" + r + "/etc",
       "SYSTEMD_UNIT_PATH=" + r + "/etc/systemd/system:" + r + "/run/systemd/system:" + r +
           "/lib/systemd/system:" + r + "/usr/lib/systemd/system"});
  EXPECT_EQ(expected, (Names{"hw.service", "late.service", "legacy.service"}))
      << "the generator's own view, for the record";
  auto found = sysv_units(collect(root.path()));
  EXPECT_EQ(found, expected) << "hostprint:\n"
                             << joined(found) << "generator:\n"
                             << joined(expected);
}

TEST(AutoStartLive, PeriodicCronFoldersInATemporaryRootMatchRunParts) {
  if (test::run_program({"run-parts", "--version"}).exit_code != 0)
    LIVE_SKIP() << "run-parts is not installed";
  test::TempDir root;
  auto file = [&](const std::string& relative, fs::perms mode) {
    auto p = root.write(relative, "#!/bin/sh\n");
    fs::permissions(p, mode, fs::perm_options::replace);
  };
  for (auto name : {"plain", "with-dash", "under_score", "0anacron", "UPPER", ".placeholder",
                    "dotted.sh", "backup~", "x.dpkg-old", "with space", "comma,"})
    file(std::string("etc/cron.daily/") + name, fs::perms(0755));
  file("etc/cron.daily/notexec", fs::perms(0644));
  file("etc/cron.daily/groupexec", fs::perms(0650));
  file("etc/cron.daily/otherexec", fs::perms(0601));
  fs::create_directories(root.path() / "etc/cron.daily/subfolder");
  fs::create_directories(root.path() / "etc/cron.weekly");
  fs::create_symlink("../cron.daily/plain", root.path() / "etc/cron.weekly/linked");
  fs::create_symlink("../cron.daily/notexec", root.path() / "etc/cron.weekly/linked-notexec");
  fs::create_symlink("missing", root.path() / "etc/cron.weekly/dangling");
  fs::create_symlink("../cron.daily/subfolder", root.path() / "etc/cron.weekly/to-folder");
  expect_periodic_cron_matches_run_parts(root.path());
}

}  // namespace
}  // namespace hostprint::collectors
