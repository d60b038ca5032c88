#include "collectors/software.hpp"

#include "collectors/inventory.hpp"

namespace hostprint::collectors {

Outcome SoftwareCollector::collect(const ScanContext&) { return {}; }

void SoftwareCollector::publish(Inventory& inventory) const { inventory.software = packages_; }

}  // namespace hostprint::collectors
