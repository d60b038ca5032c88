// systemd unit file names and SysV rc?.d link names, as found in folders.
#include "collectors/formats/unit_names.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto name = fuzz::text_of(data, size);
  if (auto unit = collectors::split_unit_name(name)) {
    auto joined = collectors::join_unit_name(unit->prefix, unit->instance, unit->type);
    if (unit->has_at) fuzz::require(joined == name, "split and join disagree");
  }
  (void)collectors::valid_unit_name(name);
  (void)collectors::sysv_start_link_unit(name);
  (void)collectors::hidden_or_backup_name(name);
  return 0;
}
