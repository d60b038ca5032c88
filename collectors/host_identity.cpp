#include "collectors/host_identity.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/utsname.h>

#include "collectors/io/bounded_read.hpp"

namespace hostprint::collectors {
namespace {

std::string_view first_line(std::string_view text) {
  text = text.substr(0, text.find('\n'));
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
    text.remove_suffix(1);
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  return text;
}

// The first IPv4 address of `interface`; "" when it has none.
std::string ipv4_of(const std::string& interface) {
  ifaddrs* list = nullptr;
  if (interface.empty() || ::getifaddrs(&list) != 0) return {};
  std::string out;
  for (auto* a = list; a && out.empty(); a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET || !a->ifa_name ||
        interface != a->ifa_name)
      continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* in = reinterpret_cast<const sockaddr_in*>(a->ifa_addr);
    if (::inet_ntop(AF_INET, &in->sin_addr, text, sizeof text) &&
        (ntohl(in->sin_addr.s_addr) >> 24) != 127)
      out = text;
  }
  ::freeifaddrs(list);
  return out;
}

}  // namespace

std::string default_route_interface(std::string_view text) {
  // Iface Destination Gateway Flags RefCnt Use Metric Mask ...; the lowest metric wins.
  std::string best;
  long best_metric = -1;
  bool header = true;
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (std::exchange(header, false)) continue;
    std::string_view fields[8];
    std::size_t n = 0;
    while (n < 8) {
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      if (line.empty()) break;
      const auto stop = line.find_first_of(" \t");
      fields[n++] = line.substr(0, stop);
      line = stop == std::string_view::npos ? std::string_view{} : line.substr(stop);
    }
    if (n < 8 || fields[1] != "00000000" || fields[7] != "00000000") continue;
    unsigned long flags = 0;
    long metric = 0;
    try {
      flags = std::stoul(std::string(fields[3]), nullptr, 16);
      metric = std::stol(std::string(fields[6]));
    } catch (const std::exception&) {
      continue;
    }
    if (!(flags & RTF_UP)) continue;
    if (best_metric < 0 || metric < best_metric) {
      best = std::string(fields[0]);
      best_metric = metric;
    }
  }
  return best;
}

Outcome HostIdentityCollector::collect(const ScanContext& context) {
  Outcome outcome;
  // The root's etc/hostname names the host it describes; the kernel's name otherwise.
  std::string name;
  auto read = read_in_root(context.root, "etc/hostname", 4096);
  if (read.status == ReadStatus::ok) name = std::string(first_line(read.file.text));
  if (name.empty()) {
    utsname uts{};
    if (::uname(&uts) == 0) name = uts.nodename;
  }
  auto route = read_bounded(context.proc / "net/route", 1 << 20);
  std::string ip;
  if (route.status == ReadStatus::ok) ip = ipv4_of(default_route_interface(route.file.text));
  host_name_ = std::move(name);
  host_ip_ = std::move(ip);
  return outcome;
}

void HostIdentityCollector::publish(proto::AssetSet& found) const {
  found.host_name = host_name_;
  found.host_ip = host_ip_;
}

}  // namespace hostprint::collectors
