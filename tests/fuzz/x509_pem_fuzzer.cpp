// PEM certificates named by web server configurations.
#include "collectors/formats/x509_pem.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto result = collectors::parse_pem_certificate(fuzz::text_of(data, size));
  if (auto* error = std::get_if<std::string>(&result))
    fuzz::require(!error->empty(), "an empty error");
  return 0;
}
