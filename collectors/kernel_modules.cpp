#include "collectors/kernel_modules.hpp"

#include "collectors/formats/proc_modules.hpp"
#include "collectors/io/bounded_read.hpp"

namespace hostprint::collectors {

Outcome KernelModulesCollector::collect(const ScanContext& context) {
  Outcome outcome;
  auto read = read_bounded(context.proc / "modules", max_file_bytes);
  if (read.status == ReadStatus::missing) {  // a kernel without module support
    replace({});
    return outcome;
  }
  if (read.status == ReadStatus::error) {
    outcome.fail(read.error);
    return outcome;
  }
  std::string_view text = read.file.text;
  if (read.file.truncated) {
    outcome.error("/proc/modules is larger than 4 MiB; only its beginning was read");
    text = text.substr(0, text.rfind('\n') + 1);
  }
  auto parsed = parse_proc_modules(text);
  if (parsed.malformed_lines > 0)
    outcome.error("/proc/modules: " + std::to_string(parsed.malformed_lines) +
                  " malformed lines skipped");
  replace(std::move(parsed.modules));
  return outcome;
}

}  // namespace hostprint::collectors
