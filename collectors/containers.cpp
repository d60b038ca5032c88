#include "collectors/containers.hpp"
#include "collectors/formats/proc_text.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <exception>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <thread>
#include <tuple>

#include "collectors/formats/container_meta.hpp"
#include "collectors/io/bounded_read.hpp"
#include "collectors/io/process_files.hpp"
#include "collectors/io/unique_fd.hpp"

namespace hostprint::collectors {

struct ContainersCollector::Collectors {
  explicit Collectors(const ContainerReaders& make)
      : files(make.files()), ports(make.ports()), ports_from_proc(make.ports_from_proc()) {}
  std::vector<std::unique_ptr<Collector>> files;
  std::unique_ptr<Collector> ports;
  // Where joining the namespace is refused (no CAP_SYS_ADMIN, or a unit's RestrictNamespaces=):
  // the namespace's /proc/<pid>/net files, which reading the process's /proc entry allows.
  std::unique_ptr<Collector> ports_from_proc;
  std::optional<std::string> name;  // read once, when the container is first entered
};

namespace {

constexpr std::size_t max_runtime_file_bytes = 8u << 20;

bool is_runtime_id(std::string_view id) {
  return id.size() == 64 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// The runtimes' own files that name a container, read from the host's root. An id is 64 hex
// digits (checked before it becomes part of a path); an LXC container's id is its name.
class RuntimeNames {
 public:
  explicit RuntimeNames(const std::filesystem::path& root) : root_(root) {}

  std::string of(const std::string& id) {
    if (!is_runtime_id(id)) return id;
    if (auto text = read("var/lib/docker/containers/" + id + "/config.v2.json"))
      if (auto name = docker_container_name(*text)) return *name;
    for (std::string_view space : {"k8s.io", "moby", "default"})
      if (auto text = read("run/containerd/io.containerd.runtime.v2.task/" + std::string(space) +
                           "/" + id + "/config.json"))
        if (auto name = oci_annotated_name(*text)) return *name;
    if (!storage_) {
      storage_.emplace();
      for (std::string_view file : {"var/lib/containers/storage/overlay-containers/containers.json",
                                    "run/containers/storage/overlay-containers/containers.json"})
        if (auto text = read(std::string(file))) {
          auto found = storage_container_names(*text);
          storage_->merge(found);
        }
    }
    auto it = storage_->find(id);
    return it == storage_->end() ? std::string() : it->second;
  }

 private:
  std::optional<std::string> read(const std::string& relative) const {
    auto result = read_bounded(root_ / relative, max_runtime_file_bytes);
    if (result.status != ReadStatus::ok) return std::nullopt;
    return std::move(result.file.text);
  }

  const std::filesystem::path& root_;
  std::optional<std::map<std::string, std::string>> storage_;  // read at the first need
};

}  // namespace

namespace {

std::string errno_text(int err) {
  return std::system_category().message(err);
}

// A container entered through one of its processes.
struct EnteredContainer {
  std::size_t member = 0;  // which of the container's processes
  UniqueFd process;        // its /proc/<pid>
  UniqueFd root;           // its root directory
  UniqueFd network;        // its network namespace; invalid when it could not be opened
  NetworkNamespace network_id;
  std::uint64_t start_ticks = 0;
};

// Whether the process of a /proc/<pid> directory still runs: an exited one (a zombie too) has no
// root any more. The directory itself never shows a later process of the same pid.
bool still_running(int pid_dir) {
  std::array<char, 1> target{};
  return ::readlinkat(pid_dir, "root", target.data(), target.size()) >= 0;
}

// Opens the root and network namespace of the container's oldest process still running, from
// its member `first` on. Nothing when none is left; `refusal` then says why a live one could not
// be entered, if so.
std::optional<EnteredContainer> enter(int proc_dir, const ContainerProcesses& container,
                                      std::size_t first, std::string& refusal) {
  for (std::size_t i = first; i < container.members.size(); ++i) {
    const auto& member = container.members[i];
    std::array<char, 16> name{};
    std::to_chars(name.data(), name.data() + name.size() - 1, member.pid);
    UniqueFd dir(::openat(proc_dir, name.data(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!dir.valid()) continue;
    UniqueFd root(::openat(dir.get(), "root", O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) {
      if (errno == EACCES || errno == EPERM)
        refusal = "/proc/" + std::string(name.data()) + "/root: " + errno_text(errno);
      continue;
    }
    UniqueFd network(::openat(dir.get(), "ns/net", O_RDONLY | O_CLOEXEC));
    // Checked after the opens: the same start time means the pid was not reused before them,
    // and a directory opened by pid never shows a later process of that pid.
    auto ticks = start_ticks_at(dir.get());
    if (!ticks || *ticks != member.start_ticks) continue;
    EnteredContainer entered{i,  std::move(dir),    std::move(root), std::move(network),
                             {}, member.start_ticks};
    struct stat st {};
    if (entered.network.valid() && ::fstat(entered.network.get(), &st) == 0)
      entered.network_id = {static_cast<std::uint64_t>(st.st_dev),
                            static_cast<std::uint64_t>(st.st_ino)};
    else
      entered.network.reset();
    return entered;
  }
  return std::nullopt;
}

std::optional<NetworkNamespace> own_network_namespace(const std::filesystem::path& proc) {
  struct stat st {};
  if (::stat((proc / "thread-self/ns/net").c_str(), &st) != 0 &&
      ::stat((proc / "self/ns/net").c_str(), &st) != 0)
    return std::nullopt;
  return NetworkNamespace{static_cast<std::uint64_t>(st.st_dev),
                          static_cast<std::uint64_t>(st.st_ino)};
}

// Runs `collector` on a thread of its own that joins the network namespace `network`, so that
// netlink and /proc/thread-self/net answer for that namespace while the scan's thread stays put.
// `refused` is set when the kernel does not let the agent join it.
Outcome run_in_network(int network, Collector& collector, const ScanContext& context,
                       bool& refused) {
  Outcome outcome;
  try {
    std::thread worker([&] {
      if (::setns(network, CLONE_NEWNET) != 0) {
        refused = errno == EPERM;
        outcome.fail("joining its network namespace: " + errno_text(errno));
        return;
      }
      outcome = run_contained(collector, context);
    });
    worker.join();
  } catch (const std::exception& e) {
    outcome.fail(std::string("starting a thread: ") + e.what());
  }
  return outcome;
}

void report(Outcome& outcome, std::string_view id, const Collector& collector, const Outcome& run,
            const std::string& root_shown) {
  for (const auto& e : run.errors)
    outcome.error("container " + std::string(id) + ": " + std::string(collector.name()) + ": " +
                  as_seen_inside(e, root_shown) +
                  (run.complete ? "" : " (keeping the last good result)"));
}

}  // namespace

std::string as_seen_inside(std::string message, const std::string& root_shown) {
  if (root_shown.empty()) return message;
  for (auto at = message.find(root_shown); at != std::string::npos;
       at = message.find(root_shown, at)) {
    auto after = at + root_shown.size();
    bool more_digits = after < message.size() && message[after] >= '0' && message[after] <= '9';
    if (more_digits) {
      at = after;
      continue;
    }
    bool followed_by_path = after < message.size() && message[after] == '/';
    message.replace(at, root_shown.size(), followed_by_path ? "" : "/");
  }
  return message;
}

std::vector<ContainerProcesses> containers_in(std::span<const ProcessInfo> processes) {
  std::map<std::string_view, std::vector<ContainerMember>> by_id;
  for (const auto& p : processes)
    if (!p.container_id.empty()) by_id[p.container_id].push_back({p.pid, p.start_ticks});
  std::vector<ContainerProcesses> out;
  out.reserve(by_id.size());
  for (auto& [id, members] : by_id) {
    std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) {
      return std::tie(a.start_ticks, a.pid) < std::tie(b.start_ticks, b.pid);
    });
    out.push_back({std::string(id), std::move(members)});
  }
  return out;
}

bool NetworkNamespaceOwners::offer(const ContainerNetwork& container) {
  if (container.network == host_) return false;
  auto [it, fresh] = owner_.emplace(container.network, container);
  if (fresh) return true;
  auto& owner = it->second;
  if (std::tie(container.start_ticks, container.id) >= std::tie(owner.start_ticks, owner.id))
    return false;
  owner = container;
  return true;
}

ContainersCollector::ContainersCollector(ContainerReaders readers) : readers_(std::move(readers)) {
  const Collectors sample(readers_);
  for (const auto& files : sample.files) writes_ |= files->writes();
  writes_ |= sample.ports->writes() | sample.ports_from_proc->writes();
}
ContainersCollector::~ContainersCollector() = default;

Outcome ContainersCollector::collect(const ScanContext& context) {
  Outcome outcome;
  UniqueFd proc(::open(context.proc.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!proc.valid()) {
    outcome.fail(context.proc.string() + ": " + errno_text(errno));
    return outcome;
  }
  const auto containers = containers_in(context.input_part<ProcessInfo>());
  const auto host_network = own_network_namespace(context.proc);
  if (!host_network && !containers.empty())
    outcome.error(
        "the agent's own network namespace is unknown; no container's "
        "ports are read");
  NetworkNamespaceOwners owners(host_network.value_or(NetworkNamespace{}));
  // Held for the owner of each namespace only: one descriptor per namespace, not per container.
  std::map<NetworkNamespace, UniqueFd> owned_networks;
  std::map<NetworkNamespace, UniqueFd> owner_processes;  // their /proc/<pid>, for /proc/<pid>/net
  std::vector<std::string_view> entered;
  for (const auto& container : containers) {
    if (context.expired()) {
      outcome.fail("deadline passed after " + std::to_string(entered.size()) +
                   " of " + std::to_string(containers.size()) + " containers");
      return outcome;
    }
    auto& own = by_container_[container.id];
    if (!own) own = std::make_unique<Collectors>(readers_);
    // When the process entered exits while its files are read, its mounts may go half-way
    // through: they are read again through the next one. A container with none left is skipped.
    std::string refusal;
    std::optional<EnteredContainer> inside;
    Outcome files_read;
    for (std::size_t first = 0, attempts = 0; attempts < 2; ++attempts) {
      inside = enter(proc.get(), container, first, refusal);
      if (!inside) break;
      ScanContext files;
      files.root = context.proc / "self/fd" / std::to_string(inside->root.get());
      files.proc = context.proc;
      files.deadline = context.deadline;
      const std::string root_shown = files.root.string();
      files_read = {};
      for (auto& collector : own->files)
        report(files_read, container.id, *collector, run_contained(*collector, files), root_shown);
      if (still_running(inside->process.get())) break;
      first = inside->member + 1;
      inside.reset();
    }
    if (!inside) {  // exited since the process table was read, or closed to us
      if (!refusal.empty()) outcome.error("container " + container.id + ": " + refusal);
      continue;
    }
    for (auto& e : files_read.errors) outcome.error(std::move(e));
    if (host_network && inside->network.valid() &&
        owners.offer({container.id, inside->network_id, inside->start_ticks})) {
      owned_networks[inside->network_id] = std::move(inside->network);
      owner_processes[inside->network_id] = std::move(inside->process);
    }
    entered.push_back(container.id);
  }

  std::set<std::string_view> read_ports, read_ports_from_proc;
  for (const auto& [network, owner] : owners.by_namespace()) {
    if (context.expired()) {
      outcome.fail("deadline passed while reading their ports");
      return outcome;
    }
    auto& ports = *by_container_[owner.id]->ports;
    ScanContext in_network;
    in_network.proc = context.proc;
    in_network.deadline = context.deadline;
    // Refused once, always refused: the agent gains no capability while it runs.
    Outcome joined;
    if (!join_refused_)
      joined = run_in_network(owned_networks[network].get(), ports, in_network, join_refused_);
    const auto& process = owner_processes[network];
    if (join_refused_ && process.valid()) {
      auto& from_proc = *by_container_[owner.id]->ports_from_proc;
      ScanContext via_proc;
      via_proc.proc = context.proc / "self/fd" / std::to_string(process.get());
      via_proc.deadline = context.deadline;
      report(outcome, owner.id, from_proc, run_contained(from_proc, via_proc), {});
      read_ports_from_proc.insert(owner.id);
      continue;
    }
    report(outcome, owner.id, ports, joined, {});
    read_ports.insert(owner.id);
  }

  auto assets = std::make_shared<std::vector<ContainerAssets>>();
  assets->reserve(entered.size());
  RuntimeNames names(context.root);
  for (const auto& id : entered) {
    auto& own = *by_container_.find(id)->second;
    if (!own.name) own.name = names.of(std::string(id));
    ContainerAssets container{std::string(id), *own.name, {}};
    for (const auto& files : own.files) files->publish(container.found);
    if (read_ports.contains(id)) own.ports->publish(container.found);
    if (read_ports_from_proc.contains(id)) own.ports_from_proc->publish(container.found);
    assets->push_back(std::move(container));
  }
  // A container that is gone takes its collectors' results with it.
  const std::set<std::string_view> running(entered.begin(), entered.end());
  std::erase_if(by_container_, [&](const auto& entry) { return !running.contains(entry.first); });
  containers_ = std::move(assets);
  return outcome;
}

void ContainersCollector::publish(proto::AssetSet& found) const {
  // Each part a container's collectors published becomes that container's part.
  for (const auto& c : *containers_) {
    if (!c.name.empty()) found.container_names.emplace(c.id, c.name);
    c.found.each_kind([&](const auto& parts) {
      for (const auto& part : parts) found.add(part.items, c.id);
    });
  }
}

KindSet ContainersCollector::writes() const {
  return writes_;
}

}  // namespace hostprint::collectors
