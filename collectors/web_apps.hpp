#pragma once
// Web applications and (non-Java) web frameworks, recognised by the product rules
// (fingerprints.json, categories web_app and web_framework). Nothing is ever run; every file is
// read inside the root of the instance it belongs to (the scan's root for the host,
// /proc/<pid>/root for a container, held open from when the process's start time was checked: see
// hold_process) with openat2 RESOLVE_IN_ROOT, so no symlink leads out of it.
//
// Web applications:
//  - under the document root of every Nginx / Apache site (Inventory::web_sites): the document root
//    itself and each of its immediate subfolders (/var/www/html and /var/www/html/wordpress; at
//    most web_apps_max_dir_entries entries read per folder, names starting with '.' skipped) are
//    checked for each web_app rule's `markers` (any one present names it);
//  - for a Tomcat site, the document root is the appBase: each subfolder is one application, and
//    only the subfolders are checked (webapps/jenkins/WEB-INF/lib/jenkins-core.jar);
//  - running processes (Inventory::processes): the executable's file name is in `executables`, or a
//    JVM's -jar / class path entry's file name is in `jars` or its main class in `main_classes`; a
//    rule with `path_contains` also needs the executable's path to hold one of them. One item per
//    master process: a process whose parent matches the same rule is not counted again. Its path is
//    the -jar file for a JVM matched by `jars`, else the executable.
//  Version: from the rule's `version_files` (relative to the application's folder, at most
//  web_apps_max_version_file bytes): the text after `version_pattern` (after spaces and an opening
//  quote) up to the next quote; without a pattern, the file's first line. Process applications get
//  the version of the host's package named in `packages` when it is installed (container processes:
//  none).
//  Distinct by (product, path, container).
//
// Web frameworks:
//  - PHP: web_framework rules with `markers`, checked in the same folders as applications;
//  - Python: for each Python process that serves the web, its environment. A process serves the web
//    when it holds a TCP socket listening in its network namespace (/proc/<pid>/fd against
//    /proc/<pid>/net/tcp{,6}), when its command line runs a WSGI/ASGI server (gunicorn, uWSGI,
//    uvicorn, hypercorn, daphne, waitress; see runs_under_web_server), or when its parent is such
//    a process (a server's worker started afresh). A script or tool that serves nothing does not
//    make its environment's frameworks count. Python processes: the executable's file name starts
//    with "python"; a uWSGI executable (Python embedded; its environment is its --virtualenv /
//    --home / -H, else its own prefix); an Apache httpd with mod_wsgi mapped (the prefix of the
//    libpython it maps; WSGIPythonHome is not read). The environment:
//    a virtual environment when argv[0] (absolute) or the executable lies in <venv>/bin and
//    <venv>/pyvenv.cfg exists (the kernel resolves a venv's python symlink in /proc/<pid>/exe, so
//    argv[0] is what names the venv); its packages are in <venv>/lib/python3*/site-packages.
//    Otherwise the executable's prefix (/usr/bin/python3.11 -> /usr), in sys.path's order: for
//    /usr, Debian's /usr/local/lib/python3*/{dist,site}-packages, then
//    <prefix>/lib/python3*/{dist,site}-packages (Debian's /usr/lib/python3/dist-packages). sys.path
//    (PYTHONPATH, .pth files, --user sites) cannot be read from outside the process and is not
//    followed. In those folders, `<name>-<version>`
//    `.dist-info` / `.egg-info` entries whose PEP 503 normalised name is one of the rule's
//    `python_packages` name the framework; the version comes from the entry's name, else from its
//    METADATA / PKG-INFO `Version:`.
//    One item per (product, environment, container): the environment is the venv or the prefix;
//    the item's path is the folder holding the distribution, the first in that order (the one
//    Python imports when the same framework is installed twice).
//  - Java: among the JAR packages of running JVMs (Inventory::jar_packages), a JAR whose artifact
//    id is one of the rule's `jar_artifacts` names the framework for the application it belongs
//    to: the outer archive of a nested JAR (app.jar!/BOOT-INF/lib/x.jar -> app.jar, app.war), the
//    deployed folder of a WEB-INF/lib JAR (webapps/shop/WEB-INF/lib/x.jar -> webapps/shop), else
//    the JVM that uses it (class path, Tomcat's lib). One item per (product, application,
//    container); its path is the JAR of the rule's first artifact found, and its version that
//    JAR's.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"
#include "collectors/rules/fingerprints.hpp"

