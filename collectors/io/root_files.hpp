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

#include "collectors/io/root_dir.hpp"

namespace hostprint::collectors {

// Opens `relative` under `root` with every symlink resolved inside `root` (openat2
// RESOLVE_IN_ROOT), read-only; anything but the kind asked for is an error.
OpenedInRoot open_in_root(const std::filesystem::path& root, std::string_view relative,
                          OpenKind kind);

// Lists the folder `relative` under `root`, at most `max_entries` names.
FolderEntries list_folder_in_root(const std::filesystem::path& root, std::string_view relative,
                                  std::size_t max_entries);

}  // namespace hostprint::collectors
