#pragma once
// The web server configuration targets read a tree of files from one input: parts separated by
// a line "%%" are the files /f0 (the main file), /f1, ...; any glob lists them all, so an Include
// or include of any pattern pulls in every part, and a literal /fN names one.
#include <string>

#include "collectors/formats/web_config.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace hostprint::fuzz {

inline collectors::FileSource files_of(const std::vector<std::string_view>& parts) {
  collectors::FileSource files;
  files.read = [&parts](const std::string& path,
                        std::size_t max_bytes) -> std::optional<std::string> {
    if (path.size() < 3 || path.compare(0, 2, "/f") != 0) return std::nullopt;
    std::size_t n = 0;
    for (char c : path.substr(2)) {
      if (c < '0' || c > '9' || n > parts.size()) return std::nullopt;
      n = n * 10 + static_cast<std::size_t>(c - '0');
    }
    if (n >= parts.size()) return std::nullopt;
    return std::string(parts[n].substr(0, max_bytes));
  };
  files.glob = [&parts](const std::string&, std::size_t max_matches) {
    std::vector<std::string> names;
    for (std::size_t i = 1; i < parts.size() && names.size() < max_matches; ++i)
      names.push_back("/f" + std::to_string(i));
    return names;
  };
  return files;
}

// Smaller than the collector's, so that a run spends its time on syntax, not on bulk.
inline collectors::ConfigLimits fuzz_limits() {
  collectors::ConfigLimits limits;
  limits.max_files = 64;
  limits.max_file_bytes = 1 << 20;
  limits.max_total_bytes = 4 << 20;
  limits.max_line_bytes = 256 << 10;
  limits.max_sites = 10'000;
  return limits;
}

inline void check(const collectors::WebConfig& config, const collectors::ConfigLimits& limits) {
  require(config.sites.size() <= limits.max_sites, "sites over their bound");
  require(config.files_read.size() <= limits.max_files, "files over their bound");
  require(config.errors.size() <= limits.max_errors + 1, "errors over their bound");
}

}  // namespace hostprint::fuzz
