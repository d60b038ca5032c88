#include "collectors/io/root_dir.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>

#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;

// A root holding, at the very path of a file outside it, a file of its own: a symlink that
// escaped would read "outside", one kept in the root reads "inside".
struct RootWithDecoy {
  test::TempDir outside;
  test::TempDir root;
  std::string outside_file;  // absolute path of the outside file
  RootWithDecoy() {
    outside_file = outside.write("secret", "outside").string();
    root.write(fs::path(outside_file).relative_path().string(), "inside");
  }
};

TEST(RootDir, AnAbsoluteSymlinkStaysInTheRoot) {
  RootWithDecoy t;
  fs::create_symlink(t.outside_file, t.root.path() / "abs");
  RootDir dir(t.root.path());
  ASSERT_TRUE(dir.valid());
  auto r = dir.read("abs", 100);
  ASSERT_EQ(r.status, ReadStatus::ok) << r.error;
  EXPECT_EQ(r.file.text, "inside");
  // The link's text is what was written; only its resolution is confined.
  EXPECT_EQ(dir.readlink("abs"), t.outside_file);
  auto st = dir.stat("abs");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->st_size, 6);
}

TEST(RootDir, ARelativeSymlinkClimbingOutStaysInTheRoot) {
  RootWithDecoy t;
  std::string climb = "..";
  for (int i = 0; i < 20; ++i) climb += "/..";
  fs::create_directories(t.root.path() / "a/b");
  fs::create_symlink(climb + t.outside_file, t.root.path() / "a/b/rel");
  RootDir dir(t.root.path());
  auto r = dir.read("/a/b/rel", 100);
  ASSERT_EQ(r.status, ReadStatus::ok) << r.error;
  EXPECT_EQ(r.file.text, "inside");
  auto opened = dir.open_checked("a/b/rel", OpenKind::regular_file);
  ASSERT_EQ(opened.status, ReadStatus::ok) << opened.error;
  EXPECT_EQ(opened.size, 6u);

  // A link to a path that exists only outside is missing, not read.
  fs::create_symlink(climb + fs::path(t.outside_file).parent_path().string() + "/only-outside",
                     t.root.path() / "gone");
  t.outside.write("only-outside", "x");
  EXPECT_EQ(dir.read("gone", 100).status, ReadStatus::missing);
  EXPECT_FALSE(dir.exists("gone"));
}

TEST(RootDir, AFolderSymlinkToSlashListsAndGlobsTheRoot) {
  test::TempDir root;
  root.write("etc/one.conf", "1");
  root.write("etc/two.conf", "2");
  fs::create_symlink("/", root.path() / "up");
  RootDir dir(root.path());
  auto listed = dir.list("up/etc", 100);
  ASSERT_EQ(listed.status, ReadStatus::ok) << listed.error;
  EXPECT_EQ(listed.names, (std::vector<std::string>{"one.conf", "two.conf"}));
  EXPECT_EQ(dir.glob("/up/etc/*.conf", 10),
            (std::vector<std::string>{"/up/etc/one.conf", "/up/etc/two.conf"}));
  EXPECT_EQ(dir.glob("/up/etc/one.conf", 10), (std::vector<std::string>{"/up/etc/one.conf"}));
  EXPECT_TRUE(dir.glob("/up/etc/none.conf", 10).empty());
}

TEST(RootDir, AFifoDoesNotBlockARead) {
  test::TempDir root;
  ASSERT_EQ(::mkfifo((root.path() / "fifo").c_str(), 0600), 0);
  RootDir dir(root.path());
  const auto start = std::chrono::steady_clock::now();
  auto r = dir.read("fifo", 100);  // no writer: a blocking open would never return
  EXPECT_EQ(r.status, ReadStatus::error);
  EXPECT_EQ(r.error, (root.path() / "fifo").string() + ": not a regular file");
  auto file = dir.open_file("fifo");
  ASSERT_TRUE(file);
  EXPECT_TRUE(S_ISFIFO(file->st.st_mode));
  EXPECT_EQ(dir.open_checked("fifo", OpenKind::regular_file).status, ReadStatus::error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(RootDir, AReadBoundIsReported) {
  test::TempDir root;
  root.write("big", std::string(5000, 'a'));
  RootDir dir(root.path());
  auto cut = dir.read("big", 1000);
  ASSERT_EQ(cut.status, ReadStatus::ok);
  EXPECT_TRUE(cut.file.truncated);
  EXPECT_EQ(cut.file.text.size(), 1000u);
  auto whole = dir.read("big", 5000);
  EXPECT_FALSE(whole.file.truncated);
  EXPECT_EQ(whole.file.text.size(), 5000u);
}

TEST(RootDir, AListingBoundIsReported) {
  test::TempDir root;
  for (int i = 0; i < 10; ++i) root.write("d/f" + std::to_string(i), "");
  RootDir dir(root.path());
  auto cut = dir.list("d", 4);
  ASSERT_EQ(cut.status, ReadStatus::ok);
  EXPECT_TRUE(cut.truncated);
  EXPECT_EQ(cut.names.size(), 4u);
  EXPECT_TRUE(std::is_sorted(cut.names.begin(), cut.names.end()));
  auto whole = dir.list("d", 10);
  EXPECT_FALSE(whole.truncated);
  EXPECT_EQ(whole.names.size(), 10u);
  EXPECT_EQ(dir.glob("/d/f*", 3), (std::vector<std::string>{"/d/f0", "/d/f1", "/d/f2"}));
}

TEST(RootDir, MissingAndWrongKindsAreToldApart) {
  test::TempDir root;
  root.write("file", "x");
  RootDir dir(root.path());
  EXPECT_EQ(dir.read("none", 10).status, ReadStatus::missing);
  EXPECT_EQ(dir.read("file/below", 10).status, ReadStatus::missing);
  EXPECT_EQ(dir.list("none", 10).status, ReadStatus::missing);
  EXPECT_EQ(dir.list("file", 10).status, ReadStatus::missing);
  auto folder = dir.read("/", 10);
  EXPECT_EQ(folder.status, ReadStatus::error);
  EXPECT_EQ(folder.error, root.path().string() + "/: not a regular file");
  EXPECT_EQ(dir.open_checked("", OpenKind::directory).status, ReadStatus::ok);
  EXPECT_FALSE(dir.readlink("file"));
  auto entry = dir.entry("file");
  ASSERT_TRUE(entry);
  EXPECT_TRUE(S_ISREG(entry->st.st_mode));
}

TEST(RootDir, ARootThatCannotBeOpenedSaysWhy) {
  test::TempDir parent;
  RootDir dir(parent.path() / "none");
  EXPECT_FALSE(dir.valid());
  EXPECT_EQ(dir.root_errno(), ENOENT);
  EXPECT_EQ(dir.read("x", 10).status, ReadStatus::missing);
  EXPECT_FALSE(dir.open("x", O_RDONLY).valid());
  EXPECT_EQ(errno, ENOENT);
  EXPECT_TRUE(dir.glob("/*", 10).empty());
}

TEST(RootDir, ABorrowedRootIsLeftOpen) {
  test::TempDir root;
  root.write("x", "held");
  int held = ::open(root.path().c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(held, 0);
  {
    auto dir = RootDir::borrow(held, root.path());
    EXPECT_EQ(dir.read("x", 10).file.text, "held");
  }
  EXPECT_EQ(::fcntl(held, F_GETFD), FD_CLOEXEC);  // still open
  RootDir owner(UniqueFd(held), root.path());
  EXPECT_EQ(owner.read("/x", 10).file.text, "held");
}

}  // namespace
}  // namespace hostprint::collectors
