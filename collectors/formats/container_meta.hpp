#pragma once
// The name a container runtime gives a container (lists.md's container_name), from the runtime's
// own files. No I/O; each returns nothing for text that is not what it expects.
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace hostprint::collectors {

// Docker's var/lib/docker/containers/<id>/config.v2.json: its "Name" ("/web" is shown "web").
std::optional<std::string> docker_container_name(std::string_view config_v2_json);

// containers/storage's overlay-containers/containers.json (Podman, CRI-O): id -> first name.
std::map<std::string, std::string> storage_container_names(std::string_view containers_json);

// An OCI bundle's config.json (containerd's tasks): the name its annotations give (Kubernetes'
// container name, nerdctl's name).
std::optional<std::string> oci_annotated_name(std::string_view config_json);

}  // namespace hostprint::collectors
