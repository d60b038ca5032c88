#include "agent/scanner.hpp"

#include <malloc.h>

#include <boost/asio/post.hpp>
#include <algorithm>
#include <condition_variable>
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

void merge(proto::AssetSet& into, const proto::AssetSet& piece) {
  piece.each_kind([&](const auto& parts) {
    for (const auto& part : parts) into.add(part.items, part.container_id);
  });
  into.blocked_attacks += piece.blocked_attacks;
  if (!piece.host_name.empty()) into.host_name = piece.host_name;
  if (!piece.host_ip.empty()) into.host_ip = piece.host_ip;
  into.container_names.insert(piece.container_names.begin(), piece.container_names.end());
}

std::string iso_time(std::chrono::system_clock::time_point t) {
  auto seconds = std::chrono::system_clock::to_time_t(t);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

// One collector's thread. A run is handed over with its own context and its own copy of the
// scan's results so far: a run the scanner abandons may outlive the scan that started it.
struct Scanner::Worker {
  explicit Worker(collectors::Collector& c) : collector(c) {}

  collectors::Collector& collector;
  std::mutex mutex;
  std::condition_variable changed;
  bool asked = false;      // a run is handed over and not yet picked up
  bool busy = false;       // a run is handed over and has not returned
  bool quit = false;
  collectors::ScanContext context;
  proto::AssetSet input;
  collectors::Outcome outcome;
  std::chrono::steady_clock::time_point started;
  std::chrono::system_clock::time_point started_wall;
  std::thread thread;

  // The thread holds the worker too, so a run still stuck when the scanner goes keeps it alive.
  static void start(const std::shared_ptr<Worker>& self) {
    self->thread = std::thread([self] {
      std::unique_lock lock(self->mutex);
      for (;;) {
        self->changed.wait(lock, [&] { return self->quit || self->asked; });
        if (self->quit) return;
        self->asked = false;
        lock.unlock();
        auto outcome = collectors::run_contained(self->collector, self->context);
        lock.lock();
        self->outcome = std::move(outcome);
        self->busy = false;
        self->changed.notify_all();
      }
    });
  }
};

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
  published_.resize(collectors_.size());
  pending_config_.resize(collectors_.size());
  for (auto& c : collectors_) {
    workers_.push_back(std::make_shared<Worker>(*c));
    Worker::start(workers_.back());
  }
}

Scanner::~Scanner() {
  stop_background();
  for (std::size_t i = 0; i < workers_.size(); ++i) {
    auto& worker = *workers_[i];
    std::unique_lock lock(worker.mutex);
    worker.quit = true;
    worker.changed.notify_all();
    if (worker.busy) {
      // Still blocked in the kernel: its thread keeps the collector, which is never freed.
      (void)collectors_[i].release();
      lock.unlock();
      worker.thread.detach();
    } else {
      lock.unlock();
      worker.thread.join();
    }
  }
}

ScanSettings Scanner::settings_snapshot() const {
  std::lock_guard lock(settings_mutex_);
  return settings_;
}

