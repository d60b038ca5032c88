// /var/lib/dpkg/status.
#include "collectors/formats/dpkg.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parse = collectors::parse_dpkg_status(fuzz::text_of(data, size));
  auto installed = collectors::installed_dpkg_packages(parse.records);
  fuzz::require(installed.size() <= parse.records.size(), "more packages than records");
  return 0;
}
