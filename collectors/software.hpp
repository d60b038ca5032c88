#pragma once
// Installed software packages: dpkg, the RPM database and Alpine's apk database, under the root.
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

// Bounds of the text databases (dpkg status, apk installed). The Packages index of the whole
// Debian archive (some 65,000 packages) is about 60 MB; a status file, a subset of it plus the
// conffiles, cannot honestly be twice that. Lines: Provides of some Rust -dev packages run to tens
// of KiB, so a line is cut at 1 MiB; a name, version or architecture is at most 4 KiB.
constexpr std::size_t max_package_database_bytes = 128u << 20;
constexpr std::size_t max_package_database_line = 1u << 20;
constexpr std::size_t max_package_field_bytes = 4096;

// One stanza of a dpkg status file (or of a file of its updates journal), whatever its status.
struct DpkgRecord {
  std::string name;
  std::string architecture;  // empty when the stanza has none (old entries)
  std::string version;
  bool installed = false;  // the third word of Status is `installed`
};

struct DpkgParse {
  std::vector<DpkgRecord> records;  // in file order
  std::size_t malformed_stanzas = 0;
  std::size_t overlong_lines = 0;
};

// RFC 822-like stanzas separated by blank lines; fields in any order, names case-insensitive,
// continuation lines (leading space or tab) belong to the field above. A stanza is malformed
// (skipped, counted) without Package or a three-word Status, with a repeated or overlong field of
// those read, with a NUL byte, or with a continuation line before any field.
DpkgParse parse_dpkg_status(std::string_view text);

// What dpkg-query reports as installed: the last record of each (name, architecture) wins, as in
// dpkg's own database load; kept when its status is `installed`.
std::vector<SoftwarePackage> installed_dpkg_packages(const std::vector<DpkgRecord>& records);

struct ApkParse {
  std::vector<SoftwarePackage> packages;  // in file order, first of each (name, architecture)
  std::size_t malformed_stanzas = 0;
  std::size_t overlong_lines = 0;
};

// lib/apk/db/installed: stanzas of `X:value` lines separated by blank lines; P: name, V: version,
// A: architecture; every other line (files, checksums, odd fields) is ignored. A stanza without
// P:, or with P:, V: or A: repeated, cut or holding a NUL byte, is malformed.
ApkParse parse_apk_installed(std::string_view text);

// Sorted by (manager, name, architecture), one per key: the first in `packages` of each is kept.
std::vector<SoftwarePackage> distinct_packages(std::vector<SoftwarePackage> packages);

class SoftwareCollector final : public ListCollector<SoftwarePackage> {
 public:
  std::string_view name() const override { return "software"; }
  Outcome collect(const ScanContext& context) override;

 private:
  // The last whole reading of each source ("dpkg", "apk", an rpm database folder).
  std::map<std::string, std::vector<SoftwarePackage>> by_source_;
};

}  // namespace hostprint::collectors
