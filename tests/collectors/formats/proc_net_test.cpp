#include "collectors/formats/proc_net.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/proc_samples.hpp"

namespace hostprint::collectors {
namespace {

using namespace test;  // the sample texts and the port types
using Ports = std::vector<ListeningPort>;

TEST(ListeningPortsTypes, OpenMeansTcpListenAndUdpUnconnected) {
  static_assert(is_open_port(tcp, socket_state_listen, 22));
  static_assert(is_open_port(tcp6, socket_state_listen, 22));
  static_assert(!is_open_port(tcp, socket_state_established, 22));
  static_assert(!is_open_port(tcp, socket_state_close, 22));  // bound, not listening
  static_assert(is_open_port(udp, socket_state_close, 53));
  static_assert(is_open_port(udp6, socket_state_close, 53));
  static_assert(!is_open_port(udp, socket_state_established, 53));  // connected
  static_assert(!is_open_port(udp, socket_state_listen, 53));
  static_assert(!is_open_port(udp, socket_state_close, 0));  // not bound
  static_assert(!is_open_port(tcp, socket_state_listen, 0));
}

TEST(ParseProcNet, TcpListenersOnly) {
  auto parsed = parse_proc_net(proc_net_tcp, tcp);
  EXPECT_EQ(parsed.ports, (Ports{{tcp, 22}, {tcp, 631}}));
  EXPECT_EQ(parsed.malformed_lines, 0u);
}

TEST(ParseProcNet, Tcp6ListenersOnly) {
  auto parsed = parse_proc_net(proc_net_tcp6, tcp6);
  EXPECT_EQ(parsed.ports, (Ports{{tcp6, 22}, {tcp6, 3306}}));
  EXPECT_EQ(parsed.malformed_lines, 0u);
}

TEST(ParseProcNet, UdpBoundAndUnconnectedOnly) {
  auto parsed = parse_proc_net(proc_net_udp, udp);
  EXPECT_EQ(parsed.ports, (Ports{{udp, 53}, {udp, 68}}));
  EXPECT_EQ(parsed.malformed_lines, 0u);
}

TEST(ParseProcNet, Udp6BoundAndUnconnectedOnly) {
  auto parsed = parse_proc_net(proc_net_udp6, udp6);
  EXPECT_EQ(parsed.ports, (Ports{{udp6, 5353}}));
  EXPECT_EQ(parsed.malformed_lines, 0u);
}

TEST(ParseProcNet, UdpWithPortZeroIsNotBound) {
  auto parsed = parse_proc_net(
      "   0: 00000000:0000 00000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0\n",
      udp);
  EXPECT_TRUE(parsed.ports.empty());
  EXPECT_EQ(parsed.malformed_lines, 0u);
}

TEST(ParseProcNet, SamePortTwiceCountsOnceAndResultIsSorted) {
  constexpr std::string_view text =
      "  sl  local_address rem_address   st\n"
      "   0: 00000000:1F90 00000000:0000 0A 0 0 0 0 0 1\n"
      "   1: 0100007F:0016 00000000:0000 0A 0 0 0 0 0 2\n"
      "   2: 00000000:1F90 00000000:0000 0A 0 0 0 0 0 3\n"  // SO_REUSEPORT sibling
      "   3: 0100007F:1F90 00000000:0000 0A 0 0 0 0 0 4\n"  // another address
      "   4: 0100007F:0016 0100007F:C350 01 0 0 0 0 0 5\n";
  auto parsed = parse_proc_net(text, tcp);
  EXPECT_EQ(parsed.ports, (Ports{{tcp, 22}, {tcp, 8080}}));
  EXPECT_EQ(parsed.malformed_lines, 0u);
}

TEST(ParseProcNet, HexIsCaseInsensitiveAndPortsSpanTheRange) {
  constexpr std::string_view text =
      "   0: 00000000:ffff 00000000:0000 0a\n"
      "   1: 00000000:0001 00000000:0000 0A\n";
  auto parsed = parse_proc_net(text, tcp);
  EXPECT_EQ(parsed.ports, (Ports{{tcp, 1}, {tcp, 65535}}));
  EXPECT_EQ(parsed.malformed_lines, 0u);
}

TEST(ParseProcNet, AddressWidthMustMatchTheFamily) {
  // An IPv6 line read as IPv4 and the other way round.
  EXPECT_EQ(parse_proc_net(proc_net_tcp6, tcp).malformed_lines, 3u);
  EXPECT_EQ(parse_proc_net(proc_net_tcp, tcp6).malformed_lines, 5u);
}

TEST(ParseProcNet, EmptyTextAndHeaderOnly) {
  EXPECT_TRUE(parse_proc_net("", tcp).ports.empty());
  EXPECT_EQ(parse_proc_net("", tcp).malformed_lines, 0u);
  auto header = parse_proc_net("  sl  local_address rem_address   st tx_queue\n", udp);
  EXPECT_TRUE(header.ports.empty());
  EXPECT_EQ(header.malformed_lines, 0u);
}

TEST(ParseProcNet, BlankLinesAreNotMalformed) {
  auto parsed = parse_proc_net("\n   \n\t\n   0: 00000000:0016 00000000:0000 0A\n\n", tcp);
  EXPECT_EQ(parsed.ports, (Ports{{tcp, 22}}));
  EXPECT_EQ(parsed.malformed_lines, 0u);
}

TEST(ParseProcNet, LastLineWithoutNewlineCounts) {
  auto parsed = parse_proc_net("   0: 00000000:0016 00000000:0000 0A 00000000:00000000", tcp);
  EXPECT_EQ(parsed.ports, (Ports{{tcp, 22}}));
}

TEST(ParseProcNet, HostileLinesAreCountedAndSkipped) {
  const std::string good = "   9: 00000000:0050 00000000:0000 0A 00000000:00000000\n";
  const std::vector<std::string> hostile = {
      "   0:\n",                                                     // fields missing
      "   0: 00000000:0016\n",                                       // fields missing
      "   0: 00000000:0016 00000000:0000\n",                         // no state
      "   0: 0000000G:0016 00000000:0000 0A\n",                      // non-hex address
      "   0: 00000000:00X6 00000000:0000 0A\n",                      // non-hex port
      "   0: 00000000:0016 00000000:0000 ZZ\n",                      // non-hex state
      "   0: 00000000:0016 00000000:0000 0A0\n",                     // state too long
      "   0: 00000000:00016 00000000:0000 0A\n",                     // port too long
      "   0: 00000000:016 00000000:0000 0A\n",                       // port too short
      "   0: 000000000016 00000000:0000 0A\n",                       // no colon
      "   0: 00000000:0016 00000000-0000 0A\n",                      // bad remote
      "   0 00000000:0016 00000000:0000 0A\n",                       // slot without colon
      "   x: 00000000:0016 00000000:0000 0A\n",                      // slot not a number
      "   -1: 00000000:0016 00000000:0000 0A\n",                     // signed slot
      "   0: -0000000:0016 00000000:0000 0A\n",                      // sign
      "   0: 00000000:+016 00000000:0000 0A\n",                      // sign
      std::string("   0: 00000000:0016\0 00000000:0000 0A\n", 38),   // NUL byte
      std::string("   0: 00000000:0016 00000000:0000 0A \0\n", 39),  // NUL after the fields
      "   0: 00000000:0016 00000000:0000 0A\r\n",                    // control character
      "   0: 00000000:0016 00000000:0000 0A \xff\xfe\n",             // not ASCII
      "   0: 00000000:0016 00000000:0000 0A " + std::string(5000, 'x') + "\n",  // overlong
      "garbage\n",
      ":\n",
  };
  std::string text = "  sl  local_address rem_address   st\n";
  for (const auto& line : hostile) text += line + good;
  auto parsed = parse_proc_net(text, tcp);
  EXPECT_EQ(parsed.ports, (Ports{{tcp, 80}}));
  EXPECT_EQ(parsed.malformed_lines, hostile.size());
}

// How long it takes is bench/parser_bench's (a time limit here fails a busy or sanitized run).
TEST(ParseProcNet, HugeInputIsReadToItsGoodLine) {
  // 64 MiB: a single line with no end, then many junk lines, then one good line.
  std::string text(std::size_t{32} * 1024 * 1024, 'A');
  text += '\n';
  std::string junk = "   1: 00000000:ZZZZ 00000000:0000 0A\n";
  while (text.size() < std::size_t{64} * 1024 * 1024) text += junk;
  text += "   2: 00000000:0016 00000000:0000 0A\n";
  auto parsed = parse_proc_net(text, tcp);
  EXPECT_EQ(parsed.ports, (Ports{{tcp, 22}}));
  EXPECT_GT(parsed.malformed_lines, 100'000u);
}

TEST(ParseProcNetLine, SaysWhatEachLineIs) {
  using Kind = ProcNetLine::Kind;
  EXPECT_EQ(parse_proc_net_line("  sl  local_address rem_address", tcp).kind, Kind::header);
  EXPECT_EQ(parse_proc_net_line("  \t ", tcp).kind, Kind::blank);
  EXPECT_EQ(parse_proc_net_line("", tcp).kind, Kind::blank);
  EXPECT_EQ(parse_proc_net_line("nonsense", tcp).kind, Kind::malformed);
  auto line = parse_proc_net_line("  12: 0100007F:1F90 0100007F:D2A6 01 0:0 0:0", tcp);
  EXPECT_EQ(line.kind, Kind::socket);
  EXPECT_EQ(line.local_port, 8080);
  EXPECT_EQ(line.state, socket_state_established);
  EXPECT_EQ(parse_proc_net_line(std::string(proc_net_max_line + 1, ' '), tcp).kind,
            Kind::malformed);
}

// --- netlink replies ---

class Datagram {
 public:
  Datagram& message(std::uint16_t type, std::uint32_t seq, const void* payload, std::size_t size,
                    std::uint16_t flags = NLM_F_MULTI) {
    nlmsghdr header{};
    header.nlmsg_len = static_cast<std::uint32_t>(NLMSG_LENGTH(size));
    header.nlmsg_type = type;
    header.nlmsg_flags = flags;
    header.nlmsg_seq = seq;
    append(&header, sizeof header);
    append(payload, size);
    bytes_.resize(NLMSG_ALIGN(bytes_.size()));
    return *this;
  }
  Datagram& socket(std::uint32_t seq, std::uint8_t family, std::uint8_t state, std::uint16_t port) {
    inet_diag_msg msg{};
    msg.idiag_family = family;
    msg.idiag_state = state;
    msg.id.idiag_sport = htons(port);
    return message(SOCK_DIAG_BY_FAMILY, seq, &msg, sizeof msg);
  }
  Datagram& done(std::uint32_t seq, int status = 0) {
    return message(NLMSG_DONE, seq, &status, sizeof status);
  }
  Datagram& error(std::uint32_t seq, int negated_errno) {
    nlmsgerr err{};
    err.error = negated_errno;
    return message(NLMSG_ERROR, seq, &err, sizeof err);
  }
  Datagram& raw(const void* data, std::size_t size) {
    append(data, size);
    return *this;
  }
  std::vector<std::byte>& bytes() { return bytes_; }
  SockDiagReply parse(std::uint32_t seq, PortType type, std::size_t max_records = 1000) const {
    return parse_sock_diag_reply(bytes_, seq, type, max_records);
  }

 private:
  void append(const void* data, std::size_t size) {
    auto* p = static_cast<const std::byte*>(data);
    bytes_.insert(bytes_.end(), p, p + size);
  }
  std::vector<std::byte> bytes_;
};

TEST(ParseProcNetLine, AddressAndInode) {
  auto v4 = parse_proc_net_line(
      "   0: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
      "20431 1 0000000000000000 100 0 0 10 0",
      tcp);
  ASSERT_EQ(v4.kind, ProcNetLine::Kind::socket);
  EXPECT_EQ(v4.local_port, 631);
  EXPECT_EQ(address_text(v4.socket, tcp), "127.0.0.1");
  EXPECT_EQ(v4.socket.inode, 20431u);
  EXPECT_FALSE(is_wildcard(v4.socket));
  auto any = parse_proc_net_line(
      "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
      "17 1 0000000000000000 100 0 0 10 0",
      tcp);
  EXPECT_EQ(address_text(any.socket, tcp), "0.0.0.0");
  EXPECT_TRUE(is_wildcard(any.socket));
  auto v6 = parse_proc_net_line(
      "   0: 000080FE00000000FF4E5B0201000000:14E9 00000000000000000000000000000000:0000 07 "
      "00000000:00000000 00:00000000 00000000   109        0 30210 2 0000000000000000 0",
      udp6);
  ASSERT_EQ(v6.kind, ProcNetLine::Kind::socket);
  EXPECT_EQ(address_text(v6.socket, udp6), "fe80::25b:4eff:0:1");
  EXPECT_EQ(v6.socket.inode, 30210u);
  auto loop6 = parse_proc_net_line(
      "   0: 00000000000000000000000001000000:0019 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 44 1 0000000000000000 100 0 0 10 0",
      tcp6);
  EXPECT_EQ(address_text(loop6.socket, tcp6), "::1");
  // A line cut before the inode is still a socket, of no known inode.
  auto cut = parse_proc_net_line("   0: 0100007F:0277 00000000:0000 0A", tcp);
  EXPECT_EQ(cut.kind, ProcNetLine::Kind::socket);
  EXPECT_EQ(cut.socket.inode, 0u);
}

TEST(ParseSockDiagReply, SocketAddressesAndInodes) {
  Datagram datagram;
  inet_diag_msg msg{};
  msg.idiag_family = AF_INET6;
  msg.idiag_state = socket_state_listen;
  msg.id.idiag_sport = htons(8443);
  msg.id.idiag_src[0] = htonl(0x20010db8);
  msg.id.idiag_src[3] = htonl(1);
  msg.idiag_inode = 987654;
  datagram.message(SOCK_DIAG_BY_FAMILY, 3, &msg, sizeof msg).done(3);
  auto reply = datagram.parse(3, tcp6);
  ASSERT_EQ(reply.ports.size(), 1u);
  ASSERT_EQ(reply.sockets.size(), 1u);
  EXPECT_EQ(address_text(reply.sockets[0], tcp6), "2001:db8::1");
  EXPECT_EQ(reply.sockets[0].inode, 987654u);
}

TEST(ParseSockDiagReply, ListenersAndUnconnectedUdpThenDone) {
  auto tcp_reply = Datagram()
                       .socket(7, AF_INET, socket_state_listen, 22)
                       .socket(7, AF_INET, socket_state_listen, 443)
                       .socket(7, AF_INET, socket_state_established, 50000)
                       .done(7)
                       .parse(7, tcp);
  EXPECT_EQ(tcp_reply.ports, (Ports{{tcp, 22}, {tcp, 443}}));
  EXPECT_EQ(tcp_reply.records, 3u);
  EXPECT_TRUE(tcp_reply.done);
  EXPECT_EQ(tcp_reply.error, 0);
  EXPECT_EQ(tcp_reply.malformed, 0u);

  auto udp_reply = Datagram()
                       .socket(8, AF_INET6, socket_state_close, 53)
                       .socket(8, AF_INET6, socket_state_established, 5353)
                       .socket(8, AF_INET6, socket_state_close, 0)
                       .parse(8, udp6);
  EXPECT_EQ(udp_reply.ports, (Ports{{udp6, 53}}));
  EXPECT_FALSE(udp_reply.done);  // more parts to come
}

TEST(ParseSockDiagReply, OtherSequenceNumbersAreSkipped) {
  auto reply = Datagram()
                   .socket(1, AF_INET, socket_state_listen, 1000)
                   .done(1)
                   .socket(2, AF_INET, socket_state_listen, 2000)
                   .parse(2, tcp);
  EXPECT_EQ(reply.ports, (Ports{{tcp, 2000}}));
  EXPECT_FALSE(reply.done);
}

TEST(ParseSockDiagReply, KernelErrorsAreReported) {
  auto missing = Datagram().error(3, -ENOENT).parse(3, udp);  // no udp_diag
  EXPECT_TRUE(missing.done);
  EXPECT_EQ(missing.error, ENOENT);

  auto ack = Datagram().error(3, 0).socket(3, AF_INET, socket_state_listen, 80).parse(3, tcp);
  EXPECT_EQ(ack.error, 0);
  EXPECT_EQ(ack.ports, (Ports{{tcp, 80}}));

  auto failed_dump = Datagram().done(4, -EINTR).parse(4, tcp);
  EXPECT_TRUE(failed_dump.done);
  EXPECT_EQ(failed_dump.error, EINTR);

  auto odd = Datagram().error(5, INT_MIN).parse(5, tcp);
  EXPECT_EQ(odd.error, EPROTO);

  int too_short = 0;
  auto short_error = Datagram().message(NLMSG_ERROR, 6, &too_short, 2).parse(6, tcp);
  EXPECT_TRUE(short_error.done);
  EXPECT_NE(short_error.error, 0);
  EXPECT_EQ(short_error.malformed, 1u);

  auto overrun = Datagram().message(NLMSG_OVERRUN, 6, nullptr, 0).parse(6, tcp);
  EXPECT_TRUE(overrun.done);
  EXPECT_NE(overrun.error, 0);
}

TEST(ParseSockDiagReply, NoopAndUnknownTypesAreSkipped) {
  auto reply = Datagram()
                   .message(NLMSG_NOOP, 1, nullptr, 0)
                   .message(0x7777, 1, "abc", 3)
                   .socket(1, AF_INET, socket_state_listen, 8080)
                   .parse(1, tcp);
  EXPECT_EQ(reply.ports, (Ports{{tcp, 8080}}));
  EXPECT_EQ(reply.malformed, 0u);
}

TEST(ParseSockDiagReply, TruncatedMessagesAreMalformed) {
  // A socket record shorter than inet_diag_msg.
  inet_diag_msg msg{};
  msg.idiag_family = AF_INET;
  msg.idiag_state = socket_state_listen;
  msg.id.idiag_sport = htons(22);
  auto short_record = Datagram()
                          .message(SOCK_DIAG_BY_FAMILY, 1, &msg, sizeof msg - 1)
                          .socket(1, AF_INET, socket_state_listen, 23)
                          .parse(1, tcp);
  EXPECT_EQ(short_record.ports, (Ports{{tcp, 23}}));
  EXPECT_EQ(short_record.malformed, 1u);
  EXPECT_EQ(short_record.records, 2u);

  // A length beyond the datagram: cut off by the receive.
  Datagram cut;
  cut.socket(1, AF_INET, socket_state_listen, 22).socket(1, AF_INET, socket_state_listen, 23);
  cut.bytes().resize(cut.bytes().size() - 10);
  auto cut_reply = cut.parse(1, tcp);
  EXPECT_EQ(cut_reply.ports, (Ports{{tcp, 22}}));
  EXPECT_EQ(cut_reply.malformed, 1u);

  // A length shorter than the header itself must not loop forever.
  nlmsghdr bad{};
  bad.nlmsg_len = 4;
  bad.nlmsg_seq = 1;
  auto bad_reply = Datagram().raw(&bad, sizeof bad).parse(1, tcp);
  EXPECT_EQ(bad_reply.malformed, 1u);
  EXPECT_FALSE(bad_reply.done);

  // Trailing bytes shorter than a header.
  auto trailing =
      Datagram().socket(1, AF_INET, socket_state_listen, 22).raw("xyz", 3).parse(1, tcp);
  EXPECT_EQ(trailing.ports, (Ports{{tcp, 22}}));
  EXPECT_EQ(trailing.malformed, 1u);

  EXPECT_EQ(Datagram().parse(1, tcp).records, 0u);
}

TEST(ParseSockDiagReply, WrongFamilyIsMalformed) {
  auto reply = Datagram()
                   .socket(1, AF_INET6, socket_state_listen, 22)
                   .socket(1, AF_INET, socket_state_listen, 23)
                   .parse(1, tcp);
  EXPECT_EQ(reply.ports, (Ports{{tcp, 23}}));
  EXPECT_EQ(reply.malformed, 1u);
}

TEST(ParseSockDiagReply, StopsAtTheRecordBound) {
  auto reply = Datagram()
                   .socket(1, AF_INET, socket_state_listen, 1)
                   .socket(1, AF_INET, socket_state_listen, 2)
                   .socket(1, AF_INET, socket_state_listen, 3)
                   .done(1)
                   .parse(1, tcp, 2);
  EXPECT_EQ(reply.ports, (Ports{{tcp, 1}, {tcp, 2}}));
  EXPECT_EQ(reply.records, 2u);
  EXPECT_TRUE(reply.capped);
  EXPECT_FALSE(reply.done);

  auto exact = Datagram().socket(1, AF_INET, socket_state_listen, 1).done(1).parse(1, tcp, 1);
  EXPECT_FALSE(exact.capped);
  EXPECT_TRUE(exact.done);
}

TEST(ParseSockDiagReply, RandomBytesDoNotCrash) {
  std::mt19937 random(12345);
  for (int round = 0; round < 20000; ++round) {
    Datagram d;
    // Mostly well-framed headers with random contents, sometimes pure noise.
    std::size_t messages = random() % 4;
    for (std::size_t i = 0; i < messages; ++i) {
      std::vector<unsigned char> payload(random() % 100);
      for (auto& b : payload) b = static_cast<unsigned char>(random());
      d.message(static_cast<std::uint16_t>(random() % 24), random() % 2, payload.data(),
                payload.size());
    }
    std::vector<unsigned char> noise(random() % 40);
    for (auto& b : noise) b = static_cast<unsigned char>(random());
    d.raw(noise.data(), noise.size());
    if (random() % 3 == 0 && !d.bytes().empty()) d.bytes().resize(random() % d.bytes().size());
    auto reply = d.parse(1, static_cast<PortType>(random() % 4), random() % 5);
    EXPECT_LE(reply.ports.size(), reply.records);
  }
}

}  // namespace
}  // namespace hostprint::collectors
