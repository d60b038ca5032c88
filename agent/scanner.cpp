#include "agent/scanner.hpp"

#include <malloc.h>

#include <boost/asio/post.hpp>
#include <random>

#include "agent/collector_registry.hpp"
#include "agent/logging.hpp"
#include "agent/state_store.hpp"
#include "proto/lists.hpp"

namespace hostprint {
namespace {

std::shared_ptr<const collectors::Fingerprints> builtin_rules() {
  return std::make_shared<const collectors::Fingerprints>(
      collectors::parse_fingerprints(collectors::builtin_fingerprints_text()));
}

// A change per log line, up to a bound per scan so one upgrade of everything stays readable.
constexpr std::size_t max_change_lines = 500;

collectors::CollectorConfig collector_config(const ScanSettings& settings) {
  return {settings.rules, settings.rasp_agent_jars, settings.rasp_alarm_logs,
          make_state_store(settings.state_dir)};
}

}  // namespace

Scanner::Scanner(ScanSettings settings) : Scanner(std::move(settings), {}) {}

Scanner::Scanner(ScanSettings settings,
                 std::vector<std::unique_ptr<collectors::Collector>> collectors)
    : settings_(std::move(settings)),
      item_ledger_(make_state_store(settings_.state_dir)),
      change_history_(make_state_store(settings_.state_dir)) {
  item_ledger_.report_changes(proto::change_history_kinds());
  if (!settings_.rules) settings_.rules = builtin_rules();
  if (collectors.empty()) {
    const auto config = collector_config(settings_);
    for (const auto& entry : collector_registry()) collectors.push_back(entry.make(config));
  }
  for (auto i : run_order(collectors)) collectors_.push_back(std::move(collectors[i]));
  for (const auto& c : collectors_) {
    CollectorStatus status;
    status.name = c->name();
    statuses_.push_back(std::move(status));
  }
  ever_complete_.assign(collectors_.size(), false);
}

Scanner::~Scanner() {
  stop_background();
}

ScanSettings Scanner::settings_snapshot() const {
  std::lock_guard lock(settings_mutex_);
  return settings_;
}

std::shared_ptr<const Snapshot> Scanner::scan_once() {
  const auto settings = settings_snapshot();
  const auto scan_start = std::chrono::steady_clock::now();
  proto::AssetSet found;
  // One reader of running processes for the whole scan: each process's facts read once.
  std::shared_ptr<collectors::ProcessReader> process_reader;
  for (std::size_t i = 0; i < collectors_.size(); ++i) {
    auto& collector = *collectors_[i];
    auto& status = statuses_[i];
    collectors::ScanContext context;
    context.root = settings.root;
    context.proc = settings.proc;
    context.found = &found;
    context.readable = collector.reads();
    context.reader = process_reader;
    const auto start = std::chrono::steady_clock::now();
    context.deadline = start + settings.collector_deadline;
    collector_deadline_ns_.store(
        std::chrono::duration_cast<std::chrono::nanoseconds>(settings.collector_deadline).count());
    collector_started_ns_.store(
        std::chrono::duration_cast<std::chrono::nanoseconds>(start.time_since_epoch()).count());
    collectors::Outcome outcome;
    // An input whose writers have never produced a result is missing: the reader waits for it,
    // the same way for every collector.
    std::string missing;
    for (std::size_t j = 0; j < i; ++j)
      if (!ever_complete_[j] && (collector.reads() & collectors_[j]->writes()).any())
        missing += (missing.empty() ? "" : ", ") + std::string(collectors_[j]->name());
    if (missing.empty())
      outcome = collectors::run_contained(collector, context);
    else
      outcome.fail("no result yet from " + missing + " to read");
    process_reader = context.reader;
    collector_started_ns_.store(0);
    const auto end = std::chrono::steady_clock::now();
    status.last_run = std::chrono::system_clock::now();
    status.duration_ms = std::chrono::duration<double, std::milli>(end - start).count();
    status.complete = outcome.complete;
    status.errors = std::move(outcome.errors);
    if (outcome.complete) {
      status.last_success = status.last_run;
      ever_complete_[i] = true;
    }
    status.item_count = collector.item_count();
    collector.publish(found);
    for (const auto& e : status.errors)
      log(outcome.complete ? LogLevel::warning : LogLevel::error, collector.name(),
          outcome.complete ? e : e + " (keeping the last good result)");
  }
  const double total_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - scan_start)
          .count();
  // Items first seen by this scan carry its time (recent_scan_time of the same scan).
  const auto completed = std::chrono::system_clock::now();
  const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(completed.time_since_epoch()).count();
  // A kind none of whose collectors has produced a result yet is not compared: it is not gone.
  collectors::KindSet settled;
  settled.set();
  for (std::size_t i = 0; i < collectors_.size(); ++i)
    if (!ever_complete_[i]) settled &= ~collectors_[i]->writes();
  std::vector<ItemChange> changes;
  for (const auto& e : item_ledger_.update(found, now_ms, &changes, settled))
    log(LogLevel::warning, "state", e);
  if (log_enabled(LogLevel::info)) {
    for (std::size_t i = 0; i < std::min(changes.size(), max_change_lines); ++i)
      log(LogLevel::info, "change", describe_change(changes[i]));
    if (changes.size() > max_change_lines)
      log(LogLevel::info, "change",
          std::to_string(changes.size() - max_change_lines) +
              " more changes in this scan (see the change-history endpoints)");
  }
  for (const auto& e : change_history_.record(std::move(changes), now_ms, settings.history))
    log(LogLevel::warning, "state", e);
  auto snapshot = build_snapshot(std::move(found), statuses_, ++generation_, total_ms);
  snapshot->completed_at = completed;
  snapshot->item_times = item_ledger_.times();
  snapshot->changes = change_history_.log();
  // Here, not per scrape: a scrape copies the text of the scan it reads.
  const auto render_start = std::chrono::steady_clock::now();
  snapshot->metrics_text =
      render_metrics(*snapshot, settings.metrics, MetricsFormat::prometheus_text);
  snapshot->metrics_openmetrics =
      render_metrics(*snapshot, settings.metrics, MetricsFormat::openmetrics);
  const double render_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - render_start)
          .count();
  current_.store(snapshot);
  // A scan's working memory is freed when it ends; hand it back so the resident set stays flat.
  ::malloc_trim(0);
  if (log_enabled(LogLevel::debug))
    log(LogLevel::debug, "scanner",
        "scan " + std::to_string(generation_) + " took " + std::to_string(total_ms) +
            " ms; /metrics rendered in " + std::to_string(render_ms) + " ms (" +
            std::to_string(snapshot->metrics_text.size()) + " bytes)");
  return snapshot;
}

