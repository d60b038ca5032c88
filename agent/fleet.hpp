#pragma once
// `hostprint fleet`: the three statistics endpoints answered for every host whose metrics an
// engine holds. The PromQL is built from hostprint's own constants only (metric names, the
// category and the max age); every client value (host_id, enterprise_project_id, path) is matched
// here, on the label values fetched, byte for byte.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
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
// The twelve counts of `category`: per host (host_id, enterprise_project_id, __name__) when a
// host_id filter needs them, else already summed per enterprise project.
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

// The series a PromQL text evaluates to, or the reason it could not be had.
using FleetFetchResult = std::variant<std::shared_ptr<const std::vector<PromSample>>, std::string>;
using FleetFetch = std::function<FleetFetchResult(const std::string& promql)>;

// Answers a validated query from `fetch`; an engine failure is 503 HSS.0002, the reason logged.
Answer fleet_answer(const proto::Query& query, const FleetFetch& fetch, unsigned max_age_s);

// The engine behind a short cache: a burst of requests costs one query per PromQL text, and a
// failing engine is asked again only after the failure's own (shorter) hold.
class FleetEngine {
 public:
  FleetEngine(PrometheusClient client, std::chrono::milliseconds hold = std::chrono::seconds(2),
              std::chrono::milliseconds failure_hold = std::chrono::seconds(1))
      : client_(std::move(client)), hold_(hold), failure_hold_(failure_hold) {}

  FleetFetchResult fetch(const std::string& promql);

 private:
  struct Entry {
    std::chrono::steady_clock::time_point fetched;
    FleetFetchResult result;
  };
  PrometheusClient client_;
  std::chrono::milliseconds hold_, failure_hold_;
  std::mutex mutex_;
  std::map<std::string, Entry> cache_;
};

}  // namespace hostprint
