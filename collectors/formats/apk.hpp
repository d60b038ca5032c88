#pragma once
// Alpine's package database, lib/apk/db/installed.
#include <cstddef>
#include <string_view>
#include <vector>

#include "collectors/formats/package_stanzas.hpp"
#include "proto/assets.hpp"

namespace hostprint::collectors {

using proto::SoftwarePackage;

struct ApkParse {
  std::vector<SoftwarePackage> packages;  // in file order, first of each (name, architecture)
  std::size_t malformed_stanzas = 0;
  std::size_t overlong_lines = 0;
};

// lib/apk/db/installed: stanzas of `X:value` lines separated by blank lines; P: name, V: version,
// A: architecture; every other line (files, checksums, odd fields) is ignored. A stanza without
// P:, or with P:, V: or A: repeated, cut or holding a NUL byte, is malformed.
ApkParse parse_apk_installed(std::string_view text);

}  // namespace hostprint::collectors
