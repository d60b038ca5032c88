#pragma once
// etc/passwd, as the accounts collector reads it.
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <string_view>
#include <vector>

#include "proto/assets.hpp"

namespace hostprint::collectors {

struct PasswdEntries {
  std::vector<proto::Account> accounts;  // well-formed entries, first of each name, in file order
  std::size_t malformed_lines = 0;
  std::size_t overlong_lines = 0;
};

PasswdEntries parse_passwd(std::string_view text);

// etc/group's names by gid (the first line of each gid wins, as getgrgid answers).
struct GroupNames {
  std::unordered_map<std::uint32_t, std::string> by_gid;
  std::size_t malformed_lines = 0;
};

GroupNames parse_group(std::string_view text);

}  // namespace hostprint::collectors
