#pragma once
// Crontabs (etc/crontab, etc/cron.d, the spool) and the file names cron accepts.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hostprint::collectors {

// A system table (etc/crontab, etc/cron.d/*) names the user on each job line; a user's table
// (var/spool/cron/crontabs/<user>) does not.
enum class CronTableKind { system, user };

struct CronJob {
  std::size_t line = 0;  // 1-based line number in the file
  std::string schedule;  // the five time fields as written, or the @keyword
  std::string user;      // system tables only
  std::string command;
};

struct CronTable {
  std::vector<CronJob> jobs;
  std::size_t malformed_lines = 0;  // neither blank, comment, variable nor a well-formed job
  std::size_t overlong_lines = 0;   // longer than max_cron_line_bytes; skipped
};

inline constexpr std::size_t max_cron_line_bytes = 64 * 1024;

// Blank lines, comments and environment assignments (`NAME=value`, `NAME = value`) are skipped;
// a job is five time fields or an @keyword (@reboot, @daily, ...), then the user for a system
// table, then a non-empty command.
CronTable parse_crontab(std::string_view text, CronTableKind kind);

// Names that Debian's run-parts and cron accept in etc/cron.d and etc/cron.{hourly,...}:
// only ASCII letters, digits, '_' and '-' (so no dots: `.placeholder`, `x.dpkg-old`).
bool run_parts_name(std::string_view name);

}  // namespace hostprint::collectors
