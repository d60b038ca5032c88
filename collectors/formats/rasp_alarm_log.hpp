#pragma once
// OpenRASP alarm logs (assets.md, Application protection): one JSON object per line with
// `event_time` ("2018-12-16T10:20:30+0800", the offset without a colon) and `intercept_state`
// ("block", "log" or "ignore"). The Java agent writes logs/alarm/alarm.log under its home and
// rolls it to alarm.log.YYYY-MM-DD; the PHP agent always writes the dated name.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hostprint::collectors {

// A longer line is not parsed: it is skipped and counted as a parse error.
inline constexpr std::size_t rasp_alarm_max_line = 1u << 20;

struct AlarmRecord {
  std::int64_t event_time = 0;  // seconds since the epoch
  bool blocked = false;         // intercept_state is "block"
};

// "2018-12-16T10:20:30+0800" as seconds since the epoch. Also taken: fractional seconds, a
// "+08:00" offset, "Z". Nothing for anything else (a date without a time, no offset, month 13).
std::optional<std::int64_t> parse_alarm_time(std::string_view text);

// One alarm log line (without its '\n'). Nothing when the line is malformed: not a JSON object,
// no valid `event_time`, or an `intercept_state` that is not a string. A line without
// `intercept_state` is an event that was not blocked.
std::optional<AlarmRecord> parse_alarm_line(std::string_view line);

// The identity of the event a line records: a 64-bit FNV-1a hash of the line without surrounding
// whitespace. The same event read twice (a copied rotation, a re-read) has the same identity.
std::uint64_t alarm_event_id(std::string_view line);

// "alarm.log" and its dated rotations "alarm.log.YYYY-MM-DD".
bool is_alarm_log_name(std::string_view file_name);

}  // namespace hostprint::collectors
