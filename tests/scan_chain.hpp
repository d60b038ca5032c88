#pragma once
// Runs collectors one after another the way the scanner does: each reads what the earlier ones
// published, through the inputs it declares.
#include "collectors/collector.hpp"

namespace hostprint::test {

struct ScanChain {
  collectors::ScanContext context;  // root, proc and deadline for every run
  proto::AssetSet found;

  collectors::Outcome run(collectors::Collector& collector) {
    auto own = context;
    own.found = &found;
    own.readable = collector.reads();
    auto outcome = collector.collect(own);
    collector.publish(found);
    return outcome;
  }
  // Publishes a collector's last good result without running it again.
  void add(const collectors::Collector& collector) { collector.publish(found); }
};

// The items of one part of a kind ("" the host's), or null when there is no such part.
template <class Item>
std::shared_ptr<const std::vector<Item>> part_of(const proto::AssetSet& found,
                                                std::string_view container_id = {}) {
  for (const auto& part : found.of<Item>())
    if (part.container_id == container_id) return part.items;
  return nullptr;
}

}  // namespace hostprint::test
