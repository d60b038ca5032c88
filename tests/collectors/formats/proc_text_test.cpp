// The text of /proc/<pid> files.
#include "collectors/formats/proc_text.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace hostprint::collectors {
namespace {

using Args = std::vector<std::string>;

TEST(ServicesCmdline, Split) {
  EXPECT_EQ(split_cmdline(std::string_view("a\0b\0\0c\0", 7)), (Args{"a", "b", "", "c"}));
  EXPECT_EQ(split_cmdline(""), Args{});
  // nginx' rewritten title with the old area's padding.
  EXPECT_EQ(split_cmdline(std::string_view("nginx: master process nginx -c /x.conf\0\0\0", 41)),
            (Args{"nginx: master process nginx -c /x.conf"}));
}

TEST(ServicesStat, ParentAfterLastParen) {
  EXPECT_EQ(parse_stat_ppid("123 (nginx) S 45 123 123 0 -1"), 45);
  EXPECT_EQ(parse_stat_ppid("7 (a) b) (c) R 1 7 7"), 1);
  EXPECT_EQ(parse_stat_ppid("7 (x"), std::nullopt);
  EXPECT_EQ(parse_stat_ppid("7 (x) S"), std::nullopt);
  EXPECT_EQ(parse_stat_ppid("7 (x) S -3"), std::nullopt);
}

TEST(ServicesProcNet, InodeIsTheTenthField) {
  auto s = parse_proc_net_socket(
      "   0: 0100007F:46A0 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
      "123456 1 0000000000000000 100 0 0 10 0");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->local_port, 0x46A0);
  EXPECT_EQ(s->state, 0x0A);
  EXPECT_EQ(s->inode, 123456u);
  auto v6 = parse_proc_net_socket(
      "   1: 00000000000000000000000001000000:3FCB 00000000000000000000000000000000:0000 07 "
      "00000000:00000000 00:00000000 00000000   100        0 98765 2 0000000000000000 0");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->local_port, 0x3FCB);
  EXPECT_EQ(v6->inode, 98765u);
  EXPECT_FALSE(
      parse_proc_net_socket("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when "
                            "retrnsmt   uid  timeout inode"));
  EXPECT_FALSE(parse_proc_net_socket(""));
  EXPECT_FALSE(parse_proc_net_socket("   0: 0100007F:46A0 00000000:0000 0A 0 0 0 0 0"));
  EXPECT_FALSE(parse_proc_net_socket("   0: 0100007F:XYZ 00000000:0000 0A 0 0 0 0 0 12"));
}

TEST(ServicesProcNet, SocketLinks) {
  EXPECT_EQ(parse_socket_link("socket:[4242]"), 4242u);
  EXPECT_EQ(parse_socket_link("pipe:[4242]"), std::nullopt);
  EXPECT_EQ(parse_socket_link("socket:[]"), std::nullopt);
  EXPECT_EQ(parse_socket_link("/dev/null"), std::nullopt);
}

TEST(StripDeletedSuffix, RemovesTheKernelsSuffix) {
  EXPECT_EQ(strip_deleted_suffix("/usr/bin/foo (deleted)"), "/usr/bin/foo");
  EXPECT_EQ(strip_deleted_suffix("/memfd:runner (deleted)"), "/memfd:runner");
  EXPECT_EQ(strip_deleted_suffix("/opt/app dir/bin/app (deleted)"), "/opt/app dir/bin/app");
}

TEST(StripDeletedSuffix, LeavesOtherPathsAlone) {
  EXPECT_EQ(strip_deleted_suffix("/usr/bin/foo"), "/usr/bin/foo");
  EXPECT_EQ(strip_deleted_suffix(""), "");
  EXPECT_EQ(strip_deleted_suffix("/"), "/");
  EXPECT_EQ(strip_deleted_suffix("/usr/bin/foo(deleted)"), "/usr/bin/foo(deleted)");
  EXPECT_EQ(strip_deleted_suffix("/usr/bin/foo (Deleted)"), "/usr/bin/foo (Deleted)");
  EXPECT_EQ(strip_deleted_suffix("/usr/bin/foo (deleted) "), "/usr/bin/foo (deleted) ");
  EXPECT_EQ(strip_deleted_suffix("/usr/bin/foo (deleted)\n"), "/usr/bin/foo (deleted)\n");
  EXPECT_EQ(strip_deleted_suffix("/x (deleted)/foo"), "/x (deleted)/foo");
  EXPECT_EQ(strip_deleted_suffix("/usr/bin/foo deleted)"), "/usr/bin/foo deleted)");
  EXPECT_EQ(strip_deleted_suffix("(deleted)"), "(deleted)");
}

TEST(StripDeletedSuffix, RemovesOnlyOneSuffix) {
  // A file named "foo (deleted)" that was then deleted itself.
  EXPECT_EQ(strip_deleted_suffix("/tmp/foo (deleted) (deleted)"), "/tmp/foo (deleted)");
  // Only the exact suffix goes: the second space belongs to the name.
  EXPECT_EQ(strip_deleted_suffix("/tmp/foo  (deleted)"), "/tmp/foo ");
}

