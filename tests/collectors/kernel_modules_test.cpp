#include "collectors/kernel_modules.hpp"

#include <gtest/gtest.h>

#include <filesystem>

#include "tests/proc_samples.hpp"
#include "tests/scan_chain.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

using test::proc_modules_text;

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
  fake_proc.write("modules", proc_modules_text);
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
