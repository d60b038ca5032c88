#pragma once
// Package database text and package keys, for the dpkg and apk parsers' and the collector's tests.
#include <set>
#include <string>
#include <vector>

#include "proto/assets.hpp"

namespace hostprint::test {

inline std::set<std::string> keys_of(const std::vector<proto::SoftwarePackage>& packages) {
  std::set<std::string> out;
  for (const auto& p : packages) out.insert(p.name + ":" + p.architecture + "=" + p.version);
  return out;
}

inline std::string dpkg_stanza(const std::string& name, const std::string& arch,
                               const std::string& status, const std::string& version = "1.0") {
  return "Package: " + name + "\nStatus: " + status + "\nPriority: optional\n" +
         (arch.empty() ? "" : "Architecture: " + arch + "\n") + "Version: " + version +
         "\nDescription: the " + name + " package\n more about it\n .\n and more\n\n";
}

}  // namespace hostprint::test
