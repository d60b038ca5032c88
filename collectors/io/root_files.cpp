#include "collectors/io/root_files.hpp"

namespace hostprint::collectors {

OpenedInRoot open_in_root(const std::filesystem::path& root, std::string_view relative,
                          OpenKind kind) {
  return RootDir(root).open_checked(relative, kind);
}

FolderEntries list_folder_in_root(const std::filesystem::path& root, std::string_view relative,
                                  std::size_t max_entries) {
  return RootDir(root).list(relative, max_entries);
}

}  // namespace hostprint::collectors
