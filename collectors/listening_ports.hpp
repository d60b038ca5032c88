#pragma once
// Open ports: TCP sockets in LISTEN and bound, unconnected UDP sockets, of the agent's network
// namespace, through netlink sock_diag with /proc/net/{tcp,tcp6,udp,udp6} as fallback.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"
#include "collectors/formats/proc_text.hpp"

namespace hostprint::collectors {


struct ProcNetEntries {
  std::vector<ListeningPort> ports;  // distinct, sorted
  std::size_t malformed_lines = 0;
};

// Parses one of /proc/net/{tcp,tcp6,udp,udp6}; `type` says which.
ProcNetEntries parse_proc_net(std::string_view text, PortType type);

// One line of a /proc/net/{tcp,...} file: "sl local_address rem_address st ...".
struct ProcNetLine {
  enum class Kind : std::uint8_t { socket, header, blank, malformed };
  Kind kind = Kind::malformed;
  std::uint16_t local_port = 0;  // for Kind::socket
  std::uint8_t state = 0;        // for Kind::socket
};
ProcNetLine parse_proc_net_line(std::string_view line, PortType type);

// One datagram of a sock_diag dump's reply (a run of netlink messages), parsed.
struct SockDiagReply {
  std::vector<ListeningPort> ports;  // open ports among the socket records, in arrival order
  std::size_t records = 0;           // socket records looked at
  std::size_t malformed = 0;         // messages cut short, of a wrong length or wrong family
  bool done = false;                 // the dump is over (NLMSG_DONE, or an error)
  bool capped = false;               // stopped after `max_records` socket records
  int error = 0;                     // errno from NLMSG_ERROR or a failed NLMSG_DONE
};
// Messages of another sequence number are skipped; at most `max_records` socket records are read.
SockDiagReply parse_sock_diag_reply(std::span<const std::byte> datagram, std::uint32_t seq,
                                    PortType type, std::size_t max_records);

// Where the ports were read from. `netlink` falls back to /proc/net per socket kind when the
// kernel cannot answer (no netlink, no inet_diag or udp_diag); `proc_net` reads only the files.
enum class PortsSource : std::uint8_t { netlink, proc_net };

struct ListeningPortsLimits {
  std::size_t max_sockets = 1'000'000;  // socket records read, over all four kinds
  std::size_t max_proc_net_bytes = std::size_t{256} * 1024 * 1024;  // read of each /proc/net file
  std::size_t max_netlink_bytes = std::size_t{256} * 1024 * 1024;   // replies to each netlink dump
  std::chrono::milliseconds netlink_timeout{5000};  // longest wait for one netlink reply
};

class ListeningPortsCollector final : public ListCollector<ListeningPort> {
 public:
  explicit ListeningPortsCollector(PortsSource source = PortsSource::netlink,
                                   ListeningPortsLimits limits = {})
      : source_(source), limits_(limits) {}

  std::string_view name() const override { return "listening_ports"; }
  Outcome collect(const ScanContext& context) override;

  // What the last collect() read each kind from (a fallback shows as proc_net).
  PortsSource source_used(PortType type) const {
    return sources_used_[static_cast<std::size_t>(type)];
  }

 private:
  PortsSource source_;
  ListeningPortsLimits limits_;
  std::array<PortsSource, 4> sources_used_{};
};

}  // namespace hostprint::collectors
