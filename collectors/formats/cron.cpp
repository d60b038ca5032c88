#include "collectors/formats/cron.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "collectors/formats/text_fields.hpp"
#include "collectors/io/bounded_read.hpp"

namespace hostprint::collectors {
namespace {

bool is_letter_or_digit(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

constexpr std::string_view cron_blanks = " \t";

// Splits off the first blank-separated word of `rest` (which must not start with a blank).
std::string_view next_word(std::string_view& rest) {
  auto end = rest.find_first_of(cron_blanks);
  std::string_view word = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end);
  auto next = rest.find_first_not_of(cron_blanks);
  rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next);
  return word;
}

// `NAME=value` or `NAME = value`, the name optionally quoted, as cron's environment lines.
bool cron_environment_line(std::string_view line) {
  std::string_view rest;
  if (line.front() == '"' || line.front() == '\'') {
    auto close = line.find(line.front(), 1);
    if (close == std::string_view::npos || close == 1) return false;
    rest = line.substr(close + 1);
  } else {
    auto end = line.find_first_of(" \t=");
    if (end == 0 || end == std::string_view::npos) return false;
    rest = line.substr(end);
  }
  auto next = rest.find_first_not_of(cron_blanks);
  return next != std::string_view::npos && rest[next] == '=';
}

// One time field: numbers, ranges, steps and lists; names only for month and day of week.
bool cron_time_field(std::string_view field, bool names_allowed) {
  if (field.empty()) return false;
  return std::all_of(field.begin(), field.end(), [&](char c) {
    if ((c >= '0' && c <= '9') || c == '*' || c == ',' || c == '-' || c == '/') return true;
    return names_allowed && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'));
  });
}

constexpr std::array<std::string_view, 8> cron_keywords = {
    "@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"};

}  // namespace

bool run_parts_name(std::string_view name) {
  if (name.empty()) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_letter_or_digit(c) || c == '_' || c == '-'; });
}

CronTable parse_crontab(std::string_view text, CronTableKind kind) {
  CronTable out;
  std::size_t number = 0;
  for_each_line(text, max_cron_line_bytes, [&](std::string_view line, bool too_long) {
    ++number;
    if (too_long) {
      ++out.overlong_lines;
      return;
    }
    line = trim(line);
    if (line.empty() || line.front() == '#') return;
    if (line.find('\0') != std::string_view::npos) {
      ++out.malformed_lines;
      return;
    }
    if (cron_environment_line(line)) return;
    std::string_view rest = line;
    if (rest.front() == '-') rest.remove_prefix(1);  // cronie: a job whose runs are not logged
    CronJob job;
    job.line = number;
    if (!rest.empty() && rest.front() == '@') {
      auto keyword = next_word(rest);
      if (std::find(cron_keywords.begin(), cron_keywords.end(), keyword) == cron_keywords.end()) {
        ++out.malformed_lines;
        return;
      }
      job.schedule = std::string(keyword);
    } else {
      const std::string_view fields_start = rest;
      for (int i = 0; i < 5; ++i) {
        auto field = next_word(rest);
        if (!cron_time_field(field, i >= 3)) {
          ++out.malformed_lines;
          return;
        }
      }
      auto fields = fields_start.substr(0, fields_start.size() - rest.size());
      job.schedule = std::string(trim(fields));
    }
    if (kind == CronTableKind::system) {
      auto user = next_word(rest);
      if (user.empty()) {
        ++out.malformed_lines;
        return;
      }
      job.user = std::string(user);
    }
    if (rest.empty()) {
      ++out.malformed_lines;
      return;
    }
    job.command = std::string(rest);
    out.jobs.push_back(std::move(job));
  });
  return out;
}

}  // namespace hostprint::collectors
