#pragma once
// Web applications and web frameworks (assets.md: web_app_num, web_framework_num), recognised by
// the product rules. Notes the spec leaves to us:
//  - A Tomcat site's document root is its appBase: only its subfolders are applications.
//  - A Python environment is a venv when argv[0] or the executable lies in <venv>/bin beside a
//    pyvenv.cfg (the kernel resolves a venv's python link in /proc/<pid>/exe, so argv[0] names
//    it), else the executable's prefix, searched in sys.path's order; PYTHONPATH, .pth files and
//    user sites cannot be read from outside the process. The first folder holding a framework is
//    the one Python imports.
//  - A Java framework belongs to the application of the JAR that shows it: the outer archive of a
//    nested JAR, the deployed folder of a WEB-INF/lib JAR, else the JVM.
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
inline constexpr std::size_t web_apps_max_proc_net = 64u << 20;   // /proc/<pid>/net/tcp{,6}
inline constexpr std::size_t web_apps_max_errors = 100;
inline constexpr std::size_t web_apps_max_status = 64 * 1024;  // /proc/<pid>/status

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
