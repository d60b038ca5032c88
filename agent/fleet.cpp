#include "agent/fleet.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <set>
#include <system_error>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "agent/cpu_affinity.hpp"
#include "agent/logging.hpp"
#include "agent/metrics.hpp"

namespace hostprint {
namespace {

constexpr std::string_view all_granted = "all_granted_eps";

std::string_view category_text(proto::Category c) {
  return c == proto::Category::host ? "host" : "container";
}

std::string range(unsigned max_age_s) {
  return "[" + std::to_string(max_age_s) + "s]";
}

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
  const std::string fresh = "(last_over_time(hostprint_scan_timestamp_seconds" + range(max_age_s) +
                            ") >= time() - " + std::to_string(max_age_s) + ")";
  return "(" + fresh + " == on(host_id) group_left max by (host_id) (" + fresh + "))";
}

std::string counts_promql(proto::Category category, unsigned max_age_s, bool per_host) {
  std::string names;
  for (const auto& f : count_families)
    names.append(names.empty() ? "" : "|")
        .append(f.name.substr(std::string_view("hostprint_").size()));
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
         of_fleet_hosts("{__name__=~\"hostprint_rasp_protected|hostprint_rasp_blocked_attacks\"}",
                        max_age_s, "") +
         ")";
}

proto::AssetStatistics fleet_asset_statistics(const std::vector<PromSample>& counts,
                                              const proto::AssetStatisticsQuery& query) {
  proto::AssetStatistics out;
  struct PairHash {
    std::size_t operator()(const std::pair<std::string_view, std::string_view>& p) const {
      return std::hash<std::string_view>{}(p.first) * 31 + std::hash<std::string_view>{}(p.second);
    }
  };
  // (host_id, metric); a whole fleet per host is ~10^5 samples, hashed rather than ordered.
  std::unordered_set<std::pair<std::string_view, std::string_view>, PairHash> seen;
  seen.reserve(counts.size());
  for (const auto& s : counts) {
    const auto* name = s.label("__name__");
    if (!name || !selects(query.enterprise_project_id, s.label("enterprise_project_id"))) continue;
    const auto* host = s.label("host_id");
    if (query.host_id && (!host || *host != *query.host_id)) continue;
    // The same host under two series (two enterprise projects, a tie) counts once.
    if (host && !seen.emplace(*host, *name).second) continue;
    for (const auto& f : count_families)
      if (f.name == *name) out.*f.field = add(out.*f.field, count_of(s.value));
  }
  return out;
}

void add_asset_sums(FleetSeries& counts) {
  FleetSeries::AssetSums sums;
  struct PairHash {
    std::size_t operator()(const std::pair<std::string_view, std::string_view>& p) const {
      return std::hash<std::string_view>{}(p.first) * 31 + std::hash<std::string_view>{}(p.second);
    }
  };
  using Seen = std::unordered_set<std::pair<std::string_view, std::string_view>, PairHash>;
  // fleet_asset_statistics's rule, once over all and once within each project.
  Seen seen_all;
  std::map<std::string_view, Seen> seen_in;
  for (const auto& s : counts) {
    const auto* name = s.label("__name__");
    if (!name) continue;
    const auto* host = s.label("host_id");
    const auto* eps = s.label("enterprise_project_id");
    const CountFamily* family = nullptr;
    for (const auto& f : count_families)
      if (f.name == *name) family = &f;
    if (!family) continue;
    if (!host || seen_all.emplace(*host, *name).second)
      sums.all.*family->field = add(sums.all.*family->field, count_of(s.value));
    if (!eps) continue;
    auto& in = seen_in[*eps];
    auto& project = sums.by_project[*eps];
    if (!host || in.emplace(*host, *name).second)
      project.*family->field = add(project.*family->field, count_of(s.value));
  }
  counts.asset_sums = std::move(sums);
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
    // Per host even without host_id: one engine query serves every filter of the category.
    return with(counts_promql(q.category, max_age_s, true), [&](const FleetSeries& s) {
      if (q.host_id || !s.asset_sums) return proto::to_json(fleet_asset_statistics(s, q));
      const auto& eps = q.enterprise_project_id;
      if (!eps || *eps == all_granted) return proto::to_json(s.asset_sums->all);
      auto it = s.asset_sums->by_project.find(*eps);
      return proto::to_json(it == s.asset_sums->by_project.end() ? proto::AssetStatistics{}
                                                                 : it->second);
    });
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

std::vector<std::string> fleet_promql_texts(unsigned max_age_s) {
  std::vector<std::string> texts;
  for (auto category : {proto::Category::host, proto::Category::container}) {
    texts.push_back(counts_promql(category, max_age_s, true));
    texts.push_back(processes_promql(category, max_age_s));
  }
  texts.push_back(rasp_promql(max_age_s));
  return texts;
}

struct FleetEngine::State {
  using Clock = std::chrono::steady_clock;
  struct Entry {
    std::shared_ptr<const FleetSeries> data;
    Clock::time_point data_asked;  // when the query that produced `data` started
    std::optional<std::string> failure;
    Clock::time_point failed_at;
    bool in_flight = false;
    bool wait_logged = false;
    std::uint64_t completed = 0;  // queries finished, to recognise the one a request waited for
  };

  EngineQuery query;
  FleetCacheLimits limits;
  std::set<std::string, std::less<>> counts_texts;  // whose series get add_asset_sums
  std::mutex mutex;
  std::condition_variable changed;
  std::map<std::string, Entry> entries;  // one per PromQL text: a handful, never client text
  unsigned running = 0;                  // threads started and not finished
  unsigned querying = 0;                 // of them, those asking the engine now
  bool closing = false;

  static void run(std::shared_ptr<State> self, std::string promql) {
    unpin_this_thread();  // started by a serving thread, which may be pinned to one CPU
    {
      // At most max_concurrent queries at once: more only queue inside the engine.
      std::unique_lock lock(self->mutex);
      self->changed.wait(lock, [&] { return self->querying < self->limits.max_concurrent; });
      ++self->querying;
    }
    const auto asked = Clock::now();
    FleetFetchResult result;
    try {
      auto series = std::make_shared<FleetSeries>(self->query(promql));
      if (self->counts_texts.contains(promql)) add_asset_sums(*series);
      result = std::shared_ptr<const FleetSeries>(std::move(series));
    } catch (const EngineError& e) {
      result = std::string(e.what());
    } catch (const std::bad_alloc&) {
      result = std::string("out of memory parsing the engine's answer");
    }
    // Logged once per query made, not once per request a held failure answers.
    if (auto* reason = std::get_if<std::string>(&result))
      log(LogLevel::error, "fleet", "engine query failed: " + *reason);
    else
      log(LogLevel::debug, "fleet",
          "engine query took " +
              std::to_string(
                  std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - asked)
                      .count()) +
              " ms, " + std::to_string(std::get<0>(result)->size()) +
              " series: " + printable(promql, 60));
    std::lock_guard lock(self->mutex);
    --self->querying;
    auto& e = self->entries[promql];
    if (auto* reason = std::get_if<std::string>(&result)) {
      // An engine that refuses or errs is down (fleet.md: 503): its last answer is not served
      // again. Only a refresh still running (a slow engine) is bridged by the stale answer.
      e.data.reset();
      e.failure = std::move(*reason);
      e.failed_at = Clock::now();
    } else {
      e.data = std::get<0>(std::move(result));
      e.data_asked = asked;
      e.failure.reset();
    }
    e.in_flight = false;
    ++e.completed;
    --self->running;
    self->changed.notify_all();
  }

  // Under the lock: one query in flight per text, on a thread of its own.
  void start(const std::string& promql, Entry& e, const std::shared_ptr<State>& self) {
    if (e.in_flight || closing) return;
    e.in_flight = true;
    e.wait_logged = false;
    ++running;
    try {
      std::thread(run, self, promql).detach();
    } catch (const std::system_error& error) {
      e.in_flight = false;
      --running;
      e.failure = std::string("cannot start a query thread: ") + error.what();
      e.failed_at = Clock::now();
      ++e.completed;
    }
  }
};

FleetEngine::FleetEngine(EngineQuery query, FleetCacheLimits limits)
    : state_(std::make_shared<State>()) {
  limits.max_stale = std::max(limits.max_stale, limits.fresh);
  limits.max_concurrent = std::max(limits.max_concurrent, 1u);
  state_->query = std::move(query);
  state_->limits = limits;
  for (auto category : {proto::Category::host, proto::Category::container})
    state_->counts_texts.insert(counts_promql(category, limits.max_age_s, true));
}

// The queries in flight hold the state and end within the client's timeout; none starts anew.
FleetEngine::~FleetEngine() {
  std::lock_guard lock(state_->mutex);
  state_->closing = true;
  state_->changed.notify_all();
}

// Every answer held is refreshed once it is half max_stale old, asked for or not, so one that
// no request touched for a while (an endpoint used now and then) is still young enough to serve.
void FleetEngine::keep_fresh() {
  if (state_->limits.max_stale.count() == 0) return;  // nothing cached: nothing to keep
  std::thread([state = state_] {
    std::unique_lock lock(state->mutex);
    const auto& limits = state->limits;
    const auto period =
        std::max<std::chrono::milliseconds>(limits.max_stale / 4, std::chrono::milliseconds(250));
    // Never more often than requests would refresh it.
    const auto due = std::max<std::chrono::milliseconds>(limits.max_stale / 2, limits.fresh);
    while (!state->changed.wait_for(lock, period, [&] { return state->closing; })) {
      const auto now = State::Clock::now();
      for (auto& [text, e] : state->entries) {
        const bool held = e.failure && now - e.failed_at < limits.failure_hold;
        if (!held && (!e.data || now - e.data_asked >= due)) state->start(text, e, state);
      }
    }
  }).detach();
}

void FleetEngine::prefetch(const std::vector<std::string>& texts) {
  std::lock_guard lock(state_->mutex);
  for (const auto& text : texts) state_->start(text, state_->entries[text], state_);
}

bool FleetEngine::wait_idle(std::chrono::milliseconds at_most) {
  std::unique_lock lock(state_->mutex);
  return state_->changed.wait_for(lock, at_most, [&] { return state_->running == 0; });
}

FleetFetchResult FleetEngine::fetch(const std::string& promql) {
  auto& st = *state_;
  const auto& limits = st.limits;
  std::unique_lock lock(st.mutex);
  const auto now = State::Clock::now();
  auto& e = st.entries[promql];
  if (e.data && now - e.data_asked >= limits.max_stale) e.data.reset();  // too old to serve
  if (e.data && now - e.data_asked < limits.fresh) return e.data;
  const bool failure_held = e.failure && now - e.failed_at < limits.failure_hold;
  if (!failure_held) st.start(promql, e, state_);
  // Stale but young enough: answered now, the refresh serves the requests that follow.
  if (e.data) return e.data;
  if (failure_held && !e.in_flight) return *e.failure;

  const auto before = e.completed;
  st.changed.wait_until(lock, now + limits.wait, [&] { return e.completed != before; });
  if (e.completed == before) {
    if (!e.wait_logged)
      log(LogLevel::error, "fleet",
          "no answer from the engine within the " + std::to_string(limits.wait.count()) +
              " ms a request may wait (503); the query goes on in the background");
    e.wait_logged = true;
    return std::string("no answer from the engine within the timeout");
  }
  // The query this request waited for: its outcome, however short max_stale is.
  if (e.data) return e.data;
  return e.failure ? *e.failure : std::string("no answer from the engine");
}

}  // namespace hostprint
