#include "collectors/containers.hpp"

#include <gtest/gtest.h>

#include "collectors/formats/java_args.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/formats/python_dist.hpp"
#include "collectors/formats/version_text.hpp"
#include "collectors/io/root_glob.hpp"
#include <unistd.h>

#include <fstream>
#include <iterator>

namespace hostprint::collectors {
namespace {

const std::string bash_stat =
    "3076 (bash) S 3075 3076 3076 0 -1 4194560 8203 214116 0 2 4 4 724 63 20 0 1 0 14475 "
    "5255168 997 18446744073709551615 94419728384000 94419729173405 140728022942432 0 0 0 65536 "
    "4 1132560123 1 0 0 17 0 0 0 0 0 0 94419729406704 94419729454948 94420779290624 "
    "140728022948664 140728022948679 140728022948679 140728022949866 0\n";

TEST(StatStartTicks, Field22) {
  EXPECT_EQ(parse_stat_start_ticks(bash_stat), 14475u);
}

TEST(StatStartTicks, CommWithSpacesAndParentheses) {
  // A process may name itself anything, ") 1 2 3" included; the fields follow the last ')'.
  std::string stat = bash_stat;
  stat.replace(stat.find("(bash)"), 6, "(a) 9 9 (b) 7)");
  EXPECT_EQ(parse_stat_start_ticks(stat), 14475u);
}

TEST(StatStartTicks, ThisProcessAgreesWithTheKernel) {
  std::ifstream in("/proc/self/stat");
  std::string text(std::istreambuf_iterator<char>(in), {});
  auto ticks = parse_stat_start_ticks(text);
  ASSERT_TRUE(ticks);
  // Started after boot and before now: uptime in ticks bounds it.
  std::ifstream up("/proc/uptime");
  double uptime = 0;
  up >> uptime;
  EXPECT_LE(*ticks, static_cast<std::uint64_t>((uptime + 1) * ::sysconf(_SC_CLK_TCK)));
  EXPECT_GT(*ticks, 0u);
}

TEST(StatStartTicks, MalformedIsNothing) {
  EXPECT_FALSE(parse_stat_start_ticks(""));
  EXPECT_FALSE(parse_stat_start_ticks("3076 bash S 3075"));
  EXPECT_FALSE(parse_stat_start_ticks("3076 (bash) S 3075 3076\n"));  // too short
  std::string bad = bash_stat;
  bad.replace(bad.find(" 14475 "), 7, " 14x75 ");
  EXPECT_FALSE(parse_stat_start_ticks(bad));
  bad = bash_stat;
  bad.replace(bad.find(" 14475 "), 7, " -1 ");
  EXPECT_FALSE(parse_stat_start_ticks(bad));
  bad = bash_stat;
  bad.replace(bad.find(" 14475 "), 7, "  ");  // an empty field
  EXPECT_FALSE(parse_stat_start_ticks(bad));
  EXPECT_FALSE(parse_stat_start_ticks(bash_stat.substr(0, bash_stat.find(" 14475"))));
}

TEST(AsSeenInside, TheRootBecomesTheContainersSlash) {
  const std::string root = "/proc/self/fd/9";
  EXPECT_EQ(as_seen_inside("/proc/self/fd/9/etc/passwd: not a regular file", root),
            "/etc/passwd: not a regular file");
  EXPECT_EQ(as_seen_inside("/proc/self/fd/9: Permission denied", root), "/: Permission denied");
  // Another descriptor whose number starts the same is left alone.
  EXPECT_EQ(as_seen_inside("/proc/self/fd/91/etc/passwd and /proc/self/fd/9/etc/group", root),
            "/proc/self/fd/91/etc/passwd and /etc/group");
  EXPECT_EQ(as_seen_inside("etc/passwd: 3 malformed lines skipped", root),
            "etc/passwd: 3 malformed lines skipped");
  EXPECT_EQ(as_seen_inside("no root to strip", ""), "no root to strip");
}

TEST(ContainersIn, GroupedByIdOldestFirstHostLeftOut) {
  std::vector<ProcessInfo> processes{
      {1, 10, "/sbin/init", ""},     {200, 500, "/bin/sh", "b"},      {150, 300, "/usr/bin/x", "a"},
      {120, 300, "/usr/bin/y", "a"}, {90, 100, "/usr/sbin/sshd", ""}, {400, 200, "/pause", "b"},
  };
  auto containers = containers_in(processes);
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[0].id, "a");
  EXPECT_EQ(containers[0].members,
            (std::vector<ContainerMember>{{120, 300}, {150, 300}}));  // same start: by pid
  EXPECT_EQ(containers[1].id, "b");
  EXPECT_EQ(containers[1].members, (std::vector<ContainerMember>{{400, 200}, {200, 500}}));
  EXPECT_TRUE(containers_in(std::vector<ProcessInfo>{{1, 1, "/sbin/init", ""}}).empty());
}

// The ids owning each namespace, by namespace.
std::vector<std::string> owner_ids(const NetworkNamespaceOwners& owners) {
  std::vector<std::string> ids;
  for (const auto& [network, owner] : owners.by_namespace()) ids.push_back(owner.id);
  return ids;
}

TEST(NetworkNamespaceOwners, OnePerNamespaceTheOldestHostLeftOut) {
  const NetworkNamespace host{4, 100}, pod{4, 200}, alone{4, 300};
  NetworkNamespaceOwners owners(host);
  // The pod's app is seen first, then the sandbox that made the namespace: the sandbox owns it.
  EXPECT_TRUE(owners.offer({"app", pod, 900}));
  EXPECT_TRUE(owners.offer({"sandbox", pod, 500}));
  EXPECT_FALSE(owners.offer({"late-app", pod, 950}));
  // A container on the host's network owns nothing: its sockets are the host's.
  EXPECT_FALSE(owners.offer({"host-net", host, 100}));
  EXPECT_TRUE(owners.offer({"lonely", alone, 1000}));
  // Same start time: the smaller id, whatever the order.
  EXPECT_TRUE(owners.offer({"twin-b", {5, 7}, 42}));
  EXPECT_TRUE(owners.offer({"twin-a", {5, 7}, 42}));
  EXPECT_FALSE(owners.offer({"twin-c", {5, 7}, 42}));
  EXPECT_EQ(owner_ids(owners), (std::vector<std::string>{"sandbox", "lonely", "twin-a"}));
  EXPECT_EQ(owners.by_namespace().at(pod).start_ticks, 500u);
}

TEST(NetworkNamespaceOwners, TheSameInodeOnAnotherDeviceIsAnotherNamespace) {
  NetworkNamespaceOwners owners({1, 1});
  EXPECT_TRUE(owners.offer({"x", {1, 9}, 1}));
  EXPECT_TRUE(owners.offer({"y", {2, 9}, 1}));
  EXPECT_EQ(owner_ids(owners), (std::vector<std::string>{"x", "y"}));
}

}  // namespace
}  // namespace hostprint::collectors
