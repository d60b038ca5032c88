#include "collectors/kernel_modules.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/scan_chain.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

constexpr std::string_view real_text =
    "nf_tables 299008 0 - Live 0xffffffffc0a4e000\n"
    "tls 139264 0 - Live 0xffffffffc0a19000\n"
    "snd_hda_codec_hdmi 86016 1 - Live 0x0000000000000000\n"
    "nvidia 56111104 2 nvidia_uvm,nvidia_modeset, Live 0xffffffffc1000000 (POE)\n"
    "loop_mod 16384 0 - Loading 0xffffffffc0000000 (OE+)\n";

TEST(ParseProcModules, RealText) {
  auto parsed = parse_proc_modules(real_text);
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

TEST(KernelModulesCollector, MissingFileIsZeroWithoutError) {
  test::TempDir fake_proc;
  KernelModulesCollector collector;
  ScanContext context;
  context.proc = fake_proc.path();
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(collector.item_count(), 0u);
}

TEST(KernelModulesCollector, ReadsPreparedText) {
  test::TempDir fake_proc;
  fake_proc.write("modules", real_text);
  KernelModulesCollector collector;
  ScanContext context;
  context.proc = fake_proc.path();
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(collector.item_count(), 5u);
}

TEST(KernelModulesCollector, FarLargerThanRealIsBounded) {
  test::TempDir fake_proc;
  std::string huge;
  for (int i = 0; huge.size() <= KernelModulesCollector::max_file_bytes + 4096; ++i)
    huge += "mod" + std::to_string(i) + " 16384 0 - Live 0x0\n";
  fake_proc.write("modules", huge);
  KernelModulesCollector collector;
  ScanContext context;
  context.proc = fake_proc.path();
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("larger than"), std::string::npos);
  EXPECT_GT(collector.item_count(), 100000u);
  // Every module kept is a whole line: none cut at the bound.
  EXPECT_EQ(collector.items()->back().size, 16384u);
}

TEST(KernelModulesCollector, LiveMachineMatchesProcModules) {
  // This machine's kernel may have no module support; either way the collector agrees with it.
  KernelModulesCollector collector;
  auto outcome = collector.collect(ScanContext{});
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.errors.empty());
  std::size_t expected = 0;
  if (std::filesystem::exists("/proc/modules")) {
    std::ifstream in("/proc/modules");
    std::string line;
    while (std::getline(in, line))
      if (!line.empty()) ++expected;
  }
  EXPECT_EQ(collector.item_count(), expected);
}

}  // namespace
}  // namespace hostprint::collectors
