#pragma once
// Auto-start items under the root (what counts: assets.md, auto_launch_num), read from unit files,
// links and configuration files, never through D-Bus. Where the spec leaves a choice, each rule
// follows the program that acts on the file: systemd and its SysV generator, cron, ld.so, GLib.
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

class AutoStartCollector final : public ListCollector<AutoStartItem> {
 public:
  static constexpr std::size_t max_entries_per_folder = 100'000;
  static constexpr std::size_t max_entries_total = 1'000'000;
  static constexpr std::size_t max_items = 100'000;
  static constexpr std::size_t max_crontab_bytes = 16 * 1024 * 1024;
  static constexpr std::size_t max_small_file_bytes = 1024 * 1024;  // .desktop, ld.so.preload

  std::string_view name() const override { return "auto_start"; }
  Outcome collect(const ScanContext& context) override;

 private:
};

}  // namespace hostprint::collectors
