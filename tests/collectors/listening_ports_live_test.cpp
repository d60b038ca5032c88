// Open ports against real sockets: in network namespaces made here (needs root), and on the host.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "tests/scan_chain.hpp"
#include "collectors/listening_ports.hpp"
#include "collectors/processes.hpp"
#include "tests/live_skip.hpp"

namespace hostprint::collectors {
namespace {

using Ports = std::vector<ListeningPort>;
using namespace std::chrono_literals;

constexpr PortType tcp = PortType::tcp;
constexpr PortType tcp6 = PortType::tcp6;
constexpr PortType udp = PortType::udp;
constexpr PortType udp6 = PortType::udp6;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

// ---- processes ----

// Reads `fd` to its end or until `deadline`; false on timeout.
bool read_all(int fd, std::string& out, std::chrono::steady_clock::time_point deadline) {
  char buffer[4096];
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left <= 0ms) return false;
    pollfd p{fd, POLLIN, 0};
    int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return true;
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

struct ChildResult {
  std::string output;
  bool timed_out = false;
  int status = 0;
};

// Forks; the child runs `body(output fd)` and exits. The child is killed when it outlives
// `timeout` or this process.
ChildResult run_child(const std::function<void(int)>& body, std::chrono::seconds timeout) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) fail("pipe2");
  pid_t pid = ::fork();
  if (pid < 0) fail("fork");
  if (pid == 0) {
    ::close(fds[0]);
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    int code = 0;
    try {
      body(fds[1]);
    } catch (const std::exception& e) {
      std::string line = std::string("fail ") + e.what() + "\n";
      [[maybe_unused]] auto n = ::write(fds[1], line.data(), line.size());
      code = 1;
    }
    ::_exit(code);
  }
  ::close(fds[1]);
  ChildResult result;
  result.timed_out = !read_all(fds[0], result.output, std::chrono::steady_clock::now() + timeout);
  ::close(fds[0]);
  if (result.timed_out) ::kill(pid, SIGKILL);
  while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
  }
  return result;
}

// Runs a program with its output captured; nullopt when it fails or hangs.
std::optional<std::string> run_program(const std::vector<std::string>& argv) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return std::nullopt;
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::dup2(fds[1], STDOUT_FILENO);
    int null = ::open("/dev/null", O_WRONLY);
    if (null >= 0) ::dup2(null, STDERR_FILENO);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  bool finished = read_all(fds[0], out, std::chrono::steady_clock::now() + 30s);
  ::close(fds[0]);
  if (!finished) ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!finished || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

// `ss -H -ltnu` of this network namespace, read on its own terms: the family from -4/-6, the
// port after the last ':' of the local address, TCP in LISTEN, UDP in UNCONN.
std::optional<Ports> ports_from_ss() {
  Ports ports;
  for (bool v6 : {false, true}) {
    auto out = run_program({"ss", "-H", "-ltnu", v6 ? "-6" : "-4"});
    if (!out) return std::nullopt;
    std::istringstream lines(*out);
    std::string line;
    while (std::getline(lines, line)) {
      std::istringstream fields(line);
      std::string netid, state, recv_q, send_q, local;
      if (!(fields >> netid >> state >> recv_q >> send_q >> local)) continue;
      auto colon = local.rfind(':');
      if (colon == std::string::npos) continue;
      std::string port_text = local.substr(colon + 1);
      if (port_text.empty() || port_text == "*") continue;
      int port = std::stoi(port_text);
      if (netid == "tcp" && state == "LISTEN") {
        ports.push_back({v6 ? tcp6 : tcp, static_cast<std::uint16_t>(port)});
      } else if (netid == "udp" && state == "UNCONN") {
        ports.push_back({v6 ? udp6 : udp, static_cast<std::uint16_t>(port)});
      }
    }
  }
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  return ports;
}

// ---- what a child reports: lines of "section words..." ----

