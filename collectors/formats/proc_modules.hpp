#pragma once
// /proc/modules: the loaded kernel modules.
#include <cstddef>
#include <string_view>
#include <vector>

#include "proto/assets.hpp"

namespace hostprint::collectors {

struct ModuleEntries {
  std::vector<proto::KernelModule> modules;
  std::size_t malformed_lines = 0;
};

ModuleEntries parse_proc_modules(std::string_view text);

}  // namespace hostprint::collectors
