#include "agent/router.hpp"

#include <boost/json.hpp>
#include <chrono>

#include "agent/change_history.hpp"
#include "agent/lists.hpp"
#include "agent/metrics.hpp"
#include "proto/query.hpp"
#include "proto/wire.hpp"

namespace hostprint {
namespace {

constexpr std::string_view all_granted = "all_granted_eps";

bool selects_this_host(const std::optional<std::string>& requested,
                       const RouterSettings& settings) {
  return !requested || *requested == settings.enterprise_project_id || *requested == all_granted;
}

const ScopeView& scope(const Snapshot& snapshot, proto::Category category) {
  return category == proto::Category::host ? snapshot.host : snapshot.container;
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  if (t.time_since_epoch().count() == 0) return {};
  auto seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::string status_json(const Snapshot& snapshot) {
  boost::json::object o;
  o["generation"] = snapshot.generation;
  o["scan_completed_at"] = iso_time(snapshot.completed_at);
  o["scan_duration_us"] = static_cast<std::int64_t>(snapshot.scan_duration_ms * 1000);
  boost::json::array list;
  for (const auto& c : snapshot.collectors) {
    boost::json::object item;
    item["name"] = c.name;
    item["last_run"] = iso_time(c.last_run);
    item["last_success"] = iso_time(c.last_success);
    item["duration_us"] = static_cast<std::int64_t>(c.duration_ms * 1000);
    item["item_count"] = c.item_count;
    item["complete"] = c.complete;
    boost::json::array errors;
    for (const auto& e : c.errors) errors.emplace_back(to_valid_utf8(e));
    item["errors"] = std::move(errors);
    list.emplace_back(std::move(item));
  }
  o["collectors"] = std::move(list);
  boost::json::object history;
  const ChangeLog empty;
  const ChangeLog& changes = snapshot.changes ? *snapshot.changes : empty;
  history["events"] = static_cast<std::int64_t>(changes.size);
  history["dropped_events"] = static_cast<std::int64_t>(changes.dropped);
  history["error"] = to_valid_utf8(changes.error);
  o["change_history"] = std::move(history);
  boost::json::object times;
  times["error"] = to_valid_utf8(snapshot.item_times_error);
  times["error_at"] = snapshot.item_times_error.empty() ? std::string()
                                                         : iso_time(snapshot.item_times_error_at);
  o["item_times"] = std::move(times);
  return boost::json::serialize(o);
}

Answer answer(const proto::AssetStatisticsQuery& q, const Snapshot& snapshot,
              const RouterSettings& settings) {
  bool selected = selects_this_host(q.enterprise_project_id, settings) &&
                  (!q.host_id || *q.host_id == settings.host_id);
  return {200, selected ? scope(snapshot, q.category).counts_json
                        : proto::to_json(proto::AssetStatistics{})};
}

Answer answer(const proto::ProcessStatisticsQuery& q, const Snapshot& snapshot,
              const RouterSettings& settings) {
  std::int64_t matched = 0;
  std::vector<const std::string*> page;
  if (selects_this_host(q.enterprise_project_id, settings)) {
    const auto& view = scope(snapshot, q.category);
    for (std::size_t i = 0; i < view.process_table.size(); ++i) {
      if (q.path && view.process_table[i].path.find(*q.path) == std::string::npos) continue;
      if (matched >= q.offset && page.size() < q.limit) page.push_back(&view.process_entry_json[i]);
      ++matched;
    }
  }
  return {200, proto::process_statistics_json(matched, page)};
}

Answer answer(const proto::RaspStatisticsQuery& q, const Snapshot& snapshot,
              const RouterSettings& settings) {
  return {200, proto::to_json(selects_this_host(q.enterprise_project_id, settings)
                                  ? snapshot.rasp
                                  : proto::RaspStatistics{})};
}

Answer answer(const proto::StatusQuery&, const Snapshot& snapshot, const RouterSettings&) {
  return {200, status_json(snapshot)};
}

}  // namespace

Answer error_answer(const proto::ApiError& error) {
  return {error.status, proto::to_json(error), error.status == 405};
}

std::variant<proto::Query, Answer> validate_request(std::string_view method,
                                                    std::string_view target,
                                                    const std::optional<std::string>& project_id) {
  auto match = proto::match_path(target);
  if (!match) return error_answer(proto::not_found());
  if (method != "GET" && method != "HEAD") return error_answer(proto::method_not_allowed());
  if (match->error) return error_answer(*match->error);
  if (match->endpoint != proto::Endpoint::status && project_id && match->project_id != *project_id)
    return error_answer(proto::project_mismatch(match->project_id));
  auto query = proto::parse_query(match->endpoint, target);
  if (auto* error = std::get_if<proto::ApiError>(&query)) return error_answer(*error);
  return std::get<proto::Query>(std::move(query));
}

Answer route(std::string_view method, std::string_view target, const Snapshot& snapshot,
             const RouterSettings& settings, std::string_view accept) {
  if (is_metrics_target(target)) {
    if (method != "GET" && method != "HEAD") return error_answer(proto::method_not_allowed());
    if (negotiate_metrics_format(accept) == MetricsFormat::openmetrics)
      return {200, snapshot.metrics_openmetrics, false, openmetrics_content_type};
    return {200, snapshot.metrics_text, false, prometheus_text_content_type};
  }
  if (auto list = proto::match_list_path(target)) {
    if (method != "GET" && method != "HEAD") return error_answer(proto::method_not_allowed());
    if (list->error) return error_answer(*list->error);
    if (settings.project_id && list->project_id != *settings.project_id)
      return error_answer(proto::project_mismatch(list->project_id));
    auto query = proto::parse_list_query(*list, target);
    if (auto* error = std::get_if<proto::ApiError>(&query)) return error_answer(*error);
    return {200, list_json(std::get<proto::ListQuery>(query), snapshot,
                           {settings.host_id, settings.enterprise_project_id})};
  }
  auto checked = validate_request(method, target, settings.project_id);
  if (auto* refused = std::get_if<Answer>(&checked)) return std::move(*refused);
  return std::visit([&](const auto& q) { return answer(q, snapshot, settings); },
                    std::get<proto::Query>(checked));
}

Answer route_before_first_scan(std::string_view method, std::string_view target,
                               const RouterSettings& settings,
                               std::chrono::system_clock::time_point since) {
  static const Snapshot none;
  auto answer = route(method, target, none, settings);
  if (answer.status != 200) return answer;
  const auto match = proto::match_path(target);
  if (match && match->endpoint == proto::Endpoint::status) {
    boost::json::object o;
    o["generation"] = 0;
    o["scan_completed_at"] = "";
    o["first_scan_running_since"] = iso_time(since);
    o["collectors"] = boost::json::array{};
    return {200, boost::json::serialize(o)};
  }
  return error_answer({503, "HSS.0002", "service unavailable", "the first scan is still running"});
}

}  // namespace hostprint