class Report {
 public:
  explicit Report(int fd) : fd_(fd) {}
  void line(const std::string& section, const std::string& text) {
    std::string out = section + " " + text;
    std::replace(out.begin(), out.end(), '\n', ' ');
    out += '\n';
    if (::write(fd_, out.data(), out.size()) != static_cast<ssize_t>(out.size())) fail("write");
  }
  void ports(const std::string& section, const Ports& ports) {
    for (const auto& p : ports)
      line(section, std::string(to_string(p.type)) + " " + std::to_string(p.port));
  }
  void run(const std::string& section, ListeningPortsCollector& collector,
           const ScanContext& context) {
    auto outcome = collector.collect(context);
    ports(section, *collector.items());
    line(section + "_complete", outcome.complete ? "yes" : "no");
    for (const auto& e : outcome.errors) line(section + "_error", e);
    for (auto type : {tcp, tcp6, udp, udp6})
      line(section + "_source",
           std::string(to_string(type)) + " " +
               (collector.source_used(type) == PortsSource::netlink ? "netlink" : "proc_net"));
  }

 private:
  int fd_;
};

struct Parsed {
  std::map<std::string, std::vector<std::string>> sections;

  explicit Parsed(const std::string& text) {
    std::istringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
      auto space = line.find(' ');
      sections[line.substr(0, space)].push_back(
          space == std::string::npos ? std::string() : line.substr(space + 1));
    }
  }
  std::vector<std::string> operator[](const std::string& section) const {
    auto it = sections.find(section);
    return it == sections.end() ? std::vector<std::string>{} : it->second;
  }
  std::string one(const std::string& section) const {
    auto values = (*this)[section];
    return values.size() == 1 ? values[0] : "<" + std::to_string(values.size()) + " values>";
  }
  Ports ports(const std::string& section) const {
    Ports out;
    for (const auto& value : (*this)[section]) {
      std::istringstream fields(value);
      std::string type;
      int port = -1;
      fields >> type >> port;
      for (auto t : {tcp, tcp6, udp, udp6})
        if (to_string(t) == type) out.push_back({t, static_cast<std::uint16_t>(port)});
    }
    return out;
  }
};

// ---- sockets in a fresh namespace ----

void bring_up_loopback() {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) fail("socket for ioctl");
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(fd, SIOCGIFFLAGS, &request) != 0) fail("SIOCGIFFLAGS lo");
  request.ifr_flags = static_cast<short>(request.ifr_flags | IFF_UP);
  if (::ioctl(fd, SIOCSIFFLAGS, &request) != 0) fail("SIOCSIFFLAGS lo");
  ::close(fd);
}

void enter_fresh_network_namespace() {
  if (::unshare(CLONE_NEWNET) != 0) fail("unshare(CLONE_NEWNET)");
  bring_up_loopback();
}

struct Address {
  sockaddr_storage storage{};
  socklen_t size = 0;
  Address(const char* text, std::uint16_t port) {
    if (std::strchr(text, ':')) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&storage);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      if (::inet_pton(AF_INET6, text, &a->sin6_addr) != 1) throw std::runtime_error(text);
      size = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&storage);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      if (::inet_pton(AF_INET, text, &a->sin_addr) != 1) throw std::runtime_error(text);
      size = sizeof *a;
    }
  }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

enum class V6Only { unset, yes, no };

// Sockets that live until the child exits.
class Sockets {
 public:
  int open(const char* address, std::uint16_t port, int type, V6Only v6only = V6Only::unset,
           bool reuse_port = false) {
    Address a(address, port);
    int fd = ::socket(a.storage.ss_family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    fds_.push_back(fd);
    int one = 1;
    int flag = v6only == V6Only::yes ? 1 : 0;
    if (v6only != V6Only::unset &&
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &flag, sizeof flag) != 0)
      fail("IPV6_V6ONLY");
    if (reuse_port && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
      fail("SO_REUSEPORT");
    if (::bind(fd, a.get(), a.size) != 0)
      fail(std::string("bind ") + address + " " + std::to_string(port));
    return fd;
  }
  int listener(const char* address, std::uint16_t port, V6Only v6only = V6Only::unset,
               bool reuse_port = false) {
    int fd = open(address, port, SOCK_STREAM, v6only, reuse_port);
    if (::listen(fd, 16) != 0) fail("listen");
    return fd;
  }
  static void connect_to(int fd, const char* address, std::uint16_t port) {
    Address a(address, port);
    if (::connect(fd, a.get(), a.size) != 0)
      fail(std::string("connect ") + address + " " + std::to_string(port));
  }
  int unbound(int family, int type) {
    int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
    if (fd < 0) fail("socket");
    fds_.push_back(fd);
    return fd;
  }
  int accept_from(int listener) {
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) fail("accept");
    fds_.push_back(fd);
    return fd;
  }
  void close(int fd) {
    ::close(fd);
    fds_.erase(std::remove(fds_.begin(), fds_.end(), fd), fds_.end());
  }
  ~Sockets() {
    for (int fd : fds_) ::close(fd);
  }

