#pragma once
// Root-confined access that the package databases need beyond whole-file reads: an open file
// descriptor (SQLite and Berkeley DB files are read page by page, not copied into memory), a
// folder's identity (a symlinked duplicate folder is read once) and a folder's entries.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/io/bounded_read.hpp"
#include "collectors/io/unique_fd.hpp"

namespace hostprint::collectors {

struct OpenedInRoot {
  ReadStatus status = ReadStatus::ok;
  UniqueFd fd;
  std::string error;  // for ReadStatus::error: what failed, with the path
  dev_t device = 0;   // identity of what was opened
  ino_t inode = 0;
  std::uint64_t size = 0;
};

enum class OpenKind { regular_file, directory };

// Opens `relative` under `root` with every symlink resolved inside `root` (openat2
// RESOLVE_IN_ROOT), read-only; anything but the kind asked for is an error.
OpenedInRoot open_in_root(const std::filesystem::path& root, std::string_view relative,
                          OpenKind kind);

struct FolderEntries {
  ReadStatus status = ReadStatus::ok;
  std::vector<std::string> names;  // without "." and "..", in no particular order
  bool truncated = false;          // more than the bound; `names` holds the first ones
  std::string error;
};

// Lists the folder `relative` under `root`, at most `max_entries` names.
FolderEntries list_folder_in_root(const std::filesystem::path& root, std::string_view relative,
                                  std::size_t max_entries);

}  // namespace hostprint::collectors
