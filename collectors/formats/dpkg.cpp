#include "collectors/formats/dpkg.hpp"

#include <algorithm>
#include <map>
#include <optional>
#include <utility>

namespace hostprint::collectors {
namespace {

bool same_name(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
           return lower(x) == lower(y);
         });
}

}  // namespace

DpkgParse parse_dpkg_status(std::string_view text) {
  DpkgParse out;
  struct Fields {
    std::optional<std::string_view> package, status, architecture, version;
    bool any = false;
    bool bad = false;
    bool in_field = false;
  } stanza;
  auto field_slot = [&](std::string_view name) -> std::optional<std::string_view>* {
    if (same_name(name, "Package")) return &stanza.package;
    if (same_name(name, "Status")) return &stanza.status;
    if (same_name(name, "Architecture")) return &stanza.architecture;
    if (same_name(name, "Version")) return &stanza.version;
    return nullptr;
  };
  auto on_line = [&](std::string_view line, bool too_long) {
    stanza.any = true;
    if (line.find('\0') != std::string_view::npos) {
      stanza.bad = true;
      return;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (!stanza.in_field) stanza.bad = true;
      return;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      stanza.bad = true;  // cut lines included: a field name longer than the bound is no field
      return;
    }
    stanza.in_field = true;
    auto* slot = field_slot(line.substr(0, colon));
    if (!slot) return;
    if (too_long || *slot) {
      stanza.bad = true;
      return;
    }
    *slot = trim(line.substr(colon + 1));
  };
  auto on_end = [&] {
    Fields done = std::exchange(stanza, Fields{});
    if (!done.any) return;
    std::string_view words[3];
    std::size_t word_count = 0;
    if (done.status) {
      std::string_view rest = *done.status;
      while (!(rest = trim(rest)).empty()) {
        auto end = std::min(rest.find_first_of(" \t"), rest.size());
        if (word_count < 3) words[word_count] = rest.substr(0, end);
        ++word_count;
        rest.remove_prefix(end);
      }
    }
    auto fits = [](const std::optional<std::string_view>& v) {
      return !v || (v->size() <= max_package_field_bytes && !has_space(*v));
    };
    if (done.bad || !done.package || done.package->empty() || word_count != 3 ||
        !fits(done.package) || !fits(done.architecture) || !fits(done.version)) {
      ++out.malformed_stanzas;
      return;
    }
    out.records.push_back({std::string(*done.package), std::string(done.architecture.value_or("")),
                           std::string(done.version.value_or("")), words[2] == "installed"});
  };
  for_each_stanza_line(text, out.overlong_lines, on_line, on_end);
  return out;
}

std::vector<SoftwarePackage> installed_dpkg_packages(const std::vector<DpkgRecord>& records) {
  std::map<std::pair<std::string_view, std::string_view>, const DpkgRecord*> last;
  for (const auto& r : records) last[{r.name, r.architecture}] = &r;
  std::vector<SoftwarePackage> out;
  for (const auto& [key, r] : last)
    if (r->installed) out.push_back({"dpkg", r->name, r->version, r->architecture});
  return out;
}

}  // namespace hostprint::collectors
