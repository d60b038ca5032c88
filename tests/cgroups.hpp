#pragma once
// Cgroups the live tests make, in whichever hierarchies this machine has (pure v2, hybrid, v1).
#include <linux/magic.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

namespace hostprint::test {

namespace fs = std::filesystem;

inline bool mounted_as(const char* path, decltype(statfs::f_type) magic) {
  struct statfs fs_info {};
  return ::statfs(path, &fs_info) == 0 && fs_info.f_type == magic;
}

// The machine's cgroup hierarchies, told apart by file system type (a pure v2 host has only
// /sys/fs/cgroup, of type cgroup2; a hybrid one v1 controllers beside unified/).
struct Hierarchies {
  std::optional<fs::path> v1, v2;
};

inline Hierarchies machine_hierarchies() {
  Hierarchies found;
  for (auto candidate : {"/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/systemd"})
    if (mounted_as(candidate, CGROUP_SUPER_MAGIC)) {
      found.v1 = candidate;
      break;
    }
  for (auto candidate : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"})
    if (mounted_as(candidate, CGROUP2_SUPER_MAGIC)) {
      found.v2 = candidate;
      break;
    }
  return found;
}

// A cgroup made for a test, removed again with its parents up to the hierarchy's root.
class Cgroup {
 public:
  Cgroup(const fs::path& hierarchy, const std::string& relative)
      : root_(hierarchy), path_(hierarchy / relative) {
    fs::create_directories(path_);
  }
  ~Cgroup() {
    // Remove the folders made, innermost first, up to the hierarchy's root (a folder still used
    // elsewhere stays).
    for (fs::path p = path_; p != root_ && p.has_relative_path(); p = p.parent_path())
      if (::rmdir(p.c_str()) != 0) break;
  }
  void add(pid_t pid) const { std::ofstream(path_ / "cgroup.procs") << pid << "\n"; }

 private:
  fs::path root_, path_;
};

}  // namespace hostprint::test
