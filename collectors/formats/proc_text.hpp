#pragma once
// The text of /proc/<pid> files: cmdline, stat, fd links, net/{tcp,tcp6,udp,udp6} lines.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "proto/assets.hpp"

namespace hostprint::collectors {

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


// Splits /proc/<pid>/cmdline (NUL-separated, maybe NUL-padded). A program that rewrote its title
// into one space-separated string (nginx: "nginx: master process ...") comes out as one argument.
std::vector<std::string> split_cmdline(std::string_view text);

// The parent pid from /proc/<pid>/stat: the second field after the last ')'.
std::optional<int> parse_stat_ppid(std::string_view stat);

// The start time (clock ticks after boot, field 22) in the text of /proc/<pid>/stat.
std::optional<std::uint64_t> parse_stat_start_ticks(std::string_view stat_text);

// "/usr/bin/foo (deleted)" -> "/usr/bin/foo"; other paths unchanged.
std::string_view strip_deleted_suffix(std::string_view exe);

// One socket of /proc/net/{tcp,tcp6,udp,udp6}.
struct ProcNetSocket {
  std::uint16_t local_port = 0;
  std::uint8_t state = 0;
  std::uint64_t inode = 0;
};

// A socket line (inode is the 10th field); nothing for the header, blank or malformed lines.
std::optional<ProcNetSocket> parse_proc_net_socket(std::string_view line);

// "socket:[12345]" -> 12345.
std::optional<std::uint64_t> parse_socket_link(std::string_view link);

// Whitespace-separated words of a line.
std::vector<std::string> split_ws(std::string_view line);

}  // namespace hostprint::collectors
