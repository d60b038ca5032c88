#include "collectors/io/process_files.hpp"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>
#include <unordered_set>

#include "collectors/io/bounded_read.hpp"
#include "collectors/formats/dirent_records.hpp"
#include "collectors/formats/proc_text.hpp"

namespace hostprint::collectors {

std::optional<std::string> read_link(const std::filesystem::path& link) {
  char buf[4096];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) return std::nullopt;
  return std::string(buf, static_cast<std::size_t>(n));
}

OpenFileTargets open_file_targets(int pid_dir, std::size_t max_fds) {
  OpenFileTargets out;
  // Opened and read relative to the held /proc/<pid>: each link costs one lookup in the fd
  // directory instead of a walk from / through /proc/self/fd.
  UniqueFd fd_dir(::openat(pid_dir, "fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd_dir.valid()) return out;
  alignas(8) std::array<std::byte, 8192> records;
  std::array<char, 4096> target;
  std::size_t fds = 0;
  bool more = true;
  while (more) {
    long n = ::syscall(SYS_getdents64, fd_dir.get(), records.data(), records.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    more = for_each_dirent64(
        std::span(records.data(), static_cast<std::size_t>(n)),
        [&](std::uint64_t, std::string_view name) {
          if (name.empty() || name[0] < '0' || name[0] > '9') return true;  // "." and ".."
          if (++fds > max_fds) {
            out.truncated = true;
            return false;
          }
          // The name ends at its record's NUL, which the walk checked.
          ssize_t got = ::readlinkat(fd_dir.get(), name.data(), target.data(), target.size());
          if (got > 0 && static_cast<std::size_t>(got) < target.size())
            out.targets.emplace_back(target.data(), static_cast<std::size_t>(got));
          return true;
        }) && !out.truncated;
  }
  return out;
}

std::vector<std::string> mapped_files(std::string_view maps) {
  std::vector<std::string> out;
  std::unordered_set<std::string_view> seen;
  for_each_line(maps, 8192, [&](std::string_view line, bool too_long) {
    if (too_long) return;
    auto slash = line.find('/');
    if (slash == std::string_view::npos) return;
    std::string_view path = line.substr(slash);
    if (seen.insert(path).second) out.emplace_back(path);
  });
  return out;
}

namespace {

std::filesystem::path fd_path(const UniqueFd& fd) {
  return std::filesystem::path("/proc/self/fd") / std::to_string(fd.get());
}

}  // namespace

std::filesystem::path HeldProcess::dir_path() const {
  return fd_path(dir);
}

std::filesystem::path HeldProcess::root_path() const {
  return fd_path(root);
}

std::optional<HeldProcess> hold_process(const std::filesystem::path& proc, int pid,
                                        std::optional<std::uint64_t> start_ticks, bool with_root) {
  HeldProcess held;
  held.dir = UniqueFd(::open((proc / std::to_string(pid)).c_str(),
                             O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!held.dir.valid()) return std::nullopt;
  if (with_root) {
    held.root = UniqueFd(::openat(held.dir.get(), "root", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!held.root.valid()) return std::nullopt;
  }
  if (start_ticks && start_ticks_at(held.dir.get()) != start_ticks) return std::nullopt;
  return held;
}

std::unordered_map<int, std::uint64_t> start_ticks_by_pid(std::span<const ProcessInfo> table) {
  std::unordered_map<int, std::uint64_t> out;
  out.reserve(table.size());
  for (const auto& p : table) out.emplace(p.pid, p.start_ticks);
  return out;
}

std::optional<std::uint64_t> start_ticks_at(int pid_dir) {
  UniqueFd fd(::openat(pid_dir, "stat", O_RDONLY | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid()) return std::nullopt;
  // One read: procfs hands a stat line (about a kilobyte at most) over whole.
  std::array<char, 4096> text;
  ssize_t n;
  do {
    n = ::read(fd.get(), text.data(), text.size());
  } while (n < 0 && errno == EINTR);
  if (n <= 0) return std::nullopt;
  return parse_stat_start_ticks(std::string_view(text.data(), static_cast<std::size_t>(n)));
}

}  // namespace hostprint::collectors
