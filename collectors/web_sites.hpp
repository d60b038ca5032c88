#pragma once
// Web sites: the sites served by each running Nginx, Apache httpd and Tomcat instance, parsed from
// the configuration that instance loads, read inside its own root (the host's or its container's;
// a container's held open, with the instance's /proc entry, from when its start time was checked
// against the process table, so a reused pid cannot lead the reads elsewhere: see hold_process).
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"
#include "collectors/formats/web_config.hpp"

namespace hostprint::collectors {

// Bounds.
inline constexpr std::size_t web_sites_max_errors = 100;
inline constexpr std::size_t web_sites_max_cmdline = 128 * 1024;
inline constexpr std::size_t web_sites_max_environ = 256 * 1024;
inline constexpr std::size_t web_sites_max_envvars_bytes = 64 * 1024;

// A FileSource reading (read_in_root) and globbing (glob_in_root) inside `root`.
FileSource file_source_in_root(const std::filesystem::path& root);

// Debian's /etc/apache2/envvars: `export NAME=value` lines (quotes removed, `$SUFFIX` and
// `${SUFFIX}` dropped); other lines ignored.
std::map<std::string, std::string> parse_apache_envvars(std::string_view text);

class WebSitesCollector final : public ListCollector<ServedSite> {
 public:
  std::string_view name() const override { return "web_sites"; }
  // Sites of the services whose rule names a configuration kind (`config`).
  KindSet reads() const override { return kinds<ServiceInstance, ProcessInfo>(); }
  Outcome collect(const ScanContext& context) override;
};

}  // namespace hostprint::collectors
