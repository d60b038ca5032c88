// nginx.conf and the files it includes.
#include "tests/fuzz/web_config_files.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto parts = fuzz::split(fuzz::text_of(data, size), "\n%%\n");
  auto files = fuzz::files_of(parts);
  auto limits = fuzz::fuzz_limits();
  collectors::NginxStart start{"/f0", "/"};
  fuzz::check(collectors::parse_nginx(start, files, limits), limits);
  return 0;
}