TEST(StripDeletedSuffix, NeverLeavesAnEmptyPath) {
  // Nothing before the suffix is not a path; an empty exe would mean "unresolved".
  EXPECT_EQ(strip_deleted_suffix(" (deleted)"), " (deleted)");
  EXPECT_EQ(strip_deleted_suffix("/ (deleted)"), "/");
}

TEST(StripDeletedSuffix, KeepsBytesThatAreNotUtf8) {
  std::string odd = std::string("/opt/\xff\x01") + "app (deleted)";
  EXPECT_EQ(strip_deleted_suffix(odd), std::string("/opt/\xff\x01") + "app");
  std::string with_nul("/opt/a\0b (deleted)", 18);
  EXPECT_EQ(strip_deleted_suffix(with_nul), std::string_view("/opt/a\0b", 8));
}

TEST(ParseStatusOwner, EffectiveUidAndGid) {
  const std::string status =
      "Name:\tnginx\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\nPid:\t42\nPPid:\t1\n"
      "TracerPid:\t0\nUid:\t0\t33\t33\t33\nGid:\t4\t34\t34\t34\nFDSize:\t64\n";
  auto owner = parse_status_owner(status);
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->uid, 33u);
  EXPECT_EQ(owner->gid, 34u);
  EXPECT_FALSE(parse_status_owner("Name:\tx\nUid:\t0\t0\t0\t0\n"));       // no Gid line
  EXPECT_FALSE(parse_status_owner("Uid:\t0\t1x\t0\t0\nGid:\t0\t0\t0\t0\n"));  // not a number
  EXPECT_FALSE(parse_status_owner("Uid:\t0\t0\nGid:\t0\t0\t0\t0\n"));       // too few ids
  EXPECT_FALSE(parse_status_owner(""));
}

TEST(JoinCmdline, ArgumentsJoinedByOneSpaceAndCutAt4KiB) {
  using namespace std::string_literals;
  EXPECT_EQ(join_cmdline("/usr/bin/sleep\0" "1000\0a b\0\0"s, 4096), "/usr/bin/sleep 1000 a b");
  EXPECT_EQ(join_cmdline("nginx: master process /usr/sbin/nginx\0    \0  "s, 4096),
            "nginx: master process /usr/sbin/nginx");
  EXPECT_EQ(join_cmdline(""s, 4096), "");
  EXPECT_EQ(join_cmdline("\0\0"s, 4096), "");
  const std::string long_arg(5000, 'x');
  EXPECT_EQ(join_cmdline("a\0"s + long_arg, 4096), "a " + long_arg.substr(0, 4094));
  // A cut never splits a UTF-8 character: "é" is two bytes, the second would be byte 4097.
  const std::string accents = std::string(4095, 'y') + "\xc3\xa9";
  EXPECT_EQ(join_cmdline(accents, 4096), std::string(4095, 'y'));
}

// join_cmdline is defined as split_cmdline's arguments joined by one space, cut at a character
// boundary: checked against that definition on random command lines of NULs, spaces, letters and
// UTF-8 bytes, at limits that cut some of them.
TEST(JoinCmdline, EqualsSplitThenJoinOnRandomText) {
  auto reference = [](std::string_view text, std::size_t max_bytes) {
    std::string out;
    for (const auto& arg : split_cmdline(text)) {
      if (!out.empty()) out += ' ';
      out += arg;
    }
    if (out.size() > max_bytes) {
      std::size_t cut = max_bytes;
      while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
      out.resize(cut);
    }
    return out;
  };
  std::mt19937 random(20261205);
  const char alphabet[] = {'\0', '\0', ' ', ' ', 'a', 'b', '\xc3', '\xa9'};
  std::size_t cut_some = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string text(random() % 24, 'x');
    for (char& c : text) c = alphabet[random() % sizeof alphabet];
    const std::size_t max_bytes = random() % 20;
    const auto expected = reference(text, max_bytes);
    ASSERT_EQ(join_cmdline(text, max_bytes), expected) << "round " << round;
    cut_some += expected.size() < reference(text, SIZE_MAX).size() ? 1 : 0;
  }
  EXPECT_GT(cut_some, 0u);
}

TEST(ParseBootTime, FindsBtime) {
  EXPECT_EQ(parse_boot_time("cpu  1 2 3\nintr 5 6\nctxt 9\nbtime 1733350000\nprocesses 5\n"),
            1733350000);
  EXPECT_EQ(parse_boot_time("cpu 1\nbtime 17\n"), 17);
  EXPECT_FALSE(parse_boot_time("cpu 1\nprocesses 5\n"));
  EXPECT_FALSE(parse_boot_time("btime x\n"));
  EXPECT_FALSE(parse_boot_time("btime -5\n"));
}

}  // namespace
}  // namespace hostprint::collectors
