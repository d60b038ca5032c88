#pragma once
// Which process owns each of a set of sockets (by inode), from the processes' fd links, kept
// cheap across scans: see socket_owners.cpp.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "collectors/collector.hpp"

namespace hostprint::collectors {

class SocketOwners {
 public:
  struct Owner {
    int pid = 0;
    std::string exe;
  };

  // Looks for the owners of `wanted` in the scan's process table. Without one (a collector run on
  // its own, as in a container's network) nothing is looked for.
  // At most `max_reads` processes' open files are read; a look at every process that needs more
  // goes on in the next updates.
  void update(const ScanContext& context, std::span<const std::uint64_t> wanted,
              std::size_t max_reads, Outcome& outcome);
  // The lowest pid found owning `inode` in the last update(); null when none was.
  const Owner* owner(std::uint64_t inode) const;
  // How many updates looked at every process (the first, and those that met a socket no known
  // owner explains).
  std::size_t full_sweeps() const { return full_sweeps_; }

 private:
  using Identity = std::pair<int, std::uint64_t>;  // pid, start ticks
  std::unordered_map<std::uint64_t, Identity> known_;  // inode -> its owner at the last update
  std::unordered_set<std::uint64_t> ownerless_;  // inodes a look at every process left unowned
  std::shared_ptr<const std::vector<ProcessInfo>> seen_;  // the last update's process table
  std::unordered_map<std::uint64_t, Owner> now_;
  bool sweeping_ = false;  // a look at every process is under way, from pid resume_ on
  int resume_ = 0;
  std::unordered_set<std::uint64_t> sweep_inodes_;  // the sockets sought when it began
  std::size_t full_sweeps_ = 0;
};

}  // namespace hostprint::collectors
