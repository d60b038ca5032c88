#include "collectors/io/process_reader.hpp"

#include <algorithm>

#include "collectors/formats/proc_text.hpp"
#include "collectors/io/bounded_read.hpp"
#include "collectors/io/process_files.hpp"

namespace hostprint::collectors {

ProcessReader::ProcessReader(std::filesystem::path proc, std::span<const proto::ProcessInfo> table)
    : proc_(std::move(proc)), table_(table) {
  const auto by_pid = [](const auto& a, const auto& b) { return a.pid < b.pid; };
  if (!std::is_sorted(table_.begin(), table_.end(), by_pid)) {
    unsorted_ticks_ = start_ticks_by_pid(table_);
    table_ = {};
  }
}

std::optional<std::uint64_t> ProcessReader::start_ticks(int pid) const {
  if (!unsorted_ticks_.empty()) {
    auto it = unsorted_ticks_.find(pid);
    return it == unsorted_ticks_.end() ? std::nullopt : std::optional(it->second);
  }
  auto it = std::lower_bound(table_.begin(), table_.end(), pid,
                             [](const proto::ProcessInfo& p, int wanted) { return p.pid < wanted; });
  if (it == table_.end() || it->pid != pid) return std::nullopt;
  return it->start_ticks;
}

// Held and checked against the table's start time: what is read is the process it named.
std::optional<HeldProcess> ProcessReader::hold(int pid) const {
  return hold_process(proc_, pid, start_ticks(pid), false);
}

const ProcessFiles& ProcessReader::open_files(int pid) {
  auto [it, fresh] = files_.try_emplace(pid);
  if (!fresh) return it->second;
  const auto held = hold(pid);
  if (!held) return it->second;
  auto targets = open_file_targets(held->dir.get(), max_open_files);
  it->second = {true, std::move(targets.targets), targets.truncated};
  return it->second;
}

const ProcessMaps& ProcessReader::mapped(int pid) {
  auto [it, fresh] = maps_.try_emplace(pid);
  if (!fresh) return it->second;
  const auto held = hold(pid);
  if (!held) return it->second;
  auto maps = read_bounded(held->dir_path() / "maps", max_maps_bytes);
  if (maps.status != ReadStatus::ok) return it->second;
  it->second = {true, mapped_files(maps.file.text), maps.file.truncated};
  return it->second;
}

const ProcessCommand& ProcessReader::command(int pid) {
  auto [it, fresh] = commands_.try_emplace(pid);
  if (!fresh) return it->second;
  ProcessCommand& out = it->second;
  const auto held = hold(pid);
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
