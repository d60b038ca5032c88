#include "collectors/io/process_reader.hpp"

#include "collectors/formats/proc_text.hpp"
#include "collectors/io/bounded_read.hpp"
#include "collectors/io/process_files.hpp"

namespace hostprint::collectors {

ProcessReader::ProcessReader(std::filesystem::path proc, std::span<const proto::ProcessInfo> table)
    : proc_(std::move(proc)), start_ticks_(start_ticks_by_pid(table)) {}

const ProcessCommand& ProcessReader::command(int pid) {
  auto [it, fresh] = commands_.try_emplace(pid);
  if (!fresh) return it->second;
  ProcessCommand& out = it->second;
  std::optional<std::uint64_t> ticks;
  if (auto t = start_ticks_.find(pid); t != start_ticks_.end()) ticks = t->second;
  // Held and checked against the table's start time: what is read is the process it named.
  const auto held = hold_process(proc_, pid, ticks, false);
  if (!held) return out;
  const auto dir = held->dir_path();
  auto stat = read_bounded(dir / "stat", 4096);
  if (stat.status != ReadStatus::ok) return out;  // gone
  out.readable = true;
  out.parent = parse_stat_ppid(stat.file.text);
  auto cmdline = read_bounded(dir / "cmdline", max_cmdline_bytes);
  if (cmdline.status == ReadStatus::error)
    out.error = (proc_ / std::to_string(pid) / "cmdline").string() + ": " + cmdline.error;
  out.truncated = cmdline.file.truncated;
  out.argv = split_cmdline(cmdline.file.text);
  return out;
}

}  // namespace hostprint::collectors