bool Scanner::stuck(std::chrono::steady_clock::time_point now) const {
  const auto started = collector_started_ns_.load();
  if (started == 0) return false;
  // Collectors check their deadline between reads; three deadlines means none of them returns.
  const auto running =
      std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() -
      started;
  return running > 3 * collector_deadline_ns_.load();
}

void Scanner::start_background() {
  if (thread_.joinable()) return;
  io_.restart();
  schedule_next();
  thread_ = std::thread([this] {
    auto guard = boost::asio::make_work_guard(io_);
    io_.run();
  });
}

void Scanner::stop_background() {
  if (!thread_.joinable()) return;
  io_.stop();
  thread_.join();
}

void Scanner::schedule_next() {
  const auto interval = settings_snapshot().interval;
  // Up to 10% jitter keeps a fleet's agents from scanning in step.
  static thread_local std::mt19937_64 random{std::random_device{}()};
  const auto spread = std::chrono::duration_cast<std::chrono::milliseconds>(interval) / 10;
  std::uniform_int_distribution<std::int64_t> jitter(-spread.count(), spread.count());
  timer_.expires_after(interval + std::chrono::milliseconds(jitter(random)));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    scan_once();
    schedule_next();
  });
}

void Scanner::reload(ScanSettings settings) {
  if (!settings.rules) settings.rules = builtin_rules();
  {
    std::lock_guard lock(settings_mutex_);
    settings_ = std::move(settings);
  }
  // Reloads that come while one waits for the scanning thread join it: a SIGHUP storm queues one
  // scan, not one per signal. The flag is cleared before the settings are read, so a reload
  // after that read queues its own.
  if (reload_pending_.exchange(true)) return;
  // On the scanning thread, between scans: the rules and the rasp.* keys take effect; the state
  // folder stays the one the agent started with.
  boost::asio::post(io_, [this] {
    reload_pending_ = false;
    const auto config = collector_config(settings_snapshot());
    for (auto& collector : collectors_) collector->reconfigure(config);
    timer_.cancel();
    scan_once();
    schedule_next();
  });
}

}  // namespace hostprint
