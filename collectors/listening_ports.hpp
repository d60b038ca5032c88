#pragma once
// Open ports: TCP sockets in LISTEN and bound, unconnected UDP sockets, of the agent's network
// namespace, through netlink sock_diag with /proc/net/{tcp,tcp6,udp,udp6} as fallback.
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

enum class PortType : std::uint8_t { tcp, tcp6, udp, udp6 };
std::string_view to_string(PortType type);

struct ListeningPort {
  PortType type = PortType::tcp;
  std::uint16_t port = 0;
  auto operator<=>(const ListeningPort&) const = default;
};

struct ProcNetEntries {
  std::vector<ListeningPort> ports;  // distinct, sorted
  std::size_t malformed_lines = 0;
};

// Parses one of /proc/net/{tcp,tcp6,udp,udp6}; `type` says which.
ProcNetEntries parse_proc_net(std::string_view text, PortType type);

class ListeningPortsCollector final : public Collector {
 public:
  std::string_view name() const override { return "listening_ports"; }
  Outcome collect(const ScanContext& context) override;
  void publish(Inventory& inventory) const override;
  std::size_t item_count() const override { return ports_->size(); }

 private:
  std::shared_ptr<const std::vector<ListeningPort>> ports_ =
      std::make_shared<std::vector<ListeningPort>>();
};

}  // namespace hostprint::collectors