 private:
  std::vector<int> fds_;
};

// What open_known_sockets() makes count, by the definition of an open port.
const Ports expected_ports = {
    {tcp, 1},     {tcp, 7001},  {tcp, 7006},  {tcp, 7007},  {tcp, 7008},  {tcp, 7018},
    {tcp6, 7002}, {tcp6, 7003}, {tcp6, 7016}, {tcp6, 7018}, {udp, 7004},  {udp, 7006},
    {udp, 7020},  {udp, 7021},  {udp, 65535}, {udp6, 7005}, {udp6, 7017},
};

void open_known_sockets(Sockets& s) {
  // Count.
  s.listener("0.0.0.0", 7001);
  s.listener("::", 7002, V6Only::yes);
  s.listener("::", 7003, V6Only::no);  // dual-stack: still an AF_INET6 socket
  s.open("127.0.0.1", 7004, SOCK_DGRAM);
  s.open("::1", 7005, SOCK_DGRAM);
  s.listener("127.0.0.1", 7006);  // TCP and UDP on one port: two open ports
  s.open("0.0.0.0", 7006, SOCK_DGRAM);
  s.listener("0.0.0.0", 7007, V6Only::unset, true);  // SO_REUSEPORT pair: one port
  s.listener("0.0.0.0", 7007, V6Only::unset, true);
  int with_client = s.listener("127.0.0.1", 7008);
  s.listener("::ffff:127.0.0.1", 7016);  // v4-mapped, yet AF_INET6
  s.open("::", 7017, SOCK_DGRAM, V6Only::no);
  s.listener("0.0.0.0", 7018);  // one port in both families: two open ports
  s.listener("::", 7018, V6Only::yes);
  s.listener("127.0.0.1", 1);
  s.open("127.0.0.1", 65535, SOCK_DGRAM);
  int reconnected = s.open("127.0.0.1", 7020, SOCK_DGRAM);  // connected, then disconnected
  s.open("127.0.0.1", 7021, SOCK_DGRAM, V6Only::unset, true);
  s.open("127.0.0.1", 7021, SOCK_DGRAM, V6Only::unset, true);

  // Do not count.
  int client = s.open("127.0.0.1", 7009, SOCK_STREAM);  // established client
  Sockets::connect_to(client, "127.0.0.1", 7008);
  s.accept_from(with_client);  // established, beside its listener
  int closing = s.listener("127.0.0.1", 7010);
  int client2 = s.open("127.0.0.1", 7011, SOCK_STREAM);
  Sockets::connect_to(client2, "127.0.0.1", 7010);
  s.accept_from(closing);  // established on 7010 with no listener left there
  s.close(closing);
  int client6 = s.open("::1", 7019, SOCK_STREAM);
  Sockets::connect_to(client6, "::1", 7002);
  int connected = s.open("127.0.0.1", 7012, SOCK_DGRAM);  // connected UDP
  Sockets::connect_to(connected, "127.0.0.1", 7004);
  int connected6 = s.open("::1", 7013, SOCK_DGRAM);
  Sockets::connect_to(connected6, "::1", 7005);
  s.open("0.0.0.0", 7014, SOCK_STREAM);  // bound, never listening
  s.open("::", 7015, SOCK_STREAM, V6Only::no);
  int autobound = s.unbound(AF_INET, SOCK_DGRAM);  // connected, its port picked by the kernel
  Sockets::connect_to(autobound, "127.0.0.1", 7006);
  s.unbound(AF_INET6, SOCK_DGRAM);  // never bound: in no table at all

  Sockets::connect_to(reconnected, "127.0.0.1", 7004);
  sockaddr unspec{};
  unspec.sa_family = AF_UNSPEC;
  if (::connect(reconnected, &unspec, sizeof unspec) != 0) fail("disconnect");
}

// ---- making netlink fail, as a kernel without it would ----

#if defined(__x86_64__)
constexpr std::uint32_t audit_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t audit_arch = AUDIT_ARCH_AARCH64;
#else
constexpr std::uint32_t audit_arch = 0;
#endif

