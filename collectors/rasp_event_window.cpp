#include "collectors/rasp_event_window.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <vector>

#include "collectors/io/bounded_read.hpp"
#include "collectors/formats/rasp_alarm_log.hpp"

namespace hostprint::collectors {
namespace {

constexpr std::string_view header = "hostprint rasp event window 1";

// Whitespace-separated unsigned or signed numbers, exactly as many as `out` holds.
template <typename... T>
bool numbers(std::string_view text, T&... out) {
  bool ok = true;
  auto one = [&](auto& value) {
    if (!ok) return;
    while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end == text.data()) {
      ok = false;
      return;
    }
    text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  };
  (one(out), ...);
  return ok && text.empty();
}

}  // namespace

RaspEventWindow::Added RaspEventWindow::add(std::uint64_t id, std::int64_t time, std::int64_t now,
                                            FileIdentity log) {
  if (time <= now - rasp_window_seconds || time > now + rasp_window_future_seconds)
    return Added::outside;
  if (events_.contains(id)) return Added::known;
  if (events_.size() >= rasp_window_max_events) return Added::full;
  events_.emplace(id, time);
  if (log != FileIdentity{}) sources_.emplace(id, log);
  return Added::counted;
}

bool RaspEventWindow::expire(std::int64_t now) {
  const bool any = std::erase_if(events_, [&](const auto& e) {
                     return e.second <= now - rasp_window_seconds;
                   }) > 0;
  if (any) std::erase_if(sources_, [&](const auto& s) { return !events_.contains(s.first); });
  return any;
}

std::size_t RaspEventWindow::count(std::int64_t now, const std::set<FileIdentity>& logs) const {
  std::size_t n = 0;
  for (const auto& [id, log] : sources_) {
    if (!logs.contains(log)) continue;
    const auto time = events_.at(id);
    if (time > now - rasp_window_seconds && time <= now) ++n;
  }
  return n;
}

std::size_t RaspEventWindow::count(std::int64_t now) const {
  return static_cast<std::size_t>(std::count_if(events_.begin(), events_.end(), [&](const auto& e) {
    return e.second > now - rasp_window_seconds && e.second <= now;
  }));
}

std::string serialize_window(const RaspEventWindow& window) {
  std::string out(header);
  out += '\n';
  std::size_t lines = 1;
  for (const auto& [file, c] : window.cursors()) {
    out += "log " + std::to_string(file.device) + ' ' + std::to_string(file.inode) + ' ' +
           std::to_string(c.offset) + ' ' + std::to_string(c.head_length) + ' ' +
           std::to_string(c.head_hash) + ' ' + (c.in_long_line ? '1' : '0') + '\n';
    ++lines;
  }
  // Sorted, so that the same window is always the same bytes.
  std::vector<std::pair<std::uint64_t, std::int64_t>> events(window.events().begin(),
                                                             window.events().end());
  std::sort(events.begin(), events.end());
  for (const auto& [id, time] : events) {
    out += "event " + std::to_string(id) + ' ' + std::to_string(time);
    // The log it came from, so its RASP home's count survives a restart.
    if (auto log = window.sources().find(id); log != window.sources().end())
      out += ' ' + std::to_string(log->second.device) + ' ' + std::to_string(log->second.inode);
    out += '\n';
    ++lines;
  }
  out += "end " + std::to_string(lines) + ' ' + std::to_string(alarm_event_id(out)) + '\n';
  return out;
}

ParsedWindow parse_window(std::string_view text) {
  ParsedWindow result;
  auto end_at = text.rfind("\nend ");
  if (!text.starts_with(header) || end_at == std::string_view::npos)
    return {std::nullopt, "no header or no end line"};
  std::string_view body = text.substr(0, end_at + 1);
  std::string_view end_line = text.substr(end_at + 5);
  if (!end_line.ends_with('\n')) return {std::nullopt, "the end line is cut"};
  end_line.remove_suffix(1);
  std::size_t line_count = 0;
  std::uint64_t hash = 0;
  if (!numbers(end_line, line_count, hash)) return {std::nullopt, "the end line is not numbers"};
  if (hash != alarm_event_id(body)) return {std::nullopt, "the content does not match its hash"};

  RaspEventWindow window;
  std::size_t lines = 0;
  std::string error;
  for_each_line(body, 256, [&](std::string_view line, bool too_long) {
    if (!error.empty()) return;
    ++lines;
    if (lines == 1) return;  // the header
    if (too_long) {
      error = "line " + std::to_string(lines) + " is too long";
    } else if (line.starts_with("log ")) {
      FileIdentity file;
      AlarmLogCursor c;
      unsigned long_line = 0;
      if (!numbers(line.substr(4), file.device, file.inode, c.offset, c.head_length, c.head_hash,
                   long_line) ||
          long_line > 1) {
        error = "line " + std::to_string(lines) + " is not a log cursor";
      } else if (window.cursors().size() >= rasp_window_max_logs) {
        error = "more than " + std::to_string(rasp_window_max_logs) + " logs";
      } else {
        c.in_long_line = long_line == 1;
        window.cursors()[file] = c;
      }
    } else if (line.starts_with("event ")) {
      std::uint64_t id = 0;
      std::int64_t time = 0;
      FileIdentity log;
      const bool with_log = numbers(line.substr(6), id, time, log.device, log.inode);
      if (!with_log) log = {};
      if (!with_log && !numbers(line.substr(6), id, time))
        error = "line " + std::to_string(lines) + " is not an event";
      else if (window.events().size() >= rasp_window_max_events)
        error = "more than " + std::to_string(rasp_window_max_events) + " events";
      else
        // Added with its own time as now: the caller expires what has left the window since.
        window.add(id, time, time, log);
    } else {
      error = "line " + std::to_string(lines) + " is of no known kind";
    }
  });
  if (error.empty() && lines != line_count) error = "the line count does not match";
  if (!error.empty()) return {std::nullopt, error};
  result.window = std::move(window);
  return result;
}

}  // namespace hostprint::collectors
