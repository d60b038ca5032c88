#pragma once
// Running processes (thread-group leaders, kernel threads excluded), read through libproc2.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

// The pid named by a /proc entry ("1234"), or nothing for "self", "sys", "0", "012", ...
std::optional<int> parse_pid_name(std::string_view name);

// PF_KTHREAD in the flags field of /proc/<pid>/stat.
inline bool is_kernel_thread(std::uint64_t stat_flags) {
  return (stat_flags & 0x00200000) != 0;
}

// One /proc/<pid> directory entry: the pid and the inode number procfs reported for it.
struct ProcEntry {
  int pid = 0;
  std::uint64_t inode = 0;
  friend bool operator==(const ProcEntry&, const ProcEntry&) = default;
};

// Appends the pid entries among the linux_dirent64 records in `records` (what getdents64 filled
// in) to `out`. Returns false when a record is malformed (the rest of the buffer is then ignored).
bool parse_proc_dirents(std::span<const std::byte> records, std::vector<ProcEntry>& out);

// What the collector remembers of a pid from one scan to the next.
struct KnownProcess {
  int pid = 0;
  bool kernel_thread = false;
  std::uint64_t inode = 0;
  std::uint64_t start_ticks = 0;
  friend bool operator==(const KnownProcess&, const KnownProcess&) = default;
};

// The pids now listed in /proc, split into those known from the last scan (same pid, same inode:
// the same process, nothing to read again) and those to read afresh (new pid, or a pid whose
// /proc entry was made anew). Both inputs sorted by pid; both outputs come out sorted by pid.
struct Reconciled {
  std::vector<KnownProcess> kept;
  std::vector<ProcEntry> fresh;
};
Reconciled reconcile(std::span<const KnownProcess> known, std::span<const ProcEntry> listed);

// libproc2 reads a selected pid's status besides its stat, about 1.6 times what one pid of a
// whole-table reap costs (measured); true when reaping the whole table is the cheaper way to
// learn about the `fresh` pids among the `listed` ones.
inline bool read_whole_table(std::size_t fresh, std::size_t listed) {
  return fresh * 8 >= listed * 5;
}

// Its items are sorted by pid. A rescan that finds nothing changed keeps the very same list, so a
// snapshot built from it can share it.
class ProcessesCollector final : public ListCollector<ProcessInfo> {
 public:
  std::string_view name() const override { return "processes"; }
  Outcome collect(const ScanContext& context) override;

 private:
  Outcome scan(const ScanContext& context);

  // Every pid of the last complete scan, kernel threads included, sorted by pid.
  std::vector<KnownProcess> known_;
};

}  // namespace hostprint::collectors
