#pragma once
// A strict reader of the metrics exposition (Prometheus text 0.0.4 and OpenMetrics 1.0) for the
// tests: any line it cannot read fails the test that gave it.
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hostprint::test {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct MetricSample {
  std::string name;
  Labels labels;  // in the order written
  double value = 0;
  std::string label(std::string_view key) const {
    for (const auto& [k, v] : labels)
      if (k == key) return v;
    return {};
  }
};

struct Exposition {
  std::map<std::string, std::string> help, type;  // by family
  std::vector<MetricSample> samples;
  bool eof = false;

  // The family a sample belongs to: its own name, or for an OpenMetrics info or counter, without
  // "_info" or "_total".
  std::string family_of(const std::string& name) const {
    if (type.count(name)) return name;
    if (name.ends_with("_info")) {
      auto base = name.substr(0, name.size() - 5);
      if (type.count(base) && type.at(base) == "info") return base;
    }
    // An OpenMetrics counter family is named without the _total its samples carry.
    if (name.ends_with("_total")) {
      auto base = name.substr(0, name.size() - 6);
      if (type.count(base) && type.at(base) == "counter") return base;
    }
    return name;
  }
  std::size_t count(std::string_view name) const {
    std::size_t n = 0;
    for (const auto& s : samples) n += s.name == name;
    return n;
  }
  // The value of the one sample named `name` whose labels after host_id and
  // enterprise_project_id are `rest`; NaN (and a failure) when there is not exactly one.
  double value(std::string_view name, const Labels& rest) const {
    const MetricSample* found = nullptr;
    int matches = 0;
    for (const auto& s : samples) {
      if (s.name != name || s.labels.size() != rest.size() + 2) continue;
      if (!std::equal(rest.begin(), rest.end(), s.labels.begin() + 2)) continue;
      found = &s;
      ++matches;
    }
    if (matches != 1) {
      ADD_FAILURE() << matches << " samples of " << name;
      return std::nan("");
    }
    return found->value;
  }
};

inline bool metric_name_ok(std::string_view n) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9')) return false;
  for (char c : n)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
          c == ':'))
      return false;
  return true;
}

inline Exposition parse_exposition(std::string_view text) {
  Exposition e;
  std::set<std::string> finished;  // families whose samples are over: they must be grouped
  std::string current;
  auto fail = [&](std::string_view line, std::string_view why) {
    ADD_FAILURE() << why << ": '" << line << "'";
  };
  if (!text.empty() && !text.ends_with('\n')) ADD_FAILURE() << "no final line feed";
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    if (e.eof) {
      fail(line, "after # EOF");
      break;
    }
    if (line == "# EOF") {
      e.eof = true;
      continue;
    }
    if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      auto rest = line.substr(7);
      auto space = rest.find(' ');
      if (space == std::string_view::npos) {
        fail(line, "no text");
        continue;
      }
      std::string family(rest.substr(0, space));
      if (!metric_name_ok(family)) fail(line, "bad family name");
      auto& map = line[2] == 'H' ? e.help : e.type;
      if (map.count(family)) fail(line, "declared twice");
      if (finished.count(family)) fail(line, "declared after its samples");
      map[family] = std::string(rest.substr(space + 1));
      if (family != current && !current.empty()) finished.insert(current);
      current = family;
      continue;
    }
    if (line.starts_with("#")) {
      fail(line, "unexpected comment");
      continue;
    }
    MetricSample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = std::string(line.substr(0, i));
    if (!metric_name_ok(s.name)) fail(line, "bad metric name");
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        auto eq = line.find("=\"", i);
        if (eq == std::string_view::npos) {
          fail(line, "bad label");
          return e;
        }
        std::string key(line.substr(i, eq - i)), value;
        if (!metric_name_ok(key)) fail(line, "bad label name");
        i = eq + 2;
        for (;;) {
          if (i >= line.size()) {
            fail(line, "unterminated label value");
            return e;
          }
          char c = line[i++];
          if (c == '"') break;
          if (c != '\\') {
            value += c;
            continue;
          }
          char x = i < line.size() ? line[i++] : '\0';
          if (x == '\\' || x == '"')
            value += x;
          else if (x == 'n')
            value += '\n';
          else
            fail(line, "bad escape");
        }
        s.labels.emplace_back(std::move(key), std::move(value));
        if (i < line.size() && line[i] == ',') ++i;
      }
      if (i >= line.size()) {
        fail(line, "no closing brace");
        return e;
      }
      ++i;
    }
    if (i >= line.size() || line[i] != ' ') {
      fail(line, "no value");
      continue;
    }
    auto value = line.substr(i + 1);
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), s.value);
    if (ec != std::errc() || end != value.data() + value.size()) fail(line, "bad value");
    const auto family = e.family_of(s.name);
    if (!e.type.count(family) || !e.help.count(family)) fail(line, "no HELP and TYPE before it");
    if (family != current) fail(line, "not grouped under its family");
    e.samples.push_back(std::move(s));
  }
  return e;
}

}  // namespace hostprint::test
