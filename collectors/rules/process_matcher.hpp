#pragma once
// The one way a running process is recognised by the product rules (web services, databases and
// web applications alike).
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/rules/fingerprints.hpp"

namespace hostprint::collectors {

struct ProcessMatch {
  const ProductRule* rule = nullptr;
  // What matched: the executable, or for a JVM the -jar file or class path entry named in `jars`.
  std::string path;
};

// The first of `rules` (in order) that recognises the process: the file name of its executable or
// of the program argv[0] was started as is in `executables`; argv[0]'s file name starts with an
// `argv0` prefix; or for a JVM (executable `java`) its main class is in `main_classes`, its -jar or
// a class path entry's file name in `jars`. A rule with `path_contains` also needs the executable's
// path to hold one of them.
ProcessMatch match_process(std::span<const ProductRule* const> rules, std::string_view exe,
                           const std::vector<std::string>& argv);

}  // namespace hostprint::collectors
