#pragma once
// What the dpkg and apk databases share: stanzas of lines separated by blank lines, and bounds.
#include <cstddef>
#include <string_view>

#include "collectors/formats/text_fields.hpp"
#include "collectors/io/bounded_read.hpp"

namespace hostprint::collectors {

// Bounds of the text databases (dpkg status, apk installed). The Packages index of the whole
// Debian archive (some 65,000 packages) is about 60 MB; a status file, a subset of it plus the
// conffiles, cannot honestly be twice that. Lines: Provides of some Rust -dev packages run to tens
// of KiB, so a line is cut at 1 MiB; a name, version or architecture is at most 4 KiB.
constexpr std::size_t max_package_database_bytes = 128u << 20;
constexpr std::size_t max_package_database_line = 1u << 20;
constexpr std::size_t max_package_field_bytes = 4096;

inline bool blank(std::string_view line) {
  return trim(line).empty();
}

inline bool has_space(std::string_view s) {
  return s.find_first_of(" \t\r\v\f") != std::string_view::npos;
}

// Feeds `on_line` each line (without '\r') and `on_end` at each blank line and at the end.
template <typename Line, typename End>
void for_each_stanza_line(std::string_view text, std::size_t& overlong, Line&& on_line,
                          End&& on_end) {
  for_each_line(text, max_package_database_line, [&](std::string_view line, bool too_long) {
    if (too_long) ++overlong;
    if (!too_long && !line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (!too_long && blank(line)) {
      on_end();
      return;
    }
    on_line(line, too_long);
  });
  on_end();
}

}  // namespace hostprint::collectors
