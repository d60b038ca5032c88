#pragma once
// Shell patterns matched inside a root given by its path (RootDir::glob).
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/io/root_dir.hpp"

namespace hostprint::collectors {

// The paths under `root` matching the absolute shell pattern `pattern` (`*`, `?`, `[...]` in any
// component; a wildcard matches neither '/' nor a leading '.'), as absolute paths inside the root,
// sorted by byte value, at most `max_matches`. Every directory is opened with openat2
// RESOLVE_IN_ROOT, so symlinks are resolved inside `root`. Components without wildcards are taken
// as written; the final paths exist. A relative pattern is taken from the root.
std::vector<std::string> glob_in_root(const std::filesystem::path& root, std::string_view pattern,
                                      std::size_t max_matches);

}  // namespace hostprint::collectors
