#include "collectors/formats/proc_net.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>

#include "collectors/io/bounded_read.hpp"

namespace hostprint::collectors {
namespace {

constexpr std::size_t netlink_header_bytes = NLMSG_ALIGN(sizeof(nlmsghdr));

bool is_v6(PortType type) {
  return type == PortType::tcp6 || type == PortType::udp6;
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Exactly `digits` hex digits (at most 8).
std::optional<std::uint32_t> parse_hex(std::string_view text, std::size_t digits) {
  if (text.size() != digits) return std::nullopt;
  std::uint32_t value = 0;
  for (char c : text) {
    int d = hex_digit(c);
    if (d < 0) return std::nullopt;
    value = (value << 4) | static_cast<std::uint32_t>(d);
  }
  return value;
}

bool all_hex(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return hex_digit(c) >= 0; });
}

// "0100007F:0016" (IPv4) or 32 hex digits and a port (IPv6): the port, and the address into
// `address` when given. The kernel prints the address as 32-bit words in its own byte order.
std::optional<std::uint16_t> parse_endpoint(std::string_view text, PortType type,
                                            std::array<std::uint8_t, 16>* address = nullptr) {
  std::size_t address_digits = is_v6(type) ? 32 : 8;
  if (text.size() != address_digits + 5 || text[address_digits] != ':') return std::nullopt;
  if (!all_hex(text.substr(0, address_digits))) return std::nullopt;
  auto port = parse_hex(text.substr(address_digits + 1), 4);
  if (!port) return std::nullopt;
  if (address)
    for (std::size_t word = 0; word < address_digits / 8; ++word) {
      std::uint32_t value = *parse_hex(text.substr(word * 8, 8), 8);
      std::memcpy(address->data() + word * 4, &value, 4);
    }
  return static_cast<std::uint16_t>(*port);
}

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

template <typename T>
T read_struct(std::span<const std::byte> bytes, std::size_t offset = 0) {
  T value;
  std::memcpy(&value, bytes.data() + offset, sizeof value);
  return value;
}

// A negated errno from the kernel, as a positive errno.
int kernel_errno(int negated) {
  return negated == INT_MIN ? EPROTO : -negated;
}

}  // namespace

std::string address_text(const SocketIdentity& socket, PortType type) {
  char text[INET6_ADDRSTRLEN] = {};
  if (!::inet_ntop(is_v6(type) ? AF_INET6 : AF_INET, socket.address.data(), text, sizeof text))
    return {};
  return text;
}

bool is_wildcard(const SocketIdentity& socket) {
  return std::all_of(socket.address.begin(), socket.address.end(),
                     [](std::uint8_t b) { return b == 0; });
}

