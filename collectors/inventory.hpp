#pragma once
// Everything one scan found, as the collectors' shared, immutable results.
#include <memory>
#include <vector>

#include "collectors/accounts.hpp"
#include "collectors/auto_start.hpp"
#include "collectors/container_assets.hpp"
#include "collectors/jar_packages.hpp"
#include "collectors/kernel_modules.hpp"
#include "collectors/listening_ports.hpp"
#include "collectors/processes.hpp"
#include "collectors/rasp.hpp"
#include "collectors/software.hpp"
#include "collectors/services.hpp"
#include "collectors/web_apps.hpp"
#include "collectors/web_sites.hpp"

namespace hostprint::collectors {

struct Inventory {
  std::shared_ptr<const std::vector<Account>> accounts;
  std::shared_ptr<const std::vector<ListeningPort>> listening_ports;
  std::shared_ptr<const std::vector<ProcessInfo>> processes;
  std::shared_ptr<const std::vector<KernelModule>> kernel_modules;
  std::shared_ptr<const std::vector<SoftwarePackage>> software;
  std::shared_ptr<const std::vector<AutoStartItem>> auto_start_items;
  std::shared_ptr<const std::vector<JarPackage>> jar_packages;
  std::shared_ptr<const std::vector<ServiceInstance>> services;
  std::shared_ptr<const std::vector<ServedSite>> web_sites;  // by instance
  std::shared_ptr<const std::vector<WebApp>> web_apps;
  std::shared_ptr<const std::vector<WebFramework>> web_frameworks;  // PHP and Python
  // Files and ports of each running container (the lists above are the host's, except where an
  // item names its container).
  std::shared_ptr<const std::vector<ContainerAssets>> containers;
  std::shared_ptr<const RaspFindings> rasp;
};

}  // namespace hostprint::collectors
