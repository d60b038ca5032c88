#include "agent/tokens.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "agent/config.hpp"
#include "tests/temp_dir.hpp"

namespace hostprint {
namespace {

TEST(TokenSet, AcceptsOnlyExactTokens) {
  TokenSet set({"alpha", "beta-token"});
  EXPECT_TRUE(set.accepts("alpha"));
  EXPECT_TRUE(set.accepts("beta-token"));
  EXPECT_FALSE(set.accepts("alph"));
  EXPECT_FALSE(set.accepts("alphaa"));
  EXPECT_FALSE(set.accepts("Alpha"));
  EXPECT_FALSE(set.accepts(""));
  EXPECT_FALSE(set.accepts("beta"));
  EXPECT_FALSE(set.accepts(std::string("alpha\0", 6)));
}

TEST(TokenSet, LongestTokenWorksOneMoreDoesNot) {
  std::string longest(32768, 'k');
  TokenSet set({longest});
  EXPECT_TRUE(set.accepts(longest));
  EXPECT_FALSE(set.accepts(longest + "k"));
  EXPECT_FALSE(set.accepts(std::string(32767, 'k')));
}

TEST(TokenText, ParsesLines) {
  auto set = parse_token_text("  first \r\n\n\nsecond\n", "t");
  EXPECT_EQ(set.size(), 2u);
  EXPECT_TRUE(set.accepts("first"));
  EXPECT_TRUE(set.accepts("second"));
  EXPECT_THROW(parse_token_text("\n \n", "t"), ConfigError);
  EXPECT_THROW(parse_token_text(std::string(32769, 'x'), "t"), ConfigError);
  EXPECT_NO_THROW(parse_token_text(std::string(32768, 'x'), "t"));
}

TEST(TokenFile, RefusesGroupOrOtherAccess) {
  test::TempDir dir;
  auto file = dir.write("token", "secret\n");
  for (mode_t mode : {0640, 0604, 0620, 0602, 0644}) {
    ASSERT_EQ(::chmod(file.c_str(), mode), 0);
    try {
      load_token_file(file);
      ADD_FAILURE() << "mode " << std::oct << mode << " accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("group or others"), std::string::npos) << e.what();
    }
  }
  for (mode_t mode : {0600, 0400}) {
    ASSERT_EQ(::chmod(file.c_str(), mode), 0);
    EXPECT_TRUE(load_token_file(file).accepts("secret"));
  }
}

TEST(TokenFile, FarLargerThanRealIsRefused) {
  test::TempDir dir;
  auto file = dir.write("token", std::string(3 << 20, 'x'));
  ASSERT_EQ(::chmod(file.c_str(), 0600), 0);
  EXPECT_THROW(load_token_file(file), ConfigError);
  ASSERT_EQ(::chmod(dir.write("dir/x", "").parent_path().c_str(), 0700), 0);
  EXPECT_THROW(load_token_file(dir.path() / "dir"), ConfigError);
}

TEST(TokenFile, ALinkIsJudgedByTheFileItNames) {
  test::TempDir dir;
  auto secret = dir.write("secret", "linked\n");
  auto open = dir.write("open", "readable\n");
  ASSERT_EQ(::chmod(secret.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(open.c_str(), 0644), 0);
  std::filesystem::create_symlink(secret, dir.path() / "to-secret");
  std::filesystem::create_symlink(open, dir.path() / "to-open");
  EXPECT_TRUE(load_token_file(dir.path() / "to-secret").accepts("linked"));
  EXPECT_THROW(load_token_file(dir.path() / "to-open"), ConfigError);
}

// The path is swapped again and again (atomically, so it always exists) between a private file
// and a world-readable one. Whatever each load sees, the mode it checked and the tokens it read
// must come from the same file: the readable file's token is never accepted.
TEST(TokenFile, ModeAndContentComeFromTheSameFile) {
  test::TempDir dir;
  auto path = dir.write("token", "private-token\n");
  auto other = dir.write("other", "readable-token\n");
  ASSERT_EQ(::chmod(path.c_str(), 0600), 0);
  ASSERT_EQ(::chmod(other.c_str(), 0644), 0);
  std::atomic<bool> stop{false};
  std::thread swapper([&] {
    while (!stop) ::renameat2(AT_FDCWD, path.c_str(), AT_FDCWD, other.c_str(), RENAME_EXCHANGE);
  });
  int loaded = 0, refused = 0, mixed = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  while (std::chrono::steady_clock::now() < until && mixed == 0) {
    try {
      auto set = load_token_file(path);
      ++loaded;
      if (set.accepts("readable-token")) ++mixed;
    } catch (const ConfigError&) {
      ++refused;
    }
  }
  stop = true;
  swapper.join();
  EXPECT_EQ(mixed, 0) << "a token of the readable file was accepted";
  EXPECT_GT(loaded, 0);
  EXPECT_GT(refused, 0);
}

TEST(TokenFile, MissingFileIsAnError) {
  EXPECT_THROW(load_token_file("/nonexistent/token"), ConfigError);
}

}  // namespace
}  // namespace hostprint