ProcNetLine parse_proc_net_line(std::string_view line, PortType type) {
  ProcNetLine out;
  if (line.size() > proc_net_max_line) return out;
  bool blank = true;
  for (char c : line) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u >= 0x7f) return out;  // NUL, control, not ASCII
    if (!is_blank(c)) blank = false;
  }
  if (blank) {
    out.kind = ProcNetLine::Kind::blank;
    return out;
  }
  std::string_view fields[10];
  std::size_t count = 0;
  std::size_t i = 0;
  while (count < 10 && i < line.size()) {
    while (i < line.size() && is_blank(line[i])) ++i;
    if (i == line.size()) break;
    std::size_t start = i;
    while (i < line.size() && !is_blank(line[i])) ++i;
    fields[count++] = line.substr(start, i - start);
  }
  if (count >= 1 && fields[0] == "sl") {
    out.kind = ProcNetLine::Kind::header;
    return out;
  }
  if (count < 4) return out;
  // "12:" the slot number
  std::string_view slot = fields[0];
  if (slot.size() < 2 || slot.size() > 11 || slot.back() != ':') return out;
  slot.remove_suffix(1);
  if (!std::all_of(slot.begin(), slot.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return out;
  auto local = parse_endpoint(fields[1], type, &out.socket.address);
  auto remote = parse_endpoint(fields[2], type);
  auto state = parse_hex(fields[3], 2);
  if (!local || !remote || !state) return out;
  if (count == 10) {
    std::uint64_t inode = 0;
    auto [end, ec] = std::from_chars(fields[9].data(), fields[9].data() + fields[9].size(), inode);
    if (ec == std::errc{} && end == fields[9].data() + fields[9].size()) out.socket.inode = inode;
  }
  out.kind = ProcNetLine::Kind::socket;
  out.local_port = *local;
  out.state = static_cast<std::uint8_t>(*state);
  return out;
}

ProcNetEntries parse_proc_net(std::string_view text, PortType type) {
  ProcNetEntries out;
  for_each_line(text, proc_net_max_line, [&](std::string_view line, bool too_long) {
    if (too_long) {
      ++out.malformed_lines;
      return;
    }
    auto parsed = parse_proc_net_line(line, type);
    if (parsed.kind == ProcNetLine::Kind::malformed) {
      ++out.malformed_lines;
    } else if (parsed.kind == ProcNetLine::Kind::socket &&
               is_open_port(type, parsed.state, parsed.local_port)) {
      out.ports.push_back({type, parsed.local_port});
    }
  });
  std::sort(out.ports.begin(), out.ports.end());
  out.ports.erase(std::unique(out.ports.begin(), out.ports.end()), out.ports.end());
  return out;
}

SockDiagReply parse_sock_diag_reply(std::span<const std::byte> datagram, std::uint32_t seq,
                                    PortType type, std::size_t max_records) {
  SockDiagReply out;
  auto family = is_v6(type) ? AF_INET6 : AF_INET;
  std::size_t offset = 0;
  while (datagram.size() - offset >= sizeof(nlmsghdr)) {
    auto header = read_struct<nlmsghdr>(datagram, offset);
    std::size_t left = datagram.size() - offset;
    if (header.nlmsg_len < netlink_header_bytes || header.nlmsg_len > left) {
      ++out.malformed;  // the rest of the datagram cannot be framed
      return out;
    }
    auto payload =
        datagram.subspan(offset + netlink_header_bytes, header.nlmsg_len - netlink_header_bytes);
    offset += std::min<std::size_t>(NLMSG_ALIGN(header.nlmsg_len), left);
    if (header.nlmsg_seq != seq) continue;
    switch (header.nlmsg_type) {
      case NLMSG_DONE:
        out.done = true;
        if (payload.size() >= sizeof(int)) {
          int status = read_struct<int>(payload);
          if (status < 0) out.error = kernel_errno(status);
        }
        return out;
      case NLMSG_ERROR: {
        if (payload.size() < sizeof(int)) {
          ++out.malformed;
          out.done = true;
          out.error = EBADMSG;
          return out;
        }
        int status = read_struct<int>(payload);
        if (status == 0) continue;  // an acknowledgement
        out.done = true;
        out.error = status < 0 ? kernel_errno(status) : EPROTO;
        return out;
      }
      case NLMSG_OVERRUN:
        out.done = true;
        out.error = ENOBUFS;
        return out;
      case SOCK_DIAG_BY_FAMILY: {
        if (out.records >= max_records) {
          out.capped = true;
          return out;
        }
        ++out.records;
        if (payload.size() < sizeof(inet_diag_msg)) {
          ++out.malformed;
          continue;
        }
        auto socket = read_struct<inet_diag_msg>(payload);
        if (socket.idiag_family != family) {
          ++out.malformed;
          continue;
        }
        auto port = ntohs(socket.id.idiag_sport);
        if (is_open_port(type, socket.idiag_state, port)) {
          out.ports.push_back({type, port});
          SocketIdentity identity;
          std::memcpy(identity.address.data(), socket.id.idiag_src, is_v6(type) ? 16 : 4);
          identity.inode = socket.idiag_inode;
          out.sockets.push_back(identity);
        }
        continue;
      }
      default:
        continue;  // NLMSG_NOOP and anything newer
    }
  }
  if (offset < datagram.size()) ++out.malformed;  // trailing bytes shorter than a header
  return out;
}
}  // namespace hostprint::collectors
