// /etc/passwd and /etc/group, read from the host's (or a container's) root.
#include "collectors/formats/passwd.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  auto passwd = collectors::parse_passwd(text);
  fuzz::require(passwd.accounts.size() <= size, "more accounts than bytes");
  auto group = collectors::parse_group(text);
  fuzz::require(group.by_gid.size() <= size, "more groups than bytes");
  return 0;
}
