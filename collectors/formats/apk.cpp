#include "collectors/formats/apk.hpp"

#include <optional>
#include <set>
#include <string>
#include <utility>

namespace hostprint::collectors {

ApkParse parse_apk_installed(std::string_view text) {
  ApkParse out;
  std::set<std::pair<std::string, std::string>> seen;
  struct Fields {
    std::optional<std::string_view> name, version, architecture;
    bool any = false;
    bool bad = false;
  } stanza;
  auto on_line = [&](std::string_view line, bool too_long) {
    stanza.any = true;
    if (line.size() < 2 || line[1] != ':') return;  // not a field: ignored like apk does
    std::optional<std::string_view>* slot = nullptr;
    if (line[0] == 'P') slot = &stanza.name;
    if (line[0] == 'V') slot = &stanza.version;
    if (line[0] == 'A') slot = &stanza.architecture;
    if (!slot) return;
    if (too_long || *slot || line.find('\0') != std::string_view::npos) {
      stanza.bad = true;
      return;
    }
    *slot = trim(line.substr(2));
  };
  auto on_end = [&] {
    Fields done = std::exchange(stanza, Fields{});
    if (!done.any) return;
    auto fits = [](const std::optional<std::string_view>& v) {
      return !v || (v->size() <= max_package_field_bytes && !has_space(*v));
    };
    if (done.bad || !done.name || done.name->empty() || !fits(done.name) || !fits(done.version) ||
        !fits(done.architecture)) {
      ++out.malformed_stanzas;
      return;
    }
    std::string name(*done.name), arch(done.architecture.value_or(""));
    if (!seen.emplace(name, arch).second) return;
    out.packages.push_back(
        {"apk", std::move(name), std::string(done.version.value_or("")), std::move(arch)});
  };
  for_each_stanza_line(text, out.overlong_lines, on_line, on_end);
  return out;
}

}  // namespace hostprint::collectors
