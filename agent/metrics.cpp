#include "agent/metrics.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <utility>

#include "agent/change_history.hpp"
#include "agent/snapshot.hpp"
#include "proto/lists.hpp"
#include "proto/query.hpp"

namespace hostprint {
namespace {

void append_number(std::string& out, std::int64_t value) {
  char buffer[24];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, end);
}

// Shortest text that reads back as the same double.
void append_number(std::string& out, double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, end);
}

class Writer {
 public:
  Writer(std::string& out, MetricsFormat format, const MetricsSettings& settings)
      : out_(out), format_(format) {
    base_labels_ = "host_id=\"";
    append_label_value(base_labels_, settings.host_id);
    base_labels_ += "\",enterprise_project_id=\"";
    append_label_value(base_labels_, settings.enterprise_project_id);
    base_labels_ += '"';
  }

  void family(std::string_view name, std::string_view help, std::string_view type = "gauge") {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    append_help(out_, help, format_);
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  // One sample; `labels` are (name, value) pairs after the host's own.
  template <class Value>
  void sample(std::string_view name,
              std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
              Value value) {
    out_ += name;
    out_ += '{';
    out_ += base_labels_;
    for (const auto& [label, text] : labels) {
      out_ += ',';
      out_ += label;
      out_ += "=\"";
      append_label_value(out_, text);
      out_ += '"';
    }
    out_ += "} ";
    append_number(out_, value);
    out_ += '\n';
  }

  MetricsFormat format() const { return format_; }

 private:
  std::string& out_;
  MetricsFormat format_;
  std::string base_labels_;
};

struct Scope {
  std::string_view category;
  const ScopeView& view;
};

}  // namespace

// The twelve counts of /v5/{project_id}/asset/statistics, one family each.
const std::array<CountFamily, 12> count_families{{
    {"hostprint_accounts", &proto::AssetStatistics::account_num, "Accounts (account_num)."},
    {"hostprint_ports", &proto::AssetStatistics::port_num, "Listening ports (port_num)."},
    {"hostprint_running_processes", &proto::AssetStatistics::process_num,
     "Running processes (process_num)."},
    {"hostprint_apps", &proto::AssetStatistics::app_num, "Installed software (app_num)."},
    {"hostprint_auto_launches", &proto::AssetStatistics::auto_launch_num,
     "Auto-start items (auto_launch_num)."},
    {"hostprint_web_frameworks", &proto::AssetStatistics::web_framework_num,
     "Web frameworks (web_framework_num)."},
    {"hostprint_web_sites", &proto::AssetStatistics::web_site_num, "Web sites (web_site_num)."},
    {"hostprint_jar_packages", &proto::AssetStatistics::jar_package_num,
     "JAR packages (jar_package_num)."},
    {"hostprint_kernel_modules", &proto::AssetStatistics::kernel_module_num,
     "Kernel modules (kernel_module_num)."},
    {"hostprint_web_services", &proto::AssetStatistics::web_service_num,
     "Web services (web_service_num)."},
    {"hostprint_web_apps", &proto::AssetStatistics::web_app_num, "Web applications (web_app_num)."},
    {"hostprint_databases", &proto::AssetStatistics::database_num, "Databases (database_num)."},
}};

// Label values: backslash, double quote and line feed, in both formats.
void append_label_value(std::string& out, std::string_view raw) {
  // Label values must be UTF-8; executable paths are bytes.
  std::string repaired;
  std::string_view text = raw;
  if (!proto::is_valid_text(raw)) text = repaired = to_valid_utf8(raw);
  for (char c : text) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

// HELP text: 0.0.4 escapes backslash and line feed; OpenMetrics the double quote as well.
void append_help(std::string& out, std::string_view text, MetricsFormat format) {
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '"' && format == MetricsFormat::openmetrics)
      out += "\\\"";
    else
      out += c;
  }
}

