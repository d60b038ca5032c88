#include "collectors/kernel_modules.hpp"

#include <sys/utsname.h>

#include <array>

#include "collectors/formats/proc_modules.hpp"
#include "collectors/io/bounded_read.hpp"
#include "collectors/io/root_dir.hpp"

namespace hostprint::collectors {
namespace {

constexpr std::size_t max_sys_value_bytes = 256;
constexpr std::array<std::string_view, 4> compressions = {"", ".xz", ".zst", ".gz"};

std::string trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  return std::string(text);
}

// A one-line value of /sys/module/<name>/; empty when the module has none.
std::string sys_value(const std::filesystem::path& dir, const char* file) {
  auto read = read_bounded(dir / file, max_sys_value_bytes);
  return read.status == ReadStatus::ok ? trimmed(read.file.text) : std::string();
}

// The running kernel's release ("uname -r"), from the proc the scan reads.
std::string kernel_release(const std::filesystem::path& proc) {
  auto read = read_bounded(proc / "sys/kernel/osrelease", max_sys_value_bytes);
  if (read.status == ReadStatus::ok) return trimmed(read.file.text);
  utsname names{};
  return ::uname(&names) == 0 ? std::string(names.release) : std::string();
}

bool plain_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos;
}

}  // namespace

std::string module_name_of(std::string_view path) {
  auto slash = path.rfind('/');
  if (slash != std::string_view::npos) path.remove_prefix(slash + 1);
  for (auto compression : compressions) {
    const std::string suffix = ".ko" + std::string(compression);
    if (path.size() > suffix.size() && path.ends_with(suffix)) {
      std::string name(path.substr(0, path.size() - suffix.size()));
      for (char& c : name)
        if (c == '-') c = '_';
      return name;
    }
  }
  return {};
}

std::unordered_map<std::string, std::string> parse_modules_dep(std::string_view text,
                                                               std::string_view folder) {
  std::unordered_map<std::string, std::string> out;
  for_each_line(text, 64 * 1024, [&](std::string_view line, bool too_long) {
    auto colon = line.find(':');
    if (too_long || colon == std::string_view::npos || colon == 0) return;
    auto path = line.substr(0, colon);
    auto name = module_name_of(path);
    if (name.empty()) return;
    out.try_emplace(std::move(name), path.front() == '/' ? std::string(path)
                                                         : std::string(folder) + "/" +
                                                               std::string(path));
  });
  return out;
}

void KernelModulesCollector::find_files(const ScanContext& context,
                                        std::vector<KernelModule>& modules, Outcome& outcome) {
  const auto release = kernel_release(context.proc);
  if (!plain_name(release)) return;
  const std::string folder = "/lib/modules/" + release;
  RootDir root(context.root);
  if (!root.valid()) return;
  auto file = root.open_file(folder + "/modules.dep");
  if (!file || !S_ISREG(file->st.st_mode)) {
    dep_identity_.clear();
    dep_paths_.clear();
    return;
  }
  // Parsed again only when it changed (depmod writes a new file).
  const auto& st = file->st;
  std::string identity = release + ":" + std::to_string(st.st_dev) + ":" +
                         std::to_string(st.st_ino) + ":" + std::to_string(st.st_size) + ":" +
                         std::to_string(st.st_mtim.tv_sec) + "." +
                         std::to_string(st.st_mtim.tv_nsec);
  if (identity != dep_identity_) {
    auto read = read_open_file(file->fd.get(), root.display(folder + "/modules.dep"),
                               max_modules_dep_bytes);
    if (read.status != ReadStatus::ok) {
      outcome.error(read.error);
      return;
    }
    std::string_view text = read.file.text;
    if (read.file.truncated) {
      outcome.error(root.display(folder + "/modules.dep") + " is larger than " +
                    std::to_string(max_modules_dep_bytes >> 20) +
                    " MiB; only its beginning was read");
      text = text.substr(0, text.rfind('\n') + 1);
    }
    dep_paths_ = parse_modules_dep(text, folder);
    dep_identity_ = std::move(identity);
  }
  for (auto& module : modules)
    if (auto it = dep_paths_.find(module.name); it != dep_paths_.end()) module.path = it->second;
}

Outcome KernelModulesCollector::collect(const ScanContext& context) {
  Outcome outcome;
  auto read = read_bounded(context.proc / "modules", max_file_bytes);
  if (read.status == ReadStatus::missing) {  // a kernel without module support
    replace({});
    return outcome;
  }
  if (read.status == ReadStatus::error) {
    outcome.fail(read.error);
    return outcome;
  }
  std::string_view text = read.file.text;
  if (read.file.truncated) {
    outcome.error("/proc/modules is larger than 4 MiB; only its beginning was read");
    text = text.substr(0, text.rfind('\n') + 1);
  }
  auto parsed = parse_proc_modules(text);
  if (parsed.malformed_lines > 0)
    outcome.error("/proc/modules: " + std::to_string(parsed.malformed_lines) +
                  " malformed lines skipped");
  for (auto& module : parsed.modules) {
    if (!plain_name(module.name)) continue;
    if (context.expired()) {
      outcome.deadline_passed();
      return outcome;
    }
    const auto dir = sys_ / "module" / module.name;
    module.version = sys_value(dir, "version");
    module.srcversion = sys_value(dir, "srcversion");
  }
  find_files(context, parsed.modules, outcome);
  replace(std::move(parsed.modules));
  return outcome;
}

}  // namespace hostprint::collectors
