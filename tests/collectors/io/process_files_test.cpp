// The open files of a held process, read relative to its /proc entry.
#include "collectors/io/process_files.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace hostprint::collectors {
namespace {

// What readlink gives for each entry of /proc/self/fd, the independent truth.
std::vector<std::string> own_fd_targets() {
  std::vector<std::string> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(entry.path(), ec);
    if (!ec) out.push_back(target.string());
  }
  return out;
}

TEST(OpenFileTargets, EqualTheFdLinksOfTheHeldProcess) {
  UniqueFd file(::open("/etc/hostname", O_RDONLY | O_CLOEXEC));
  UniqueFd sock(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_TRUE(file.valid());
  ASSERT_TRUE(sock.valid());
  auto held = hold_process("/proc", ::getpid(), std::nullopt, false);
  ASSERT_TRUE(held);
  auto got = open_file_targets(held->dir.get(), 4096);
  auto expected = own_fd_targets();
  EXPECT_FALSE(got.truncated);
  // The held directory and the listing's own fds come and go between the two readings: compare
  // the targets that are neither.
  auto stable = [](std::vector<std::string> v) {
    std::erase_if(v, [](const std::string& t) { return t.starts_with("/proc/"); });
    std::sort(v.begin(), v.end());
    return v;
  };
  EXPECT_EQ(stable(got.targets), stable(expected));
  EXPECT_NE(std::find(got.targets.begin(), got.targets.end(), "/etc/hostname"), got.targets.end());
  EXPECT_TRUE(std::any_of(got.targets.begin(), got.targets.end(),
                          [](const std::string& t) { return t.starts_with("socket:["); }));
}

TEST(OpenFileTargets, StopAtTheBoundAndSaySo) {
  std::vector<UniqueFd> many;
  for (int i = 0; i < 40; ++i) many.emplace_back(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  auto held = hold_process("/proc", ::getpid(), std::nullopt, false);
  ASSERT_TRUE(held);
  auto got = open_file_targets(held->dir.get(), 10);
  EXPECT_TRUE(got.truncated);
  EXPECT_EQ(got.targets.size(), 10u);
}

TEST(OpenFileTargets, AGoneProcessHasNone) {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  auto held = hold_process("/proc", child, std::nullopt, false);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  if (!held) GTEST_SKIP() << "the child was reaped before its /proc entry could be held";
  auto got = open_file_targets(held->dir.get(), 4096);
  EXPECT_TRUE(got.targets.empty());
  EXPECT_FALSE(got.truncated);
}

}  // namespace
}  // namespace hostprint::collectors
