#include "collectors/accounts.hpp"

#include "collectors/formats/passwd.hpp"
#include "collectors/io/bounded_read.hpp"

namespace hostprint::collectors {

Outcome AccountsCollector::collect(const ScanContext& context) {
  Outcome outcome;
  auto read = read_in_root(context.root, "etc/passwd", max_file_bytes);
  if (read.status == ReadStatus::missing) {
    replace({});
    return outcome;
  }
  if (read.status == ReadStatus::error) {
    outcome.fail(read.error);
    return outcome;
  }
  std::string_view text = read.file.text;
  if (read.file.truncated) {
    outcome.error("etc/passwd is larger than " + std::to_string(max_file_bytes >> 20) +
                  " MiB; only its beginning was read");
    text = text.substr(0, text.rfind('\n') + 1);  // the cut line is incomplete
  }
  auto parsed = parse_passwd(text);
  if (parsed.malformed_lines > 0)
    outcome.error("etc/passwd: " + std::to_string(parsed.malformed_lines) +
                  " malformed lines skipped");
  if (parsed.overlong_lines > 0)
    outcome.error("etc/passwd: " + std::to_string(parsed.overlong_lines) +
                  " lines longer than 64 KiB skipped");
  replace(std::move(parsed.accounts));
  return outcome;
}

}  // namespace hostprint::collectors
