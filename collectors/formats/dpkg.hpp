#pragma once
// dpkg's database: var/lib/dpkg/status and the files of its updates journal.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/formats/package_stanzas.hpp"
#include "proto/assets.hpp"

namespace hostprint::collectors {

using proto::SoftwarePackage;

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

}  // namespace hostprint::collectors
