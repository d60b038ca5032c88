#include "agent/collector_registry.hpp"

#include <stdexcept>
#include <string>

#include "collectors/accounts.hpp"
#include "collectors/auto_start.hpp"
#include "collectors/containers.hpp"
#include "collectors/host_identity.hpp"
#include "collectors/jar_packages.hpp"
#include "collectors/kernel_modules.hpp"
#include "collectors/listening_ports.hpp"
#include "collectors/processes.hpp"
#include "collectors/rasp.hpp"
#include "collectors/services.hpp"
#include "collectors/software.hpp"
#include "collectors/web_apps.hpp"
#include "collectors/web_sites.hpp"

namespace hostprint {
namespace {

using collectors::CollectorConfig;

template <class C>
std::unique_ptr<collectors::Collector> plain(const CollectorConfig&) {
  return std::make_unique<C>();
}

template <class C>
std::unique_ptr<collectors::Collector> with_rules(const CollectorConfig& config) {
  return std::make_unique<C>(config.rules);
}

// Inside each container: its files' collectors, and its ports read two ways.
std::unique_ptr<collectors::Collector> containers(const CollectorConfig&) {
  return std::make_unique<collectors::ContainersCollector>(collectors::ContainerReaders{
      [] {
        std::vector<std::unique_ptr<collectors::Collector>> files;
        files.push_back(std::make_unique<collectors::AccountsCollector>());
        files.push_back(std::make_unique<collectors::SoftwareCollector>());
        files.push_back(std::make_unique<collectors::AutoStartCollector>());
        return files;
      },
      [] { return std::make_unique<collectors::ListeningPortsCollector>(); },
      [] {
        return std::make_unique<collectors::ListeningPortsCollector>(
            collectors::PortsSource::proc_net);
      }});
}

std::unique_ptr<collectors::Collector> rasp(const CollectorConfig& config) {
  return std::make_unique<collectors::RaspCollector>(collectors::RaspSettings{
      config.rules, config.rasp_agent_jars, config.rasp_alarm_logs, config.state});
}

constexpr CollectorEntry registry[] = {
    {"accounts", plain<collectors::AccountsCollector>},
    {"listening_ports", plain<collectors::ListeningPortsCollector>},
    {"processes", plain<collectors::ProcessesCollector>},
    {"kernel_modules", plain<collectors::KernelModulesCollector>},
    {"host_identity", plain<collectors::HostIdentityCollector>},
    {"software", plain<collectors::SoftwareCollector>},
    {"containers", containers},
    {"services", with_rules<collectors::ServicesCollector>},
    {"web_sites", plain<collectors::WebSitesCollector>},
    {"jar_packages", plain<collectors::JarPackagesCollector>},
    {"web_apps", with_rules<collectors::WebAppsCollector>},
    {"auto_start", plain<collectors::AutoStartCollector>},
    {"rasp", rasp},
};

}  // namespace

std::span<const CollectorEntry> collector_registry() {
  return registry;
}

std::unique_ptr<collectors::Collector> make_collector(std::string_view name,
                                                      const collectors::CollectorConfig& config) {
  for (const auto& entry : registry)
    if (entry.name == name) return entry.make(config);
  throw std::invalid_argument("no collector named " + std::string(name));
}

std::vector<std::size_t> run_order(std::span<const std::unique_ptr<collectors::Collector>> all) {
  const std::size_t n = all.size();
  std::vector<std::size_t> order;
  std::vector<bool> placed(n, false);
  while (order.size() < n) {
    bool progressed = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (placed[i]) continue;
      bool ready = true;
      for (std::size_t j = 0; j < n && ready; ++j)
        if (j != i && !placed[j] && (all[i]->reads() & all[j]->writes()).any()) ready = false;
      if (!ready) continue;
      placed[i] = true;
      order.push_back(i);
      progressed = true;
      break;  // start again from the first: registration order breaks ties
    }
    if (!progressed) {
      std::string stuck;
      for (std::size_t i = 0; i < n; ++i)
        if (!placed[i]) stuck += (stuck.empty() ? "" : ", ") + std::string(all[i]->name());
      throw std::logic_error("collectors read each other's results in a cycle: " + stuck);
    }
  }
  return order;
}

}  // namespace hostprint
