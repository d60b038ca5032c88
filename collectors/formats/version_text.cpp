#include "collectors/formats/version_text.hpp"

namespace hostprint::collectors {

bool plausible_version(std::string_view v) {
  if (v.empty() || v.size() > max_version_bytes) return false;
  for (unsigned char c : v)
    if (c < 0x21 || c == 0x7f) return false;
  return true;
}

std::string version_from_text(std::string_view text, std::string_view pattern) {
  std::string_view v;
  if (pattern.empty()) {
    v = text.substr(0, text.find('\n'));
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t' || v.front() == '\xef' ||
                          v.front() == '\xbb' || v.front() == '\xbf'))
      v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t' || v.back() == '\r'))
      v.remove_suffix(1);
  } else {
    auto at = text.find(pattern);
    if (at == std::string_view::npos) return {};
    v = text.substr(at + pattern.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    if (!v.empty() && (v.front() == '\'' || v.front() == '"')) v.remove_prefix(1);
    auto end = v.find_first_of("'\" \t\r\n;)");
    if (end == std::string_view::npos) return {};
    v = v.substr(0, end);
  }
  return plausible_version(v) ? std::string(v) : std::string();
}

}  // namespace hostprint::collectors
