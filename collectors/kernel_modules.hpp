#pragma once
// Loaded kernel modules, from /proc/modules.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

class KernelModulesCollector final : public ListCollector<KernelModule> {
 public:
  static constexpr std::size_t max_file_bytes = 4 * 1024 * 1024;
  std::string_view name() const override { return "kernel_modules"; }
  Outcome collect(const ScanContext& context) override;

 private:
};

}  // namespace hostprint::collectors
