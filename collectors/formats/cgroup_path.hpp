#pragma once
// Which container a process belongs to, from the cgroup path that names its runtime.
#include <optional>
#include <string>
#include <string_view>

namespace hostprint::collectors {

struct ContainerRef {
  std::string runtime;  // docker, containerd, cri-o, podman, lxc, kubernetes
  std::string id;       // the id (64 hex characters) or, for LXC, the container's name
  friend bool operator==(const ContainerRef&, const ContainerRef&) = default;
};

// Reads the text of /proc/<pid>/cgroup (cgroup v1 and v2 lines, "hierarchy:controllers:path").
// Nothing when no line's path names a container runtime: the process is the host's.
std::optional<ContainerRef> container_from_cgroup(std::string_view cgroup_text);

}  // namespace hostprint::collectors
