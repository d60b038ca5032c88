#pragma once
// One completed scan: what the collectors found, and the views requests need, derived once.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/item_times.hpp"
#include "proto/assets.hpp"
#include "proto/wire.hpp"

namespace hostprint {

struct ListCache;
struct ChangeLog;

struct CollectorStatus {
  std::string name;
  std::chrono::system_clock::time_point last_run{};
  std::chrono::system_clock::time_point last_success{};  // epoch when it never succeeded
  double duration_ms = 0;
  std::size_t item_count = 0;
  bool complete = true;             // the last run produced a result
  std::vector<std::string> errors;  // of the last run
};

// The assets of one scope: the host, or all containers together.
struct ScopeView {
  proto::AssetStatistics counts;
  std::vector<proto::ProcessEntry> process_table;  // num descending, then path by bytes
  // Serialized once per scan, since requests ask for the same things many times over.
  std::string counts_json;
  std::vector<std::string> process_entry_json;  // to_json of each process_table entry
};

struct Snapshot {
  std::uint64_t generation = 0;
  std::chrono::system_clock::time_point completed_at{};
  double scan_duration_ms = 0;
  proto::AssetSet assets;  // every kind's items, as the asset tables declare them
  ScopeView host;
  ScopeView container;
  proto::RaspStatistics rasp;
  std::vector<CollectorStatus> collectors;
  std::shared_ptr<ListCache> list_cache;  // the lists' sorted items, made on first use
  std::shared_ptr<const ItemTimesMap> item_times;  // first seen and last changed, by identity
  std::shared_ptr<const ChangeLog> changes;        // the change history as this scan left it
  // The item-times record's errors (reading, writing, its bound) of the last scan that had any
  // since the agent started, and when: /status shows them.
  std::string item_times_error;
  std::chrono::system_clock::time_point item_times_error_at{};
  // GET /metrics in both formats, rendered by the scanner once the rest is built.
  std::string metrics_text;
  std::string metrics_openmetrics;
};

// Derives the counts and the process table from the assets.
std::shared_ptr<Snapshot> build_snapshot(proto::AssetSet assets,
                                         std::vector<CollectorStatus> statuses,
                                         std::uint64_t generation, double scan_duration_ms);

// Executable paths are bytes; JSON needs UTF-8, so invalid sequences become U+FFFD.
std::string to_valid_utf8(std::string_view bytes);

}  // namespace hostprint
