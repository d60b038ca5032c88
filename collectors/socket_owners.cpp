#include "collectors/socket_owners.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <iterator>
#include <tuple>

#include "collectors/formats/proc_text.hpp"

// Reading every process's fd links costs about as much as the rest of a scan, so it is done only
// when something new needs it:
// - a process not in the last scan's table (new, or its pid reused) has its fds read;
// - a socket's owner from the last scan is read again, to see that it still holds the socket;
// - only a socket that neither explains, and that no look at every process has left ownerless
//   before (a kernel socket, one held by a process closed to us), makes every process be read.
// Processes are read in ascending pid order and the reading stops once every socket has an owner
// of a lower pid (the first owner met is the lowest). So an unchanged host reads no fd links at
// all. At most a given number of processes are read per update; a look at every process that
// needs more goes on in the next scans, and the ports it has not reached yet show no owner. And
// "the lowest pid" may miss an older process that received a socket later (SCM_RIGHTS)
// while the owner already known still holds it.

namespace hostprint::collectors {
namespace {

constexpr std::size_t deadline_stride = 64;

int pid_of(int pid) { return pid; }
int pid_of(const ProcessInfo& p) { return p.pid; }

bool by_identity(const ProcessInfo& a, const ProcessInfo& b) {
  return std::tie(a.pid, a.start_ticks) < std::tie(b.pid, b.start_ticks);
}

// The entry of `pid` in a table sorted by pid; null when there is none.
const ProcessInfo* row_of(std::span<const ProcessInfo> table, int pid) {
  auto at = std::lower_bound(table.begin(), table.end(), pid,
                             [](const ProcessInfo& p, int wanted) { return p.pid < wanted; });
  return at != table.end() && at->pid == pid ? &*at : nullptr;
}

// This process's pid as the procfs at `proc` numbers it; 0 when it has none there.
int own_pid(const std::filesystem::path& proc) {
  std::array<char, 32> link{};
  const auto self = proc / "self";
  ssize_t n = ::readlink(self.c_str(), link.data(), link.size());
  int pid = 0;
  if (n <= 0 || static_cast<std::size_t>(n) >= link.size()) return 0;
  auto [end, ec] = std::from_chars(link.data(), link.data() + n, pid);
  return ec == std::errc{} && end == link.data() + n ? pid : 0;
}

}  // namespace

void SocketOwners::update(const ScanContext& context, std::span<const std::uint64_t> wanted,
                          std::size_t max_reads, Outcome& outcome) {
  now_.clear();
  if (!context.found) return;
  // The scan's process table, sorted by pid and shared with the snapshot: kept as the next
  // update's "seen" without a copy.
  std::shared_ptr<const std::vector<ProcessInfo>> shared;
  for (const auto& part : context.input<ProcessInfo>())
    if (part.container_id.empty() && part.items) shared = part.items;
  static const std::vector<ProcessInfo> none;
  const std::vector<ProcessInfo>& current = shared ? *shared : none;
  const std::unordered_set<std::uint64_t> sought(wanted.begin(), wanted.end());
  if (sought.empty()) {
    known_.clear();
    ownerless_.clear();
    sweep_inodes_.clear();
    sweeping_ = false;
    seen_ = std::move(shared);
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
    if (looked.size() >= max_reads) {
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
  auto sweep = [&](const auto& pids, int& from) {
    for (auto at = std::lower_bound(pids.begin(), pids.end(), from,
                                    [](const auto& p, int wanted) { return pid_of(p) < wanted; });
         at != pids.end(); ++at) {
      const int pid = pid_of(*at);
      if (unfound == 0 && highest < pid) return true;
      look(pid);
      if (expired || spent) {
        from = pid;
        return false;
      }
    }
    return true;
  };

  for (const auto& [inode, identity] : known_) {
    const ProcessInfo* row = sought.contains(inode) ? row_of(current, identity.first) : nullptr;
    if (row && row->start_ticks == identity.second) look(identity.first);
  }
  // The agent's own sockets (its port, opened just before its first scan is published) are found
  // in its own fds at once, not only after a look at every lower pid, which may take scans.
  if (unfound > 0)
    if (int self = own_pid(context.proc); self > 0 && row_of(current, self)) look(self);
  // Processes new since the last update; none when the table is the very same (a quiet host).
  std::vector<int> fresh;
  if (!seen_ || seen_ != shared) {
    static const std::vector<ProcessInfo> empty;
    const auto& before = seen_ ? *seen_ : empty;
    auto b = before.begin();
    for (const auto& p : current) {
      while (b != before.end() && by_identity(*b, p)) ++b;
      if (b == before.end() || by_identity(p, *b)) fresh.push_back(p.pid);
    }
  }
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
    const ProcessInfo* row = row_of(current, pid);
    if (!row) continue;
    known_.emplace(inode, Identity{pid, row->start_ticks});
    now_.emplace(inode, Owner{pid, row->exe.str()});
  }
  // Processes not yet looked at because time ran out stay new for the next update.
  if (!expired) seen_ = std::move(shared);
}

const SocketOwners::Owner* SocketOwners::owner(std::uint64_t inode) const {
  auto it = now_.find(inode);
  return it == now_.end() ? nullptr : &it->second;
}

}  // namespace hostprint::collectors
