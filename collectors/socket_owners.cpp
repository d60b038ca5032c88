#include "collectors/socket_owners.hpp"

#include <algorithm>
#include <iterator>

#include "collectors/formats/proc_text.hpp"

// Reading every process's fd links costs about as much as the rest of a scan, so it is done only
// when something new needs it:
// - a process not in the last scan's table (new, or its pid reused) has its fds read;
// - a socket's owner from the last scan is read again, to see that it still holds the socket;
// - only a socket that neither explains, and that no look at every process has left ownerless
//   before (a kernel socket, one held by a process closed to us), makes every process be read.
// Processes are read in ascending pid order and the reading stops once every socket has an owner
// of a lower pid (the first owner met is the lowest). So an unchanged host reads no fd links at
// all. At most max_reads_per_update processes are read per update; a look at every process that
// needs more goes on in the next scans, and the ports it has not reached yet show no owner. And
// "the lowest pid" may miss an older process that received a socket later (SCM_RIGHTS)
// while the owner already known still holds it.

namespace hostprint::collectors {
namespace {

constexpr std::size_t deadline_stride = 64;
// Processes whose open files one update reads: a look at every process (about 30 us each) is
// spread over scans on a host with many of them (10,000: ten scans).
constexpr std::size_t max_reads_per_update = 1024;

}  // namespace

void SocketOwners::update(const ScanContext& context, std::span<const std::uint64_t> wanted,
                          Outcome& outcome) {
  now_.clear();
  if (!context.found) return;
  const auto& table = context.input_part<ProcessInfo>();
  std::vector<Identity> current;
  current.reserve(table.size());
  for (const auto& p : table) current.emplace_back(p.pid, p.start_ticks);
  std::sort(current.begin(), current.end());
  const std::unordered_set<std::uint64_t> sought(wanted.begin(), wanted.end());
  if (sought.empty()) {
    known_.clear();
    ownerless_.clear();
    sweep_inodes_.clear();
    sweeping_ = false;
    seen_ = std::move(current);
    return;
  }

  auto& reader = context.processes();
  std::unordered_map<std::uint64_t, int> found;  // inode -> lowest pid seen holding it
  std::unordered_set<int> looked;
  std::size_t handled = 0;
  bool expired = false;
  // Sockets still to find (those a full look left ownerless before are not waited for), and the
  // highest pid found so far: once none is left, a higher pid can no longer be the lowest owner.
  std::size_t unfound = 0;
  for (auto inode : sought) unfound += ownerless_.contains(inode) ? 0 : 1;
  int highest = 0;
  bool spent = false;  // the reads of this update are used up
  auto look = [&](int pid) {
    if (expired || spent || looked.contains(pid)) return;
    if (looked.size() >= max_reads_per_update) {
      spent = true;
      return;
    }
    looked.insert(pid);
    if (++handled % deadline_stride == 0 && context.expired()) {
      expired = true;
      return;
    }
    for (const auto& target : reader.open_files(pid).targets) {
      auto inode = parse_socket_link(target);
      if (!inode || !sought.contains(*inode)) continue;
      auto [it, fresh] = found.try_emplace(*inode, pid);
      if (fresh && !ownerless_.contains(*inode)) --unfound;
      it->second = std::min(it->second, pid);
      highest = std::max(highest, pid);
    }
  };
  // Looks at the `pids` from `from` on, in ascending order, until all are found (true), or time
  // or reads run out (false, `from` then the first pid not looked at), or the end (true).
  auto sweep = [&](const std::vector<Identity>& pids, int& from) {
    for (auto at = std::lower_bound(pids.begin(), pids.end(), Identity{from, 0}); at != pids.end();
         ++at) {
      if (unfound == 0 && highest < at->first) return true;
      look(at->first);
      if (expired || spent) {
        from = at->first;
        return false;
      }
    }
    return true;
  };

  for (const auto& [inode, identity] : known_)
    if (sought.contains(inode) && std::binary_search(current.begin(), current.end(), identity))
      look(identity.first);
  std::vector<Identity> fresh;
  std::set_difference(current.begin(), current.end(), seen_.begin(), seen_.end(),
                      std::back_inserter(fresh));
  int fresh_from = 0;
  if (!sweep(fresh, fresh_from)) {
    // New processes left unread are read by a look at every process, from the first of them.
    if (!sweeping_) sweep_inodes_.clear();
    resume_ = sweeping_ ? std::min(resume_, fresh_from) : fresh_from;
    sweeping_ = true;
  }
  if (unfound > 0 && !sweeping_) {
    ++full_sweeps_;
    sweeping_ = true;
    resume_ = 0;
    sweep_inodes_.clear();
  }
  if (sweeping_) {
    // The sockets a look at every process can declare ownerless: those there when it began.
    if (sweep_inodes_.empty()) sweep_inodes_ = sought;
    // A look cut short (reads or time) goes on where it stopped in the next update.
    if (!expired && !spent && sweep(current, resume_)) {
      sweeping_ = false;
      resume_ = 0;
      for (auto inode : sweep_inodes_)
        if (sought.contains(inode) && !found.contains(inode)) ownerless_.insert(inode);
      sweep_inodes_.clear();
    }
  }
  if (expired)
    outcome.error("the deadline passed while looking for the processes that own ports; "
                  "some are shown without one");

  // Sockets gone are forgotten.
  std::erase_if(ownerless_, [&](std::uint64_t inode) { return !sought.contains(inode); });

  known_.clear();
  for (const auto& [inode, pid] : found) {
    auto at = std::lower_bound(current.begin(), current.end(), Identity{pid, 0});
    if (at == current.end() || at->first != pid) continue;
    known_.emplace(inode, *at);
    auto row = std::lower_bound(table.begin(), table.end(), pid,
                                [](const ProcessInfo& p, int wanted_pid) { return p.pid < wanted_pid; });
    std::string exe = row != table.end() && row->pid == pid ? row->exe : std::string();
    now_.emplace(inode, Owner{pid, std::move(exe)});
  }
  // Processes not yet looked at because time ran out stay new for the next update.
  if (!expired) seen_ = std::move(current);
}

const SocketOwners::Owner* SocketOwners::owner(std::uint64_t inode) const {
  auto it = now_.find(inode);
  return it == now_.end() ? nullptr : &it->second;
}

}  // namespace hostprint::collectors
