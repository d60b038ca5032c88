// The agent's configuration file (JSON) and the listen address syntax.
#include "agent/config.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  // Only ConfigError is the promised, clear refusal; any other exception escapes and is a finding.
  try {
    Config config;
    apply_config_text(config, text, "fuzz.json");
    check_listen_exposure(config);
  } catch (const ConfigError& e) {
    fuzz::require(e.what()[0] != '\0', "an empty configuration error");
  }
  try {
    auto address = parse_listen_address(text.substr(0, 256));
    fuzz::require(address.port != 0, "port 0 accepted");
    (void)address.text();
  } catch (const ConfigError&) {
  }
  return 0;
}
