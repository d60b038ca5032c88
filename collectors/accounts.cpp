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
  // Primary groups' names; without a readable etc/group the accounts still count, unnamed.
  auto groups = read_in_root(context.root, "etc/group", max_file_bytes);
  if (groups.status == ReadStatus::error) outcome.error(groups.error);
  if (groups.status == ReadStatus::ok) {
    std::string_view group_text = groups.file.text;
    if (groups.file.truncated) {
      outcome.error("etc/group is larger than " + std::to_string(max_file_bytes >> 20) +
                    " MiB; only its beginning was read");
      group_text = group_text.substr(0, group_text.rfind('\n') + 1);
    }
    auto names = parse_group(group_text);
    if (names.malformed_lines > 0)
      outcome.error("etc/group: " + std::to_string(names.malformed_lines) +
                    " malformed lines skipped");
    for (auto& account : parsed.accounts)
      if (auto it = names.by_gid.find(account.gid); it != names.by_gid.end())
        account.group = it->second;
  }
  replace(std::move(parsed.accounts));
  return outcome;
}

}  // namespace hostprint::collectors
