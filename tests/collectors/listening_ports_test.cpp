#include "collectors/listening_ports.hpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "tests/proc_samples.hpp"
#include "tests/scan_chain.hpp"

namespace hostprint::collectors {
namespace {

using P = ListeningPort;
using namespace test;  // the sample texts and the port types
using Ports = std::vector<ListeningPort>;

TEST(ListeningPortsTypes, NamesAsTheApiShowsThem) {
  EXPECT_EQ(to_string(tcp), "TCP");
  EXPECT_EQ(to_string(tcp6), "TCP6");
  EXPECT_EQ(to_string(udp), "UDP");
  EXPECT_EQ(to_string(udp6), "UDP6");
}

// --- the collector over a prepared /proc (only for content that cannot be made live) ---

class ListeningPortsProcDir : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/listening_ports_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    std::filesystem::create_directories(dir_ / "net");
    context_.proc = dir_;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void write(const std::string& name, std::string_view text) {
    std::ofstream(dir_ / "net" / name, std::ios::binary) << text;
  }
  static bool mentions(const Outcome& outcome, std::string_view word) {
    for (const auto& e : outcome.errors)
      if (e.find(word) != std::string::npos) return true;
    return false;
  }
  static Ports published(const ListeningPortsCollector& collector) {
    return *collector.items();
  }

  std::filesystem::path dir_;
  ScanContext context_;
};

TEST_F(ListeningPortsProcDir, ReadsAllFourFiles) {
  write("tcp", proc_net_tcp);
  write("tcp6", proc_net_tcp6);
  write("udp", proc_net_udp);
  write("udp6", proc_net_udp6);
  ListeningPortsCollector collector(PortsSource::proc_net);
  auto outcome = collector.collect(context_);
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(
      published(collector),
      (Ports{{tcp, 22}, {tcp, 631}, {tcp6, 22}, {tcp6, 3306}, {udp, 53}, {udp, 68}, {udp6, 5353}}));
  EXPECT_EQ(collector.item_count(), 7u);
  for (auto type : {tcp, tcp6, udp, udp6})
    EXPECT_EQ(collector.source_used(type), PortsSource::proc_net);
}

TEST_F(ListeningPortsProcDir, MissingIpv6FilesAreNoPortsNotAnError) {
  write("tcp", proc_net_tcp);
  write("udp", proc_net_udp);
  ListeningPortsCollector collector(PortsSource::proc_net);
  auto outcome = collector.collect(context_);
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(outcome.errors.empty());
  EXPECT_EQ(collector.item_count(), 4u);
}

TEST_F(ListeningPortsProcDir, MalformedLinesAreRecordedAndTheRestRead) {
  write("tcp", std::string(proc_net_tcp) + "junk\n" + std::string("\0\0\0\n", 4) +
                   std::string(100'000, 'x') + "\n   9: 00000000:0050 00000000:0000 0A\n" +
                   std::string(10'000, 'y'));  // no final newline
  ListeningPortsCollector collector(PortsSource::proc_net);
  auto outcome = collector.collect(context_);
  EXPECT_TRUE(outcome.complete);
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_NE(outcome.errors[0].find("4 malformed lines"), std::string::npos) << outcome.errors[0];
  EXPECT_EQ(published(collector), (Ports{{tcp, 22}, {tcp, 80}, {tcp, 631}}));
}

TEST_F(ListeningPortsProcDir, ByteBoundKeepsTheBeginning) {
  std::string text = "  sl  local_address rem_address   st\n";
  for (int port = 1; port <= 5000; ++port) {
    char line[64];
    std::snprintf(line, sizeof line, "%5d: 00000000:%04X 00000000:0000 0A\n", port, port);
    text += line;
  }
  write("tcp", text);
  ListeningPortsLimits limits;
  limits.max_proc_net_bytes = 100'000;  // cuts a line in two
  ListeningPortsCollector collector(PortsSource::proc_net, limits);
  auto outcome = collector.collect(context_);
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(mentions(outcome, "larger than 100000 bytes"));
  EXPECT_FALSE(mentions(outcome, "malformed"));  // the cut line is not blamed on the file
  auto ports = published(collector);
  ASSERT_FALSE(ports.empty());
  EXPECT_EQ(ports.front(), (P{tcp, 1}));
  auto whole_lines = std::count(text.begin(), text.begin() + 100'000, '\n') - 1;  // no header
  ASSERT_NE(text[100'000 - 1], '\n');
  EXPECT_EQ(ports.size(), static_cast<std::size_t>(whole_lines));
}

TEST_F(ListeningPortsProcDir, SocketBoundStopsReading) {
  write("tcp", proc_net_tcp);  // 5 sockets
  write("udp", proc_net_udp);
  ListeningPortsLimits limits;
  limits.max_sockets = 3;
  ListeningPortsCollector collector(PortsSource::proc_net, limits);
  auto outcome = collector.collect(context_);
  EXPECT_TRUE(outcome.complete);
  EXPECT_TRUE(mentions(outcome, "more than 3 sockets"));
  EXPECT_EQ(published(collector), (Ports{{tcp, 22}, {tcp, 631}}));
}

TEST_F(ListeningPortsProcDir, NoProcNetFailsAndKeepsTheLastResult) {
  write("tcp", proc_net_tcp);
  ListeningPortsCollector collector(PortsSource::proc_net);
  ASSERT_TRUE(collector.collect(context_).complete);
  ASSERT_EQ(collector.item_count(), 2u);
  std::filesystem::remove_all(dir_ / "net");
  auto outcome = collector.collect(context_);
  EXPECT_FALSE(outcome.complete);
  EXPECT_EQ(collector.item_count(), 2u);
}

TEST_F(ListeningPortsProcDir, NotARegularFileFails) {
  std::filesystem::create_directories(dir_ / "net" / "tcp");
  ListeningPortsCollector collector(PortsSource::proc_net);
  auto outcome = collector.collect(context_);
  EXPECT_FALSE(outcome.complete);
  EXPECT_TRUE(mentions(outcome, "not a regular file"));
}

TEST_F(ListeningPortsProcDir, ExpiredDeadlineKeepsTheLastResult) {
  write("tcp", proc_net_tcp);
  ListeningPortsCollector collector(PortsSource::proc_net);
  ASSERT_TRUE(collector.collect(context_).complete);
  write("tcp", "");
  context_.deadline = std::chrono::steady_clock::now() - std::chrono::seconds(1);
  auto outcome = collector.collect(context_);
  EXPECT_FALSE(outcome.complete);
  EXPECT_TRUE(mentions(outcome, "deadline"));
  EXPECT_EQ(collector.item_count(), 2u);
}

TEST(ListeningPortsCollector, ExpiredDeadlineOnNetlinkIsIncomplete) {
  ListeningPortsCollector collector;
  ScanContext context;
  context.deadline = std::chrono::steady_clock::now();
  auto outcome = collector.collect(context);
  EXPECT_FALSE(outcome.complete);
  EXPECT_EQ(collector.item_count(), 0u);
}

TEST(ListeningPortsCollector, PublishSharesTheResult) {
  ListeningPortsCollector collector;
  proto::AssetSet a, b;
  collector.publish(a);
  collector.publish(b);
  ASSERT_NE(test::part_of<proto::ListeningPort>(a), nullptr);
  EXPECT_EQ(test::part_of<proto::ListeningPort>(a), test::part_of<proto::ListeningPort>(b));
}

}  // namespace
}  // namespace hostprint::collectors
