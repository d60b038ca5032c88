// Version files of installed products: the first line of the input is the pattern (from the
// rules file), the rest the file's text.
#include "collectors/formats/version_text.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  auto newline = text.find('\n');
  auto pattern = text.substr(0, newline);
  auto body = newline == std::string_view::npos ? std::string_view() : text.substr(newline + 1);
  auto version = collectors::version_from_text(body, pattern);
  fuzz::require(version.size() <= collectors::max_version_bytes, "version over its bound");
  (void)collectors::plausible_version(body);
  return 0;
}
