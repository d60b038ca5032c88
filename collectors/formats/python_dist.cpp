#include "collectors/formats/python_dist.hpp"

#include "collectors/formats/version_text.hpp"
#include "collectors/io/bounded_read.hpp"

namespace hostprint::collectors {

std::string normalize_python_name(std::string_view name) {
  std::string out;
  bool in_run = false;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      if (!in_run) out += '-';
      in_run = true;
    } else {
      out += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
      in_run = false;
    }
  }
  return out;
}

std::optional<DistInfoName> parse_dist_info_name(std::string_view entry) {
  std::string_view stem;
  if (entry.ends_with(".dist-info"))
    stem = entry.substr(0, entry.size() - 10);
  else if (entry.ends_with(".egg-info"))
    stem = entry.substr(0, entry.size() - 9);
  else
    return std::nullopt;
  if (stem.empty()) return std::nullopt;
  // Names and versions in these entries have '-' escaped to '_', so the first '-' ends the name.
  auto dash = stem.find('-');
  DistInfoName out;
  out.name = std::string(stem.substr(0, dash));
  if (dash != std::string_view::npos) {
    std::string_view version = stem.substr(dash + 1);
    version = version.substr(0, version.find('-'));  // "-py3.11" of an egg
    out.version = std::string(version);
  }
  if (out.name.empty()) return std::nullopt;
  if (!out.version.empty() && !plausible_version(out.version)) out.version.clear();
  return out;
}

std::string metadata_version(std::string_view text) {
  std::string version;
  bool done = false;
  for_each_line(text, 4096, [&](std::string_view line, bool) {
    if (done) return;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      done = true;
      return;
    }
    if (line.starts_with("Version:")) {
      line.remove_prefix(8);
      while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
      while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
      if (plausible_version(line)) version = std::string(line);
      done = true;
    }
  });
  return version;
}

}  // namespace hostprint::collectors