std::string render_metrics(const Snapshot& snapshot, const MetricsSettings& settings,
                           MetricsFormat format) {
  const Scope scopes[] = {{"host", snapshot.host}, {"container", snapshot.container}};
  std::size_t shown[2];
  for (int i = 0; i < 2; ++i)
    shown[i] = std::min(scopes[i].view.process_table.size(), settings.max_process_paths);

  std::string out;
  out.reserve(8192 + (shown[0] + shown[1]) *
                         (160 + settings.host_id.size() + settings.enterprise_project_id.size()));
  Writer w(out, format, settings);

  for (const auto& family : count_families) {
    w.family(family.name, family.help);
    for (const auto& scope : scopes)
      w.sample(family.name, {{"category", scope.category}}, scope.view.counts.*family.field);
  }

  w.family("hostprint_processes",
           "Running processes per executable path, the most frequent paths first, at most "
           "metrics.max_process_paths paths per category.");
  for (int i = 0; i < 2; ++i)
    for (std::size_t j = 0; j < shown[i]; ++j) {
      const auto& entry = scopes[i].view.process_table[j];
      w.sample("hostprint_processes", {{"category", scopes[i].category}, {"path", entry.path}},
               entry.num);
    }
  w.family("hostprint_process_paths_dropped",
           "Executable paths left out of hostprint_processes by metrics.max_process_paths.");
  for (int i = 0; i < 2; ++i)
    w.sample("hostprint_process_paths_dropped", {{"category", scopes[i].category}},
             static_cast<std::int64_t>(scopes[i].view.process_table.size() - shown[i]));

  w.family("hostprint_rasp_protected",
           "1 when a RASP agent protects a process on this host (protect_host_num), else 0.");
  w.sample("hostprint_rasp_protected", {}, snapshot.rasp.protect_host_num);
  w.family("hostprint_rasp_blocked_attacks",
           "Attacks blocked by RASP in the last 7 x 24 hours (anti_tampering_num).");
  w.sample("hostprint_rasp_blocked_attacks", {}, snapshot.rasp.anti_tampering_num);

  // A counter family is named without _total in OpenMetrics, its samples with it in both.
  constexpr std::string_view changes_help =
      "Changes seen between scans since the agent started, by asset kind and type.";
  w.family(format == MetricsFormat::openmetrics ? "hostprint_changes" : "hostprint_changes_total",
           changes_help, "counter");
  const auto shown_kinds = proto::change_history_kinds();
  for (proto::AssetKind kind = 0; kind < proto::asset_kind_count; ++kind) {
    if (!shown_kinds[kind]) continue;
    for (auto type : {ChangeType::add, ChangeType::remove, ChangeType::modify}) {
      const auto n = snapshot.changes
                         ? snapshot.changes->counted[kind][static_cast<std::size_t>(type)]
                         : 0;
      w.sample("hostprint_changes_total",
               {{"kind", proto::kind_name(kind)}, {"type", to_string(type)}},
               static_cast<std::int64_t>(n));
    }
  }

  w.family("hostprint_collector_duration_seconds", "Duration of the collector's last run.");
  for (const auto& c : snapshot.collectors)
    w.sample("hostprint_collector_duration_seconds", {{"collector", c.name}},
             c.duration_ms / 1000.0);
  w.family("hostprint_collector_success",
           "1 when the collector's last run produced a complete result, else 0.");
  for (const auto& c : snapshot.collectors)
    w.sample("hostprint_collector_success", {{"collector", c.name}},
             static_cast<std::int64_t>(c.complete ? 1 : 0));
  w.family("hostprint_collector_items", "Items the collector found in its last run.");
  for (const auto& c : snapshot.collectors)
    w.sample("hostprint_collector_items", {{"collector", c.name}},
             static_cast<std::int64_t>(c.item_count));

  const auto completed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                snapshot.completed_at.time_since_epoch())
                                .count();
  w.family("hostprint_scan_timestamp_seconds", "Unix time the last scan completed.");
  w.sample("hostprint_scan_timestamp_seconds", {}, static_cast<double>(completed_ms) / 1000.0);
  w.family("hostprint_scan_duration_seconds", "Duration of the last scan.");
  w.sample("hostprint_scan_duration_seconds", {}, snapshot.scan_duration_ms / 1000.0);
  w.family("hostprint_scan_interval_seconds", "The configured interval between scans.");
  w.sample("hostprint_scan_interval_seconds", {},
           static_cast<std::int64_t>(settings.scan_interval.count()));

  // OpenMetrics has an info type whose samples carry the _info suffix: the same series either way.
  constexpr std::string_view build_help = "The hostprint version; always 1.";
  if (format == MetricsFormat::openmetrics)
    w.family("hostprint_build", build_help, "info");
  else
    w.family("hostprint_build_info", build_help);
  w.sample("hostprint_build_info", {{"version", HOSTPRINT_VERSION}}, std::int64_t{1});

  if (format == MetricsFormat::openmetrics) out += "# EOF\n";
  return out;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; };
           return lower(x) == lower(y);
         });
}

// A q value (RFC 9110 12.4.2): 0 to 1 with up to three decimals; anything else is unusable.
std::optional<double> parse_q(std::string_view text) {
  double q = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), q);
  if (ec != std::errc() || end != text.data() + text.size() || !(q >= 0 && q <= 1))
    return std::nullopt;
  return q;
}

}  // namespace

MetricsFormat negotiate_metrics_format(std::string_view accept) {
  double openmetrics = 0, text = 0;
  while (!accept.empty()) {
    const auto comma = accept.find(',');
    std::string_view range = accept.substr(0, comma);
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    const auto semicolon = range.find(';');
    const std::string_view type = trim(range.substr(0, semicolon));
    std::string_view params =
        semicolon == std::string_view::npos ? std::string_view{} : range.substr(semicolon + 1);
    double q = 1;
    bool usable = true;
    std::string_view version;
    while (!params.empty()) {
      const auto next = params.find(';');
      const std::string_view param = trim(params.substr(0, next));
      params = next == std::string_view::npos ? std::string_view{} : params.substr(next + 1);
      const auto eq = param.find('=');
      if (eq == std::string_view::npos) continue;
      const auto name = trim(param.substr(0, eq)), value = trim(param.substr(eq + 1));
      if (iequals(name, "q")) {
        auto parsed = parse_q(value);
        usable = usable && parsed.has_value();
        q = parsed.value_or(0);
      } else if (iequals(name, "version")) {
        version = value;
      }
    }
    if (!usable) continue;
    if (iequals(type, "application/openmetrics-text")) {
      // 1.0.0 is what is served; 0.0.1 parses the same in every scraper that asks for it.
      if (version.empty() || version == "1.0.0" || version == "0.0.1")
        openmetrics = std::max(openmetrics, q);
    } else if (iequals(type, "text/plain") || iequals(type, "text/*") || iequals(type, "*/*")) {
      text = std::max(text, q);
    }
  }
  return openmetrics > 0 && openmetrics >= text ? MetricsFormat::openmetrics
                                                : MetricsFormat::prometheus_text;
}

bool is_metrics_target(std::string_view target) {
  return target.substr(0, target.find('?')) == "/metrics";
}

}  // namespace hostprint
