// A Berkeley DB hash file (rpm's old /var/lib/rpm/Packages), read through pages at offsets; each
// record's data goes on to the header parser as in the collector.
#include <algorithm>
#include <cstring>

#include "collectors/formats/rpm_bdb.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto file = fuzz::text_of(data, size);
  collectors::ReadAt read_at = [&](std::uint64_t offset,
                                   std::span<char> into) -> std::optional<std::size_t> {
    if (offset >= file.size()) return 0;
    auto n = std::min<std::size_t>(into.size(), file.size() - offset);
    std::memcpy(into.data(), file.data() + offset, n);
    return n;
  };
  std::size_t seen = 0;
  auto scan = collectors::read_bdb_hash(read_at, file.size(),
                                        [&](std::string_view, std::string_view record) {
                                          ++seen;
                                          (void)collectors::parse_rpm_header(record);
                                          return true;
                                        });
  fuzz::require(scan.records == seen, "records miscounted");
  return 0;
}
