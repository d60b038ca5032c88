// One RPM header blob, as the BDB and SQLite databases store it.
#include "collectors/formats/rpm_header.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parse = collectors::parse_rpm_header(fuzz::text_of(data, size));
  if (parse.header) {
    fuzz::require(parse.header->name.size() <= collectors::max_rpm_field_bytes, "name too long");
    (void)collectors::rpm_evr(*parse.header);
  } else {
    fuzz::require(!parse.problem.empty(), "no header and no problem");
  }
  return 0;
}
