#pragma once
// When the agent first saw an item and when its fields last changed (agent/item_ledger).
#include <cstdint>
#include <string>
#include <unordered_map>

namespace hostprint {

struct ItemTimes {
  std::int64_t first_seen_ms = 0;
  std::int64_t changed_ms = 0;  // when its fields were last seen to differ (first seen before)
  std::uint64_t digest = 0;     // of its fields, as last seen
  // Kinds whose changes are reported (ItemLedger::report_changes), host items only: every field
  // as last seen (ItemLedger::encode_fields), so a change names what it was. Else empty.
  std::string fields = {};
};

// By proto::identity_of: kind, scope and key.
using ItemTimesMap = std::unordered_map<std::string, ItemTimes>;

}  // namespace hostprint
