#pragma once
// Every collector, by name, and the order they run in, derived from what each reads and writes.
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint {

struct CollectorEntry {
  std::string_view name;
  std::unique_ptr<collectors::Collector> (*make)(const collectors::CollectorConfig& config);
};

// Adding a collector is one entry here and its own files.
std::span<const CollectorEntry> collector_registry();
std::unique_ptr<collectors::Collector> make_collector(std::string_view name,
                                                      const collectors::CollectorConfig& config);

// Indexes into `all` such that each collector comes after every other collector that writes a
// kind it reads; ties keep the given order. Throws std::logic_error on a cycle.
std::vector<std::size_t> run_order(std::span<const std::unique_ptr<collectors::Collector>> all);

}  // namespace hostprint