// From now on, in this thread, `syscall_nr` (with this first argument, if given) fails with `err`.
void make_syscall_fail(std::uint32_t syscall_nr, std::optional<std::uint32_t> first_arg, int err) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  constexpr std::uint32_t arg0_low = offsetof(seccomp_data, args);
#else
  constexpr std::uint32_t arg0_low = offsetof(seccomp_data, args) + 4;
#endif
  std::vector<sock_filter> program = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, audit_arch, 0, 0),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, syscall_nr, 0, 0),
  };
  if (first_arg) {
    program.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, arg0_low));
    program.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, *first_arg, 0, 0));
  }
  program.push_back(
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (static_cast<std::uint32_t>(err) & 0xffff)));
  program.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
  auto allow = program.size() - 1;
  for (std::size_t i = 0; i < program.size(); ++i)
    if (program[i].code == (BPF_JMP | BPF_JEQ | BPF_K))
      program[i].jf = static_cast<std::uint8_t>(allow - i - 1);
  sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("PR_SET_NO_NEW_PRIVS");
  if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) fail("PR_SET_SECCOMP");
}

// ---- the tests ----

ScanContext generous_context() {
  ScanContext context;
  context.deadline = std::chrono::steady_clock::now() + 30s;
  return context;
}

// The host's process table as read now, and a context that grants it to a ports collector.
struct WithProcessTable {
  proto::AssetSet found;
  ScanContext context = generous_context();
  WithProcessTable() {
    ProcessesCollector processes;
    EXPECT_TRUE(processes.collect(ScanContext{}).complete);
    processes.publish(found);
    context.found = &found;
    context.readable = kinds<ProcessInfo>();
  }
  WithProcessTable(const WithProcessTable&) = delete;
  WithProcessTable& operator=(const WithProcessTable&) = delete;
};

bool ipv6_available() {
  int fd = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) ::close(fd);
  return fd >= 0;
}

// Runs `body` in a child in a fresh network namespace with the known sockets open.
Parsed in_namespace_with_known_sockets(const std::function<void(Report&)>& body) {
  auto result = run_child(
      [&](int fd) {
        enter_fresh_network_namespace();
        Sockets sockets;
        open_known_sockets(sockets);
        Report report(fd);
        body(report);
        report.line("done", "");
      },
      60s);
  EXPECT_FALSE(result.timed_out);
  EXPECT_TRUE(WIFEXITED(result.status) && WEXITSTATUS(result.status) == 0) << result.output;
  Parsed parsed(result.output);
  EXPECT_TRUE(parsed["fail"].empty()) << result.output;
  EXPECT_EQ(parsed["done"].size(), 1u) << result.output;
  return parsed;
}

void expect_clean_run(const Parsed& parsed, const std::string& section, PortsSource source) {
  EXPECT_EQ(parsed.one(section + "_complete"), "yes");
  EXPECT_TRUE(parsed[section + "_error"].empty())
      << section << " error: " << parsed[section + "_error"].front();
  std::string expected_source = source == PortsSource::netlink ? "netlink" : "proc_net";
  for (const auto& used : parsed[section + "_source"])
    EXPECT_EQ(used.substr(used.find(' ') + 1), expected_source) << section << " " << used;
  EXPECT_EQ(parsed[section + "_source"].size(), 4u);
}

std::string describe(const Ports& ports) {
  std::string out;
  for (const auto& p : ports)
    out += std::string(to_string(p.type)) + ":" + std::to_string(p.port) + " ";
  return out;
}

TEST(ListeningPortsLive, FreshNamespaceNetlinkAndProcNetFindExactlyTheOpenPorts) {
  if (!ipv6_available()) LIVE_SKIP() << "the kernel has no IPv6";
  auto parsed = in_namespace_with_known_sockets([](Report& report) {
    auto context = generous_context();
    ListeningPortsCollector netlink;
    report.run("netlink", netlink, context);
    ListeningPortsCollector proc_net(PortsSource::proc_net);
    report.run("proc", proc_net, context);
  });
  EXPECT_EQ(describe(parsed.ports("netlink")), describe(expected_ports));
  expect_clean_run(parsed, "netlink", PortsSource::netlink);
  EXPECT_EQ(describe(parsed.ports("proc")), describe(expected_ports));
  expect_clean_run(parsed, "proc", PortsSource::proc_net);
}

