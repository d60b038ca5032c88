#pragma once
// etc/ld.so.preload.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace hostprint::collectors {

struct PreloadList {
  std::vector<std::string> paths;  // distinct (the loader loads a name once), in file order
  std::size_t overlong_paths = 0;  // longer than PATH_MAX; skipped
};

// etc/ld.so.preload as the dynamic loader reads it: names separated by spaces, tabs, newlines or
// ':'; '#' starts a comment up to the end of its line; nothing after a NUL byte.
PreloadList parse_ld_so_preload(std::string_view text);

}  // namespace hostprint::collectors
