#include "collectors/listening_ports.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <cerrno>
#include <climits>
#include <cstring>
#include <exception>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>

#include "collectors/formats/proc_net.hpp"
#include "collectors/io/unique_fd.hpp"

namespace hostprint::collectors {
namespace {

constexpr std::size_t netlink_first_buffer = std::size_t{64} * 1024;
constexpr std::size_t netlink_max_datagram = std::size_t{4} * 1024 * 1024;
constexpr std::size_t proc_net_chunk = std::size_t{64} * 1024;

struct SocketKind {
  PortType type;
  std::uint8_t family;
  std::uint8_t protocol;
  std::uint8_t state;  // the one the dump asks for
  const char* file;    // under /proc/net
};

constexpr SocketKind socket_kinds[] = {
    {PortType::tcp, AF_INET, IPPROTO_TCP, socket_state_listen, "tcp"},
    {PortType::tcp6, AF_INET6, IPPROTO_TCP, socket_state_listen, "tcp6"},
    {PortType::udp, AF_INET, IPPROTO_UDP, socket_state_close, "udp"},
    {PortType::udp6, AF_INET6, IPPROTO_UDP, socket_state_close, "udp6"},
};

using Fd = UniqueFd;

std::string errno_text(int err) {
  return std::system_category().message(err);
}

// Splits a stream of chunks into lines, keeping at most `max_line` bytes of one line.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line) : max_line_(max_line) {}

  // Calls on_line(line, too_long) for each complete line; returns false when on_line did.
  template <typename F>
  bool feed(std::string_view chunk, F&& on_line) {
    while (!chunk.empty()) {
      auto nl = chunk.find('\n');
      std::string_view part = chunk.substr(0, nl);
      if (nl != std::string_view::npos && pending_.empty() && !pending_too_long_ &&
          part.size() <= max_line_) {
        if (!on_line(part, false)) return false;
      } else {
        keep(part);
        if (nl == std::string_view::npos) return true;
        if (!on_line(std::string_view(pending_), pending_too_long_)) return false;
        pending_.clear();
        pending_too_long_ = false;
      }
      chunk = chunk.substr(nl + 1);
    }
    return true;
  }

  // The last line, when the stream did not end with '\n'.
  template <typename F>
  void finish(F&& on_line) {
    if (!pending_.empty() || pending_too_long_)
      on_line(std::string_view(pending_), pending_too_long_);
    pending_.clear();
    pending_too_long_ = false;
  }

 private:
  void keep(std::string_view part) {
    std::size_t room = max_line_ - pending_.size();
    if (part.size() > room) pending_too_long_ = true;
    pending_.append(part.substr(0, std::min(room, part.size())));
  }

  std::size_t max_line_;
  std::string pending_;
  bool pending_too_long_ = false;
};

// The state of one collect().
struct Run {
  const ScanContext& context;
  const ListeningPortsLimits& limits;
  Outcome& outcome;
  std::vector<ListeningPort> ports;
  std::vector<SocketIdentity> sockets;  // of each of `ports`
  std::size_t records = 0;  // against limits.max_sockets
  bool capped = false;

  std::size_t budget() const { return limits.max_sockets - records; }
  void hit_cap() {
    capped = true;
    outcome.error("more than " + std::to_string(limits.max_sockets) +
                  " sockets; the rest were not read");
  }
  void deadline() {
    outcome.fail("deadline passed before all sockets were read");
  }
};

enum class DumpResult { ok, unavailable, failed };

bool set_receive_timeout(int fd, const Run& run) {
  using namespace std::chrono;
  auto remaining = run.context.deadline - steady_clock::now();
  auto wait = std::min<steady_clock::duration>(remaining, run.limits.netlink_timeout);
  auto micros = std::max<std::int64_t>(duration_cast<microseconds>(wait).count(), 1000);
  timeval tv{};  // zero would mean no timeout at all
  tv.tv_sec = static_cast<time_t>(micros / 1'000'000);
  tv.tv_usec = static_cast<suseconds_t>(micros % 1'000'000);
  return ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0;
}

// Dumps one kind of socket over NETLINK_SOCK_DIAG into run.ports. `unavailable` means the kernel
// cannot answer this way and nothing was read, so /proc/net can stand in.
DumpResult dump_netlink(Run& run, const SocketKind& kind, std::uint32_t seq) {
  std::string what = "netlink sock_diag " + std::string(to_string(kind.type));
  Fd fd(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (fd.get() < 0) return DumpResult::unavailable;

  struct {
    nlmsghdr header;
    inet_diag_req_v2 body;
  } request{};
  request.header.nlmsg_len = sizeof request;
  request.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.header.nlmsg_seq = seq;
  request.body.sdiag_family = kind.family;
  request.body.sdiag_protocol = kind.protocol;
  request.body.idiag_states = 1u << kind.state;
  // Connected to the kernel, the socket refuses messages that other processes send to it.
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) != 0)
    return DumpResult::unavailable;
  ssize_t sent;
  do {
    sent = ::send(fd.get(), &request, sizeof request, 0);
  } while (sent < 0 && errno == EINTR);
  if (sent != static_cast<ssize_t>(sizeof request)) return DumpResult::unavailable;

