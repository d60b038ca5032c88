// XDG autostart .desktop files.
#include "collectors/formats/desktop_entry.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto entry = collectors::parse_desktop_entry(fuzz::text_of(data, size));
  fuzz::require(!entry.hidden || entry.has_desktop_entry_group, "hidden outside the group");
  return 0;
}
