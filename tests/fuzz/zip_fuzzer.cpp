// JAR, WAR and EAR archives: the central directory, members inflated under small bounds, and the
// identity read from the manifest and pom.properties.
#include "collectors/formats/zip_archive.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  collectors::ZipLimits limits;
  limits.max_entries = 256;
  limits.max_member_bytes = 1 << 20;
  std::string error;
  auto zip =
      collectors::ZipArchive::open_bytes(std::string(fuzz::text_of(data, size)), limits, error);
  if (!zip) {
    fuzz::require(!error.empty(), "no archive and no error");
    return 0;
  }
  std::size_t read = 0;
  for (const auto& entry : zip->entries()) {
    if (++read > 16) break;
    std::string why;
    auto member = zip->read(entry, 64 << 10, why);
    if (member) fuzz::require(member->bytes.size() <= (64u << 10), "member over its bound");
  }
  (void)collectors::identify_jar(*zip, "fuzz-1.0.jar");
  return 0;
}
