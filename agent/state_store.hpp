#pragma once
// The agent's state folder (state_dir): the records that outlive a restart, one file each,
// replaced whole and durably. Collectors see it only as collectors::StateRecords.
#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "collectors/collector.hpp"

namespace hostprint {

class StateStore final : public collectors::StateRecords {
 public:
  // The folder is made elsewhere (serve prepares it); the store only reads and writes in it.
  explicit StateStore(std::filesystem::path folder) : folder_(std::move(folder)) {}

  const std::filesystem::path& folder() const { return folder_; }

  // A missing folder is a missing record. A record name is a plain file name: not empty, no
  // '/', not starting with '.', not ending with ".new" (the temporary file's suffix).
  std::optional<std::string> load(std::string_view name, std::size_t max_bytes,
                                  std::string& error) override;
  // Writes `<name>.new` in the folder (a leftover one is removed first, never reused), fsyncs
  // it, renames it over `<name>` and fsyncs the folder. One writer per record.
  std::string save(std::string_view name, std::string_view bytes) override;
  std::string where(std::string_view name) const override;

 private:
  std::filesystem::path folder_;
};

// A store over `folder`; none when `folder` is empty (state kept in memory only).
std::shared_ptr<collectors::StateRecords> make_state_store(const std::filesystem::path& folder);

}  // namespace hostprint
