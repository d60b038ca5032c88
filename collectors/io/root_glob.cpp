#include "collectors/io/root_glob.hpp"

#include <dirent.h>
#include <fnmatch.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "collectors/io/unique_fd.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;

// Opens `relative` under `root_fd` with symlinks resolved inside the root.
int open_in_root(int root_fd, const std::string& relative, std::uint64_t flags) {
  struct open_how how {};
  how.flags = flags | O_CLOEXEC;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  std::string_view trimmed = relative;
  while (!trimmed.empty() && trimmed.front() == '/') trimmed.remove_prefix(1);
  const std::string rel = trimmed.empty() ? std::string(".") : std::string(trimmed);
  int fd;
  do {
    fd = static_cast<int>(::syscall(SYS_openat2, root_fd, rel.c_str(), &how, sizeof how));
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  return fd;
}

bool has_wildcard(std::string_view component) {
  return component.find_first_of("*?[") != std::string_view::npos;
}

std::string join(const std::string& dir, std::string_view name) {
  std::string out = dir == "/" ? std::string("/") : dir + "/";
  out += name;
  return out;
}

}  // namespace

std::vector<std::string> glob_in_root(const fs::path& root, std::string_view pattern,
                                      std::size_t max_matches) {
  std::vector<std::string> out;
  if (max_matches == 0) return out;
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root_fd.get() < 0) return out;

  std::vector<std::string> components;
  while (!pattern.empty()) {
    auto slash = pattern.find('/');
    auto part = pattern.substr(0, slash);
    if (!part.empty() && part != ".") components.emplace_back(part);
    if (slash == std::string_view::npos) break;
    pattern.remove_prefix(slash + 1);
  }
  if (components.empty()) return out;

  std::vector<std::string> current{"/"};
  std::size_t entries_read = 0;
  bool last_was_literal = true;
  for (std::size_t c = 0; c < components.size() && !current.empty(); ++c) {
    const std::string& component = components[c];
    const bool last = c + 1 == components.size();
    // Intermediate candidates are bounded too: past this many, later directories are not read.
    const std::size_t bound = last ? max_matches : std::max<std::size_t>(max_matches, 1024);
    std::vector<std::string> next;
    if (!has_wildcard(component)) {
      for (const auto& dir : current) next.push_back(join(dir, component));
      last_was_literal = true;
    } else {
      last_was_literal = false;
      for (const auto& dir : current) {
        if (next.size() >= bound || entries_read >= glob_max_entries) break;
        int fd = open_in_root(root_fd.get(), dir, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
        if (fd < 0) continue;
        DIR* d = ::fdopendir(fd);
        if (!d) {
          ::close(fd);
          continue;
        }
        std::vector<std::string> names;
        while (dirent* e = ::readdir(d)) {
          if (++entries_read > glob_max_entries) break;
          std::string_view name = e->d_name;
          if (name == "." || name == "..") continue;
          if (::fnmatch(component.c_str(), e->d_name, FNM_PATHNAME | FNM_PERIOD) == 0)
            names.emplace_back(name);
        }
        ::closedir(d);
        std::sort(names.begin(), names.end());
        for (const auto& n : names) next.push_back(join(dir, n));
      }
      std::sort(next.begin(), next.end());
      if (next.size() > bound) next.resize(bound);
    }
    current = std::move(next);
  }
  // Literal trailing components were not looked at: keep what exists.
  for (auto& path : current) {
    if (out.size() >= max_matches) break;
    if (last_was_literal) {
      int fd = open_in_root(root_fd.get(), path, O_PATH);
      if (fd < 0) continue;
      ::close(fd);
    }
    out.push_back(std::move(path));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace hostprint::collectors
