// /proc/<pid>/cgroup, which names the container a process runs in.
#include "collectors/formats/cgroup_path.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  if (auto ref = collectors::container_from_cgroup(text)) {
    fuzz::require(!ref->runtime.empty() && !ref->id.empty(), "an empty container reference");
    fuzz::require(ref->id.size() <= size, "an id longer than the text");
  }
  return 0;
}
