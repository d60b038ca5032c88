// apache2.conf and the files it includes, with one -D define and one environment variable.
#include "tests/fuzz/web_config_files.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = fuzz::split(fuzz::text_of(data, size), "\n%%\n");
  auto files = fuzz::files_of(parts);
  auto limits = fuzz::fuzz_limits();
  collectors::ApacheStart start{"/f0", "/", {"SSL"}, {{"APACHE_LOG_DIR", "/var/log/apache2"}}};
  fuzz::check(collectors::parse_apache(start, files, limits), limits);
  return 0;
}