void Scanner::run_collector(std::size_t i, const proto::AssetSet& found,
                            const ScanSettings& settings,
                            std::shared_ptr<collectors::ProcessReader>& process_reader) {
  auto& collector = *collectors_[i];
  auto& status = statuses_[i];
  auto& worker = *workers_[i];
  // An input whose writers have never produced a result is missing: the reader waits for it,
  // the same way for every collector.
  std::string missing;
  for (std::size_t j = 0; j < i; ++j)
    if (!ever_complete_[j] && (collector.reads() & collectors_[j]->writes()).any())
      missing += (missing.empty() ? "" : ", ") + std::string(collectors_[j]->name());
  std::unique_lock lock(worker.mutex);
  if (worker.busy) {
    // Its previous run is still stuck: not started again, its last good result stands.
    const auto for_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::steady_clock::now() - worker.started)
                           .count();
    lock.unlock();
    status.complete = false;
    status.errors = {"stuck in a read for " + std::to_string(for_s) + " s since " +
                     iso_time(worker.started_wall) +
                     "; not started again until it returns (keeping the last good result)"};
    log(LogLevel::error, collector.name(), status.errors.front());
    return;
  }
  // A run abandoned earlier may have returned since: its outcome is not taken.
  if (pending_config_[i]) {
    collector.reconfigure(*pending_config_[i]);
    pending_config_[i].reset();
  }
  collectors::Outcome outcome;
  const auto start = std::chrono::steady_clock::now();
  bool returned = true;
  if (!missing.empty()) {
    outcome.fail("no result yet from " + missing + " to read");
  } else {
    worker.input = found;
    worker.context = {};
    worker.context.root = settings.root;
    worker.context.proc = settings.proc;
    worker.context.found = &worker.input;
    worker.context.readable = collector.reads();
    worker.context.reader = process_reader;
    worker.context.deadline = start + settings.collector_deadline;
    worker.started = start;
    worker.started_wall = std::chrono::system_clock::now();
    worker.asked = worker.busy = true;
    worker.changed.notify_all();
    returned = worker.changed.wait_until(
        lock, worker.context.deadline + grace(settings.collector_deadline),
        [&] { return !worker.busy; });
    if (returned) {
      outcome = std::move(worker.outcome);
      process_reader = std::move(worker.context.reader);
      // Nothing of this scan stays with the worker until its next run.
      worker.context = {};
      worker.input = {};
    } else {
      // Left to return or stay blocked; the reader it holds is its own from now on.
      process_reader = nullptr;
      outcome.fail("stuck in a read past its deadline since " + iso_time(worker.started_wall) +
                   "; abandoned, the scan went on without it");
    }
  }
  lock.unlock();
  const auto end = std::chrono::steady_clock::now();
  status.last_run = std::chrono::system_clock::now();
  status.duration_ms = std::chrono::duration<double, std::milli>(end - start).count();
  status.complete = outcome.complete;
  status.errors = std::move(outcome.errors);
  if (outcome.complete) {
    status.last_success = status.last_run;
    ever_complete_[i] = true;
  }
  if (returned) {
    status.item_count = collector.item_count();
    published_[i] = {};
    collector.publish(published_[i]);
  }
  for (const auto& e : status.errors)
    log(outcome.complete ? LogLevel::warning : LogLevel::error, collector.name(),
        outcome.complete ? e : e + " (keeping the last good result)");
}

void Scanner::before_first_publish(std::function<void()> hook, std::vector<std::string> rerun) {
  first_publish_hook_ = std::move(hook);
  rerun_after_hook_ = std::move(rerun);
}

std::shared_ptr<const Snapshot> Scanner::scan_once() {
  const auto settings = settings_snapshot();
  const auto scan_start = std::chrono::steady_clock::now();
  proto::AssetSet found;
  // One reader of running processes for the whole scan: each process's facts read once.
  std::shared_ptr<collectors::ProcessReader> process_reader;
  for (std::size_t i = 0; i < collectors_.size(); ++i) {
    run_collector(i, found, settings, process_reader);
    merge(found, published_[i]);
  }
  if (first_publish_hook_) {
    auto hook = std::exchange(first_publish_hook_, nullptr);
    hook();
    // What the hook changed is read again, by the collectors named and those after them that
    // read what they write, with a reader of its own: the scan's has the facts from before it.
    std::shared_ptr<collectors::ProcessReader> fresh_reader;
    collectors::KindSet stale;
    proto::AssetSet again;
    for (std::size_t i = 0; i < collectors_.size(); ++i) {
      const bool named = std::find(rerun_after_hook_.begin(), rerun_after_hook_.end(),
                                   collectors_[i]->name()) != rerun_after_hook_.end();
      if (named || (collectors_[i]->reads() & stale).any()) {
        run_collector(i, again, settings, fresh_reader);
        stale |= collectors_[i]->writes();
      }
      merge(again, published_[i]);
    }
    found = std::move(again);
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
  const auto ledger_errors = item_ledger_.update(found, now_ms, &changes, settled);
  for (const auto& e : ledger_errors) log(LogLevel::warning, "state", e);
  if (!ledger_errors.empty()) {
    item_times_error_.clear();
    for (const auto& e : ledger_errors)
      item_times_error_.append(item_times_error_.empty() ? "" : "; ").append(e);
    item_times_error_at_ = completed;
  }
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
  snapshot->item_times_error = item_times_error_;
  snapshot->item_times_error_at = item_times_error_at_;
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

void Scanner::start_background(bool scan_now) {
  if (thread_.joinable()) return;
  io_.restart();
  if (scan_now)
    boost::asio::post(io_, [this] {
      scan_once();
      schedule_next();
    });
  else
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
    for (std::size_t i = 0; i < collectors_.size(); ++i) {
      std::unique_lock lock(workers_[i]->mutex);
      // A stuck collector's object is its thread's: it takes the settings before its next run.
      if (workers_[i]->busy)
        pending_config_[i] = config;
      else
        collectors_[i]->reconfigure(config);
    }
    timer_.cancel();
    scan_once();
    schedule_next();
  });
}

}  // namespace hostprint
