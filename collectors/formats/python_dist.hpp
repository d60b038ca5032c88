#pragma once
// Python distributions: dist-info / egg-info entry names and their metadata.
#include <optional>
#include <string>
#include <string_view>

namespace hostprint::collectors {

// PEP 503: lowercase, every run of '-', '_' and '.' becomes one '-'.
std::string normalize_python_name(std::string_view name);

// A distribution's metadata entry: "Flask-2.2.2.dist-info" -> {Flask, 2.2.2};
// "Flask.egg-info" -> {Flask, ""}; "Flask-2.2.2-py3.11.egg-info" -> {Flask, 2.2.2}.
struct DistInfoName {
  std::string name;
  std::string version;
};
std::optional<DistInfoName> parse_dist_info_name(std::string_view entry);

// The `Version:` header of METADATA / PKG-INFO text (before the first blank line).
std::string metadata_version(std::string_view text);

}  // namespace hostprint::collectors
