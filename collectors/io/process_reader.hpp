#pragma once
// What a scan reads of a running process's /proc entry, read once and shared by every collector
// that asks (a JVM's command line is wanted by services, JARs, web applications and RASP).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "proto/assets.hpp"

namespace hostprint::collectors {

inline constexpr std::size_t max_cmdline_bytes = 128 * 1024;

struct ProcessCommand {
  bool readable = false;          // false: gone, or its pid reused
  std::vector<std::string> argv;  // split at NULs
  bool truncated = false;         // longer than max_cmdline_bytes; the rest was not read
  std::optional<int> parent;      // from stat; nothing when malformed
  std::string error;              // a read that failed for another reason than the process ending
};

class ProcessReader {
 public:
  // `table` gives each pid's start time: a pid reused since the table was read reads as gone.
  ProcessReader(std::filesystem::path proc, std::span<const proto::ProcessInfo> table);

  // cmdline and stat, read at the first ask in this scan.
  const ProcessCommand& command(int pid);

 private:
  std::filesystem::path proc_;
  std::unordered_map<int, std::uint64_t> start_ticks_;
  std::unordered_map<int, ProcessCommand> commands_;
};

}  // namespace hostprint::collectors
