// Python distributions: *.dist-info / *.egg-info folder names and their METADATA / PKG-INFO.
#include "collectors/formats/python_dist.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  auto first_line = text.substr(0, text.find('\n'));
  auto normal = collectors::normalize_python_name(first_line);
  fuzz::require(collectors::normalize_python_name(normal) == normal, "normalizing is not stable");
  (void)collectors::parse_dist_info_name(first_line);
  auto version = collectors::metadata_version(text);
  fuzz::require(version.size() <= size, "a version longer than the text");
  return 0;
}
