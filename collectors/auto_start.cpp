#include "collectors/auto_start.hpp"

#include "collectors/inventory.hpp"

namespace hostprint::collectors {

std::string_view to_string(AutoStartType type) {
  switch (type) {
    case AutoStartType::service: return "service";
    case AutoStartType::scheduled_task: return "scheduled_task";
    case AutoStartType::preloaded_library: return "preloaded_library";
    case AutoStartType::startup_folder: return "startup_folder";
  }
  return "service";
}

Outcome AutoStartCollector::collect(const ScanContext&) { return {}; }

void AutoStartCollector::publish(Inventory& inventory) const { inventory.auto_start_items = items_; }

}  // namespace hostprint::collectors
