#include "collectors/formats/apk.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "tests/package_fixtures.hpp"

namespace hostprint::collectors {
namespace {

using namespace std::string_literals;
using test::keys_of;

TEST(SoftwareApkParse, ReadsNameVersionArchAndIgnoresOddFields) {
  std::string text =
      "C:Q1abcdefghijklmnop=\nP:musl\nV:1.2.4-r2\nA:x86_64\nS:383152\nI:622592\n"
      "T:the musl c library\nU:https://musl.libc.org/\nL:MIT\no:musl\nm:Maintainer <m@x>\n"
      "t:1700000000\nc:abcdef\np:so:libc.musl-x86_64.so.1=1\nF:lib\nR:libc.musl-x86_64.so.1\n"
      "a:0:0:755\nZ:Q1xyz=\n"
      "garbage line without a colon\nx\n:odd\nQQ:two letters\n"
      "\n"
      "P:busybox\nV:1.36.1-r5\nA:x86_64\n\n\n"
      "P:noarch-pkg\nV:1\n\n"
      "P:busybox\nV:1.36.1-r6\nA:x86_64\n\n"  // the same package twice: once
      "C:Q1=\nV:1\nA:x86_64\n\n"              // no name: malformed
      "P:twice\nP:again\nV:1\n\n"             // repeated field: malformed
      "P:nul\0x\nV:1\n\n"s +
      "P:crlf\r\nV:2\r\nA:aarch64\r\n\r\n"
      "P:last\nV:9\nA:x86_64";  // no newline at the end
  auto parsed = parse_apk_installed(text);
  EXPECT_EQ(parsed.malformed_stanzas, 3u);
  EXPECT_EQ(keys_of(parsed.packages),
            (std::set<std::string>{"musl:x86_64=1.2.4-r2", "busybox:x86_64=1.36.1-r5",
                                   "noarch-pkg:=1", "crlf:aarch64=2", "last:x86_64=9"}));
  for (const auto& p : parsed.packages) EXPECT_EQ(p.manager, "apk");
}

TEST(SoftwareApkParse, OverlongLines) {
  const std::string huge(max_package_database_line + 1, 'f');
  auto parsed =
      parse_apk_installed("P:a\nV:1\nR:" + huge + "\n\nP:" + huge + "\nV:1\n\nP:b\nV:2\n");
  EXPECT_EQ(parsed.overlong_lines, 2u);
  EXPECT_EQ(parsed.malformed_stanzas, 1u);
  EXPECT_EQ(keys_of(parsed.packages), (std::set<std::string>{"a:=1", "b:=2"}));
}

}  // namespace
}  // namespace hostprint::collectors
