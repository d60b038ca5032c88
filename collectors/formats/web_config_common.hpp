#pragma once
// What the three web configuration parsers share: a bounded reader of the include tree, paths and
// ports. Internal to web_config*.cpp.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/formats/web_config.hpp"

namespace hostprint::collectors::web_config {

// Loads the files of one configuration under ConfigLimits and records in WebConfig what it read,
// what it refused and why. Files form a chain (the main file, the file it includes, ...): a file
// already on the chain is a cycle and is not entered again.
class IncludeReader {
 public:
  IncludeReader(const FileSource& files, const ConfigLimits& limits, WebConfig& out);

  // Makes `path` the innermost file of the chain and returns its text, or returns nothing (and
  // records why, unless the file is merely missing and `missing_ok`). `where` ("file:line") names
  // the include. Every text returned is matched by one leave().
  std::optional<std::string> enter(const std::string& path, const std::string& where,
                                   bool missing_ok);
  void leave();

  // The paths matching `pattern`, at most one more than files may still be loaded.
  std::vector<std::string> glob(const std::string& pattern);

  void error(const std::string& where, std::string_view message);
  void add_site(WebSite site);  // ports sorted and made distinct; bounded by max_sites
  // Appends the count of errors past max_errors. Call once, at the end.
  void finish();

  const ConfigLimits& limits() const { return limits_; }

 private:
  const FileSource& files_;
  const ConfigLimits& limits_;
  WebConfig& out_;
  std::vector<std::string> chain_;
  std::size_t loads_ = 0;
  std::size_t total_bytes_ = 0;
  std::size_t dropped_errors_ = 0;
  bool files_bound_hit_ = false;
  bool bytes_bound_hit_ = false;
  bool sites_bound_hit_ = false;
};

// Calls leave() when it goes out of scope.
class EnteredFile {
 public:
  explicit EnteredFile(IncludeReader& reader) : reader_(reader) {}
  ~EnteredFile() { reader_.leave(); }
  EnteredFile(const EnteredFile&) = delete;
  EnteredFile& operator=(const EnteredFile&) = delete;

 private:
  IncludeReader& reader_;
};

std::string where(std::string_view file, std::size_t line);

// Whether an include names a pattern rather than one file (as nginx and httpd decide).
bool is_glob(std::string_view path);

// `path` if absolute, else `base` + '/' + `path`; "//" and "/./" collapsed.
std::string resolve_path(std::string_view base, std::string_view path);

std::string directory_of(std::string_view path);

// A TCP port in decimal, 1 to 65535.
std::optional<unsigned> parse_port(std::string_view text);

std::string to_lower(std::string_view text);
bool equals_ignoring_case(std::string_view a, std::string_view b);

}  // namespace hostprint::collectors::web_config