  std::vector<std::byte> buffer(netlink_first_buffer);
  std::size_t records = 0;
  std::size_t malformed = 0;
  std::size_t received = 0;
  auto report_malformed = [&] {
    if (malformed > 0)
      run.outcome.error(what + ": " + std::to_string(malformed) + " malformed messages skipped");
  };
  for (;;) {
    if (run.context.expired()) {
      run.deadline();
      return DumpResult::failed;
    }
    if (!set_receive_timeout(fd.get(), run)) {
      run.outcome.fail(what + ": setting the receive timeout: " + errno_text(errno));
      return DumpResult::failed;
    }
    // Learn the datagram's size first, so that none is cut short.
    sockaddr_nl sender{};
    iovec none{nullptr, 0};
    msghdr peek{};
    peek.msg_name = &sender;
    peek.msg_namelen = sizeof sender;
    peek.msg_iov = &none;
    peek.msg_iovlen = 1;
    ssize_t size = ::recvmsg(fd.get(), &peek, MSG_PEEK | MSG_TRUNC);
    if (size < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) {
        if (run.context.expired()) {
          run.deadline();
        } else {
          run.outcome.fail(what + ": no reply within " +
                           std::to_string(run.limits.netlink_timeout.count()) + " ms");
        }
        return DumpResult::failed;
      }
      if (records == 0) return DumpResult::unavailable;
      run.outcome.fail(what + ": " + errno_text(err));
      return DumpResult::failed;
    }
    if (static_cast<std::size_t>(size) > netlink_max_datagram) {
      run.outcome.fail(what + ": a reply of " + std::to_string(size) + " bytes is too large");
      return DumpResult::failed;
    }
    if (static_cast<std::size_t>(size) > buffer.size())
      buffer.resize(static_cast<std::size_t>(size));
    iovec data{buffer.data(), buffer.size()};
    msghdr message{};
    message.msg_name = &sender;
    message.msg_namelen = sizeof sender;
    message.msg_iov = &data;
    message.msg_iovlen = 1;
    ssize_t got;
    do {
      got = ::recvmsg(fd.get(), &message, MSG_DONTWAIT);
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
      run.outcome.fail(what + ": " + errno_text(errno));
      return DumpResult::failed;
    }
    if (message.msg_flags & MSG_TRUNC) {
      run.outcome.fail(what + ": a reply was cut short");
      return DumpResult::failed;
    }
    received += static_cast<std::size_t>(got);
    if (sender.nl_pid != 0) continue;  // not from the kernel
    if (received > run.limits.max_netlink_bytes) {
      report_malformed();
      run.outcome.error(what + ": the replies exceed " +
                        std::to_string(run.limits.max_netlink_bytes) +
                        " bytes; the rest were not read");
      return DumpResult::ok;
    }

    auto reply = parse_sock_diag_reply(std::span(buffer.data(), static_cast<std::size_t>(got)), seq,
                                       kind.type, run.budget());
    records += reply.records;
    malformed += reply.malformed;
    run.records += reply.records;
    run.ports.insert(run.ports.end(), reply.ports.begin(), reply.ports.end());
    run.sockets.insert(run.sockets.end(), reply.sockets.begin(), reply.sockets.end());
    if (reply.capped) {
      report_malformed();
      run.hit_cap();
      return DumpResult::ok;
    }
    if (reply.error != 0) {
      // An error before any socket is the kernel declining the request (no inet_diag, no
      // udp_diag: ENOENT); one in the middle of a dump loses sockets.
      if (records == 0 && malformed == 0) return DumpResult::unavailable;
      report_malformed();
      run.outcome.fail(what + ": the dump failed: " + errno_text(reply.error));
      return DumpResult::failed;
    }
    if (reply.done) {
      report_malformed();
      return DumpResult::ok;
    }
  }
}

// The /proc/net of the calling thread: /proc/net is the thread group leader's, which differs
// from this thread's after a setns() or unshare() in this thread.
std::filesystem::path proc_net_dir(const ScanContext& context) {
  std::error_code ec;
  auto thread_net = context.proc / "thread-self/net";
  if (std::filesystem::is_directory(thread_net, ec)) return thread_net;
  return context.proc / "net";
}

