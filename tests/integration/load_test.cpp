// A real `hostprint serve` under load from clients of the test's own: 1,000 keep-alive
// connections, a slowloris crowd, a flood of connections past the 512 cap, pipelined bursts.
// Throughout, a well-behaved client keeps getting answers, the agent stays alive with its memory
// and descriptors bounded, and its log keeps one line per request. The bounds asserted are
// generous (the machine is shared); the figures measured go to docs/RELIABILITY.md through
// scripts/reliability.sh.
#include <gtest/gtest.h>

#include <iomanip>

#include "tests/sanitized.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/integration/load_clients.hpp"

namespace hostprint::test {
namespace {

using namespace std::chrono_literals;

struct LoadRun {
  std::string scenario, how;
  CrowdMode mode;
  int size;
  std::chrono::seconds length{8};
  int burst = 32;
};

struct LoadResult {
  CrowdFigures crowd;
  std::vector<double> latencies;
  std::map<int, long> client_statuses;
  long client_failures = 0, client_reconnects = 0;
  double longest_gap_ms = 0;
  long max_rss_kb = 0, max_fds = 0, hwm_kb = 0;
  std::map<std::string, int> lines;
  std::set<std::string> client_ids;
  int exit_code = -1;
};

LoadResult run_load(const LoadRun& run) {
  // An empty root: the scans are the host's processes and ports only, so the load is the HTTP
  // side's.
  TempDir root;
  AgentOptions options;
  options.args = {"--root", root.path().string()};
  Agent agent(options);
  LoadResult out;
  if (!agent.ready()) {
    ADD_FAILURE() << "the agent did not start: " << agent.log_text();
    return out;
  }
  AgentSampler sampler(agent.pid());
  {
    WellBehavedClient client(agent, "/v5/p1/asset/statistics");
    std::this_thread::sleep_for(500ms);  // its first answers before the crowd
    Crowd crowd(agent, run.mode, run.size, "/status", run.burst);
    std::this_thread::sleep_for(run.length);
    crowd.stop();
    client.stop();
    out.crowd = crowd.figures();
    out.latencies = client.latencies_ms();
    out.client_statuses = client.statuses();
    out.client_failures = client.failures();
    out.client_reconnects = client.reconnects();
    out.longest_gap_ms = client.longest_gap_ms();
    out.client_ids = client.request_ids();
  }
  sampler.stop();
  out.max_rss_kb = sampler.max_rss_kb();
  out.max_fds = sampler.max_fds();
  out.hwm_kb = proc_status_kb(agent.pid(), "VmHWM");
  out.exit_code = agent.stop(SIGTERM);
  out.lines = request_lines(agent.log_text());

  const double seconds = static_cast<double>(run.length.count());
  const double p50 = percentile(out.latencies, 50), p99 = percentile(out.latencies, 99);
  const long client_ok = out.client_statuses.count(200) ? out.client_statuses.at(200) : 0;
  const long crowd_ok = out.crowd.statuses.count(200) ? out.crowd.statuses.at(200) : 0;
  boost::json::object figures{
      {"crowd_connections", run.size},
      {"crowd_connects", out.crowd.connects},
      {"crowd_connect_errors", out.crowd.connect_errors},
      {"crowd_closed_by_server", out.crowd.closed_by_server},
      {"crowd_answers_per_s", static_cast<double>(out.crowd.answers) / seconds},
      {"crowd_statuses", statuses_text(out.crowd.statuses)},
      {"client_answers", client_ok},
      {"client_statuses", statuses_text(out.client_statuses)},
      {"client_failures", out.client_failures},
      {"client_reconnects", out.client_reconnects},
      {"client_p50_ms", p50},
      {"client_p99_ms", p99},
      {"client_longest_gap_ms", out.longest_gap_ms},
      {"max_rss_mib", static_cast<double>(out.max_rss_kb) / 1024},
      {"peak_rss_mib", static_cast<double>(out.hwm_kb) / 1024},
      {"max_open_fds", out.max_fds},
      {"log_request_lines", static_cast<std::int64_t>(out.lines.size())}};
  std::ostringstream result;
  result << std::fixed << std::setprecision(1);
  result << "client p50 " << p50 << " ms, p99 " << p99 << " ms (" << client_ok << " answers, "
         << out.client_failures << " failed); crowd "
         << static_cast<long>(static_cast<double>(out.crowd.answers) / seconds) << " answers/s ("
         << statuses_text(out.crowd.statuses) << "); " << out.crowd.connects
         << " connects, " << out.crowd.closed_by_server << " closed by the server; RSS max "
         << static_cast<double>(out.max_rss_kb) / 1024 << " MiB; fds max " << out.max_fds;
  record_figures("load", run.scenario, run.how, result.str(), figures);

  // The bounds every run must keep.
  EXPECT_EQ(out.exit_code, 0) << "the agent did not stop cleanly";
  EXPECT_GT(client_ok, 50) << "the well-behaved client got too few answers";
  EXPECT_EQ(out.client_failures, 0) << "requests of the well-behaved client went unanswered";
  EXPECT_LT(out.longest_gap_ms, 3000) << "the well-behaved client waited too long";
  EXPECT_LT(p99, 1000) << "p99 far past its 50 ms target even for a shared machine";
  // A sanitized agent carries ASan's shadow memory and freed-block quarantine (hundreds of MiB):
  // the product's bound is checked in the plain pass, a runaway still in this one.
  constexpr long rss_bound_kb = address_sanitized ? 1024 * 1024 : 128 * 1024;
  EXPECT_LT(out.max_rss_kb, rss_bound_kb) << "resident memory is not bounded";
  // The cap, plus at most 64 refused connections lingering after their 503.
  EXPECT_LE(out.max_fds, 512 + 64 + 64) << "descriptors are not bounded by the cap";
  // One line per request: every answer the client got has its line, once.
  for (const auto& id : out.client_ids)
    EXPECT_TRUE(out.lines.contains(id)) << "no log line for request " << id;
  for (const auto& [id, n] : out.lines) EXPECT_EQ(n, 1) << "request " << id << " logged " << n;
  EXPECT_GE(static_cast<long>(out.lines.size()), crowd_ok + client_ok);
  return out;
}

TEST(Load, AThousandKeepAliveConnections) {
  auto r = run_load({"1,000 keep-alive connections",
                     "1,000 connections asking /status back to back on keep-alive, for 8 s",
                     CrowdMode::keep_alive, 1000});
  EXPECT_GT(r.crowd.answers, 1000);
}

TEST(Load, ASlowlorisCrowd) {
  auto r = run_load({"slowloris crowd",
                     "400 connections each sending one byte of a never-ending header a second, "
                     "for 8 s",
                     CrowdMode::slowloris, 400});
  EXPECT_GE(r.crowd.connects, 400);
}

// Past the cap with requests that trickle in: the cap holds, and the client still gets in.
TEST(Load, ASlowlorisCrowdPastTheCap) {
  auto r = run_load({"slowloris crowd past the cap",
                     "700 connections each sending one byte of a never-ending header a second, "
                     "for 8 s",
                     CrowdMode::slowloris, 700});
  EXPECT_GE(r.crowd.connects, 700);
}

TEST(Load, AFloodOfConnectionsPastTheCap) {
  auto r = run_load({"connection flood past the cap",
                     "2,000 connections opened at once and held silent, each one closed by the "
                     "server opened again at once, for 8 s",
                     CrowdMode::flood, 2000});
  EXPECT_GT(r.crowd.closed_by_server, 0) << "the cap was not reached";
}

TEST(Load, PipelinedBursts) {
  auto r = run_load({"pipelined bursts",
                     "100 connections each writing 64 pipelined requests at once and reading "
                     "the 64 answers, again and again, for 8 s",
                     CrowdMode::pipelined, 100, 8s, 64});
  EXPECT_GT(r.crowd.answers, 64 * 100);
  EXPECT_EQ(r.crowd.statuses.size(), 1u) << statuses_text(r.crowd.statuses);
}

// Newcomers refused at the cap that neither read their 503 nor close: each would hold a
// descriptor for the 2 s linger; past 64 of them the rest are closed unanswered.
TEST(Load, RefusedConnectionsCannotPileUp) {
  TempDir root;
  AgentOptions options;
  options.args = {"--root", root.path().string()};
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  std::this_thread::sleep_for(200ms);  // the readiness probe is gone
  const long base = open_descriptors(agent.pid());
  std::vector<std::unique_ptr<Connection>> busy, refused;
  for (int i = 0; i < 512; ++i) {  // half a request each: nothing to evict for 2 s
    busy.push_back(std::make_unique<Connection>(agent));
    busy.back()->send("GET /v5/p1/asset/statistics HTTP/1.1\r\n");
  }
  std::this_thread::sleep_for(300ms);
  for (int i = 0; i < 400; ++i) refused.push_back(std::make_unique<Connection>(agent));
  std::this_thread::sleep_for(300ms);
  const long held = open_descriptors(agent.pid()) - base;
  EXPECT_LE(held, 512 + 64 + 16) << "refused connections pile up";
  busy.clear();
  refused.clear();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    try {
      served = fetch(agent, "/v5/p1/asset/statistics").result_int() == 200;
    } catch (...) {
    }
    if (!served) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(served);
  record_figures("load", "refusals nobody reads",
                 "512 connections holding half a request, then 400 newcomers that neither read "
                 "their answer nor close",
                 "descriptors held for connections: " + std::to_string(held) +
                     " (the cap, and 64 refusals lingering at most)",
                 {{"connection_descriptors", held}});
}

}  // namespace
}  // namespace hostprint::test
