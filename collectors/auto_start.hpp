#pragma once
// Auto-start items under the root (what counts: assets.md, auto_launch_num), read from unit files,
// links and configuration files, never through D-Bus. Where the spec leaves a choice, each rule
// follows the program that acts on the file: systemd and its SysV generator, cron, ld.so, GLib.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <unordered_map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

// A file's identity and change times, and its SHA-256: a file unchanged between scans is not
// read again.
struct DigestKey {
  std::uint64_t device, inode, size;
  std::int64_t mtime_s, mtime_ns, ctime_s, ctime_ns;
  friend bool operator==(const DigestKey&, const DigestKey&) = default;
};
struct DigestKeyHash {
  std::size_t operator()(const DigestKey& k) const {
    std::size_t h = 0;
    for (auto v : {k.device, k.inode, k.size, static_cast<std::uint64_t>(k.mtime_ns),
                   static_cast<std::uint64_t>(k.ctime_ns)})
      h = h * 1000003u ^ std::hash<std::uint64_t>{}(v);
    return h;
  }
};
using DigestCache = std::unordered_map<DigestKey, std::string, DigestKeyHash>;

class AutoStartCollector final : public ListCollector<AutoStartItem> {
 public:
  static constexpr std::size_t max_entries_per_folder = 100'000;
  static constexpr std::size_t max_entries_total = 1'000'000;
  static constexpr std::size_t max_items = 100'000;
  static constexpr std::size_t max_crontab_bytes = 16 * 1024 * 1024;
  static constexpr std::size_t max_small_file_bytes = 1024 * 1024;  // .desktop, ld.so.preload
  static constexpr std::uint64_t max_hashed_bytes = 256u << 20;     // of a file an item runs

  std::string_view name() const override { return "auto_start"; }
  Outcome collect(const ScanContext& context) override;

 private:
  DigestCache digests_;  // of the files the last complete scan hashed
};

}  // namespace hostprint::collectors
