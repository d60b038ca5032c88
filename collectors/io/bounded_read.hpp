#pragma once
// Reading files that someone else wrote: confined to a root and bounded in size.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "collectors/io/unique_fd.hpp"

namespace hostprint::collectors {

struct FileText {
  std::string text;
  bool truncated = false;  // the file was larger than the bound; `text` holds its first bytes
};

enum class ReadStatus { ok, missing, error };

struct ReadResult {
  ReadStatus status = ReadStatus::ok;
  FileText file;
  std::string error;  // for ReadStatus::error: what failed, with the path
};

// Reads `relative` (a path inside `root`; a leading '/' is allowed) with every symlink resolved
// inside `root` (openat2 RESOLVE_IN_ROOT), at most `max_bytes` bytes. Only regular files.
ReadResult read_in_root(const std::filesystem::path& root, std::string_view relative,
                        std::size_t max_bytes);

// Reads the file open at `fd` (a regular file, else an error naming `display`), at most
// `max_bytes` bytes: for a caller that checked the descriptor itself (fstat) before reading.
ReadResult read_open_file(int fd, const std::string& display, std::size_t max_bytes);

// Opens `relative` inside `root` as read_in_root does (O_CLOEXEC | O_NOCTTY added to `flags`);
// an invalid descriptor with errno set when it cannot be opened.
UniqueFd open_in_root(const std::filesystem::path& root, std::string_view relative, int flags);

// Reads a file of the live system (/proc, /sys) by its absolute path, at most `max_bytes` bytes.
ReadResult read_bounded(const std::filesystem::path& path, std::size_t max_bytes);

// Splits text into lines ('\n'), calling `on_line(line, too_long)` for each. A line longer than
// `max_line` is passed cut to `max_line` bytes with too_long set. A last line without '\n' counts.
template <typename F>
void for_each_line(std::string_view text, std::size_t max_line, F&& on_line) {
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    bool too_long = line.size() > max_line;
    on_line(too_long ? line.substr(0, max_line) : line, too_long);
  }
}

}  // namespace hostprint::collectors
