// Alpine's /lib/apk/db/installed.
#include "collectors/formats/apk.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parse = collectors::parse_apk_installed(fuzz::text_of(data, size));
  fuzz::require(parse.packages.size() <= size, "more packages than bytes");
  return 0;
}