namespace hostprint::collectors {

// Bounds.
inline constexpr std::size_t web_apps_max_dir_entries = 1000;  // per document root / appBase
inline constexpr std::size_t web_apps_max_site_packages_entries = 50'000;
inline constexpr std::size_t web_apps_max_metadata = 64 * 1024;
inline constexpr std::size_t web_apps_max_fds = 4096;             // fd entries per Python process
inline constexpr std::size_t web_apps_max_proc_net = 64u << 20;   // /proc/<pid>/net/tcp{,6}
inline constexpr std::size_t web_apps_max_maps = 16u << 20;       // an Apache's /proc/<pid>/maps
inline constexpr std::size_t web_apps_max_errors = 100;

// Whether a command line runs a WSGI/ASGI server: the first word of argv[0] (a server that
// rewrote its title: "gunicorn: worker [app]"), or, after a Python interpreter's options, the
// script or `-m` module it runs, is gunicorn, uwsgi, uvicorn, hypercorn, daphne, waitress,
// waitress-serve or mod_wsgi-express (a trailing version such as "gunicorn3" allowed).
bool runs_under_web_server(const std::vector<std::string>& argv);

// The inodes of the TCP sockets in LISTEN in a /proc/net/tcp or tcp6 text.
std::set<std::uint64_t> listening_tcp_inodes(std::string_view proc_net_tcp);

// Scans `folder` (absolute inside `root`) for web_app and PHP web_framework markers, appending what
// it finds. Exposed for tests.
void find_in_folder(const std::string& root, const std::string& folder,
                    const std::vector<const ProductRule*>& apps,
                    const std::vector<const ProductRule*>& frameworks,
                    const std::string& container_id, std::vector<WebApp>& apps_out,
                    std::vector<WebFramework>& frameworks_out);

// The folders checked for one site: for "tomcat" the subfolders of `document_root`; otherwise the
// document root and its subfolders. Absolute paths inside `root`, sorted.
std::vector<std::string> site_folders(const std::string& root, const std::string& document_root,
                                      bool tomcat, Outcome& outcome);

// The application a JAR package belongs to (see Java above).
std::string java_application(const JarPackage& jar);

// The Java frameworks among `jars`, by the rules with `jar_artifacts`, distinct per (product,
// application, container), sorted by (container, product, application).
std::vector<WebFramework> java_frameworks(const std::vector<JarPackage>& jars,
                                          const std::vector<const ProductRule*>& rules);

// The Python distributions folders of an environment, and the environment's name (see above).
struct PythonEnvironment {
  std::string environment;
  std::vector<std::string> package_dirs;  // absolute inside the root, existing
};
PythonEnvironment python_environment(const std::string& root, const std::string& exe,
                                     const std::string& argv0);

class WebAppsCollector final : public Collector {
 public:
  explicit WebAppsCollector(std::shared_ptr<const Fingerprints> rules);
  void reconfigure(const CollectorConfig& config) override { rules_ = config.rules; }
  std::string_view name() const override { return "web_apps"; }
  // Document roots of the sites, processes, the JARs of JVMs, and the host's packages (versions).
  KindSet reads() const override {
    return kinds<ProcessInfo, ServedSite, JarPackage, SoftwarePackage>();
  }
  KindSet writes() const override { return kinds<WebApp, WebFramework>(); }
  Outcome collect(const ScanContext& context) override;
  void publish(proto::AssetSet& found) const override;
  std::size_t item_count() const override { return apps_->size() + frameworks_->size(); }
  // The last good results, sorted by (container, product, path).
  const std::shared_ptr<const std::vector<WebApp>>& apps() const { return apps_; }
  const std::shared_ptr<const std::vector<WebFramework>>& frameworks() const { return frameworks_; }

 private:
  std::shared_ptr<const Fingerprints> rules_;
  std::shared_ptr<const std::vector<WebApp>> apps_ = std::make_shared<std::vector<WebApp>>();
  std::shared_ptr<const std::vector<WebFramework>> frameworks_ =
      std::make_shared<std::vector<WebFramework>>();
};

}  // namespace hostprint::collectors
