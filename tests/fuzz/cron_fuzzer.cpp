// Crontabs: /etc/crontab and /etc/cron.d (system) and the users' spool files; run-parts names.
#include "collectors/formats/cron.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto text = fuzz::text_of(data, size);
  for (auto kind : {collectors::CronTableKind::system, collectors::CronTableKind::user}) {
    auto table = collectors::parse_crontab(text, kind);
    for (const auto& job : table.jobs)
      fuzz::require(job.line >= 1 && job.command.size() <= size, "job out of the text");
  }
  (void)collectors::run_parts_name(text);
  return 0;
}
