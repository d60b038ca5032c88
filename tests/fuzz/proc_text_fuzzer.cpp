// /proc/<pid>/{cmdline,stat,status}, socket links, /proc/modules: what any process can shape.
#include "collectors/formats/proc_modules.hpp"
#include "collectors/formats/proc_text.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  (void)collectors::split_cmdline(text);
  // The joined line is never longer than its limit, at every limit up to past the text's size.
  for (std::size_t limit : {std::size_t{0}, size / 2, size + 1, std::size_t{4096}})
    fuzz::require(collectors::join_cmdline(text, limit).size() <= limit, "joined past its limit");
  (void)collectors::parse_stat_ppid(text);
  (void)collectors::parse_stat_start_ticks(text);
  (void)collectors::parse_status_owner(text);
  auto stripped = collectors::strip_deleted_suffix(text);
  fuzz::require(stripped.size() <= text.size(), "suffix grew");
  (void)collectors::parse_proc_net_socket(text);
  (void)collectors::parse_socket_link(text);
  (void)collectors::split_ws(text);
  (void)collectors::parse_proc_modules(text);
  return 0;
}
