#pragma once
// Product recognition rules: which running software, deployed application or framework is what.
// Data, not code: one JSON file lists every product (installed as
// /usr/share/hostprint/fingerprints.json, replaceable through the `rules_file` setting).
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "proto/assets.hpp"

namespace hostprint::collectors {

using proto::ProductCategory;
using proto::to_string;

struct ProductRule {
  std::string name;
  ProductCategory category = ProductCategory::web_service;
  // How a running process is recognised.
  std::vector<std::string> executables;   // executable file names (basename of /proc/<pid>/exe)
  std::vector<std::string> main_classes;  // JVM main classes
  std::vector<std::string> jars;          // file names of a JVM's -jar or class path entries
  std::vector<std::string> argv0;         // prefixes of argv[0]'s file name (ora_pmon_, ...)
  std::vector<std::string> path_contains; // when given, the executable's path holds one of them
  // How a deployed application or framework is recognised.
  std::vector<std::string> markers;          // relative paths, any of which names it under a root
  std::vector<std::string> jar_artifacts;    // artifact ids of JARs (frameworks)
  std::vector<std::string> python_packages;  // distribution names in a Python environment
  // Where its version is read, and which configuration describes its sites.
  std::vector<std::string> packages;       // package names that may own the executable
  std::vector<std::string> version_files;  // relative to the product's home or document root
  std::string version_pattern;             // text right before the version in a version file
  std::string config;                      // "nginx", "apache" or "tomcat"
};

struct Fingerprints {
  int version = 1;
  std::vector<ProductRule> products;

  std::vector<const ProductRule*> in_category(ProductCategory category) const;
};

// A rules file that is not what the format allows: the message names the key.
class RulesError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Parses and checks the rules text (JSON with comments). Throws RulesError naming the key.
Fingerprints parse_fingerprints(std::string_view text);

// The rules shipped with this build, for when the installed file is not there (a build tree).
std::string_view builtin_fingerprints_text();

}  // namespace hostprint::collectors
