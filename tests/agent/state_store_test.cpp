// The agent's state folder on real files: a durable replace, bounded and refused loads, a folder
// that cannot be written, a temporary file left by a crash.
#include "agent/state_store.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "tests/temp_dir.hpp"

namespace hostprint {
namespace {

namespace fs = std::filesystem;

std::string file_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

fs::perms mode(const fs::path& file) {
  return fs::symlink_status(file).permissions() & fs::perms::all;
}

TEST(StateStore, ARecordIsReplacedWholeAndReadBack) {
  test::TempDir dir;
  StateStore store(dir.path());
  std::string error = "stale";
  EXPECT_FALSE(store.load("window", 1024, error));
  EXPECT_EQ(error, "");  // no record yet is not an error

  const std::string first("first\0record\n", 13);
  EXPECT_EQ(store.save("window", first), "");
  EXPECT_EQ(file_text(dir.path() / "window"), first);
  EXPECT_EQ(mode(dir.path() / "window"), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(fs::exists(dir.path() / "window.new"));
  auto loaded = store.load("window", 1024, error);
  ASSERT_TRUE(loaded) << error;
  EXPECT_EQ(*loaded, first);

  EXPECT_EQ(store.save("window", "second"), "");
  EXPECT_EQ(store.load("window", 1024, error).value_or("?"), "second");
  EXPECT_EQ(store.save("empty", ""), "");
  EXPECT_EQ(store.load("empty", 1024, error).value_or("?"), "");
  EXPECT_EQ(store.where("window"), (dir.path() / "window").string());

  // No folder configured: no store, the state stays in memory.
  EXPECT_EQ(make_state_store({}), nullptr);
  EXPECT_NE(make_state_store(dir.path()), nullptr);
}

TEST(StateStore, AnOversizedOrOddRecordIsRefusedWithItsPath) {
  test::TempDir dir;
  StateStore store(dir.path());
  std::string error;
  dir.write("big", std::string(2048, 'x'));
  EXPECT_FALSE(store.load("big", 2047, error));
  EXPECT_EQ(error, (dir.path() / "big").string() + ": larger than 2047 bytes");
  EXPECT_EQ(store.load("big", 2048, error).value_or("").size(), 2048u);
  dir.write("huge", std::string((1u << 20) + 1, 'x'));
  EXPECT_FALSE(store.load("huge", 1u << 20, error));
  EXPECT_EQ(error, (dir.path() / "huge").string() + ": larger than 1 MiB");

  // A folder or a FIFO where the record should be: refused, without waiting for a writer.
  fs::create_directory(dir.path() / "folder");
  EXPECT_FALSE(store.load("folder", 1024, error));
  EXPECT_EQ(error, (dir.path() / "folder").string() + ": not a regular file");
  ASSERT_EQ(::mkfifo((dir.path() / "fifo").c_str(), 0600), 0);
  EXPECT_FALSE(store.load("fifo", 1024, error));
  EXPECT_EQ(error, (dir.path() / "fifo").string() + ": not a regular file");

  // A name that would leave the folder or hit the temporary file is no record's.
  for (const auto& name : std::vector<std::string>{"", "../window", "a/b", ".hidden", "window.new",
                                                   std::string("a\0b", 3), std::string(300, 'n')}) {
    EXPECT_FALSE(store.load(name, 1024, error)) << name;
    EXPECT_NE(error.find("is not a state record name"), std::string::npos) << name;
    EXPECT_NE(store.save(name, "x"), "") << name;
  }
  EXPECT_FALSE(fs::exists(dir.path().parent_path() / "window"));
}

TEST(StateStore, AFolderThatCannotBeWrittenIsOneClearErrorPerSave) {
  test::TempDir dir;
  const fs::path blocker = dir.write("blocker", "a file, not a folder");
  StateStore store(blocker);
  std::string error;
  EXPECT_FALSE(store.load("window", 1024, error));
  EXPECT_EQ(error, "");  // nothing was ever saved there
  const std::string expected = (blocker / "window.new").string() + ": Not a directory";
  EXPECT_EQ(store.save("window", "x"), expected);
  EXPECT_EQ(store.save("window", "x"), expected);  // the same, not a growing story
  EXPECT_EQ(file_text(blocker), "a file, not a folder");

  // A folder that appears later is written to.
  StateStore later(dir.path() / "later");
  EXPECT_EQ(later.save("window", "x"),
            (dir.path() / "later" / "window.new").string() + ": No such file or directory");
  fs::create_directory(dir.path() / "later");
  EXPECT_EQ(later.save("window", "x"), "");
  EXPECT_EQ(later.load("window", 1024, error).value_or("?"), "x");
}

TEST(StateStore, AWriteThatFailsLeavesTheOldRecordWhole) {
  test::TempDir dir;
  StateStore store(dir.path());
  ASSERT_EQ(store.save("window", "old record"), "");
  // Files may grow to 16 bytes only: the write of the new record fails midway.
  struct sigaction ignore {
  }, before{};
  ignore.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGXFSZ, &ignore, &before), 0);
  rlimit limit{}, saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  limit = saved;
  limit.rlim_cur = 16;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &limit), 0);
  const std::string failure = store.save("window", std::string(100, 'n'));
  ::setrlimit(RLIMIT_FSIZE, &saved);
  ::sigaction(SIGXFSZ, &before, nullptr);
  EXPECT_EQ(failure, (dir.path() / "window.new").string() + ": File too large");
  EXPECT_EQ(file_text(dir.path() / "window"), "old record");
  EXPECT_FALSE(fs::exists(dir.path() / "window.new"));
}

TEST(StateStore, ATemporaryFileLeftByACrashIsIgnoredAndReplaced) {
  test::TempDir dir;
  StateStore store(dir.path());
  std::string error;
  // Only a cut temporary file survived the crash: there is no record yet.
  dir.write("window.new", "half a rec");
  ::chmod((dir.path() / "window.new").c_str(), 0666);
  EXPECT_FALSE(store.load("window", 1024, error));
  EXPECT_EQ(error, "");
  EXPECT_EQ(store.save("window", "whole"), "");
  EXPECT_EQ(file_text(dir.path() / "window"), "whole");
  EXPECT_EQ(mode(dir.path() / "window"), fs::perms::owner_read | fs::perms::owner_write);
  EXPECT_FALSE(fs::exists(dir.path() / "window.new"));

  // A link in its place is removed, not written through.
  test::TempDir outside;
  const fs::path target = outside.write("target", "not the store's");
  fs::create_symlink(target, dir.path() / "window.new");
  EXPECT_EQ(store.save("window", "again"), "");
  EXPECT_EQ(file_text(dir.path() / "window"), "again");
  EXPECT_EQ(file_text(target), "not the store's");
  EXPECT_FALSE(fs::exists(fs::symlink_status(dir.path() / "window.new")));
}

}  // namespace
}  // namespace hostprint
