#include "collectors/io/bounded_read.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <vector>

#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

TEST(ReadInRoot, ReadsAFile) {
  test::TempDir root;
  root.write("etc/x", "hello");
  auto r = read_in_root(root.path(), "/etc/x", 100);
  ASSERT_EQ(r.status, ReadStatus::ok);
  EXPECT_EQ(r.file.text, "hello");
  EXPECT_FALSE(r.file.truncated);
}

TEST(ReadInRoot, BoundsTheSize) {
  test::TempDir root;
  root.write("big", std::string(10000, 'a'));
  auto r = read_in_root(root.path(), "big", 1000);
  ASSERT_EQ(r.status, ReadStatus::ok);
  EXPECT_EQ(r.file.text.size(), 1000u);
  EXPECT_TRUE(r.file.truncated);
  auto exact = read_in_root(root.path(), "big", 10000);
  EXPECT_FALSE(exact.file.truncated);
  EXPECT_EQ(exact.file.text.size(), 10000u);
}

TEST(ReadInRoot, MissingIsNotAnError) {
  test::TempDir root;
  EXPECT_EQ(read_in_root(root.path(), "etc/none", 10).status, ReadStatus::missing);
  root.write("etc/file", "x");
  EXPECT_EQ(read_in_root(root.path(), "etc/file/below", 10).status, ReadStatus::missing);
}

TEST(ReadInRoot, AbsoluteAndRelativeLinksStayInside) {
  test::TempDir outside;
  outside.write("secret", "host secret");
  test::TempDir root;
  root.write("etc/shadow", "inside");
  std::filesystem::create_symlink("/etc/shadow", root.path() / "abs");
  std::filesystem::create_symlink("../../../../../../etc/shadow", root.path() / "etc/rel");
  std::filesystem::create_symlink(outside.path() / "secret", root.path() / "escape");
  EXPECT_EQ(read_in_root(root.path(), "abs", 100).file.text, "inside");
  EXPECT_EQ(read_in_root(root.path(), "etc/rel", 100).file.text, "inside");
  EXPECT_EQ(read_in_root(root.path(), "escape", 100).status, ReadStatus::missing);
  EXPECT_EQ(read_in_root(root.path(), "../../../../etc/shadow", 100).file.text, "inside");
}

TEST(ReadInRoot, SymlinkLoopIsAnErrorNotAHang) {
  test::TempDir root;
  std::filesystem::create_symlink("b", root.path() / "a");
  std::filesystem::create_symlink("a", root.path() / "b");
  auto r = read_in_root(root.path(), "a", 100);
  EXPECT_EQ(r.status, ReadStatus::error);
  EXPECT_NE(r.error.find("a"), std::string::npos);
}

TEST(ReadInRoot, OnlyRegularFiles) {
  test::TempDir root;
  std::filesystem::create_directories(root.path() / "dir");
  EXPECT_EQ(read_in_root(root.path(), "dir", 100).status, ReadStatus::error);
  ASSERT_EQ(::mkfifo((root.path() / "fifo").c_str(), 0600), 0);
  auto r = read_in_root(root.path(), "fifo", 100);  // must not block waiting for a writer
  EXPECT_EQ(r.status, ReadStatus::error);
}

TEST(ReadBounded, ProcFilesWithoutSize) {
  auto r = read_bounded("/proc/self/status", 1 << 20);
  ASSERT_EQ(r.status, ReadStatus::ok);
  EXPECT_NE(r.file.text.find("Pid:"), std::string::npos);
  auto cut = read_bounded("/proc/self/status", 10);
  EXPECT_TRUE(cut.file.truncated);
  EXPECT_EQ(cut.file.text.size(), 10u);
}

TEST(ForEachLine, CutsOverlongLines) {
  std::vector<std::pair<std::string, bool>> lines;
  for_each_line("ab\n" + std::string(10, 'x') + "\nlast", 5,
                [&](std::string_view l, bool too_long) { lines.emplace_back(l, too_long); });
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], (std::pair<std::string, bool>{"ab", false}));
  EXPECT_EQ(lines[1], (std::pair<std::string, bool>{"xxxxx", true}));
  EXPECT_EQ(lines[2], (std::pair<std::string, bool>{"last", false}));
}

}  // namespace
}  // namespace hostprint::collectors
