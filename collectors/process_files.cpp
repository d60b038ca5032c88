#include "collectors/process_files.hpp"

#include <unistd.h>

#include <unordered_set>

#include "collectors/bounded_read.hpp"

namespace hostprint::collectors {

std::optional<std::string> read_link(const std::filesystem::path& link) {
  char buf[4096];
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf);
  if (n <= 0 || static_cast<std::size_t>(n) >= sizeof buf) return std::nullopt;
  return std::string(buf, static_cast<std::size_t>(n));
}

OpenFileTargets open_file_targets(const std::filesystem::path& proc_pid, std::size_t max_fds) {
  OpenFileTargets out;
  std::error_code ec;
  std::size_t fds = 0;
  for (std::filesystem::directory_iterator it(proc_pid / "fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    if (++fds > max_fds) {
      out.truncated = true;
      break;
    }
    if (auto target = read_link(it->path())) out.targets.push_back(std::move(*target));
  }
  return out;
}

std::vector<std::string> mapped_files(std::string_view maps) {
  std::vector<std::string> out;
  std::unordered_set<std::string_view> seen;
  for_each_line(maps, 8192, [&](std::string_view line, bool too_long) {
    if (too_long) return;
    auto slash = line.find('/');
    if (slash == std::string_view::npos) return;
    std::string_view path = line.substr(slash);
    if (seen.insert(path).second) out.emplace_back(path);
  });
  return out;
}

}  // namespace hostprint::collectors
