#pragma once
// Runs every collector under a deadline and publishes one immutable Snapshot atomically.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <optional>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/change_history.hpp"
#include "agent/item_ledger.hpp"
#include "agent/metrics.hpp"
#include "agent/snapshot.hpp"
#include "collectors/collector.hpp"
#include "collectors/rules/fingerprints.hpp"

namespace hostprint {

struct ScanSettings {
  std::filesystem::path root = "/";
  std::filesystem::path proc = "/proc";
  std::chrono::seconds interval{60};
  std::chrono::milliseconds collector_deadline{20000};
  // The parsed product rules; null: the rules built in.
  std::shared_ptr<const collectors::Fingerprints> rules;
  // Where the RASP event window is kept (empty: in memory only), and the configured extras.
  std::filesystem::path state_dir;
  std::vector<std::string> rasp_agent_jars;
  std::vector<std::string> rasp_alarm_logs;
  // Labels and limits of GET /metrics, rendered with each scan.
  MetricsSettings metrics;
  HistorySettings history;
};

class Scanner {
 public:
  explicit Scanner(ScanSettings settings);
  // With these collectors instead of the registry's (tests).
  Scanner(ScanSettings settings, std::vector<std::unique_ptr<collectors::Collector>> collectors);
  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // One scan on the calling thread; publishes and returns the new snapshot.
  std::shared_ptr<const Snapshot> scan_once();

  // The latest completed scan: null until the first one ends.
  std::shared_ptr<const Snapshot> current() const { return current_.load(); }
  // When this scanner was made (the first scan runs from about then).
  std::chrono::system_clock::time_point created() const { return created_; }

  // Rescans every interval (with jitter) on a thread of its own; with `scan_now`, the first scan
  // runs there at once.
  void start_background(bool scan_now = false);
  void stop_background();
  // New settings take effect at the next scan, which is started at once.
  void reload(ScanSettings settings);

  // Runs `hook` once, on the thread of the first scan, after its collectors and before the scan is
  // compared with the last one or published. Then the collectors named in `rerun` (and any later
  // one that reads what they write) run again, so the first scan shows what the hook changed.
  // Given before the first scan starts.
  void before_first_publish(std::function<void()> hook, std::vector<std::string> rerun);

  // How long past its deadline a collector's run is waited for before it is abandoned.
  static std::chrono::milliseconds grace(std::chrono::milliseconds deadline) { return deadline / 4; }

 private:
  struct Worker;
  void schedule_next();
  ScanSettings settings_snapshot() const;
  // Runs collector i on its worker with the scan's results so far; what it publishes is left in
  // published_[i] (its last good result when it fails or is stuck).
  void run_collector(std::size_t i, const proto::AssetSet& found, const ScanSettings& settings,
                     std::shared_ptr<collectors::ProcessReader>& process_reader);

  mutable std::mutex settings_mutex_;
  ScanSettings settings_;
  std::vector<std::unique_ptr<collectors::Collector>> collectors_;  // in the order they run
  std::vector<CollectorStatus> statuses_;                           // one per collector
  std::vector<bool> ever_complete_;                                 // one per collector
  // Each collector runs on a thread of its own so a run stuck in the kernel can be left behind.
  std::vector<std::shared_ptr<Worker>> workers_;
  // What each collector last published when its run returned in time: a stuck collector's
  // object is its thread's, so its last good result is taken from here.
  std::vector<proto::AssetSet> published_;
  // A reload's settings for a collector that was stuck when it came, applied before its next run.
  std::vector<std::optional<collectors::CollectorConfig>> pending_config_;
  std::chrono::system_clock::time_point created_ = std::chrono::system_clock::now();
  ItemLedger item_ledger_;
  std::string item_times_error_;  // see Snapshot::item_times_error
  std::chrono::system_clock::time_point item_times_error_at_{};
  ChangeHistory change_history_;
  std::uint64_t generation_ = 0;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  std::atomic<bool> reload_pending_{false};  // a reload's scan is queued and not yet started
  std::function<void()> first_publish_hook_;   // see before_first_publish; empty once run
  std::vector<std::string> rerun_after_hook_;

  boost::asio::io_context io_;
  boost::asio::steady_timer timer_{io_};
  std::thread thread_;
};

}  // namespace hostprint
