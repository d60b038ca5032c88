#include "collectors/formats/cgroup_path.hpp"

#include <array>

namespace hostprint::collectors {
namespace {

bool is_container_hex_id(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// "<prefix><64 hex>.scope" (systemd cgroup driver) or "<prefix><64 hex>" (cgroupfs driver).
std::optional<std::string> scoped_id(std::string_view segment, std::string_view prefix) {
  if (!segment.starts_with(prefix)) return std::nullopt;
  segment.remove_prefix(prefix.size());
  if (segment.ends_with(".scope")) segment.remove_suffix(6);
  if (!is_container_hex_id(segment)) return std::nullopt;
  return std::string(segment);
}

bool valid_lxc_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  for (char c : name)
    if (c == '\0' || c == '\n') return false;
  return true;
}

std::optional<ContainerRef> from_path(std::string_view path) {
  // Walk the segments from the innermost out: a nested runtime (docker in LXC) names the inner.
  std::array<std::string_view, 64> segments;
  std::size_t count = 0;
  while (!path.empty() && count < segments.size()) {
    auto slash = path.find('/');
    auto segment = path.substr(0, slash);
    if (!segment.empty()) segments[count++] = segment;
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 4> scoped{{
      {"docker-", "docker"},
      {"cri-containerd-", "containerd"},
      {"crio-", "cri-o"},
      {"libpod-", "podman"},
  }};
  bool under_kubepods = false;
  for (std::size_t i = 0; i < count; ++i)
    under_kubepods = under_kubepods || segments[i].starts_with("kubepods");
  for (std::size_t k = count; k-- > 0;) {
    auto segment = segments[k];
    // conmon and the LXC monitor run on the host beside the container.
    if (segment.starts_with("crio-conmon-") || segment.starts_with("libpod-conmon-"))
      return std::nullopt;
    for (const auto& [prefix, runtime] : scoped)
      if (auto id = scoped_id(segment, prefix)) return ContainerRef{std::string(runtime), *id};
    if (k > 0 && segments[k - 1] == "docker" && is_container_hex_id(segment))
      return ContainerRef{"docker", std::string(segment)};
    if (under_kubepods && is_container_hex_id(segment))
      return ContainerRef{"kubernetes", std::string(segment)};
    if (k > 0 && segments[k - 1] == "lxc" && valid_lxc_name(segment))
      return ContainerRef{"lxc", std::string(segment)};
    if (segment.starts_with("lxc.payload.") && valid_lxc_name(segment.substr(12)))
      return ContainerRef{"lxc", std::string(segment.substr(12))};
  }
  return std::nullopt;
}

}  // namespace

std::optional<ContainerRef> container_from_cgroup(std::string_view text) {
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    // "hierarchy-id:controllers:path"; the path may itself hold ':'.
    auto first = line.find(':');
    if (first == std::string_view::npos) continue;
    auto second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    if (auto ref = from_path(line.substr(second + 1))) return ref;
  }
  return std::nullopt;
}

}  // namespace hostprint::collectors
