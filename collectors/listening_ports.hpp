#pragma once
// Open ports: TCP sockets in LISTEN and bound, unconnected UDP sockets, of the agent's network
// namespace, through netlink sock_diag with /proc/net/{tcp,tcp6,udp,udp6} as fallback.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"
#include "collectors/formats/proc_net.hpp"
#include "collectors/socket_owners.hpp"

namespace hostprint::collectors {

// Where the ports were read from. `netlink` falls back to /proc/net per socket kind when the
// kernel cannot answer (no netlink, no inet_diag or udp_diag); `proc_net` reads only the files.
enum class PortsSource : std::uint8_t { netlink, proc_net };

struct ListeningPortsLimits {
  std::size_t max_sockets = 1'000'000;  // socket records read, over all four kinds
  std::size_t max_proc_net_bytes = std::size_t{256} * 1024 * 1024;  // read of each /proc/net file
  std::size_t max_netlink_bytes = std::size_t{256} * 1024 * 1024;   // replies to each netlink dump
  std::chrono::milliseconds netlink_timeout{5000};  // longest wait for one netlink reply
  // Processes whose open files one scan reads to find the ports' owners: a look at every process
  // (about 30 us each) is spread over scans on a host with many of them (10,000: ten scans).
  std::size_t owner_reads_per_scan = 1024;
};

class ListeningPortsCollector final : public ListCollector<ListeningPort> {
 public:
  explicit ListeningPortsCollector(PortsSource source = PortsSource::netlink,
                                   ListeningPortsLimits limits = {})
      : source_(source), limits_(limits) {}

  std::string_view name() const override { return "listening_ports"; }
  // The process table, to name the process that owns each port.
  KindSet reads() const override { return kinds<ProcessInfo>(); }
  Outcome collect(const ScanContext& context) override;

  // How many scans looked at every process's open files to find the ports' owners.
  std::size_t owner_sweeps() const { return owners_.full_sweeps(); }

  // What the last collect() read each kind from (a fallback shows as proc_net).
  PortsSource source_used(PortType type) const {
    return sources_used_[static_cast<std::size_t>(type)];
  }

 private:
  std::vector<ListeningPort> merge_sockets(const std::vector<ListeningPort>& ports,
                                           const std::vector<SocketIdentity>& sockets,
                                           const ScanContext& context, Outcome& outcome);

  PortsSource source_;
  ListeningPortsLimits limits_;
  std::array<PortsSource, 4> sources_used_{};
  SocketOwners owners_;
};

}  // namespace hostprint::collectors
