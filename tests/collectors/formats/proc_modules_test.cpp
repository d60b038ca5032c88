#include "collectors/formats/proc_modules.hpp"

#include <gtest/gtest.h>

#include <string>

#include "tests/proc_samples.hpp"

namespace hostprint::collectors {
namespace {

using test::proc_modules_text;

TEST(ParseProcModules, RealText) {
  auto parsed = parse_proc_modules(proc_modules_text);
  ASSERT_EQ(parsed.modules.size(), 5u);
  EXPECT_EQ(parsed.modules[0].name, "nf_tables");
  EXPECT_EQ(parsed.modules[0].size, 299008u);
  EXPECT_EQ(parsed.modules[3].name, "nvidia");
  EXPECT_EQ(parsed.modules[4].state, "Loading");
  EXPECT_EQ(parsed.malformed_lines, 0u);
}

TEST(ParseProcModules, Hostile) {
  std::string text =
      "\n"
      "short 123\n"                                     // missing fields
      "bad$name 16384 0 - Live 0x0\n"                   // not a module name
      "nosize abc 0 - Live 0x0\n"                       // non-numeric size
      "neg -5 0 - Live 0x0\n"                           // sign
      + std::string(100000, 'm') + " 1 0 - Live 0x0\n"  // overlong
      + "dup 1 0 - Live 0x0\ndup 1 0 - Live 0x0\n" + std::string("nul\0x 1 0 - Live 0x0\n", 21) +
      "last 16384 0 - Live 0x0";  // no trailing newline
  auto parsed = parse_proc_modules(text);
  ASSERT_EQ(parsed.modules.size(), 2u);
  EXPECT_EQ(parsed.modules[0].name, "dup");
  EXPECT_EQ(parsed.modules[1].name, "last");
  EXPECT_EQ(parsed.malformed_lines, 6u);
}

}  // namespace
}  // namespace hostprint::collectors
