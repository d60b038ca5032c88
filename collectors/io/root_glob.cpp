#include "collectors/io/root_glob.hpp"

#include "collectors/io/root_dir.hpp"

namespace hostprint::collectors {

std::vector<std::string> glob_in_root(const std::filesystem::path& root, std::string_view pattern,
                                      std::size_t max_matches) {
  return RootDir(root).glob(pattern, max_matches);
}

}  // namespace hostprint::collectors
