// META-INF/MANIFEST.MF, pom.properties and JAR file names.
#include "collectors/formats/zip_archive.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  auto attributes = collectors::parse_manifest(text);
  fuzz::require(attributes.size() <= 4096, "more than 4096 attributes");
  (void)collectors::manifest_value(attributes, "Implementation-Version");
  (void)collectors::parse_pom_properties(text);
  auto [name, version] = collectors::name_and_version_from_file_name(text);
  fuzz::require(name.size() + version.size() <= size, "a name longer than the file name");
  return 0;
}