TEST(ListeningPortsLive, FreshNamespaceAgreesWithSs) {
  if (!ipv6_available()) LIVE_SKIP() << "the kernel has no IPv6";
  if (!run_program({"ss", "-V"})) LIVE_SKIP() << "ss (iproute2) is not installed";
  auto parsed = in_namespace_with_known_sockets([](Report& report) {
    auto context = generous_context();
    ListeningPortsCollector netlink;
    report.run("netlink", netlink, context);
    auto ss = ports_from_ss();
    if (!ss) throw std::runtime_error("ss failed");
    report.ports("ss", *ss);
  });
  EXPECT_EQ(describe(parsed.ports("ss")), describe(expected_ports));
  EXPECT_EQ(describe(parsed.ports("netlink")), describe(parsed.ports("ss")));
}

TEST(ListeningPortsLive, WithoutNetlinkFallsBackToProcNet) {
  if (!ipv6_available()) LIVE_SKIP() << "the kernel has no IPv6";
  if (audit_arch == 0) LIVE_SKIP() << "no seccomp architecture value for this CPU";
  auto parsed = in_namespace_with_known_sockets([](Report& report) {
    make_syscall_fail(SYS_socket, AF_NETLINK, EAFNOSUPPORT);
    auto context = generous_context();
    ListeningPortsCollector collector;
    report.run("fallback", collector, context);
  });
  EXPECT_EQ(describe(parsed.ports("fallback")), describe(expected_ports));
  expect_clean_run(parsed, "fallback", PortsSource::proc_net);
}

TEST(ListeningPortsLive, NetlinkWithoutRepliesIsIncompleteAndKeepsTheLastResult) {
  if (!ipv6_available()) LIVE_SKIP() << "the kernel has no IPv6";
  if (audit_arch == 0) LIVE_SKIP() << "no seccomp architecture value for this CPU";
  auto parsed = in_namespace_with_known_sockets([](Report& report) {
    auto context = generous_context();
    ListeningPortsCollector collector;
    report.run("first", collector, context);
    make_syscall_fail(SYS_recvmsg, std::nullopt, EAGAIN);  // as when the receive timeout ends
    report.run("stalled", collector, context);
  });
  expect_clean_run(parsed, "first", PortsSource::netlink);
  EXPECT_EQ(parsed.one("stalled_complete"), "no");
  ASSERT_EQ(parsed["stalled_error"].size(), 1u);
  EXPECT_NE(parsed["stalled_error"][0].find("no reply"), std::string::npos)
      << parsed["stalled_error"][0];
  EXPECT_EQ(describe(parsed.ports("stalled")), describe(expected_ports));
}

TEST(ListeningPortsLive, SocketBoundIsRecorded) {
  if (!ipv6_available()) LIVE_SKIP() << "the kernel has no IPv6";
  auto parsed = in_namespace_with_known_sockets([](Report& report) {
    auto context = generous_context();
    ListeningPortsLimits limits;
    limits.max_sockets = 3;
    ListeningPortsCollector netlink(PortsSource::netlink, limits);
    report.run("netlink", netlink, context);
    ListeningPortsCollector proc_net(PortsSource::proc_net, limits);
    report.run("proc", proc_net, context);
    ListeningPortsLimits byte_limits;
    byte_limits.max_netlink_bytes = 100;  // less than one socket record with its header
    ListeningPortsCollector netlink_bytes(PortsSource::netlink, byte_limits);
    report.run("netlink_bytes", netlink_bytes, context);
  });
  EXPECT_EQ(parsed.one("netlink_bytes_complete"), "yes");
  EXPECT_EQ(parsed["netlink_bytes_error"].size(), 4u);
  for (const auto& error : parsed["netlink_bytes_error"])
    EXPECT_NE(error.find("exceed 100 bytes"), std::string::npos) << error;
  EXPECT_TRUE(parsed.ports("netlink_bytes").empty());
  for (std::string section : {"netlink", "proc"}) {
    EXPECT_EQ(parsed.one(section + "_complete"), "yes");
    ASSERT_EQ(parsed[section + "_error"].size(), 1u) << section;
    EXPECT_NE(parsed[section + "_error"][0].find("more than 3 sockets"), std::string::npos);
    auto ports = parsed.ports(section);
    EXPECT_LE(ports.size(), 3u) << section;
    EXPECT_FALSE(ports.empty()) << section;
    for (const auto& p : ports)
      EXPECT_TRUE(std::find(expected_ports.begin(), expected_ports.end(), p) !=
                  expected_ports.end());
  }
}

