#pragma once
// Auto-start items under the root: enabled services, scheduled tasks, preloaded libraries and
// startup folders, read from unit files, links and configuration files (never through D-Bus).
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

enum class AutoStartType { service, scheduled_task, preloaded_library, startup_folder };
std::string_view to_string(AutoStartType type);

struct AutoStartItem {
  AutoStartType type = AutoStartType::service;
  std::string name;     // unit name, cron job's file:line, library path, .desktop name, ...
  std::string path;     // the file that makes it start
  std::string user;     // scheduled tasks from cron: the user it runs as
  std::string command;  // scheduled tasks from cron: the command
  friend bool operator==(const AutoStartItem&, const AutoStartItem&) = default;
};

class AutoStartCollector final : public Collector {
 public:
  std::string_view name() const override { return "auto_start"; }
  Outcome collect(const ScanContext& context) override;
  void publish(Inventory& inventory) const override;
  std::size_t item_count() const override { return items_->size(); }

 private:
  std::shared_ptr<const std::vector<AutoStartItem>> items_ =
      std::make_shared<std::vector<AutoStartItem>>();
};

}  // namespace hostprint::collectors
