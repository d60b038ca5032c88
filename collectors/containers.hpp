#pragma once
// The assets of each running container (assets.md, host and container). The root of the process
// entered is held for the whole container, so a process that exits mid-scan cannot redirect the
// reads to whatever reuses its pid. A network namespace is read once, for its oldest container (a
// pod's sandbox); where joining it is refused (no CAP_SYS_ADMIN, RestrictNamespaces=), its owner's
// /proc/<pid>/net is read instead.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

struct ContainerAssets {
  std::string id;        // as in ProcessInfo::container_id
  std::string name;      // as its runtime names it; "" when no runtime file does
  proto::AssetSet found;  // what its collectors published, as host parts

  template <class Item>
  const std::vector<Item>& items() const {
    static const std::vector<Item> none;
    const auto& parts = found.of<Item>();
    return parts.empty() || !parts.front().items ? none : *parts.front().items;
  }
};

// The collectors the container collector runs for each container (the registry gives them):
// those that read files, run inside its root; one for its ports, run in its network namespace;
// one for its ports from /proc/<pid>/net, where joining the namespace is refused.
struct ContainerReaders {
  std::function<std::vector<std::unique_ptr<Collector>>()> files;
  std::function<std::unique_ptr<Collector>()> ports;
  std::function<std::unique_ptr<Collector>()> ports_from_proc;
};

// --- Pure parts (no I/O) ---

// The collectors name files by the path they opened (`root_shown` + `/etc/passwd`, where
// root_shown is `/proc/self/fd/<n>`); a container's user knows them as `/etc/passwd`.
std::string as_seen_inside(std::string message, const std::string& root_shown);

struct ContainerMember {
  int pid = 0;
  std::uint64_t start_ticks = 0;
  friend bool operator==(const ContainerMember&, const ContainerMember&) = default;
};

struct ContainerProcesses {
  std::string id;
  std::vector<ContainerMember> members;  // oldest first (start time, then pid)
};

// The containers named in a process table, by id, each with its processes.
std::vector<ContainerProcesses> containers_in(std::span<const ProcessInfo> processes);

// A network namespace, as the device and inode of its nsfs file.
struct NetworkNamespace {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  auto operator<=>(const NetworkNamespace&) const = default;
};

struct ContainerNetwork {
  std::string id;
  NetworkNamespace network;
  std::uint64_t start_ticks = 0;  // of the container's process that is in `network`
};

// Chooses, one container at a time, which container reads each network namespace other than the
// host's: the one with the oldest process in it (ties: the smaller id).
class NetworkNamespaceOwners {
 public:
  explicit NetworkNamespaceOwners(NetworkNamespace host) : host_(host) {}
  // True when `container` now owns its namespace (the one that owned it before no longer does).
  bool offer(const ContainerNetwork& container);
  const std::map<NetworkNamespace, ContainerNetwork>& by_namespace() const { return owner_; }

 private:
  NetworkNamespace host_;
  std::map<NetworkNamespace, ContainerNetwork> owner_;
};

// --- The collector ---

// Runs after the processes collector, whose table names the containers.
class ContainersCollector final : public Collector {
 public:
  explicit ContainersCollector(ContainerReaders readers);
  ~ContainersCollector() override;
  std::string_view name() const override { return "containers"; }
  // The process table names the containers.
  KindSet reads() const override { return kinds<ProcessInfo>(); }
  // What its readers write, each container's as parts of its own.
  KindSet writes() const override;
  Outcome collect(const ScanContext& context) override;
  void publish(proto::AssetSet& found) const override;
  const std::shared_ptr<const std::vector<ContainerAssets>>& containers() const {
    return containers_;
  }
  std::size_t item_count() const override { return containers_->size(); }

 private:
  // One container's collectors, kept across scans for their last good results.
  struct Collectors;
  ContainerReaders readers_;
  KindSet writes_;
  std::map<std::string, std::unique_ptr<Collectors>, std::less<>> by_container_;
  bool join_refused_ = false;  // setns() into a network namespace was refused (EPERM)
  std::shared_ptr<const std::vector<ContainerAssets>> containers_ =
      std::make_shared<std::vector<ContainerAssets>>();  // sorted by id
};

}  // namespace hostprint::collectors
