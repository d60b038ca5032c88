#pragma once
// Application protection (assets.md, RASP): the processes a RASP agent is loaded into and the
// attacks they blocked in the window. A log is read on from where the last read stopped, and every
// counted event is remembered until it leaves the window, so rotation and restarts neither lose nor
// double one; the window is kept as a state record the agent stores.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"
#include "collectors/rules/fingerprints.hpp"
#include "collectors/formats/rasp_alarm_log.hpp"
#include "collectors/rasp_event_window.hpp"

namespace hostprint::collectors {

struct RaspFindings {
  std::vector<ProtectedProcess> protected_processes;  // by pid
  std::int64_t blocked_attacks = 0;                   // within the window when the scan ended
  std::uint64_t parse_errors = 0;  // malformed or overlong lines skipped since the agent started
};

struct RaspSettings {
  std::shared_ptr<const Fingerprints> rules;  // null: no agents are known but agent_jars
  std::vector<std::string> agent_jars;        // more agent jar file names
  std::vector<std::string> alarm_logs;        // more alarm log globs, under the root
  std::shared_ptr<StateRecords> state;        // null: the window is kept in memory only
};

// Bounds.
inline constexpr std::size_t rasp_max_logs_per_glob = 1'000;
inline constexpr std::size_t rasp_max_folder_entries = 10'000;
inline constexpr std::uint64_t rasp_max_read_per_scan = 64ull << 20;
inline constexpr std::size_t rasp_max_errors = 100;
inline constexpr std::string_view rasp_state_record = "rasp_event_window";

// The agents' file names and the product each names.
struct RaspAgentFiles {
  std::map<std::string, std::string, std::less<>> jars;       // "rasp.jar" -> "OpenRASP"
  std::map<std::string, std::string, std::less<>> libraries;  // "openrasp.so" -> "OpenRASP"
};
// From the rules' rasp_agent products and the configured extra jars (file names; a path given
// there counts by its file name).
RaspAgentFiles rasp_agent_files(const Fingerprints* rules, const std::vector<std::string>& jars);

// Executables that run PHP code in-process: php*, lsphp*, apache2, httpd.
bool is_php_host(std::string_view exe);

// The RASP home for an agent file: its folder, or the parent folder when only that has logs/.
std::string rasp_home(std::string_view agent_file, bool folder_has_logs, bool parent_has_logs);

// Splits a log's bytes into lines across reads. A line longer than `max_line` is reported once
// as too long and the rest of it skipped, without holding more than `max_line` bytes.
class AlarmLineSplitter {
 public:
  explicit AlarmLineSplitter(bool in_long_line, std::size_t max_line = rasp_alarm_max_line)
      : skipping_(in_long_line), max_line_(max_line) {}

  template <typename OnLine, typename OnLongLine>
  void feed(std::string_view bytes, OnLine&& on_line, OnLongLine&& on_long_line) {
    while (!bytes.empty()) {
      const auto nl = bytes.find('\n');
      const bool ended = nl != std::string_view::npos;
      const std::string_view piece = bytes.substr(0, nl);
      bytes = ended ? bytes.substr(nl + 1) : std::string_view{};
      if (skipping_) {
        consumed_ += piece.size() + (ended ? 1 : 0);
        skipping_ = !ended;
      } else if (pending_.size() + piece.size() > max_line_) {
        on_long_line();
        consumed_ += pending_.size() + piece.size() + (ended ? 1 : 0);
        pending_.clear();
        skipping_ = !ended;
      } else if (ended) {
        consumed_ += pending_.size() + piece.size() + 1;
        if (pending_.empty()) {
          on_line(piece);
        } else {
          pending_.append(piece);
          on_line(std::string_view(pending_));
          pending_.clear();
        }
      } else {
        pending_.append(piece);
      }
    }
  }
  // Bytes fed that are settled: complete lines, and what was skipped of a long one. An
  // unfinished line is not: it is read again, whole, once it ends.
  std::uint64_t consumed() const { return consumed_; }
  bool in_long_line() const { return skipping_; }

 private:
  bool skipping_;
  std::size_t max_line_;
  std::uint64_t consumed_ = 0;
  std::string pending_;
};

class RaspCollector final : public Collector {
 public:
  explicit RaspCollector(RaspSettings settings);
  std::string_view name() const override { return "rasp"; }
  // JVMs and PHP processes among them.
  KindSet reads() const override { return kinds<ProcessInfo>(); }
  KindSet writes() const override { return kinds<ProtectedProcess>(); }
  Outcome collect(const ScanContext& context) override;
  void publish(proto::AssetSet& found) const override;
  // The rules and rasp.* keys; the state records stay the ones it started with.
  void reconfigure(const CollectorConfig& config) override {
    reconfigure(config.rules, config.rasp_agent_jars, config.rasp_alarm_logs);
  }
  std::size_t item_count() const override { return findings_->protected_processes.size(); }

  const RaspEventWindow& window() const { return window_; }
  const std::shared_ptr<const RaspFindings>& findings() const { return findings_; }
  // New agents and alarm log globs for the next scans (null rules: the rules kept as they are).
  void reconfigure(std::shared_ptr<const Fingerprints> rules, std::vector<std::string> agent_jars,
                   std::vector<std::string> alarm_logs);

 private:
  struct Pass;
  void find_protected(const ScanContext& context, Pass& pass);
  void read_logs(const ScanContext& context, Pass& pass);
  // Adds the log's identity to `logs` when given (the logs of one RASP home).
  void read_log(const std::filesystem::path& root, const std::string& path, Pass& pass,
                std::set<FileIdentity>* logs = nullptr);

  RaspSettings settings_;
  RaspAgentFiles agent_files_;
  bool loaded_ = false;
  bool unsaved_ = false;
  std::uint64_t parse_errors_ = 0;
  RaspEventWindow window_;
  std::string buffer_;
  std::shared_ptr<const RaspFindings> findings_ = std::make_shared<RaspFindings>();
};

}  // namespace hostprint::collectors
