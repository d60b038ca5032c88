#pragma once
// Installed software packages: dpkg, the RPM database and Alpine's apk database, under the root.
#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

// Sorted by (manager, name, architecture), one per key: the first in `packages` of each is kept.
std::vector<SoftwarePackage> distinct_packages(std::vector<SoftwarePackage> packages);

// A file or folder one reading of the package databases depended on, as fstat saw the very
// descriptor it was opened as (with `flags`), or its absence; a folder's names too.
struct SeenFile {
  std::string path;
  int flags = 0;
  int err = 0;  // the open's errno: 0 present, ENOENT / ENOTDIR missing, else unknown
  mode_t mode = 0;
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  timespec mtime{}, ctime{};
  std::vector<std::string> names;
};

// One reader's ("dpkg", "rpm", "apk") last reading: its sources, what it depended on and the
// errors it reported. `trusted`: read whole and no file changed too recently to be told apart.
struct SoftwareReading {
  std::vector<std::string> sources;
  std::vector<SeenFile> seen;
  std::vector<std::string> errors;
  bool trusted = false;
};

class SoftwareCollector final : public ListCollector<SoftwarePackage> {
 public:
  // `racy_window`: a file changed this recently before a reading may change again unseen.
  explicit SoftwareCollector(std::chrono::nanoseconds racy_window = std::chrono::seconds(2))
      : racy_window_(racy_window) {}
  std::string_view name() const override { return "software"; }
  Outcome collect(const ScanContext& context) override;
  // How many times a reader read its databases rather than reusing an unchanged reading.
  std::size_t readings_done() const { return readings_done_; }

 private:
  // The last whole reading of each source ("dpkg", "apk", an rpm database folder), as positions
  // in the list last published.
  std::map<std::string, std::vector<std::uint32_t>> by_source_;
  // The last trusted reading of each reader, whose sources' packages are in by_source_.
  std::map<std::string, SoftwareReading> last_readings_;
  std::chrono::nanoseconds racy_window_;
  std::size_t readings_done_ = 0;
};

}  // namespace hostprint::collectors
