#pragma once
// Accounts: the entries of etc/passwd under the root.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

class AccountsCollector final : public ListCollector<Account> {
 public:
  static constexpr std::size_t max_file_bytes = 64 * 1024 * 1024;
  std::string_view name() const override { return "accounts"; }
  Outcome collect(const ScanContext& context) override;

 private:
};

}  // namespace hostprint::collectors
