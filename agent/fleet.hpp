#pragma once
// `hostprint fleet`: the three statistics endpoints answered for every host whose metrics an
// engine holds. The PromQL is built from hostprint's own constants only (metric names, the
// category and the max age); every client value (host_id, enterprise_project_id, path) is matched
// here, on the label values fetched, byte for byte.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "agent/prometheus_client.hpp"
#include "agent/router.hpp"
#include "proto/query.hpp"
#include "proto/wire.hpp"

namespace hostprint {

// A host is in the fleet when its latest scan timestamp is at most this old; among the series of
// one host_id (scraped twice), the one with the newest scan counts.
std::string fleet_hosts_promql(unsigned max_age_s);
// The twelve counts of `category`: per host (host_id, enterprise_project_id, __name__), what
// fleet_answer asks, or already summed per enterprise project.
std::string counts_promql(proto::Category category, unsigned max_age_s, bool per_host);
// Hosts running each path, per (enterprise_project_id, path).
std::string processes_promql(proto::Category category, unsigned max_age_s);
// hostprint_rasp_protected and hostprint_rasp_blocked_attacks per host.
std::string rasp_promql(unsigned max_age_s);

proto::AssetStatistics fleet_asset_statistics(const std::vector<PromSample>& counts,
                                              const proto::AssetStatisticsQuery& query);
proto::ProcessStatistics fleet_process_statistics(const std::vector<PromSample>& hosts_per_path,
                                                  const proto::ProcessStatisticsQuery& query);
proto::RaspStatistics fleet_rasp_statistics(const std::vector<PromSample>& per_host,
                                            const proto::RaspStatisticsQuery& query);

// The series a PromQL text evaluates to. For the per-host counts, also their sums per enterprise
// project and over all, made once where the series are fetched: a request without host_id then
// adds up nothing (a fleet of 10,000 hosts is 120,000 such series).
struct FleetSeries : std::vector<PromSample> {
  using std::vector<PromSample>::vector;
  explicit FleetSeries(std::vector<PromSample> samples)
      : std::vector<PromSample>(std::move(samples)) {}
  struct AssetSums {
    proto::AssetStatistics all;
    std::map<std::string, proto::AssetStatistics, std::less<>> by_project;
  };
  std::optional<AssetSums> asset_sums;
};
// Fills asset_sums, equal to fleet_asset_statistics without host_id for every project.
void add_asset_sums(FleetSeries& counts);

// The series, or the reason they could not be had.
using FleetFetchResult = std::variant<std::shared_ptr<const FleetSeries>, std::string>;
using FleetFetch = std::function<FleetFetchResult(const std::string& promql)>;

// Answers a validated query from `fetch`; an engine failure is 503 HSS.0002, the reason logged.
Answer fleet_answer(const proto::Query& query, const FleetFetch& fetch, unsigned max_age_s);

// Every PromQL text fleet_answer can ask for: warmed at start so no first request waits.
std::vector<std::string> fleet_promql_texts(unsigned max_age_s);

// How FleetEngine serves an answer: fresh (served as is), stale (served at once while one
// background query refreshes it), too old (never served: the request waits for the engine).
// Ages count from the start of the query that produced the answer.
struct FleetCacheLimits {
  std::chrono::milliseconds fresh{2000};        // fleet.cache_ms
  std::chrono::milliseconds max_stale{120000};  // fleet.max_stale_ms (never below `fresh`)
  std::chrono::milliseconds failure_hold{1000}; // a failed query is not repeated sooner
  std::chrono::milliseconds wait{10000};        // the longest a request waits on the engine
  unsigned max_concurrent = 2;                  // engine queries at once, over all texts
  unsigned max_age_s = 600;                     // the texts' --max-age (which are the counts)
};

// One engine query: the series, or EngineError.
using EngineQuery = std::function<std::vector<PromSample>(const std::string& promql)>;

// The engine behind a cache refreshed in the background: each PromQL text has at most one query
// in flight (on its own thread, so independent texts are asked concurrently), a burst of
// requests costs one query, and a request waits on the engine only when no answer is young
// enough, for at most limits.wait. The engine failing past max_stale: 503, never older answers.
class FleetEngine {
 public:
  FleetEngine(EngineQuery query, FleetCacheLimits limits);
  ~FleetEngine();
  FleetEngine(const FleetEngine&) = delete;
  FleetEngine& operator=(const FleetEngine&) = delete;

  FleetFetchResult fetch(const std::string& promql);
  // Starts a query for each text that has none in flight; waits for none.
  void prefetch(const std::vector<std::string>& texts);
  // From now on, refreshes every text once its answer is half max_stale old (a thread that ends
  // with the engine); without it, only requests start refreshes.
  void keep_fresh();
  // Waits (bounded) until no query is in flight: a clean exit.
  bool wait_idle(std::chrono::milliseconds at_most);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace hostprint
