#pragma once
// Each count of /asset/statistics with the list behind it and that list's statistics (lists.md's
// sum rule); "HOST" stands for the agent's host id in a path.
#include <span>

namespace hostprint::test {

struct CountList {
  const char *items, *statistics, *count;
};

inline std::span<const CountList> count_lists() {
  static const CountList pairs[] = {
      {"/asset/users", "/asset/user/statistics", "account_num"},
      {"/asset/ports", "/asset/port/statistics", "port_num"},
      {"/asset/apps", "/asset/app/statistics", "app_num"},
      {"/asset/auto-launchs", "/asset/auto-launch/statistics", "auto_launch_num"},
      {"/asset/HOST/web-framework", "/asset/statistics/web-framework", "web_framework_num"},
      {"/asset/HOST/web-site", "/asset/statistics/web-site", "web_site_num"},
      {"/asset/HOST/jar-package", "/asset/midwares", "jar_package_num"},
      {"/asset/web-app-and-services?catalogue=web-app",
       "/asset/web-app-and-service-statistics?catalogue=web-app", "web_app_num"},
      {"/asset/web-app-and-services?catalogue=web-service",
       "/asset/web-app-and-service-statistics?catalogue=web-service", "web_service_num"},
      {"/asset/web-app-and-services?catalogue=database",
       "/asset/web-app-and-service-statistics?catalogue=database", "database_num"},
  };
  return pairs;
}

}  // namespace hostprint::test
