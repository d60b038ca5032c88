// OpenRASP alarm.log lines and the names of rolled logs.
#include "collectors/formats/rasp_alarm_log.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  (void)collectors::parse_alarm_line(text);
  (void)collectors::parse_alarm_time(text);
  (void)collectors::alarm_event_id(text);
  (void)collectors::is_alarm_log_name(text);
  return 0;
}
