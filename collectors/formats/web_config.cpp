#include <algorithm>
#include <cctype>
#include <utility>

#include "collectors/formats/text_fields.hpp"
#include "collectors/formats/web_config_common.hpp"

namespace hostprint::collectors::web_config {

IncludeReader::IncludeReader(const FileSource& files, const ConfigLimits& limits, WebConfig& out)
    : files_(files), limits_(limits), out_(out) {}

std::optional<std::string> IncludeReader::enter(const std::string& path, const std::string& where,
                                                bool missing_ok) {
  auto from = [&] { return where.empty() ? std::string{} : " (included from " + where + ")"; };
  if (std::find(chain_.begin(), chain_.end(), path) != chain_.end()) {
    error(where, "include cycle: " + path + " is already being read; not read again");
    return std::nullopt;
  }
  if (chain_.size() > limits_.max_depth) {
    error(where, "includes nested deeper than " + std::to_string(limits_.max_depth) + ": " + path +
                     " not read");
    return std::nullopt;
  }
  if (loads_ >= limits_.max_files) {
    if (!files_bound_hit_) {
      error(where, "more than " + std::to_string(limits_.max_files) + " files loaded: " + path +
                       " and the files after it not read");
    }
    files_bound_hit_ = true;
    return std::nullopt;
  }
  if (total_bytes_ >= limits_.max_total_bytes) {
    if (!bytes_bound_hit_) {
      error(where, "more than " + std::to_string(limits_.max_total_bytes) +
                       " bytes loaded in all: " + path + " and the files after it not read");
    }
    bytes_bound_hit_ = true;
    return std::nullopt;
  }
  std::optional<std::string> text;
  if (files_.read) text = files_.read(path, limits_.max_file_bytes + 1);
  if (!text) {
    if (!missing_ok) error("", "cannot read " + path + from());
    return std::nullopt;
  }
  if (text->size() > limits_.max_file_bytes) {
    error("", path + " is larger than " + std::to_string(limits_.max_file_bytes) +
                  " bytes; only its beginning was read");
    text->resize(limits_.max_file_bytes);
  }
  ++loads_;
  total_bytes_ += text->size();
  if (std::find(out_.files_read.begin(), out_.files_read.end(), path) == out_.files_read.end()) {
    out_.files_read.push_back(path);
  }
  chain_.push_back(path);
  return text;
}

void IncludeReader::leave() {
  if (!chain_.empty()) chain_.pop_back();
}

std::vector<std::string> IncludeReader::glob(const std::string& pattern) {
  if (!files_.glob) return {};
  std::size_t left = loads_ < limits_.max_files ? limits_.max_files - loads_ : 0;
  auto matches = files_.glob(pattern, left + 1);
  if (matches.size() > left + 1) matches.resize(left + 1);
  return matches;
}

void IncludeReader::error(const std::string& where, std::string_view message) {
  if (out_.errors.size() >= limits_.max_errors) {
    ++dropped_errors_;
    return;
  }
  out_.errors.push_back(where.empty() ? std::string(message) : where + ": " + std::string(message));
}

void IncludeReader::add_site(WebSite site) {
  if (out_.sites.size() >= limits_.max_sites) {
    if (!sites_bound_hit_) {
      error(where(site.config_file, site.line),
            "more than " + std::to_string(limits_.max_sites) + " sites: the rest not counted");
    }
    sites_bound_hit_ = true;
    return;
  }
  std::sort(site.ports.begin(), site.ports.end());
  site.ports.erase(std::unique(site.ports.begin(), site.ports.end()), site.ports.end());
  out_.sites.push_back(std::move(site));
}

void IncludeReader::finish() {
  if (dropped_errors_ > 0) {
    out_.errors.push_back(std::to_string(dropped_errors_) + " more errors not recorded");
    dropped_errors_ = 0;
  }
}

std::string where(std::string_view file, std::size_t line) {
  return std::string(file) + ":" + std::to_string(line);
}

bool is_glob(std::string_view path) {
  return path.find_first_of("*?[") != std::string_view::npos;
}

std::string resolve_path(std::string_view base, std::string_view path) {
  std::string joined;
  if (!path.empty() && path.front() == '/') {
    joined = path;
  } else {
    joined = base;
    if (joined.empty() || joined.back() != '/') joined += '/';
    joined += path;
  }
  std::string clean;
  clean.reserve(joined.size());
  for (std::size_t i = 0; i < joined.size(); ++i) {
    if (joined[i] == '/' && !clean.empty() && clean.back() == '/') continue;
    if (joined[i] == '.' && !clean.empty() && clean.back() == '/' &&
        (i + 1 == joined.size() || joined[i + 1] == '/')) {
      ++i;  // "/./" or a trailing "/."
      continue;
    }
    clean += joined[i];
  }
  if (clean.size() > 1 && clean.back() == '/' && (path.empty() || path.back() != '/')) {
    clean.pop_back();
  }
  return clean;
}

std::string directory_of(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash == std::string_view::npos) return ".";
  if (slash == 0) return "/";
  return std::string(path.substr(0, slash));
}

std::optional<unsigned> parse_port(std::string_view text) {
  auto port = parse_unsigned<unsigned>(text);
  if (!port || *port == 0 || *port > 65535) return std::nullopt;
  return port;
}

std::string to_lower(std::string_view text) {
  std::string lower(text);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower;
}

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace hostprint::collectors::web_config
