#pragma once
// Installed software packages: dpkg, the RPM database and Alpine's apk database, under the root.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

// Sorted by (manager, name, architecture), one per key: the first in `packages` of each is kept.
std::vector<SoftwarePackage> distinct_packages(std::vector<SoftwarePackage> packages);

class SoftwareCollector final : public ListCollector<SoftwarePackage> {
 public:
  std::string_view name() const override { return "software"; }
  Outcome collect(const ScanContext& context) override;

 private:
  // The last whole reading of each source ("dpkg", "apk", an rpm database folder), as positions
  // in the list last published.
  std::map<std::string, std::vector<std::uint32_t>> by_source_;
};

}  // namespace hostprint::collectors
