#pragma once
// What the agent remembers of each item across scans and restarts: when it was first seen and
// when its fields last changed (lists.md's first_scan_time, record_time and update_time), kept
// in the state folder as one record.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "agent/item_times.hpp"
#include "collectors/collector.hpp"
#include "proto/assets.hpp"

namespace hostprint {

enum class ChangeType : std::uint8_t { add, remove, modify };
std::string_view to_string(ChangeType type);  // "add", "delete", "modify"

// One item of the host that appeared, went or changed between two scans.
struct ItemChange {
  proto::AssetKind kind = 0;
  ChangeType type = ChangeType::add;
  std::string fields;  // encode_fields: as now; as last seen for a removed item
  std::string before;  // a modified item's fields as last seen ("" when not known)
};

class ItemLedger {
 public:
  static constexpr std::size_t max_entries = 1'000'000;
  static constexpr std::size_t max_record_bytes = 256u << 20;
  static constexpr std::string_view record_name = "item-times";

  // Nothing is read until the first update(); `store` null: kept in memory only.
  explicit ItemLedger(std::shared_ptr<collectors::StateRecords> store);

  // The kinds whose host items' changes update() reports (none unless set).
  void report_changes(collectors::KindSet kinds) { reported_ = kinds; }

  // Takes a scan's items: new ones get `now_ms`, changed ones a new changed time, gone ones
  // are forgotten; the record is saved when anything changed. Kinds not in `settled` (no
  // collector of theirs has produced a result yet) keep what was remembered of them. The
  // changes of reported kinds go to `changes`, except on the first scan with no record (the
  // baseline). Returns what went wrong (a corrupt or unwritable record), for the log.
  std::vector<std::string> update(const proto::AssetSet& assets, std::int64_t now_ms,
                                  std::vector<ItemChange>* changes = nullptr,
                                  collectors::KindSet settled = collectors::KindSet().set());

  // The times of the items of the last update, shared with the snapshots.
  std::shared_ptr<const ItemTimesMap> times() const { return times_; }

  // The record's text, and back (exposed for tests).
  static std::string serialize(const ItemTimesMap& times);
  static ItemTimesMap parse(std::string_view text, std::string& error);

  // Every declared field of an item as "name=value" joined by 0x1f (values escaped), and one
  // field's value back out of that text.
  template <class Item>
  static std::string encode_fields(const Item& item);
  static std::optional<std::string> field_of(std::string_view fields, std::string_view name);
  // The names of the fields whose values differ between two encodings (names in both only).
  static std::vector<std::string> changed_fields(std::string_view before, std::string_view after);

 private:
  std::shared_ptr<collectors::StateRecords> store_;
  std::shared_ptr<const ItemTimesMap> times_ = std::make_shared<const ItemTimesMap>();
  bool loaded_ = false;
  bool baseline_ = false;  // no record was there to compare the first scan with
  collectors::KindSet reported_;
};

void append_escaped_value(std::string& out, const proto::FieldValue& value);

template <class Item>
std::string ItemLedger::encode_fields(const Item& item) {
  std::string out;
  for (const auto& field : proto::table_of<Item>().fields) {
    if (!field.tracked) continue;  // what changes without the item changing is not history
    if (!out.empty()) out += '\x1f';
    out += field.name;
    out += '=';
    append_escaped_value(out, field.get(item));
  }
  return out;
}

}  // namespace hostprint
