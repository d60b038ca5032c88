#pragma once
// What the agent remembers of each item across scans and restarts: when it was first seen and
// when its fields last changed (lists.md's first_scan_time, record_time and update_time), kept
// in the state folder as one record.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/item_times.hpp"
#include "collectors/collector.hpp"
#include "proto/assets.hpp"

namespace hostprint {

class ItemLedger {
 public:
  static constexpr std::size_t max_entries = 1'000'000;
  static constexpr std::size_t max_record_bytes = 256u << 20;
  static constexpr std::string_view record_name = "item-times";

  // Nothing is read until the first update(); `store` null: kept in memory only.
  explicit ItemLedger(std::shared_ptr<collectors::StateRecords> store);

  // Takes a scan's items: new ones get `now_ms`, changed ones a new changed time, gone ones
  // are forgotten; the record is saved when anything changed. Returns what went wrong (a
  // corrupt or unwritable record), for the log.
  std::vector<std::string> update(const proto::AssetSet& assets, std::int64_t now_ms);

  // The times of the items of the last update, shared with the snapshots.
  std::shared_ptr<const ItemTimesMap> times() const { return times_; }

  // The record's text, and back (exposed for tests).
  static std::string serialize(const ItemTimesMap& times);
  static ItemTimesMap parse(std::string_view text, std::string& error);

 private:
  std::shared_ptr<collectors::StateRecords> store_;
  std::shared_ptr<const ItemTimesMap> times_ = std::make_shared<const ItemTimesMap>();
  bool loaded_ = false;
};

}  // namespace hostprint
