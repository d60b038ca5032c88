#include "agent/logging.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace hostprint {
namespace {
std::atomic<LogLevel> threshold{LogLevel::info};

std::string_view level_name(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
  }
  return "info";
}

// sd-daemon(3) priorities, which journald reads from the start of each line.
const char* journal_prefix(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "<7>";
    case LogLevel::info:
      return "<6>";
    case LogLevel::warning:
      return "<4>";
    case LogLevel::error:
      return "<3>";
  }
  return "<6>";
}

// systemd sets JOURNAL_STREAM to the device and inode of the stream it connected; stderr is that
// stream only when they match (a child whose stderr was redirected inherits the variable too).
bool stderr_is_journal() {
  const char* value = std::getenv("JOURNAL_STREAM");
  if (!value) return false;
  unsigned long long device = 0, inode = 0;
  char extra = 0;
  if (std::sscanf(value, "%llu:%llu%c", &device, &inode, &extra) != 2) return false;
  struct stat st {};
  if (::fstat(STDERR_FILENO, &st) != 0) return false;
  return static_cast<unsigned long long>(st.st_dev) == device &&
         static_cast<unsigned long long>(st.st_ino) == inode;
}

// One write per line so that lines from two threads never interleave.
void write_line(std::string_view line) {
  std::size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(STDERR_FILENO, line.data() + done, line.size() - done);
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
}
}  // namespace

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (auto level : {LogLevel::debug, LogLevel::info, LogLevel::warning, LogLevel::error})
    if (text == level_name(level)) return level;
  return std::nullopt;
}

void set_log_level(LogLevel level) {
  threshold.store(level, std::memory_order_relaxed);
}

bool log_enabled(LogLevel level) {
  return level >= threshold.load(std::memory_order_relaxed);
}

void log(LogLevel level, std::string_view component, std::string_view message) {
  if (!log_enabled(level)) return;
  static const bool journal = stderr_is_journal();
  std::string line;
  line.reserve(64 + message.size());
  if (journal) {
    // journald stamps each line itself and takes the priority from the "<N>" prefix.
    line.append(journal_prefix(level));
  } else {
    auto now = std::chrono::system_clock::now();
    auto seconds = std::chrono::system_clock::to_time_t(now);
    auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() %
        1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(millis));
    line.append(stamp);
  }
  line.append(level_name(level)).append(" ");
  line.append(component).append(": ").append(message).append("\n");
  write_line(line);
}

std::string printable(std::string_view text, std::size_t max_bytes) {
  std::string out;
  bool cut = text.size() > max_bytes;
  if (cut) text = text.substr(0, max_bytes);
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f || c == '\\' || c == '"') {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  if (cut) out += "...";
  return out;
}

}  // namespace hostprint
