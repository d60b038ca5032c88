#include "collectors/formats/passwd.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace hostprint::collectors {
namespace {

TEST(ParsePasswd, WellFormedEntries) {
  auto parsed = parse_passwd(
      "root:x:0:0:root:/root:/bin/bash\n"
      "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
      "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
  ASSERT_EQ(parsed.accounts.size(), 3u);
  EXPECT_EQ(parsed.accounts[0].name, "root");
  EXPECT_EQ(parsed.accounts[2].uid, 65534u);
  EXPECT_EQ(parsed.accounts[1].home, "/usr/sbin");
  EXPECT_EQ(parsed.accounts[1].shell, "/usr/sbin/nologin");
  EXPECT_EQ(parsed.malformed_lines, 0u);
}

TEST(ParsePasswd, SkipsBlankCommentAndNisLines) {
  auto parsed = parse_passwd(
      "\n   \n# a comment:x:0:0::/:/bin/sh\n+@netgroup::::::\n-baduser::::::\n+\n"
      "a:x:1000:1000::/home/a:/bin/sh");  // no trailing newline
  ASSERT_EQ(parsed.accounts.size(), 1u);
  EXPECT_EQ(parsed.accounts[0].name, "a");
  EXPECT_EQ(parsed.malformed_lines, 0u);
}

TEST(ParsePasswd, RepeatedNameCountsOnce) {
  auto parsed = parse_passwd("a:x:1:1::/:/bin/sh\nb:x:2:2::/:/bin/sh\na:x:3:3::/:/bin/sh\n");
  ASSERT_EQ(parsed.accounts.size(), 2u);
  EXPECT_EQ(parsed.accounts[0].uid, 1u);
}

TEST(ParsePasswd, MalformedEntriesAreSkippedAndCounted) {
  auto parsed = parse_passwd(
      "six:x:1:1::/home\n"                  // 6 fields
      "eight:x:1:1::/home:/bin/sh:extra\n"  // 8 fields
      ":x:1:1::/:/bin/sh\n"                 // empty name
      "neg:x:-1:1::/:/bin/sh\n"             // signed uid
      "hex:x:0x10:1::/:/bin/sh\n"           // hex uid
      "big:x:99999999999:1::/:/bin/sh\n"    // past 32 bits
      "sp:x: 1:1::/:/bin/sh\n"              // space in uid
      "gid:x:1:abc::/:/bin/sh\n"            // non-numeric gid
      "empty:x::1::/:/bin/sh\n"             // empty uid
      "ok:x:5:5::/:/bin/sh\n");
  ASSERT_EQ(parsed.accounts.size(), 1u);
  EXPECT_EQ(parsed.accounts[0].name, "ok");
  EXPECT_EQ(parsed.malformed_lines, 9u);
}

TEST(ParsePasswd, NulBytesAndCrlf) {
  using namespace std::string_literals;
  std::string text = "nul\0x:x:1:1::/:/bin/sh\nwin:x:2:2::/:/bin/sh\r\n"s;
  auto parsed = parse_passwd(text);
  ASSERT_EQ(parsed.accounts.size(), 1u);
  EXPECT_EQ(parsed.accounts[0].name, "win");
  EXPECT_EQ(parsed.accounts[0].shell, "/bin/sh");
  EXPECT_EQ(parsed.malformed_lines, 1u);
}

TEST(ParsePasswd, OverlongLineIsSkippedNotSplit) {
  std::string text = "a:x:1:1::/:/bin/sh\n" + std::string(200 * 1024, 'z') + ":x:2:2::/:/bin/sh\n" +
                     "b:x:3:3::/:/bin/sh\n";
  auto parsed = parse_passwd(text);
  ASSERT_EQ(parsed.accounts.size(), 2u);
  EXPECT_EQ(parsed.accounts[1].name, "b");
  EXPECT_EQ(parsed.overlong_lines, 1u);
}

// How long it takes is bench/parser_bench's (a time limit here fails a busy or sanitized run).
TEST(ParsePasswd, ManyEntriesAreAllRead) {
  std::string text;
  for (int i = 0; i < 200000; ++i)
    text += "user" + std::to_string(i) + ":x:" + std::to_string(i) + ":100::/home/u:/bin/sh\n";
  auto parsed = parse_passwd(text);
  EXPECT_EQ(parsed.accounts.size(), 200000u);
  EXPECT_EQ(parsed.accounts.back().name, "user199999");
}

}  // namespace
}  // namespace hostprint::collectors

namespace hostprint::collectors {
namespace {

TEST(ParseGroup, NamesByGidFirstLineWins) {
  auto g = parse_group(
      "root:x:0:\n# comment\nadm:x:4:syslog,alice\r\nwheel:x:4:\n+nis\nbad\nnogid:x:zz:\n"
      ":x:7:\nstaff:x:50:a:b\nusers:x:100:\n");
  EXPECT_EQ(g.by_gid.size(), 3u);
  EXPECT_EQ(g.by_gid.at(0), "root");
  EXPECT_EQ(g.by_gid.at(4), "adm");
  EXPECT_EQ(g.by_gid.at(100), "users");
  EXPECT_EQ(g.malformed_lines, 4u);  // bad, nogid, an empty name, five fields
}

}  // namespace
}  // namespace hostprint::collectors