TEST(ListeningPortsLive, AThreadInAnotherNamespaceReadsThatNamespace) {
  if (!ipv6_available()) LIVE_SKIP() << "the kernel has no IPv6";
  auto parsed = in_namespace_with_known_sockets([](Report& report) {
    std::string failure;
    std::thread other([&] {
      try {
        if (::unshare(CLONE_NEWNET) != 0) fail("unshare(CLONE_NEWNET) in a thread");
        auto context = generous_context();
        ListeningPortsCollector netlink;
        report.run("thread_netlink", netlink, context);
        ListeningPortsCollector proc_net(PortsSource::proc_net);
        report.run("thread_proc", proc_net, context);
      } catch (const std::exception& e) {
        failure = e.what();
      }
    });
    other.join();
    if (!failure.empty()) throw std::runtime_error(failure);
    auto context = generous_context();
    ListeningPortsCollector proc_net(PortsSource::proc_net);
    report.run("main_proc", proc_net, context);
  });
  EXPECT_EQ(describe(parsed.ports("thread_netlink")), "");
  expect_clean_run(parsed, "thread_netlink", PortsSource::netlink);
  EXPECT_EQ(describe(parsed.ports("thread_proc")), "");
  expect_clean_run(parsed, "thread_proc", PortsSource::proc_net);
  EXPECT_EQ(describe(parsed.ports("main_proc")), describe(expected_ports));
}

TEST(ListeningPortsLive, HostNamespaceAgreesWithSs) {
  if (!run_program({"ss", "-V"})) LIVE_SKIP() << "ss (iproute2) is not installed";
  // Ports open and close while we look: agree on one of a few attempts.
  std::string from_netlink, from_proc_net, from_ss;
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(200ms);
    auto context = generous_context();
    ListeningPortsCollector netlink;
    auto outcome = netlink.collect(context);
    ASSERT_TRUE(outcome.complete);
    EXPECT_TRUE(outcome.errors.empty());
    for (auto type : {tcp, tcp6, udp, udp6})
      EXPECT_EQ(netlink.source_used(type), PortsSource::netlink);
    ListeningPortsCollector proc_net(PortsSource::proc_net);
    ASSERT_TRUE(proc_net.collect(context).complete);
    auto ss = ports_from_ss();
    ASSERT_TRUE(ss.has_value());
    proto::AssetSet a, b;
    netlink.publish(a);
    proc_net.publish(b);
    from_netlink = describe(*test::part_of<proto::ListeningPort>(a));
    from_proc_net = describe(*test::part_of<proto::ListeningPort>(b));
    from_ss = describe(*ss);
    if (from_netlink == from_ss && from_proc_net == from_ss) break;
  }
  EXPECT_EQ(from_netlink, from_ss);
  EXPECT_EQ(from_proc_net, from_ss);
}

// The agent's own port (opened just before its first scan is published) is named as its own at
// once, even when a look at every lower pid would take more reads than one scan has.
TEST(ListeningPortsLive, TheScanningProcessOwnsItsSocketsAtOnce) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  std::unique_ptr<int, void (*)(int*)> close_fd(&fd, [](int* f) { ::close(*f); });
  sockaddr_in loop{};
  loop.sin_family = AF_INET;
  loop.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&loop), sizeof loop), 0);
  ASSERT_EQ(::listen(fd, 4), 0);
  socklen_t n = sizeof loop;
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&loop), &n), 0);

  WithProcessTable table;
  auto& context = table.context;
  ListeningPortsLimits limits;
  limits.owner_reads_per_scan = 1;  // pid 1 alone would use it up
  ListeningPortsCollector collector(PortsSource::netlink, limits);
  ASSERT_TRUE(collector.collect(context).complete);
  const auto it = std::find(collector.items()->begin(), collector.items()->end(),
                            ListeningPort{tcp, ntohs(loop.sin_port)});
  ASSERT_NE(it, collector.items()->end());
  EXPECT_EQ(it->pid, ::getpid());
  EXPECT_EQ(it->exe + "\n", *run_program({"readlink", "/proc/" + std::to_string(::getpid()) + "/exe"}));
}

