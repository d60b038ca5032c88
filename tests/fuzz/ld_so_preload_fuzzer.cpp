// /etc/ld.so.preload.
#include <set>

#include "collectors/formats/ld_so_preload.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto list = collectors::parse_ld_so_preload(fuzz::text_of(data, size));
  std::set<std::string> distinct(list.paths.begin(), list.paths.end());
  fuzz::require(distinct.size() == list.paths.size(), "a path listed twice");
  for (const auto& p : list.paths) fuzz::require(!p.empty(), "an empty path");
  return 0;
}
