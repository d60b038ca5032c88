#include "agent/snapshot.hpp"

#include <algorithm>
#include <unordered_map>

#include "agent/lists.hpp"
#include "proto/query.hpp"

namespace hostprint {
namespace {

// A statistics table for the API: num descending, then key by bytes, keys valid UTF-8.
std::vector<proto::ProcessEntry> ordered_table(std::vector<proto::StatisticsEntry> entries) {
  std::vector<proto::ProcessEntry> table;
  table.reserve(entries.size());
  for (auto& e : entries) table.push_back({to_valid_utf8(e.key), e.num});
  auto order = [](const auto& a, const auto& b) {
    return a.num != b.num ? a.num > b.num : a.path < b.path;  // std::string compares bytes
  };
  std::sort(table.begin(), table.end(), order);
  // Two byte paths that differ only in invalid bytes map to one text; merge them.
  std::vector<proto::ProcessEntry> merged;
  merged.reserve(table.size());
  std::unordered_map<std::string, std::size_t> index;
  for (auto& e : table) {
    auto [it, fresh] = index.emplace(e.path, merged.size());
    if (fresh)
      merged.push_back(std::move(e));
    else
      merged[it->second].num += e.num;
  }
  if (merged.size() != table.size()) std::sort(merged.begin(), merged.end(), order);
  return merged;
}

}  // namespace

std::string to_valid_utf8(std::string_view bytes) {
  if (proto::is_valid_text(bytes)) return std::string(bytes);
  std::string out;
  std::size_t i = 0;
  while (i < bytes.size()) {
    // Take the longest valid sequence starting here (1 to 4 bytes), else one replacement.
    bool taken = false;
    for (std::size_t len = 1; len <= 4 && i + len <= bytes.size(); ++len) {
      auto piece = bytes.substr(i, len);
      if (proto::is_valid_text(piece)) {
        out.append(piece);
        i += len;
        taken = true;
        break;
      }
    }
    if (!taken) {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

std::shared_ptr<Snapshot> build_snapshot(proto::AssetSet assets,
                                         std::vector<CollectorStatus> statuses,
                                         std::uint64_t generation, double scan_duration_ms) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation;
  snapshot->completed_at = std::chrono::system_clock::now();
  snapshot->scan_duration_ms = scan_duration_ms;
  snapshot->collectors = std::move(statuses);
  snapshot->list_cache = make_list_cache();
  for (const bool containers : {false, true}) {
    ScopeView& view = containers ? snapshot->container : snapshot->host;
    view.counts = proto::count_assets(assets, containers);
    view.process_table =
        ordered_table(proto::statistics(assets.of<proto::ProcessInfo>(), containers));
    view.counts_json = proto::to_json(view.counts);
    view.process_entry_json.reserve(view.process_table.size());
    for (const auto& entry : view.process_table)
      view.process_entry_json.push_back(proto::to_json(entry));
  }
  bool protected_any = false;
  for (const auto& part : assets.of<proto::ProtectedProcess>())
    if (part.items && !part.items->empty()) protected_any = true;
  snapshot->rasp.protect_host_num = protected_any ? 1 : 0;
  snapshot->rasp.anti_tampering_num = proto::clamp_count(assets.blocked_attacks);
  snapshot->assets = std::move(assets);
  return snapshot;
}

}  // namespace hostprint
