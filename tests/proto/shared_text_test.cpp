#include "proto/shared_text.hpp"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace hostprint::proto {
namespace {

TEST(SharedText, HoldsItsBytesAsGiven) {
  const std::string with_nul("a\0b c", 5);
  SharedText text(with_nul);
  EXPECT_EQ(text.size(), 5u);
  EXPECT_EQ(text.view(), std::string_view(with_nul));
  EXPECT_EQ(text.str(), with_nul);
  const std::string long_one(5000, 'x');
  EXPECT_EQ(SharedText(long_one).view(), long_one);
  std::ostringstream out;
  out << SharedText("/usr/sbin/nginx");
  EXPECT_EQ(out.str(), "/usr/sbin/nginx");
}

TEST(SharedText, EmptyIsTheDefaultAndEqualsEveryEmptyString) {
  SharedText none;
  EXPECT_TRUE(none.empty());
  EXPECT_EQ(none.size(), 0u);
  EXPECT_EQ(none, SharedText(""));
  EXPECT_EQ(none, std::string());
  EXPECT_EQ(none, "");
  EXPECT_EQ(none.view(), std::string_view());
}

TEST(SharedText, CopiesShareTheBytes) {
  SharedText a("/opt/app/bin/server --port 8080");
  SharedText b = a;
  EXPECT_EQ(a.view().data(), b.view().data());
  SharedText c;
  c = b;
  EXPECT_EQ(c.view().data(), a.view().data());
  SharedText moved = std::move(b);
  EXPECT_EQ(moved.view().data(), a.view().data());
  a = SharedText();  // the others keep theirs
  EXPECT_EQ(c, "/opt/app/bin/server --port 8080");
  EXPECT_EQ(moved, c);
}

TEST(SharedText, ComparesWithEveryKindOfString) {
  SharedText text("/bin/sh");
  EXPECT_EQ(text, "/bin/sh");
  EXPECT_EQ(text, std::string("/bin/sh"));
  EXPECT_EQ(text, std::string_view("/bin/sh"));
  EXPECT_EQ(text, SharedText("/bin/sh"));  // equal bytes, other storage
  EXPECT_NE(text, "/bin/bash");
  EXPECT_LT(SharedText("/bin/a"), SharedText("/bin/b"));
  EXPECT_LT(SharedText(""), SharedText("a"));
  EXPECT_GT(text, std::string_view("/bin/r"));
}

// Lists are shared between the scanner's thread and the serving threads: copies made and dropped
// on several threads at once leave the count right (the sanitizer pass sees any slip).
TEST(SharedText, CopiesOnSeveralThreadsKeepTheCount) {
  SharedText original(std::string(100, 'p'));
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&original] {
      for (int i = 0; i < 20000; ++i) {
        SharedText copy = original;
        SharedText other(copy);
        ASSERT_EQ(other.size(), 100u);
      }
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(original, std::string(100, 'p'));
}

}  // namespace
}  // namespace hostprint::proto
