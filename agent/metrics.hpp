#pragma once
// GET /metrics: a Snapshot as Prometheus text (0.0.4) or OpenMetrics 1.0, rendered once per scan.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "proto/wire.hpp"

namespace hostprint {

struct Snapshot;

// What the exposition needs beyond the scan itself; taken from the configuration at each scan.
struct MetricsSettings {
  std::string host_id;
  std::string enterprise_project_id = "0";
  std::size_t max_process_paths = 2000;  // per category
  std::chrono::seconds scan_interval{60};
};

// The family of each count of /asset/statistics: what the agent exposes and fleet sums.
struct CountFamily {
  std::string_view name;
  std::int64_t proto::AssetStatistics::*field;
  std::string_view help;
};
extern const std::array<CountFamily, 12> count_families;

enum class MetricsFormat { prometheus_text, openmetrics };

inline constexpr std::string_view prometheus_text_content_type =
    "text/plain; version=0.0.4; charset=utf-8";
inline constexpr std::string_view openmetrics_content_type =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

std::string render_metrics(const Snapshot& snapshot, const MetricsSettings& settings,
                           MetricsFormat format);

// The escapes of both formats: a label value (made valid UTF-8 first) and HELP text.
void append_label_value(std::string& out, std::string_view bytes);
void append_help(std::string& out, std::string_view text, MetricsFormat format);

// OpenMetrics when the Accept header prefers it at least as much as plain text, else text 0.0.4.
MetricsFormat negotiate_metrics_format(std::string_view accept);

// "/metrics", with any query string.
bool is_metrics_target(std::string_view target);

}  // namespace hostprint
