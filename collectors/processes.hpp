#pragma once
// Running processes (thread-group leaders, kernel threads excluded), read through libproc2.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

struct ProcessInfo {
  int pid = 0;
  std::uint64_t start_ticks = 0;  // clock ticks after boot, from /proc/<pid>/stat
  std::string exe;                // executable path; empty when it cannot be resolved
};

// "/usr/bin/foo (deleted)" -> "/usr/bin/foo"; other paths unchanged.
std::string_view strip_deleted_suffix(std::string_view exe);

class ProcessesCollector final : public Collector {
 public:
  std::string_view name() const override { return "processes"; }
  Outcome collect(const ScanContext& context) override;
  void publish(Inventory& inventory) const override;
  std::size_t item_count() const override { return processes_->size(); }

 private:
  std::shared_ptr<const std::vector<ProcessInfo>> processes_ =
      std::make_shared<std::vector<ProcessInfo>>();
};

}  // namespace hostprint::collectors
