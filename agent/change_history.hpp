#pragma once
// What changed on the host, scan after scan: the ledger's adds, deletes and modifies of the kinds
// a change-history endpoint serves, kept in the state folder within the configured bounds.
#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/item_ledger.hpp"

namespace hostprint {

struct ChangeEvent {
  std::int64_t time_ms = 0;  // of the scan that saw it
  proto::AssetKind kind = 0;
  ChangeType type = ChangeType::add;
  std::string fields;  // ItemLedger::encode_fields of the item (as last seen, when removed)
};

struct HistorySettings {
  unsigned max_age_days = 90;
  std::size_t max_events = 100000;
};

// The history as one scan left it, shared with that scan's snapshot; never changed after.
struct ChangeLog {
  // Appended a chunk per scan, so a scan shares the events before it instead of copying them.
  std::vector<std::shared_ptr<const std::vector<ChangeEvent>>> chunks;
  std::size_t skip = 0;  // events at the front of chunks[0] already dropped
  std::size_t size = 0;
  std::uint64_t dropped = 0;  // by the retention limits, ever (kept in the record)
  // Changes seen since the agent started, by kind and type (hostprint_changes_total).
  std::array<std::array<std::uint64_t, 3>, proto::asset_kind_count> counted{};
  std::string error;  // the last failure to read or write the record, "" when none

  // Calls f(event) oldest first.
  template <class F>
  void each(F&& f) const {
    for (std::size_t c = 0; c < chunks.size(); ++c)
      for (std::size_t i = c == 0 ? skip : 0; i < chunks[c]->size(); ++i) f((*chunks[c])[i]);
  }
};

class ChangeHistory {
 public:
  static constexpr std::string_view record_name = "change-history";
  static constexpr std::size_t max_record_bytes = 512u << 20;
  static constexpr std::size_t max_line_bytes = 1u << 20;

  // Nothing is read until the first record(); `store` null: kept in memory only.
  explicit ChangeHistory(std::shared_ptr<collectors::StateRecords> store);

  // Adds a scan's changes, drops what the limits no longer keep (age first, then the oldest
  // beyond max_events) and saves the record when anything changed. Returns what went wrong (a
  // corrupt or unwritable record), for the log.
  std::vector<std::string> record(std::vector<ItemChange> changes, std::int64_t now_ms,
                                  const HistorySettings& settings);

  std::shared_ptr<const ChangeLog> log() const { return log_; }

  // The record's text, and back; parse keeps the newest `max_events` and counts the rest as
  // dropped. Exposed for tests.
  static std::string serialize(const ChangeLog& log);
  static ChangeLog parse(std::string_view text, std::size_t max_events, std::string& error);

 private:
  std::shared_ptr<collectors::StateRecords> store_;
  std::shared_ptr<const ChangeLog> log_ = std::make_shared<const ChangeLog>();
  bool loaded_ = false;
  bool save_failed_ = false;  // the error shown is a failed save, cleared by the next good one
};

// The log line of a change: `kind=app type=modify name=curl version=7.88.1-10->7.88.1-10+deb12u5`.
std::string describe_change(const ItemChange& change);

}  // namespace hostprint
