#pragma once
// Accounts: the entries of etc/passwd under the root.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

struct PasswdEntries {
  std::vector<Account> accounts;  // well-formed entries, first of each name, in file order
  std::size_t malformed_lines = 0;
  std::size_t overlong_lines = 0;
};

PasswdEntries parse_passwd(std::string_view text);

class AccountsCollector final : public ListCollector<Account> {
 public:
  static constexpr std::size_t max_file_bytes = 64 * 1024 * 1024;
  std::string_view name() const override { return "accounts"; }
  Outcome collect(const ScanContext& context) override;

 private:
};

}  // namespace hostprint::collectors