// A port's owner as the collector finds it from the scan's process table, against the process
// that opened it and against ss -p.
TEST(ListeningPortsLive, OwnersAddressesAgreeWithTheProcessAndSs) {
  if (!run_program({"ss", "-V"})) LIVE_SKIP() << "ss (iproute2) is not installed";
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    int tcp_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int udp_fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in loop{};
    loop.sin_family = AF_INET;
    loop.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sockaddr_in any{};
    any.sin_family = AF_INET;
    if (::bind(tcp_fd, reinterpret_cast<sockaddr*>(&loop), sizeof loop) != 0 ||
        ::listen(tcp_fd, 4) != 0 || ::bind(udp_fd, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0)
      ::_exit(1);
    socklen_t n = sizeof loop;
    ::getsockname(tcp_fd, reinterpret_cast<sockaddr*>(&loop), &n);
    n = sizeof any;
    ::getsockname(udp_fd, reinterpret_cast<sockaddr*>(&any), &n);
    std::uint16_t ports[2] = {ntohs(loop.sin_port), ntohs(any.sin_port)};
    if (::write(ready[1], ports, sizeof ports) != sizeof ports) ::_exit(1);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  std::unique_ptr<void, std::function<void(void*)>> stop(reinterpret_cast<void*>(1), [&](void*) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
  });
  std::uint16_t ports[2] = {};
  ASSERT_EQ(::read(ready[0], ports, sizeof ports), static_cast<ssize_t>(sizeof ports));
  ::close(ready[0]);

  WithProcessTable table;
  auto& context = table.context;
  // One look at every process within the first scan, however many the host runs.
  ListeningPortsLimits limits;
  limits.owner_reads_per_scan = 1'000'000;
  ListeningPortsCollector collector(PortsSource::netlink, limits);
  ASSERT_TRUE(collector.collect(context).complete);
  std::map<ListeningPort, ListeningPort> by_port;
  for (const auto& p : *collector.items()) by_port[p] = p;
  const std::string exe = *run_program({"readlink", "/proc/" + std::to_string(child) + "/exe"});
  const auto& tcp_port = by_port[ListeningPort{tcp, ports[0]}];
  EXPECT_EQ(tcp_port.address, "127.0.0.1");
  EXPECT_EQ(tcp_port.pid, child);
  EXPECT_EQ(tcp_port.exe + "\n", exe);
  const auto& udp_port = by_port[ListeningPort{udp, ports[1]}];
  EXPECT_EQ(udp_port.address, "0.0.0.0");
  EXPECT_EQ(udp_port.pid, child);
  EXPECT_EQ(collector.owner_sweeps(), 1u);

  // Every owner found is among the processes ss names for that port, and the lowest of them.
  auto ss = run_program({"ss", "-H", "-lntup"});
  ASSERT_TRUE(ss.has_value());
  std::istringstream lines(*ss);
  std::map<std::string, int> lowest;  // "TCP:port" -> lowest pid ss shows
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string proto, state, recv, send, local;
    words >> proto >> state >> recv >> send >> local;
    const std::string port = local.substr(local.rfind(':') + 1);
    const bool v6 = local.front() == '[' || local.front() == '*';
    const std::string key = std::string(proto == "tcp" ? "TCP" : "UDP") + (v6 ? "6" : "") + ":" + port;
    for (auto at = line.find("pid="); at != std::string::npos; at = line.find("pid=", at + 4)) {
      int pid = std::atoi(line.c_str() + at + 4);
      auto [it, fresh] = lowest.try_emplace(key, pid);
      if (!fresh) it->second = std::min(it->second, pid);
    }
  }
  for (const auto& p : *collector.items()) {
    if (p.pid == 0) continue;
    const std::string key = std::string(to_string(p.type)) + ":" + std::to_string(p.port);
    auto it = lowest.find(key);
    if (it == lowest.end()) continue;  // closed meanwhile, or a dual-stack one ss shows as v4
    EXPECT_EQ(p.pid, it->second) << key;
  }
  EXPECT_EQ(lowest[std::string("TCP:") + std::to_string(ports[0])], child);

  // Nothing changed: a rescan reads no process's open files.
  ASSERT_TRUE(collector.collect(context).complete);
  EXPECT_EQ(collector.owner_sweeps(), 1u);
  for (const auto& p : *collector.items())
    if (p.type == tcp && p.port == ports[0]) {
      EXPECT_EQ(p.pid, child);
    }
}

}  // namespace
}  // namespace hostprint::collectors
