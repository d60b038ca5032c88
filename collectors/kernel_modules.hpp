#pragma once
// Loaded kernel modules, from /proc/modules.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

struct KernelModule {
  std::string name;
  std::uint64_t size = 0;
  std::string state;  // Live, Loading, Unloading
};

struct ModuleEntries {
  std::vector<KernelModule> modules;
  std::size_t malformed_lines = 0;
};

ModuleEntries parse_proc_modules(std::string_view text);

class KernelModulesCollector final : public Collector {
 public:
  static constexpr std::size_t max_file_bytes = 4 * 1024 * 1024;
  std::string_view name() const override { return "kernel_modules"; }
  Outcome collect(const ScanContext& context) override;
  void publish(Inventory& inventory) const override;
  std::size_t item_count() const override { return modules_->size(); }

 private:
  std::shared_ptr<const std::vector<KernelModule>> modules_ =
      std::make_shared<std::vector<KernelModule>>();
};

}  // namespace hostprint::collectors
