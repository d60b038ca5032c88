#pragma once
// What a running process has open or mapped: /proc/<pid>/fd links and /proc/<pid>/maps.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hostprint::collectors {

// The target of a symbolic link such as /proc/<pid>/cwd or fd/3; nothing when unreadable or
// longer than 4 KiB.
std::optional<std::string> read_link(const std::filesystem::path& link);

struct OpenFileTargets {
  std::vector<std::string> targets;  // "/path/x.jar", "socket:[123]", "pipe:[4]", ...
  bool truncated = false;            // more than the bound; the rest were not read
};

// The link targets in /proc/<pid>/fd, at most `max_fds` of them.
OpenFileTargets open_file_targets(const std::filesystem::path& proc_pid, std::size_t max_fds);

// The paths of the files mapped in /proc/<pid>/maps text, in order of first mapping, each once.
// A line longer than 8 KiB is left out.
std::vector<std::string> mapped_files(std::string_view maps);

}  // namespace hostprint::collectors
