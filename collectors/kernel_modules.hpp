#pragma once
// Loaded kernel modules, from /proc/modules; their version and srcversion from /sys/module, their
// file from the root's lib/modules/<release>/modules.dep.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

// The module name a modules.dep path gives ("kernel/fs/ext4/ext4.ko.xz" -> "ext4"; '-' reads as
// '_', as the kernel names modules); empty when it is no module file.
std::string module_name_of(std::string_view path);

// modules.dep's module files by module name, each as an absolute path inside the root (relative
// entries taken from `folder`, "/lib/modules/<release>"). The first entry of a name wins.
std::unordered_map<std::string, std::string> parse_modules_dep(std::string_view text,
                                                               std::string_view folder);

class KernelModulesCollector final : public ListCollector<KernelModule> {
 public:
  static constexpr std::size_t max_file_bytes = 4 * 1024 * 1024;
  static constexpr std::size_t max_modules_dep_bytes = 16 * 1024 * 1024;

  // `sys`: the live system's sysfs, where /sys/module/<name>/ is.
  explicit KernelModulesCollector(std::filesystem::path sys = "/sys") : sys_(std::move(sys)) {}

  std::string_view name() const override { return "kernel_modules"; }
  Outcome collect(const ScanContext& context) override;

 private:
  void find_files(const ScanContext& context, std::vector<KernelModule>& modules,
                  Outcome& outcome);

  std::filesystem::path sys_;
  // modules.dep as last parsed, kept while the file is the same (release, identity, mtime).
  std::string dep_identity_;
  std::unordered_map<std::string, std::string> dep_paths_;
};

}  // namespace hostprint::collectors
