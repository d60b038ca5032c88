#include "collectors/formats/ld_so_preload.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hostprint::collectors {
namespace {

using namespace std::string_literals;

TEST(AutoStartParsePreload, WhitespaceColonsAndComments) {
  auto list = parse_ld_so_preload(
      "# libraries preloaded into every process\n"
      "  /usr/lib/libone.so\t/usr/lib/libtwo.so\n"
      "\n"
      "/lib/libthree.so:/lib/libfour.so # trailing comment /lib/not-this.so\n"
      "/lib/libfive.so#glued comment\n"
      "/usr/lib/libone.so\n"  // the loader loads a name once
      "/lib/libsix.so");      // no trailing newline
  std::vector<std::string> expected{"/usr/lib/libone.so", "/usr/lib/libtwo.so", "/lib/libthree.so",
                                    "/lib/libfour.so",    "/lib/libfive.so",    "/lib/libsix.so"};
  EXPECT_EQ(list.paths, expected);
  EXPECT_EQ(list.overlong_paths, 0u);
}

TEST(AutoStartParsePreload, NothingAfterNulAndOverlongNamesSkipped) {
  auto list = parse_ld_so_preload("/lib/a.so " + std::string(5000, 'b') + " /lib/c.so\0/lib/d.so"s);
  EXPECT_EQ(list.paths, (std::vector<std::string>{"/lib/a.so", "/lib/c.so"}));
  EXPECT_EQ(list.overlong_paths, 1u);
  EXPECT_TRUE(parse_ld_so_preload("# only a comment").paths.empty());
  EXPECT_TRUE(parse_ld_so_preload("").paths.empty());
}

}  // namespace
}  // namespace hostprint::collectors
