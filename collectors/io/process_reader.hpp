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

#include "collectors/io/process_files.hpp"
#include "proto/assets.hpp"

namespace hostprint::collectors {

inline constexpr std::size_t max_cmdline_bytes = 128 * 1024;
inline constexpr std::size_t max_open_files = 4096;       // fd entries read per process
inline constexpr std::size_t max_maps_bytes = 16u << 20;  // of /proc/<pid>/maps

struct ProcessFiles {
  bool readable = false;
  std::vector<std::string> targets;  // fd link targets: "/path/x.jar", "socket:[123]", ...
  bool truncated = false;            // more than max_open_files
};

struct ProcessMaps {
  bool readable = false;
  std::vector<std::string> paths;  // files mapped, in order of first mapping, each once
  bool truncated = false;          // maps longer than max_maps_bytes; the rest not read
};

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

  // The start time the process table gave `pid`; nothing when the table has no such pid.
  std::optional<std::uint64_t> start_ticks(int pid) const;

  // cmdline and stat, read at the first ask in this scan.
  const ProcessCommand& command(int pid);
  // Its open files (fd links) and mapped files, likewise.
  const ProcessFiles& open_files(int pid);
  const ProcessMaps& mapped(int pid);

 private:
  std::filesystem::path proc_;
  // The scan's process table (it outlives the reader); sorted by pid as the processes collector
  // gives it, else looked up through a map made once.
  std::span<const proto::ProcessInfo> table_;
  std::unordered_map<int, std::uint64_t> unsorted_ticks_;
  std::optional<HeldProcess> hold(int pid) const;

  std::unordered_map<int, ProcessCommand> commands_;
  std::unordered_map<int, ProcessFiles> files_;
  std::unordered_map<int, ProcessMaps> maps_;
};

}  // namespace hostprint::collectors
