#pragma once
// The host's name and address, which every list item carries (lists.md's host fields).
#include <string>
#include <string_view>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

// The interface of the default route in /proc/net/route's text; "" when there is none.
std::string default_route_interface(std::string_view route_text);

class HostIdentityCollector final : public Collector {
 public:
  std::string_view name() const override { return "host_identity"; }
  KindSet writes() const override { return {}; }
  Outcome collect(const ScanContext& context) override;
  void publish(proto::AssetSet& found) const override;
  std::size_t item_count() const override { return 2; }

 private:
  std::string host_name_;
  std::string host_ip_;
};

}  // namespace hostprint::collectors
