#include "collectors/formats/ld_so_preload.hpp"

#include <climits>
#include <unordered_set>

namespace hostprint::collectors {

PreloadList parse_ld_so_preload(std::string_view text) {
  PreloadList out;
  text = text.substr(0, text.find('\0'));  // the loader reads a C string
  std::unordered_set<std::string_view> seen;
  bool in_comment = false;
  std::size_t start = 0;
  auto flush = [&](std::size_t end) {
    if (end > start) {
      auto path = text.substr(start, end - start);
      if (path.size() > PATH_MAX)
        ++out.overlong_paths;
      else if (seen.insert(path).second)
        out.paths.emplace_back(path);
    }
    start = end + 1;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_comment) {
      if (c == '\n') in_comment = false;
      start = i + 1;
      continue;
    }
    if (c == '#') {
      flush(i);
      in_comment = true;
    } else if (c == ' ' || c == '\t' || c == '\n' || c == ':') {
      flush(i);
    }
  }
  if (!in_comment) flush(text.size());
  return out;
}

}  // namespace hostprint::collectors
