// /proc/net/{tcp,tcp6,udp,udp6} text, and sock_diag netlink replies (the first byte chooses the
// socket type).
#include <algorithm>

#include "collectors/formats/proc_net.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;
using collectors::PortType;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const PortType type = static_cast<PortType>(data[0] % 4);
  auto text = fuzz::text_of(data + 1, size - 1);
  auto entries = collectors::parse_proc_net(text, type);
  fuzz::require(std::is_sorted(entries.ports.begin(), entries.ports.end()), "ports not sorted");
  (void)collectors::parse_proc_net_line(text.substr(0, text.find('\n')), type);
  auto reply = collectors::parse_sock_diag_reply(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(data + 1), size - 1), 7, type,
      64);
  fuzz::require(reply.records <= 64 && reply.ports.size() <= reply.records, "records overrun");
  return 0;
}