// Reads one /proc/net file into run.ports, streaming it so that a huge one costs little memory.
// Returns false when the run failed.
bool read_proc_net(Run& run, const SocketKind& kind) {
  std::error_code ec;
  auto dir = proc_net_dir(run.context);
  if (!std::filesystem::is_directory(dir, ec)) {
    run.outcome.fail(dir.string() + ": not found; no socket source is available");
    return false;
  }
  auto path = dir / kind.file;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT) return true;  // IPv6 disabled: no such sockets
    run.outcome.fail(path.string() + ": " + errno_text(errno));
    return false;
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    run.outcome.fail(path.string() + ": not a regular file");
    return false;
  }

  std::size_t malformed = 0;
  bool stop = false;
  auto on_line = [&](std::string_view line, bool too_long) {
    auto parsed = too_long ? ProcNetLine{} : parse_proc_net_line(line, kind.type);
    if (parsed.kind == ProcNetLine::Kind::header || parsed.kind == ProcNetLine::Kind::blank)
      return true;
    if (run.budget() == 0) {
      run.hit_cap();
      stop = true;
      return false;
    }
    ++run.records;
    if (parsed.kind == ProcNetLine::Kind::malformed) {
      ++malformed;
    } else if (is_open_port(kind.type, parsed.state, parsed.local_port)) {
      run.ports.push_back({kind.type, parsed.local_port});
      run.sockets.push_back(parsed.socket);
    }
    return true;
  };

  LineSplitter lines(proc_net_max_line);
  std::string chunk(proc_net_chunk, '\0');
  std::size_t total = 0;
  bool truncated = false;
  for (;;) {
    if (run.context.expired()) {
      run.deadline();
      return false;
    }
    ssize_t n = ::read(fd.get(), chunk.data(), chunk.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      run.outcome.fail(path.string() + ": " + errno_text(errno));
      return false;
    }
    if (n == 0) break;
    auto used = static_cast<std::size_t>(n);
    if (used > run.limits.max_proc_net_bytes - total) {
      used = run.limits.max_proc_net_bytes - total;
      truncated = true;
    }
    total += used;
    if (!lines.feed(std::string_view(chunk.data(), used), on_line)) break;
    if (truncated) break;
  }
  // A truncated file's last line is cut, not malformed.
  if (!stop && !truncated) lines.finish(on_line);
  if (truncated)
    run.outcome.error(path.string() + " is larger than " +
                      std::to_string(run.limits.max_proc_net_bytes) +
                      " bytes; only its beginning was read");
  if (malformed > 0)
    run.outcome.error(path.string() + ": " + std::to_string(malformed) +
                      " malformed lines skipped");
  return true;
}

// One (type, port) in the making: its address so far and its sockets.
struct PortGroup {
  ListeningPort port;
  SocketIdentity address;
  bool wildcard = false;
  std::vector<std::uint64_t> inodes;
};

}  // namespace

std::vector<ListeningPort> ListeningPortsCollector::merge_sockets(
    const std::vector<ListeningPort>& ports, const std::vector<SocketIdentity>& sockets,
    const ScanContext& context, Outcome& outcome) {
  std::map<ListeningPort, PortGroup> groups;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const auto& socket = sockets[i];
    auto [it, fresh] = groups.try_emplace(ports[i]);
    auto& group = it->second;
    if (fresh) {
      group.port = ports[i];
      group.address = socket;
    } else if (!group.wildcard && socket.address < group.address.address) {
      group.address = socket;
    }
    group.wildcard = group.wildcard || is_wildcard(socket);
    if (group.wildcard) group.address.address = {};
    if (socket.inode != 0) group.inodes.push_back(socket.inode);
  }
  std::vector<std::uint64_t> wanted;
  for (const auto& [port, group] : groups)
    wanted.insert(wanted.end(), group.inodes.begin(), group.inodes.end());
  owners_.update(context, wanted, limits_.owner_reads_per_scan, outcome);
  std::vector<ListeningPort> out;
  out.reserve(groups.size());
  for (auto& [port, group] : groups) {
    ListeningPort item = group.port;
    item.address = address_text(group.address, item.type);
    for (auto inode : group.inodes)
      if (auto owner = owners_.owner(inode); owner && (item.pid == 0 || owner->pid < item.pid)) {
        item.pid = owner->pid;
        item.exe = owner->exe;
      }
    out.push_back(std::move(item));
  }
  return out;
}

Outcome ListeningPortsCollector::collect(const ScanContext& context) {
  Outcome outcome;
  Run run{context, limits_, outcome, {}, {}, 0, false};
  std::uint32_t seq = static_cast<std::uint32_t>(::getpid()) ^ 0x5eed0000u;
  for (const auto& kind : socket_kinds) {
    if (run.capped) break;
    if (context.expired()) {
      run.deadline();
      return outcome;
    }
    auto& used = sources_used_[static_cast<std::size_t>(kind.type)];
    used = PortsSource::proc_net;
    if (source_ == PortsSource::netlink) {
      auto result = dump_netlink(run, kind, ++seq);
      if (result == DumpResult::failed) return outcome;
      if (result == DumpResult::ok) {
        used = PortsSource::netlink;
        continue;
      }
    }
    if (!read_proc_net(run, kind)) return outcome;
  }
  replace(merge_sockets(run.ports, run.sockets, context, outcome));
  return outcome;
}

}  // namespace hostprint::collectors
