#pragma once
// OpenRASP alarm log lines, as the agents write them, dated relative to the real clock.
#include <time.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace hostprint::test {

// `seconds_ago` before now, written with the UTC offset `offset_minutes` as "+HHMM".
inline std::string alarm_time(std::int64_t seconds_ago, int offset_minutes = 480) {
  const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  const time_t local = static_cast<time_t>(now - seconds_ago + offset_minutes * 60);
  tm parts{};
  ::gmtime_r(&local, &parts);
  char text[64];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
  const int a = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  char offset[32];
  std::snprintf(offset, sizeof offset, "%c%02d%02d", offset_minutes < 0 ? '-' : '+', a / 60,
                a % 60);
  return std::string(text) + offset;
}

// One alarm line (with its '\n'); `state` is "block", "log" or "ignore".
inline std::string alarm_line(const std::string& request_id, std::int64_t seconds_ago,
                              const std::string& state = "block",
                              const std::string& attack_type = "sql", int offset_minutes = 480) {
  return R"({"event_type":"attack","event_time":")" + alarm_time(seconds_ago, offset_minutes) +
         R"(","server_hostname":"web-1","request_id":")" + request_id +
         R"(","request_method":"get","intercept_state":")" + state + R"(","attack_type":")" +
         attack_type +
         R"(","plugin_name":"official","plugin_confidence":90,"plugin_message":"SQLi - )"
         R"(detected","url":"http://127.0.0.1:8080/q?id=1","attack_source":"127.0.0.1",)"
         R"("attack_params":{"query":"SELECT * FROM t WHERE id = 1 OR 1=1"}})"
         "\n";
}

}  // namespace hostprint::test
