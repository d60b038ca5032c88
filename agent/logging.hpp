#pragma once
// Log lines a person can read: one line per event, "time level component: message", on stderr;
// under journald "<priority>level component: message", journald adding the time.
#include <optional>
#include <string>
#include <string_view>

namespace hostprint {

enum class LogLevel { debug, info, warning, error };

std::optional<LogLevel> parse_log_level(std::string_view text);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
void log(LogLevel level, std::string_view component, std::string_view message);

// Text from a client or a file made safe for one log line (control bytes escaped, bounded).
std::string printable(std::string_view text, std::size_t max_bytes = 512);

}  // namespace hostprint
