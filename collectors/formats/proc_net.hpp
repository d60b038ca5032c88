#pragma once
// The socket tables of /proc/net/{tcp,tcp6,udp,udp6} and the replies of a netlink sock_diag dump.
#include <cstddef>
#include <array>
#include <cstdint>
#include <string>
#include <span>
#include <string_view>
#include <vector>

#include "proto/assets.hpp"

namespace hostprint::collectors {

using proto::ListeningPort;
using proto::PortType;

inline constexpr std::size_t proc_net_max_line = 4096;

// The kernel's socket states (include/net/tcp_states.h), shared by TCP and UDP sockets.
inline constexpr std::uint8_t socket_state_established = 1;
inline constexpr std::uint8_t socket_state_close = 7;  // an unconnected UDP socket
inline constexpr std::uint8_t socket_state_listen = 10;

// Whether a socket of `type` in kernel `state` with local `port` is an open port: TCP in LISTEN,
// UDP bound and unconnected (what `ss -l` shows as UNCONN).
constexpr bool is_open_port(PortType type, std::uint8_t state, std::uint16_t port) {
  if (port == 0) return false;
  bool tcp = type == PortType::tcp || type == PortType::tcp6;
  return state == (tcp ? socket_state_listen : socket_state_close);
}

struct ProcNetEntries {
  std::vector<ListeningPort> ports;  // distinct, sorted
  std::size_t malformed_lines = 0;
};

// Parses one of /proc/net/{tcp,tcp6,udp,udp6}; `type` says which.
ProcNetEntries parse_proc_net(std::string_view text, PortType type);

// A socket's local address (network byte order; IPv4 in the first 4 bytes) and inode.
struct SocketIdentity {
  std::array<std::uint8_t, 16> address{};
  std::uint64_t inode = 0;  // 0: not known
};

// The address as text ("0.0.0.0", "::1", ...).
std::string address_text(const SocketIdentity& socket, PortType type);
// 0.0.0.0 or ::.
bool is_wildcard(const SocketIdentity& socket);

// One line of a /proc/net/{tcp,...} file: "sl local_address rem_address st ... inode ...".
struct ProcNetLine {
  enum class Kind : std::uint8_t { socket, header, blank, malformed };
  Kind kind = Kind::malformed;
  std::uint16_t local_port = 0;  // for Kind::socket
  std::uint8_t state = 0;        // for Kind::socket
  SocketIdentity socket;         // for Kind::socket; inode 0 when the line is cut before it
};
ProcNetLine parse_proc_net_line(std::string_view line, PortType type);

// One datagram of a sock_diag dump's reply (a run of netlink messages), parsed.
struct SockDiagReply {
  std::vector<ListeningPort> ports;  // open ports among the socket records, in arrival order
  std::vector<SocketIdentity> sockets;  // the socket of each of `ports`, in the same order
  std::size_t records = 0;           // socket records looked at
  std::size_t malformed = 0;         // messages cut short, of a wrong length or wrong family
  bool done = false;                 // the dump is over (NLMSG_DONE, or an error)
  bool capped = false;               // stopped after `max_records` socket records
  int error = 0;                     // errno from NLMSG_ERROR or a failed NLMSG_DONE
};
// Messages of another sequence number are skipped; at most `max_records` socket records are read.
SockDiagReply parse_sock_diag_reply(std::span<const std::byte> datagram, std::uint32_t seq,
                                    PortType type, std::size_t max_records);

}  // namespace hostprint::collectors
