#pragma once
// What a running process has open or mapped: /proc/<pid>/fd links and /proc/<pid>/maps; and a
// process's /proc entry and root held open while its files are read.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collectors/io/unique_fd.hpp"
#include "proto/assets.hpp"

namespace hostprint::collectors {

// The target of a symbolic link such as /proc/<pid>/cwd or fd/3; nothing when unreadable or
// longer than 4 KiB.
std::optional<std::string> read_link(const std::filesystem::path& link);

struct OpenFileTargets {
  std::vector<std::string> targets;  // "/path/x.jar", "socket:[123]", "pipe:[4]", ...
  bool truncated = false;            // more than the bound; the rest were not read
};

// The link targets in the fd directory of the open /proc/<pid> `pid_dir`, at most `max_fds` of
// them.
OpenFileTargets open_file_targets(int pid_dir, std::size_t max_fds);

// The paths of the files mapped in /proc/<pid>/maps text, in order of first mapping, each once.
// A line longer than 8 KiB is left out.
std::vector<std::string> mapped_files(std::string_view maps);

using proto::ProcessInfo;

// A process's /proc/<pid> directory and its root, each opened once (O_PATH) and checked to be that
// process's: what is read through them stays that process's (its tree, its /proc entry) even when
// it exits and its pid is reused, or the path its root was reached by is changed.
struct HeldProcess {
  UniqueFd dir;   // /proc/<pid>
  UniqueFd root;  // /proc/<pid>/root; invalid unless asked for
  // /proc/self/fd/<n>: paths that reach the held directories, for readers that take a path (the
  // *_in_root readers then open their files with openat2 RESOLVE_IN_ROOT below the held root).
  std::filesystem::path dir_path() const;
  std::filesystem::path root_path() const;
};

// Opens /proc/<pid> under `proc`, and its root when `with_root`. Nothing when the process is gone,
// its root cannot be opened, or its start time is not `start_ticks` (when given): the pid was
// reused since the process table was read. The start time is checked after the opens, so what
// they opened is the process the table named.
std::optional<HeldProcess> hold_process(const std::filesystem::path& proc, int pid,
                                        std::optional<std::uint64_t> start_ticks, bool with_root);

// The start time of the process whose /proc/<pid> directory `pid_dir` is open; nothing when gone.
std::optional<std::uint64_t> start_ticks_at(int pid_dir);

// The start time a process table recorded for each pid (the first row of a pid).
std::unordered_map<int, std::uint64_t> start_ticks_by_pid(std::span<const ProcessInfo> table);

}  // namespace hostprint::collectors
