#pragma once
// Installed software packages: dpkg, the RPM database and Alpine's apk database, under the root.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

struct SoftwarePackage {
  std::string manager;  // "dpkg", "rpm" or "apk"
  std::string name;
  std::string version;       // as the manager writes it (epoch:version-release for rpm)
  std::string architecture;  // may be empty where the manager records none
  friend bool operator==(const SoftwarePackage&, const SoftwarePackage&) = default;
};

class SoftwareCollector final : public Collector {
 public:
  std::string_view name() const override { return "software"; }
  Outcome collect(const ScanContext& context) override;
  void publish(Inventory& inventory) const override;
  std::size_t item_count() const override { return packages_->size(); }

 private:
  // Distinct by (manager, name, architecture), sorted.
  std::shared_ptr<const std::vector<SoftwarePackage>> packages_ =
      std::make_shared<std::vector<SoftwarePackage>>();
};

}  // namespace hostprint::collectors
