#include "agent/fleet.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <unordered_map>

#include "agent/logging.hpp"

namespace hostprint {
namespace {

constexpr std::string_view all_granted = "all_granted_eps";

struct CountFamily {
  std::string_view metric;
  std::int64_t proto::AssetStatistics::*member;
};

constexpr std::array<CountFamily, 12> count_families{{
    {"hostprint_accounts", &proto::AssetStatistics::account_num},
    {"hostprint_ports", &proto::AssetStatistics::port_num},
    {"hostprint_running_processes", &proto::AssetStatistics::process_num},
    {"hostprint_apps", &proto::AssetStatistics::app_num},
    {"hostprint_auto_launches", &proto::AssetStatistics::auto_launch_num},
    {"hostprint_web_frameworks", &proto::AssetStatistics::web_framework_num},
    {"hostprint_web_sites", &proto::AssetStatistics::web_site_num},
    {"hostprint_jar_packages", &proto::AssetStatistics::jar_package_num},
    {"hostprint_kernel_modules", &proto::AssetStatistics::kernel_module_num},
    {"hostprint_web_services", &proto::AssetStatistics::web_service_num},
    {"hostprint_web_apps", &proto::AssetStatistics::web_app_num},
    {"hostprint_databases", &proto::AssetStatistics::database_num},
}};

std::string_view category_text(proto::Category c) {
  return c == proto::Category::host ? "host" : "container";
}

std::string range(unsigned max_age_s) { return "[" + std::to_string(max_age_s) + "s]"; }

// The series of `selector` that belong to a fleet host's newest scan. The ignored labels are
// those the selector's family has beyond the scan timestamp's (the same target's) labels.
std::string of_fleet_hosts(const std::string& selector, unsigned max_age_s,
                           std::string_view ignored) {
  return "(last_over_time(" + selector + range(max_age_s) + ") and " +
         (ignored.empty() ? "" : "ignoring(" + std::string(ignored) + ") ") +
         fleet_hosts_promql(max_age_s) + ")";
}

// A sample's value as a count: finite (the client guarantees it), rounded, never negative.
std::int64_t count_of(double value) {
  if (!(value > 0)) return 0;
  if (value > 9.0e15) return std::int64_t{9'000'000'000'000'000};
  return std::llround(value);
}

std::int64_t add(std::int64_t a, std::int64_t b) {
  constexpr std::int64_t top = std::int64_t{1} << 62;
  return std::min(a + b, top);  // both are at most 9e15 or a previous clamp
}

bool selects(const std::optional<std::string>& requested, const std::string* eps) {
  return !requested || *requested == all_granted || (eps && *eps == *requested);
}

}  // namespace

std::string fleet_hosts_promql(unsigned max_age_s) {
  const std::string fresh = "(last_over_time(hostprint_scan_timestamp_seconds" +
                            range(max_age_s) + ") >= time() - " + std::to_string(max_age_s) + ")";
  return "(" + fresh + " == on(host_id) group_left max by (host_id) (" + fresh + "))";
}

std::string counts_promql(proto::Category category, unsigned max_age_s, bool per_host) {
  std::string names;
  for (const auto& f : count_families)
    names.append(names.empty() ? "" : "|").append(f.metric.substr(std::string_view("hostprint_").size()));
  const std::string selector = "{__name__=~\"hostprint_(" + names + ")\",category=\"" +
                               std::string(category_text(category)) + "\"}";
  // max: one host's duplicate series (a tie of newest scans) count once.
  std::string per_host_text = "max by (host_id, enterprise_project_id, __name__) (" +
                              of_fleet_hosts(selector, max_age_s, "category") + ")";
  if (per_host) return per_host_text;
  return "sum by (enterprise_project_id, __name__) (" + per_host_text + ")";
}

std::string processes_promql(proto::Category category, unsigned max_age_s) {
  const std::string selector =
      "hostprint_processes{category=\"" + std::string(category_text(category)) + "\"}";
  return "count by (enterprise_project_id, path) (max by (host_id, enterprise_project_id, path) (" +
         of_fleet_hosts(selector, max_age_s, "category, path") + ") > 0)";
}

std::string rasp_promql(unsigned max_age_s) {
  return "max by (host_id, enterprise_project_id, __name__) (" +
         of_fleet_hosts(
             "{__name__=~\"hostprint_rasp_protected|hostprint_rasp_blocked_attacks\"}",
             max_age_s, "") +
         ")";
}

proto::AssetStatistics fleet_asset_statistics(const std::vector<PromSample>& counts,
                                              const proto::AssetStatisticsQuery& query) {
  proto::AssetStatistics out;
  std::set<std::pair<std::string_view, std::string_view>> seen;  // (host_id, metric)
  for (const auto& s : counts) {
    const auto* name = s.label("__name__");
    if (!name || !selects(query.enterprise_project_id, s.label("enterprise_project_id")))
      continue;
    const auto* host = s.label("host_id");
    if (query.host_id && (!host || *host != *query.host_id)) continue;
    // The same host under two series (two enterprise projects, a tie) counts once.
    if (host && !seen.emplace(*host, *name).second) continue;
    for (const auto& f : count_families)
      if (f.metric == *name) out.*f.member = add(out.*f.member, count_of(s.value));
  }
  return out;
}

proto::ProcessStatistics fleet_process_statistics(const std::vector<PromSample>& hosts_per_path,
                                                  const proto::ProcessStatisticsQuery& query) {
  std::unordered_map<std::string_view, std::int64_t> hosts;
  for (const auto& s : hosts_per_path) {
    const auto* path = s.label("path");
    if (!path || path->empty() ||
        !selects(query.enterprise_project_id, s.label("enterprise_project_id")))
      continue;
    if (query.path && path->find(*query.path) == std::string::npos) continue;
    auto n = count_of(s.value);
    if (n > 0) hosts[*path] = add(hosts[*path], n);
  }
  std::vector<std::pair<std::string_view, std::int64_t>> order(hosts.begin(), hosts.end());
  // num descending, then path by bytes (string_view compares as unsigned char).
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  proto::ProcessStatistics out;
  out.total_num = static_cast<std::int64_t>(order.size());
  for (std::size_t i = query.offset; i < order.size() && out.data_list.size() < query.limit; ++i)
    out.data_list.push_back({std::string(order[i].first), order[i].second});
  return out;
}

proto::RaspStatistics fleet_rasp_statistics(const std::vector<PromSample>& per_host,
                                            const proto::RaspStatisticsQuery& query) {
  struct Host {
    std::optional<std::int64_t> is_protected, blocked;
  };
  std::unordered_map<std::string_view, Host> hosts;
  for (const auto& s : per_host) {
    const auto* host = s.label("host_id");
    const auto* name = s.label("__name__");
    if (!host || !name || !selects(query.enterprise_project_id, s.label("enterprise_project_id")))
      continue;
    auto& h = hosts[*host];
    auto& slot = *name == "hostprint_rasp_protected" ? h.is_protected : h.blocked;
    if (!slot) slot = count_of(s.value);  // a duplicate series of the host counts once
  }
  proto::RaspStatistics out;
  for (const auto& [id, h] : hosts) {
    if (h.is_protected.value_or(0) != 1) continue;
    ++out.protect_host_num;
    out.anti_tampering_num = add(out.anti_tampering_num, h.blocked.value_or(0));
  }
  return out;
}

namespace {

proto::ApiError engine_unavailable() {
  return {503, "HSS.0002", "service unavailable",
          "the metrics engine could not be queried; the reason is in the log"};
}

struct FleetVisitor {
  const FleetFetch& fetch;
  unsigned max_age_s;

