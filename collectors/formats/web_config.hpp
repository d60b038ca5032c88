#pragma once
// Web server configurations (Nginx, Apache httpd, Tomcat) parsed into the sites they serve.
// Parsers are pure: files are read only through a FileSource, which the caller confines to a root
// (for a container, its tree); nothing here touches the file system.
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "proto/assets.hpp"

namespace hostprint::collectors {

using proto::WebSite;

struct FileSource {
  // The content of the file at an absolute path (as the server sees it), at most `max_bytes` of
  // it (a longer answer is cut); nothing when it cannot be read (missing, a directory, denied).
  std::function<std::optional<std::string>(const std::string& path, std::size_t max_bytes)> read;
  // The paths matching a shell pattern (`*`, `?`, `[...]`, in any component; a wildcard matches
  // neither '/' nor a leading '.'), sorted by byte value, at most `max_matches` of them.
  std::function<std::vector<std::string>(const std::string& pattern, std::size_t max_matches)> glob;
};

struct ConfigLimits {
  std::size_t max_files = 1000;            // file loads in all (a file loaded twice counts twice)
  std::size_t max_depth = 16;              // includes inside includes, below the main file
  std::size_t max_file_bytes = 8 << 20;    // one file; only this much of a longer one is read
  std::size_t max_total_bytes = 64 << 20;  // all loads together; all Apache ${VAR} adds
  std::size_t max_nesting = 64;            // blocks, sections or XML elements inside each other
  std::size_t max_elements = 1'000'000;    // XML elements in one file (Tomcat's server.xml)
  std::size_t max_line_bytes = 1 << 20;    // an Apache line, after continuation and ${VAR}
  std::size_t max_sites = 100'000;
  std::size_t max_errors = 100;  // past this, errors are only counted
};

struct WebConfig {
  std::vector<WebSite> sites;
  std::vector<std::string> files_read;  // every file the configuration loaded, once, in load order
  std::vector<std::string> errors;      // unreadable includes, cycles, bounds hit, syntax
};

// How a running nginx was started (`-c`, `-p`). Relative `include` paths are relative to the
// directory of `conf_file`, relative `root` paths to `prefix`, as nginx resolves them.
struct NginxStart {
  std::string conf_file = "/etc/nginx/nginx.conf";
  std::string prefix = "/usr/share/nginx";  // Debian's build; nginx.org's is /etc/nginx
};

// How a running Apache httpd was started (`-f`, `-d`, `-D`, its environment). Relative paths
// (Include, DocumentRoot) are relative to the ServerRoot in effect, which a `ServerRoot` directive
// changes.
struct ApacheStart {
  std::string conf_file = "/etc/apache2/apache2.conf";
  std::string server_root = "/etc/apache2";
  std::vector<std::string> defines{};                // `-D NAME`, for <IfDefine>
  std::map<std::string, std::string> environment{};  // for ${VAR} that no Define names
};

// A Tomcat instance: its conf/server.xml and CATALINA_BASE (relative appBase is relative to it).
struct TomcatStart {
  std::string server_xml{};
  std::string catalina_base{};
};

// One site per `server` block of the `http` block (not `stream`, not `mail`).
WebConfig parse_nginx(const NginxStart& start, const FileSource& files,
                      const ConfigLimits& limits = {});
// One site per <VirtualHost>; the main server is not one (see assets.md).
WebConfig parse_apache(const ApacheStart& start, const FileSource& files,
                       const ConfigLimits& limits = {});
// One site per <Host> of an <Engine> of a <Service>, with the ports of that Service's Connectors.
WebConfig parse_tomcat(const TomcatStart& start, const FileSource& files,
                       const ConfigLimits& limits = {});

}  // namespace hostprint::collectors
