#pragma once
// The text of /proc/<pid> files: cmdline, stat, fd links, net/{tcp,tcp6,udp,udp6} lines.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace hostprint::collectors {

// Splits /proc/<pid>/cmdline (NUL-separated, maybe NUL-padded). A program that rewrote its title
// into one space-separated string (nginx: "nginx: master process ...") comes out as one argument.
std::vector<std::string> split_cmdline(std::string_view text);

// A command line as the process list shows it: the arguments of split_cmdline joined by one
// space, cut to at most `max_bytes` (never inside a UTF-8 sequence).
std::string join_cmdline(std::string_view text, std::size_t max_bytes);
// The same, made in the buffer `text` itself (its NULs become spaces): the part of it to show.
std::string_view join_cmdline_in_place(std::span<char> text, std::size_t max_bytes);

// The boot time (seconds after the epoch) from the "btime" line of /proc/stat.
std::optional<std::int64_t> parse_boot_time(std::string_view proc_stat);

// The parent pid from /proc/<pid>/stat: the second field after the last ')'.
std::optional<int> parse_stat_ppid(std::string_view stat);

// The start time (clock ticks after boot, field 22) in the text of /proc/<pid>/stat.
std::optional<std::uint64_t> parse_stat_start_ticks(std::string_view stat_text);

// The effective uid and gid (the second of the four ids on the Uid: and Gid: lines, as ps shows
// them) in the text of /proc/<pid>/status; nothing when either line is missing or malformed.
struct ProcessOwner {
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};
std::optional<ProcessOwner> parse_status_owner(std::string_view status);

// "/usr/bin/foo (deleted)" -> "/usr/bin/foo"; other paths unchanged.
std::string_view strip_deleted_suffix(std::string_view exe);

// One socket of /proc/net/{tcp,tcp6,udp,udp6}.
struct ProcNetSocket {
  std::uint16_t local_port = 0;
  std::uint8_t state = 0;
  std::uint64_t inode = 0;
};

// A socket line (inode is the 10th field); nothing for the header, blank or malformed lines.
std::optional<ProcNetSocket> parse_proc_net_socket(std::string_view line);

// "socket:[12345]" -> 12345.
std::optional<std::uint64_t> parse_socket_link(std::string_view link);

// Whitespace-separated words of a line.
std::vector<std::string> split_ws(std::string_view line);

}  // namespace hostprint::collectors
