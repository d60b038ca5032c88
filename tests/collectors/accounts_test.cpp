#include "collectors/accounts.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "tests/scan_chain.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

TEST(AccountsCollector, ReadsUnderRootAndMissingFileIsZero) {
  test::TempDir dir;
  AccountsCollector collector;
  ScanContext context;
  context.root = dir.path();
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(collector.item_count(), 0u);

  dir.write("etc/passwd", "root:x:0:0::/root:/bin/sh\nbad line\nu:x:1000:1000::/home/u:/bin/sh\n");
  outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  ASSERT_EQ(outcome.errors.size(), 1u);  // the malformed line is reported
  EXPECT_EQ(collector.item_count(), 2u);
  ASSERT_TRUE(collector.items());
  EXPECT_EQ((*collector.items())[1].name, "u");
}

TEST(AccountsCollector, PrimaryGroupNamesComeFromEtcGroup) {
  test::TempDir dir;
  dir.write("etc/passwd", "root:x:0:0::/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n"
                          "v:x:1001:4242::/home/v:/bin/sh\n");
  AccountsCollector collector;
  ScanContext context;
  context.root = dir.path();
  ASSERT_TRUE(collector.collect(context).complete);  // no etc/group: accounts without names
  EXPECT_EQ((*collector.items())[0].group, "");
  dir.write("etc/group", "root:x:0:\nusers:x:1000:\nbroken\n");
  auto outcome = collector.collect(context);
  ASSERT_TRUE(outcome.complete);
  EXPECT_EQ(outcome.errors.size(), 1u);  // the malformed group line
  const auto& items = *collector.items();
  EXPECT_EQ(items[0].group, "root");
  EXPECT_EQ(items[1].group, "users");
  EXPECT_EQ(items[2].group, "");  // a gid etc/group does not name
}

TEST(AccountsCollector, HugeFileIsBounded) {
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "etc");
  {
    std::ofstream out(dir.path() / "etc/passwd");
    out << "root:x:0:0::/root:/bin/sh\n";
    std::string filler(1024 * 1024, '#');
    filler.back() = '\n';
    for (std::size_t i = 0; i < AccountsCollector::max_file_bytes / filler.size() + 8; ++i)
      out << filler;
  }
  AccountsCollector collector;
  ScanContext context;
  context.root = dir.path();
  auto outcome = collector.collect(context);
  EXPECT_TRUE(outcome.complete);
  ASSERT_FALSE(outcome.errors.empty());
  EXPECT_NE(outcome.errors[0].find("larger than"), std::string::npos);
  EXPECT_EQ(collector.item_count(), 1u);
}

TEST(AccountsCollector, SymlinkCannotLeaveTheRoot) {
  test::TempDir outside;
  outside.write("secret", "leak:x:0:0::/:/bin/sh\n");
  test::TempDir dir;
  std::filesystem::create_directories(dir.path() / "etc");
  std::filesystem::create_symlink(outside.path() / "secret", dir.path() / "etc/passwd");
  AccountsCollector collector;
  ScanContext context;
  context.root = dir.path();
  collector.collect(context);
  EXPECT_EQ(collector.item_count(), 0u);  // resolved inside the root, where it does not exist
}

TEST(AccountsCollector, UnreadableFileKeepsLastGoodResult) {
  test::TempDir dir;
  dir.write("etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  AccountsCollector collector;
  ScanContext context;
  context.root = dir.path();
  ASSERT_TRUE(collector.collect(context).complete);
  std::filesystem::remove(dir.path() / "etc/passwd");
  std::filesystem::create_directory(dir.path() / "etc/passwd");  // present, but not a file
  auto outcome = collector.collect(context);
  EXPECT_FALSE(outcome.complete);
  EXPECT_EQ(collector.item_count(), 1u);
}

}  // namespace
}  // namespace hostprint::collectors