  template <typename Compute>
  Answer with(const std::string& promql, Compute compute) const {
    auto result = fetch(promql);
    if (std::holds_alternative<std::string>(result)) return error_answer(engine_unavailable());
    return {200, compute(*std::get<0>(result))};
  }

  Answer operator()(const proto::AssetStatisticsQuery& q) const {
    return with(counts_promql(q.category, max_age_s, q.host_id.has_value()),
                [&](const auto& s) { return proto::to_json(fleet_asset_statistics(s, q)); });
  }
  Answer operator()(const proto::ProcessStatisticsQuery& q) const {
    return with(processes_promql(q.category, max_age_s),
                [&](const auto& s) { return proto::to_json(fleet_process_statistics(s, q)); });
  }
  Answer operator()(const proto::RaspStatisticsQuery& q) const {
    return with(rasp_promql(max_age_s),
                [&](const auto& s) { return proto::to_json(fleet_rasp_statistics(s, q)); });
  }
  // The agent's own scan status has no fleet meaning.
  Answer operator()(const proto::StatusQuery&) const { return error_answer(proto::not_found()); }
};

}  // namespace

Answer fleet_answer(const proto::Query& query, const FleetFetch& fetch, unsigned max_age_s) {
  return std::visit(FleetVisitor{fetch, max_age_s}, query);
}

FleetFetchResult FleetEngine::fetch(const std::string& promql) {
  std::lock_guard lock(mutex_);
  const auto now = std::chrono::steady_clock::now();
  std::erase_if(cache_, [&](const auto& item) {
    const auto& e = item.second;
    return now - e.fetched >= (e.result.index() == 0 ? hold_ : failure_hold_);
  });
  if (auto it = cache_.find(promql); it != cache_.end()) return it->second.result;
  FleetFetchResult result;
  try {
    result = std::make_shared<const std::vector<PromSample>>(client_.query(promql));
  } catch (const EngineError& e) {
    result = std::string(e.what());
  } catch (const std::bad_alloc&) {
    result = std::string("out of memory parsing the engine's answer");
  }
  // Logged once per query made, not once per request a held failure answers.
  if (auto* reason = std::get_if<std::string>(&result))
    log(LogLevel::error, "fleet", "engine query failed: " + *reason);
  cache_[promql] = {std::chrono::steady_clock::now(), result};
  return result;
}

}  // namespace hostprint
