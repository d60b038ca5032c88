#pragma once
// JAR files used by running JVMs (assets.md, jar_package_num). One file reached under two names
// (Debian's Tomcat lib links into /usr/share/java) is one JAR, under the first name found; a WAR
// beside the folder Tomcat expanded it to is read once, from the folder. An unchanged archive
// (same path, size and mtime) is not reopened on the next scan.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

// Bounds.
inline constexpr std::size_t jar_packages_max_environ = 128 * 1024;
inline constexpr std::size_t jar_packages_max_dir_entries = 10'000;  // per folder listed
inline constexpr std::size_t jar_packages_max_webapps = 1'000;       // applications per Tomcat
inline constexpr std::size_t jar_packages_max_jars = 20'000;         // items per scan
inline constexpr std::size_t jar_packages_max_nested = 5'000;        // nested per outer archive
inline constexpr std::uint64_t jar_packages_max_inflated = 256ull << 20;  // per outer archive
inline constexpr int jar_packages_max_depth = 2;               // archives within archives
inline constexpr std::size_t jar_packages_max_cache = 20'000;  // outer archives remembered
inline constexpr std::size_t jar_packages_max_errors = 100;
// A file larger than this is listed without its hash (a Spring Boot archive is ~20-200 MiB).
inline constexpr std::uint64_t jar_packages_max_hashed = 512ull << 20;

// Lists the file names (not paths) in the folder `dir` (absolute, inside the process's root).
using DirLister = std::function<std::vector<std::string>(const std::string& dir)>;

// The JAR paths a class path names, in order, each once: `entries` are class path strings (each
// may hold several ':'-separated entries); empty entries and entries that are not JARs (class
// folders) are left out; `dir/*` is every *.jar (any case) `list` finds in dir, sorted; relative
// entries are resolved against `cwd`; paths are normalised lexically ("a/./b/../c" -> "a/c").
std::vector<std::string> class_path_jars(const std::vector<std::string>& entries,
                                         const std::string& cwd, const DirLister& list);

// "outer.jar" + "BOOT-INF/lib/x.jar" -> "outer.jar!/BOOT-INF/lib/x.jar".
std::string nested_jar_name(std::string_view outer, std::string_view entry);

// Whether an archive entry is a library counted on its own: a *.jar directly in BOOT-INF/lib/ or
// WEB-INF/lib/ (names with NUL, "..", or a deeper folder are not).
bool is_nested_library(std::string_view entry);

// What one outer archive yielded: itself (unless a WAR/EAR) and its nested libraries.
struct JarRecord {
  std::string suffix;  // "" for the outer archive, "!/BOOT-INF/lib/x.jar" for a nested one
  std::string name, version, group_id;
  std::uint64_t size = 0;  // the member's, inflated (as declared when not read)
};
struct JarScanResult {
  std::vector<JarRecord> records;
  std::string hash;  // of the outer file; "" when larger than jar_packages_max_hashed
  std::vector<std::string> errors;
};

// Results by (path, device, inode, size, mtime), from one scan to the next (the collector's key
// holds the first three), so an unchanged file is neither reopened nor hashed again. Entries not
// looked up or stored since the last sweep are dropped by sweep(); at most `max_entries` are kept.
class JarCache {
 public:
  explicit JarCache(std::size_t max_entries = jar_packages_max_cache) : max_(max_entries) {}
  // The result stored for this key, if the size and mtime still match; marks it seen.
  const JarScanResult* find(const std::string& key, std::uint64_t size, std::int64_t mtime_ns);
  void store(const std::string& key, std::uint64_t size, std::int64_t mtime_ns,
             JarScanResult result);
  void sweep();  // drops what was not seen since the last sweep
  std::size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    bool seen = false;
    JarScanResult result;
  };
  std::size_t max_;
  std::unordered_map<std::string, Entry> entries_;
};

// Items are sorted by container id, then path.
class JarPackagesCollector final : public ListCollector<JarPackage> {
 public:
  std::string_view name() const override { return "jar_packages"; }
  // JVMs, and the Tomcat applications their sites name.
  KindSet reads() const override { return kinds<ProcessInfo, ServedSite>(); }
  Outcome collect(const ScanContext& context) override;
  // Outer archives opened (not found in the cache) since the collector was made.
  std::size_t archives_opened() const { return archives_opened_; }

 private:
  JarCache cache_;
  std::size_t archives_opened_ = 0;
};

}  // namespace hostprint::collectors
