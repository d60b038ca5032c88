#include "agent/snapshot.hpp"

#include <algorithm>
#include <unordered_map>

#include "proto/query.hpp"

namespace hostprint {
namespace {

// The process table of one scope: the host's processes, or those of every container together.
std::vector<proto::ProcessEntry> process_table(
    const std::vector<collectors::ProcessInfo>& processes, bool containers) {
  std::unordered_map<std::string_view, std::int64_t> by_path;
  for (const auto& p : processes)
    if (!p.exe.empty() && p.container_id.empty() != containers) ++by_path[p.exe];
  std::vector<proto::ProcessEntry> table;
  table.reserve(by_path.size());
  for (const auto& [path, num] : by_path) table.push_back({to_valid_utf8(path), num});
  std::sort(table.begin(), table.end(), [](const auto& a, const auto& b) {
    if (a.num != b.num) return a.num > b.num;
    return a.path < b.path;  // std::string compares bytes as unsigned char
  });
  // Two byte paths that differ only in invalid bytes map to one text; merge them.
  std::vector<proto::ProcessEntry> merged;
  merged.reserve(table.size());
  std::unordered_map<std::string, std::size_t> index;
  for (auto& e : table) {
    auto [it, fresh] = index.emplace(e.path, merged.size());
    if (fresh)
      merged.push_back(std::move(e));
    else
      merged[it->second].num += e.num;
  }
  if (merged.size() != table.size())
    std::sort(merged.begin(), merged.end(), [](const auto& a, const auto& b) {
      return a.num != b.num ? a.num > b.num : a.path < b.path;
    });
  return merged;
}

}  // namespace

std::string to_valid_utf8(std::string_view bytes) {
  if (proto::is_valid_text(bytes)) return std::string(bytes);
  std::string out;
  std::size_t i = 0;
  while (i < bytes.size()) {
    // Take the longest valid sequence starting here (1 to 4 bytes), else one replacement.
    bool taken = false;
    for (std::size_t len = 1; len <= 4 && i + len <= bytes.size(); ++len) {
      auto piece = bytes.substr(i, len);
      if (proto::is_valid_text(piece)) {
        out.append(piece);
        i += len;
        taken = true;
        break;
      }
    }
    if (!taken) {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

std::shared_ptr<const Snapshot> build_snapshot(collectors::Inventory inventory,
                                               std::vector<CollectorStatus> statuses,
                                               std::uint64_t generation, double scan_duration_ms) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation;
  snapshot->completed_at = std::chrono::system_clock::now();
  snapshot->scan_duration_ms = scan_duration_ms;
  snapshot->collectors = std::move(statuses);

  auto size_of = [](const auto& list) -> std::int64_t {
    return list ? static_cast<std::int64_t>(list->size()) : 0;
  };
  auto& counts = snapshot->host.counts;
  counts.account_num = size_of(inventory.accounts);
  counts.port_num = size_of(inventory.listening_ports);
  counts.kernel_module_num = size_of(inventory.kernel_modules);
  counts.app_num = size_of(inventory.software);
  counts.auto_launch_num = size_of(inventory.auto_start_items);
  if (inventory.services) {
    for (const auto& s : *inventory.services) {
      auto& scope = s.container_id.empty() ? counts : snapshot->container.counts;
      ++(s.category == collectors::ProductCategory::web_service ? scope.web_service_num
                                                                 : scope.database_num);
    }
  }
  if (inventory.jar_packages) {
    for (const auto& j : *inventory.jar_packages)
      ++(j.container_id.empty() ? counts : snapshot->container.counts).jar_package_num;
  }
  if (inventory.web_sites) {
    for (const auto& s : *inventory.web_sites)
      ++(s.container_id.empty() ? counts : snapshot->container.counts).web_site_num;
  }
  if (inventory.web_apps) {
    for (const auto& a : *inventory.web_apps)
      ++(a.container_id.empty() ? counts : snapshot->container.counts).web_app_num;
  }
  if (inventory.web_frameworks) {
    for (const auto& f : *inventory.web_frameworks)
      ++(f.container_id.empty() ? counts : snapshot->container.counts).web_framework_num;
  }
  // A container's files and ports are its own; the container scope is the sum over containers.
  // Kernel modules are the host's alone: containers run on its kernel.
  if (inventory.containers) {
    auto& scope = snapshot->container.counts;
    for (const auto& c : *inventory.containers) {
      scope.account_num += size_of(c.accounts);
      scope.port_num += size_of(c.listening_ports);
      scope.app_num += size_of(c.software);
      scope.auto_launch_num += size_of(c.auto_start_items);
    }
  }
  if (inventory.processes) {
    for (const auto& p : *inventory.processes)
      ++(p.container_id.empty() ? counts : snapshot->container.counts).process_num;
    snapshot->host.process_table = process_table(*inventory.processes, false);
    snapshot->container.process_table = process_table(*inventory.processes, true);
  }
  if (inventory.rasp) {
    snapshot->rasp.protect_host_num = inventory.rasp->protected_processes.empty() ? 0 : 1;
    snapshot->rasp.anti_tampering_num = proto::clamp_count(inventory.rasp->blocked_attacks);
  }
  for (ScopeView* view : {&snapshot->host, &snapshot->container}) {
    view->counts_json = proto::to_json(view->counts);
    view->process_entry_json.reserve(view->process_table.size());
    for (const auto& entry : view->process_table)
      view->process_entry_json.push_back(proto::to_json(entry));
  }
  snapshot->inventory = std::move(inventory);
  return snapshot;
}

}  // namespace hostprint
