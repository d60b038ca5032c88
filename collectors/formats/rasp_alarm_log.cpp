#include "collectors/formats/rasp_alarm_log.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace hostprint::collectors {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// `count` digits at `at`, or nothing.
std::optional<int> digits(std::string_view text, std::size_t at, std::size_t count) {
  if (at + count > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = at; i < at + count; ++i) {
    if (!is_digit(text[i])) return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool leap(int y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

std::string_view trimmed(std::string_view s) {
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::int64_t> parse_alarm_time(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SS
  auto year = digits(t, 0, 4), month = digits(t, 5, 2), day = digits(t, 8, 2);
  auto hour = digits(t, 11, 2), minute = digits(t, 14, 2), second = digits(t, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second) return std::nullopt;
  if (t[4] != '-' || t[7] != '-' || (t[10] != 'T' && t[10] != ' ') || t[13] != ':' || t[16] != ':')
    return std::nullopt;
  static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (*month < 1 || *month > 12 || *day < 1) return std::nullopt;
  if (*day > month_days[*month - 1] + (*month == 2 && leap(*year) ? 1 : 0)) return std::nullopt;
  if (*hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  std::size_t at = 19;
  if (at < t.size() && (t[at] == '.' || t[at] == ',')) {
    ++at;
    const std::size_t first = at;
    while (at < t.size() && is_digit(t[at])) ++at;
    if (at == first || at - first > 9) return std::nullopt;
  }
  if (at >= t.size()) return std::nullopt;  // without an offset the instant is unknown
  int offset_s = 0;
  if (t[at] == 'Z') {
    if (at + 1 != t.size()) return std::nullopt;
  } else if (t[at] == '+' || t[at] == '-') {
    const int sign = t[at] == '-' ? -1 : 1;
    auto oh = digits(t, at + 1, 2);
    std::size_t mm_at = at + 3;
    if (mm_at < t.size() && t[mm_at] == ':') ++mm_at;
    auto om = digits(t, mm_at, 2);
    if (!oh || !om || mm_at + 2 != t.size() || *oh > 23 || *om > 59) return std::nullopt;
    offset_s = sign * (*oh * 3600 + *om * 60);
  } else {
    return std::nullopt;
  }
  const std::int64_t days =
      days_from_civil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day));
  return days * 86400 + *hour * 3600 + *minute * 60 + *second - offset_s;
}

std::optional<AlarmRecord> parse_alarm_line(std::string_view line) {
  line = trimmed(line);
  if (line.size() > rasp_alarm_max_line || line.empty() || line.front() != '{') return std::nullopt;
  boost::system::error_code ec;
  boost::json::value value = boost::json::parse(line, ec);
  if (ec || !value.is_object()) return std::nullopt;
  const auto& object = value.get_object();
  const auto* time = object.if_contains("event_time");
  if (!time || !time->is_string()) return std::nullopt;
  auto seconds = parse_alarm_time(time->get_string());
  if (!seconds) return std::nullopt;
  AlarmRecord record;
  record.event_time = *seconds;
  if (const auto* state = object.if_contains("intercept_state")) {
    if (!state->is_string()) return std::nullopt;
    record.blocked = state->get_string() == "block";
  }
  return record;
}

std::uint64_t alarm_event_id(std::string_view line) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (char c : trimmed(line)) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ull;
  }
  return hash;
}

bool is_alarm_log_name(std::string_view name) {
  constexpr std::string_view base = "alarm.log";
  if (!name.starts_with(base)) return false;
  name.remove_prefix(base.size());
  if (name.empty()) return true;
  // ".YYYY-MM-DD"
  return name.size() == 11 && name[0] == '.' && digits(name, 1, 4) && name[5] == '-' &&
         digits(name, 6, 2) && name[8] == '-' && digits(name, 9, 2);
}

}  // namespace hostprint::collectors
