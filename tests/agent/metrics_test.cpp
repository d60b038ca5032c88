#include "agent/metrics.hpp"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "agent/router.hpp"
#include "agent/scanner.hpp"
#include "agent/snapshot.hpp"
#include "proto/query.hpp"
#include "tests/integration/exposition.hpp"

namespace hostprint {
namespace {

using test::Exposition;
using test::parse_exposition;

// Every family of the fixed list, in the text format's names.
const std::set<std::string> fixed_families = {
    "hostprint_accounts",
    "hostprint_ports",
    "hostprint_running_processes",
    "hostprint_apps",
    "hostprint_auto_launches",
    "hostprint_web_frameworks",
    "hostprint_web_sites",
    "hostprint_jar_packages",
    "hostprint_kernel_modules",
    "hostprint_web_services",
    "hostprint_web_apps",
    "hostprint_databases",
    "hostprint_processes",
    "hostprint_process_paths_dropped",
    "hostprint_rasp_protected",
    "hostprint_rasp_blocked_attacks",
    "hostprint_collector_duration_seconds",
    "hostprint_collector_success",
    "hostprint_collector_items",
    "hostprint_scan_timestamp_seconds",
    "hostprint_scan_duration_seconds",
    "hostprint_scan_interval_seconds",
    "hostprint_build_info",
    "hostprint_changes_total",
};

// Distinct values in every field, so that one family reading another's field shows.
proto::AssetStatistics distinct_counts(std::int64_t base) {
  proto::AssetStatistics c;
  std::int64_t n = base;
  for (auto field :
       {&proto::AssetStatistics::account_num, &proto::AssetStatistics::port_num,
        &proto::AssetStatistics::process_num, &proto::AssetStatistics::app_num,
        &proto::AssetStatistics::auto_launch_num, &proto::AssetStatistics::web_framework_num,
        &proto::AssetStatistics::web_site_num, &proto::AssetStatistics::jar_package_num,
        &proto::AssetStatistics::kernel_module_num, &proto::AssetStatistics::web_service_num,
        &proto::AssetStatistics::web_app_num, &proto::AssetStatistics::database_num})
    c.*field = n++;
  return c;
}

Snapshot sample() {
  Snapshot s;
  s.generation = 4;
  s.completed_at = std::chrono::system_clock::time_point(std::chrono::milliseconds(1712345678123));
  s.scan_duration_ms = 1234.5;
  s.host.counts = distinct_counts(1);
  s.container.counts = distinct_counts(101);
  s.host.process_table = {{"/usr/sbin/nginx", 9},
                          {"/usr/bin/bash", 5},
                          {"/usr/bin/java", 3},
                          {"/opt/x", 2},
                          {"/opt/y", 1}};
  s.container.process_table = {{"/usr/bin/redis-server", 4}, {"/usr/bin/python3", 2}};
  s.rasp = {1, 17};
  CollectorStatus ok;
  ok.name = "accounts";
  ok.duration_ms = 2.5;
  ok.item_count = 26;
  CollectorStatus failed;
  failed.name = "rasp";
  failed.duration_ms = 0.25;
  failed.item_count = 0;
  failed.complete = false;
  s.collectors = {ok, failed};
  return s;
}

MetricsSettings labels(std::size_t max_paths = 2000) {
  return {"host-1", "ep-1", max_paths, std::chrono::seconds(300)};
}

TEST(Metrics, EveryFamilyHasHelpAndTypeAndEverySeriesTheHostLabels) {
  for (auto format : {MetricsFormat::prometheus_text, MetricsFormat::openmetrics}) {
    const auto text = render_metrics(sample(), labels(), format);
    Exposition e = parse_exposition(text);  // fails the test on any line it cannot read
    std::set<std::string> seen;
    for (const auto& s : e.samples) {
      seen.insert(s.name);
      const auto family = e.family_of(s.name);
      ASSERT_TRUE(e.help.count(family)) << s.name;
      ASSERT_TRUE(e.type.count(family)) << s.name;
      ASSERT_GE(s.labels.size(), 2u);
      EXPECT_EQ(s.labels[0], (std::pair<std::string, std::string>{"host_id", "host-1"}));
      EXPECT_EQ(s.labels[1],
                (std::pair<std::string, std::string>{"enterprise_project_id", "ep-1"}));
    }
    EXPECT_EQ(seen, fixed_families);
    for (const auto& [family, type] : e.type) EXPECT_FALSE(e.help.at(family).empty()) << family;
  }
}

TEST(Metrics, ValuesAreTheSnapshots) {
  const Snapshot s = sample();
  Exposition e = parse_exposition(render_metrics(s, labels(), MetricsFormat::prometheus_text));
  const std::pair<std::string, std::int64_t proto::AssetStatistics::*> fields[] = {
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
  };
  for (const auto& [name, field] : fields) {
    EXPECT_EQ(e.value(name, {{"category", "host"}}), double(s.host.counts.*field)) << name;
    EXPECT_EQ(e.value(name, {{"category", "container"}}), double(s.container.counts.*field))
        << name;
    EXPECT_EQ(e.count(name), 2u) << name;
  }
  EXPECT_EQ(e.value("hostprint_processes", {{"category", "host"}, {"path", "/usr/sbin/nginx"}}), 9);
  EXPECT_EQ(
      e.value("hostprint_processes", {{"category", "container"}, {"path", "/usr/bin/python3"}}), 2);
  EXPECT_EQ(e.value("hostprint_rasp_protected", {}), 1);
  EXPECT_EQ(e.value("hostprint_rasp_blocked_attacks", {}), 17);
  EXPECT_EQ(e.value("hostprint_collector_duration_seconds", {{"collector", "accounts"}}), 0.0025);
  EXPECT_EQ(e.value("hostprint_collector_success", {{"collector", "accounts"}}), 1);
  EXPECT_EQ(e.value("hostprint_collector_success", {{"collector", "rasp"}}), 0);
  EXPECT_EQ(e.value("hostprint_collector_items", {{"collector", "accounts"}}), 26);
  EXPECT_EQ(e.value("hostprint_scan_timestamp_seconds", {}), 1712345678.123);
  EXPECT_EQ(e.value("hostprint_scan_duration_seconds", {}), 1.2345);
  EXPECT_EQ(e.value("hostprint_scan_interval_seconds", {}), 300);
  EXPECT_EQ(e.value("hostprint_build_info", {{"version", HOSTPRINT_VERSION}}), 1);
}

TEST(Metrics, ProcessPathsAreCappedMostFrequentFirstAndTheRestCounted) {
  const Snapshot s = sample();
  Exposition capped = parse_exposition(render_metrics(s, labels(2), MetricsFormat::openmetrics));
  std::vector<std::string> host_paths;
  for (const auto& sample : capped.samples)
    if (sample.name == "hostprint_processes" && sample.label("category") == "host")
      host_paths.push_back(sample.label("path"));
  EXPECT_EQ(host_paths, (std::vector<std::string>{"/usr/sbin/nginx", "/usr/bin/bash"}));
  EXPECT_EQ(capped.value("hostprint_process_paths_dropped", {{"category", "host"}}), 3);
  EXPECT_EQ(capped.value("hostprint_process_paths_dropped", {{"category", "container"}}), 0);
  EXPECT_EQ(capped.count("hostprint_processes"), 4u);

  Exposition none = parse_exposition(render_metrics(s, labels(0), MetricsFormat::prometheus_text));
  EXPECT_EQ(none.count("hostprint_processes"), 0u);
  EXPECT_EQ(none.value("hostprint_process_paths_dropped", {{"category", "host"}}), 5);
  EXPECT_EQ(none.value("hostprint_process_paths_dropped", {{"category", "container"}}), 2);
  // The family is still declared, so that a query for it finds no series rather than no metric.
  EXPECT_TRUE(none.type.count("hostprint_processes"));

  Exposition all = parse_exposition(render_metrics(s, labels(7), MetricsFormat::prometheus_text));
  EXPECT_EQ(all.count("hostprint_processes"), 7u);
  EXPECT_EQ(all.value("hostprint_process_paths_dropped", {{"category", "host"}}), 0);
}

TEST(Metrics, LabelValuesAreEscapedAndValidUtf8) {
  Snapshot s = sample();
  s.host.process_table = {
      {"/tmp/bad\xff\xfe", 2}, {"/tmp/quote\"back\\slash\nline", 1}, {"/tmp/\xE4\xB8\xAD", 1}};
  s.collectors[0].name = "odd\"name";
  MetricsSettings settings{"h\\1\"x\ny", "ep\xff", 2000, std::chrono::seconds(60)};
  for (auto format : {MetricsFormat::prometheus_text, MetricsFormat::openmetrics}) {
    const auto text = render_metrics(s, settings, format);
    EXPECT_TRUE(proto::is_valid_text(text));
    EXPECT_NE(text.find(R"(path="/tmp/quote\"back\\slash\nline")"), std::string::npos) << text;
    EXPECT_NE(text.find(R"(host_id="h\\1\"x\ny")"), std::string::npos);
    Exposition e = parse_exposition(text);
    EXPECT_EQ(e.value("hostprint_processes",
                      {{"category", "host"}, {"path", "/tmp/bad\xEF\xBF\xBD\xEF\xBF\xBD"}}),
              2);
    EXPECT_EQ(e.value("hostprint_processes",
                      {{"category", "host"}, {"path", "/tmp/quote\"back\\slash\nline"}}),
              1);
    EXPECT_EQ(e.value("hostprint_processes", {{"category", "host"}, {"path", "/tmp/\xE4\xB8\xAD"}}),
              1);
    EXPECT_EQ(e.samples.front().label("host_id"), "h\\1\"x\ny");
    EXPECT_EQ(e.samples.front().label("enterprise_project_id"), "ep\xEF\xBF\xBD");
    EXPECT_EQ(e.value("hostprint_collector_items", {{"collector", "odd\"name"}}), 26);
  }
}

TEST(Metrics, HelpTextEscapesDifferByFormat) {
  std::string text, open;
  append_help(text, "a\\b\nc\"d", MetricsFormat::prometheus_text);
  append_help(open, "a\\b\nc\"d", MetricsFormat::openmetrics);
  EXPECT_EQ(text, R"(a\\b\nc"d)");
  EXPECT_EQ(open, R"(a\\b\nc\"d)");
  std::string label;
  append_label_value(label, "a\\b\nc\"d\x80");
  EXPECT_EQ(label, "a\\\\b\\nc\\\"d\xEF\xBF\xBD");
}

TEST(Metrics, TheTwoFormatsDifferOnlyWhereTheyMust) {
  const Snapshot s = sample();
  const auto text = render_metrics(s, labels(), MetricsFormat::prometheus_text);
  const auto open = render_metrics(s, labels(), MetricsFormat::openmetrics);
  EXPECT_TRUE(open.ends_with("\n# EOF\n"));
  EXPECT_EQ(open.find("# EOF"), open.size() - 6);  // once, at the end
  EXPECT_EQ(text.find("# EOF"), std::string::npos);
  EXPECT_TRUE(text.ends_with("\n"));
  EXPECT_NE(text.find("# TYPE hostprint_build_info gauge\n"), std::string::npos);
  EXPECT_NE(open.find("# TYPE hostprint_build info\n"), std::string::npos);
  // The same series with the same values either way.
  Exposition a = parse_exposition(text), b = parse_exposition(open);
  ASSERT_EQ(a.samples.size(), b.samples.size());
  for (std::size_t i = 0; i < a.samples.size(); ++i) {
    EXPECT_EQ(a.samples[i].name, b.samples[i].name);
    EXPECT_EQ(a.samples[i].labels, b.samples[i].labels);
    EXPECT_EQ(a.samples[i].value, b.samples[i].value);
  }
}

TEST(Metrics, AcceptHeaderNegotiation) {
  auto format = negotiate_metrics_format;
  const auto om = MetricsFormat::openmetrics, text = MetricsFormat::prometheus_text;
  // What Prometheus 2.x sends by default.
  EXPECT_EQ(format("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                   "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            om);
  EXPECT_EQ(format("application/openmetrics-text; version=0.0.1"), om);
  EXPECT_EQ(format("Application/OpenMetrics-Text"), om);
  EXPECT_EQ(format("text/plain;version=0.0.4;q=0.3, application/openmetrics-text;q=0.4"), om);
  EXPECT_EQ(format(""), text);
  EXPECT_EQ(format("*/*"), text);
  EXPECT_EQ(format("text/plain;version=0.0.4"), text);
  EXPECT_EQ(format("application/openmetrics-text;q=0"), text);
  EXPECT_EQ(format("application/openmetrics-text;q=nonsense"), text);
  EXPECT_EQ(format("application/openmetrics-text;version=2.0.0"), text);
  EXPECT_EQ(format("text/plain;q=0.9,application/openmetrics-text;q=0.5"), text);
  EXPECT_EQ(format("application/json, ,;;,=,q=1"), text);
  EXPECT_EQ(format(std::string(60000, ',') + "application/openmetrics-text"), om);
}

TEST(Metrics, RouterAnswersTheRenderedTextWithItsContentType) {
  Snapshot s = sample();
  s.metrics_text = "text body\n";
  s.metrics_openmetrics = "om body\n# EOF\n";
  const RouterSettings settings{std::nullopt, "0", "h"};
  for (auto target : {"/metrics", "/metrics?x=1&y", "/metrics?"}) {
    auto a = route("GET", target, s, settings);
    EXPECT_EQ(a.status, 200) << target;
    EXPECT_EQ(a.body, s.metrics_text);
    EXPECT_EQ(a.content_type, "text/plain; version=0.0.4; charset=utf-8");
  }
  auto head = route("HEAD", "/metrics", s, settings, "application/openmetrics-text");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.body, s.metrics_openmetrics);
  EXPECT_EQ(head.content_type, "application/openmetrics-text; version=1.0.0; charset=utf-8");
  auto post = route("POST", "/metrics", s, settings);
  EXPECT_EQ(post.status, 405);
  EXPECT_TRUE(post.allow_header);
  for (auto target : {"/metrics/", "/metricsx", "/Metrics", "/v5/p/metrics"})
    EXPECT_EQ(route("GET", target, s, settings).status, 404) << target;
}

// A collector that finds `n` processes of one path each scan.
class Processes final : public collectors::Collector {
 public:
  std::string_view name() const override { return "processes"; }
  collectors::KindSet writes() const override { return collectors::kinds<proto::ProcessInfo>(); }
  collectors::Outcome collect(const collectors::ScanContext&) override {
    auto items = std::make_shared<std::vector<proto::ProcessInfo>>();
    for (int i = 0; i < 3; ++i) items->push_back({i + 1, 0, "/bin/p" + std::to_string(i), {}});
    items_ = items;
    return {};
  }
  void publish(proto::AssetSet& found) const override {
    if (items_) found.add<proto::ProcessInfo>(items_);
  }
  std::size_t item_count() const override { return items_ ? items_->size() : 0; }

 private:
  std::shared_ptr<const std::vector<proto::ProcessInfo>> items_;
};

TEST(Metrics, EachScanCarriesItsRenderedExpositionWithTheConfiguredLabels) {
  ScanSettings settings;
  settings.metrics = {"scanned-host", "ep-9", 2, std::chrono::seconds(60)};
  std::vector<std::unique_ptr<collectors::Collector>> list;
  list.push_back(std::make_unique<Processes>());
  Scanner scanner(settings, std::move(list));
  auto snap = scanner.scan_once();
  EXPECT_EQ(snap->metrics_text,
            render_metrics(*snap, settings.metrics, MetricsFormat::prometheus_text));
  EXPECT_EQ(snap->metrics_openmetrics,
            render_metrics(*snap, settings.metrics, MetricsFormat::openmetrics));
  Exposition e = parse_exposition(snap->metrics_text);
  EXPECT_EQ(e.samples.front().label("host_id"), "scanned-host");
  EXPECT_EQ(e.count("hostprint_processes"), 2u);
  EXPECT_EQ(e.value("hostprint_process_paths_dropped", {{"category", "host"}}), 1);
  EXPECT_EQ(e.value("hostprint_collector_items", {{"collector", "processes"}}), 3);
}

}  // namespace
}  // namespace hostprint
