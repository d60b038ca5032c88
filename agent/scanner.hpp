#pragma once
// Runs every collector under a deadline and publishes one immutable Snapshot atomically.
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
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

  // The latest completed scan (never null after the first scan_once).
  std::shared_ptr<const Snapshot> current() const { return current_.load(); }

  // Rescans every interval (with jitter) on a thread of its own.
  void start_background();
  void stop_background();
  // New settings take effect at the next scan, which is started at once.
  void reload(ScanSettings settings);

  // A collector has run far past its deadline (a read that hangs, a loop that never ends): the
  // watchdog keep-alive is withheld so the service manager restarts the agent.
  bool stuck(std::chrono::steady_clock::time_point now) const;

 private:
  void schedule_next();
  ScanSettings settings_snapshot() const;

  mutable std::mutex settings_mutex_;
  ScanSettings settings_;
  std::vector<std::unique_ptr<collectors::Collector>> collectors_;  // in the order they run
  std::vector<CollectorStatus> statuses_;                           // one per collector
  std::vector<bool> ever_complete_;                                 // one per collector
  ItemLedger item_ledger_;
  ChangeHistory change_history_;
  std::uint64_t generation_ = 0;
  std::atomic<std::shared_ptr<const Snapshot>> current_;
  // When the running collector started (steady clock, ns), and its deadline; 0 between collectors.
  std::atomic<std::int64_t> collector_started_ns_{0};
  std::atomic<bool> reload_pending_{false};  // a reload's scan is queued and not yet started
  std::atomic<std::int64_t> collector_deadline_ns_{0};

  boost::asio::io_context io_;
  boost::asio::steady_timer timer_{io_};
  std::thread thread_;
};

}  // namespace hostprint
