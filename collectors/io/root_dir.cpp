#include "collectors/io/root_dir.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstring>
#include <memory>

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;

// openat2 fails with EAGAIN when a rename raced the lookup; a tree renamed without end must
// not keep us here.
constexpr int max_open_attempts = 64;

std::string_view strip_leading_slashes(std::string_view relative) {
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  return relative;
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

RootDir::RootDir(const fs::path& root)
    : owned_(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC)),
      fd_(owned_.get()),
      root_errno_(owned_.valid() ? 0 : errno),
      display_(root) {}

RootDir::RootDir(UniqueFd held, fs::path display)
    : owned_(std::move(held)),
      fd_(owned_.get()),
      root_errno_(owned_.valid() ? 0 : EBADF),
      display_(std::move(display)) {}

RootDir RootDir::borrow(int fd, fs::path display) {
  RootDir out;
  out.fd_ = fd;
  out.root_errno_ = fd >= 0 ? 0 : EBADF;
  out.display_ = std::move(display);
  return out;
}

std::string RootDir::display(std::string_view relative) const {
  return (display_ / fs::path(strip_leading_slashes(relative))).string();
}

UniqueFd RootDir::open(std::string_view relative, int flags) const {
  if (fd_ < 0) {
    errno = root_errno_;
    return UniqueFd();
  }
  relative = strip_leading_slashes(relative);
  const std::string rel = relative.empty() ? std::string(".") : std::string(relative);
  struct open_how how {};
  how.flags = static_cast<std::uint64_t>(flags) | O_CLOEXEC | ((flags & O_PATH) ? 0 : O_NOCTTY);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  for (int attempt = 0; attempt < max_open_attempts; ++attempt) {
    long fd = ::syscall(SYS_openat2, fd_, rel.c_str(), &how, sizeof how);
    if (fd >= 0) return UniqueFd(static_cast<int>(fd));
    if (errno != EINTR && errno != EAGAIN) return UniqueFd();
  }
  errno = EAGAIN;
  return UniqueFd();
}

ReadResult RootDir::read(std::string_view relative, std::size_t max_bytes) const {
  const std::string shown = display(relative);
  UniqueFd file = open(relative, O_RDONLY | O_NONBLOCK);
  if (!file.valid()) return failure<ReadResult>(shown, errno);
  return read_open_file(file.get(), shown, max_bytes);
}

OpenedInRoot RootDir::open_checked(std::string_view relative, OpenKind kind) const {
  const std::string shown = display(relative);
  if (fd_ < 0) return failure<OpenedInRoot>(display_.string(), root_errno_);
  int flags = O_RDONLY | O_NONBLOCK;
  if (kind == OpenKind::directory) flags |= O_DIRECTORY;
  OpenedInRoot r;
  r.fd = open(relative, flags);
  if (!r.fd.valid()) return failure<OpenedInRoot>(shown, errno);
  struct stat st {};
  if (::fstat(r.fd.get(), &st) != 0) return failure<OpenedInRoot>(shown, errno);
  if (kind == OpenKind::regular_file && !S_ISREG(st.st_mode)) {
    r.status = ReadStatus::error;
    r.error = shown + ": not a regular file";
    r.fd = UniqueFd();
    return r;
  }
  // O_NONBLOCK only kept a FIFO from blocking the open; reads of a regular file ignore it.
  r.device = st.st_dev;
  r.inode = st.st_ino;
  r.size = st.st_size > 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  return r;
}

std::optional<RootDir::OpenFile> RootDir::open_file(std::string_view relative) const {
  OpenFile out{open(relative, O_RDONLY | O_NONBLOCK), {}};
  if (!out.fd.valid() || ::fstat(out.fd.get(), &out.st) != 0) return std::nullopt;
  return out;
}

std::optional<struct stat> RootDir::stat(std::string_view relative) const {
  UniqueFd fd = open(relative, O_PATH);
  if (!fd.valid()) return std::nullopt;
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return std::nullopt;
  return st;
}

std::optional<RootDir::Entry> RootDir::entry(std::string_view relative) const {
  UniqueFd fd = open(relative, O_PATH | O_NOFOLLOW);
  if (!fd.valid()) return std::nullopt;
  Entry out;
  if (::fstat(fd.get(), &out.st) != 0) return std::nullopt;
  if (!S_ISLNK(out.st.st_mode)) return out;
  std::array<char, PATH_MAX + 1> buffer{};
  ssize_t n = ::readlinkat(fd.get(), "", buffer.data(), buffer.size());
  if (n >= 0 && static_cast<std::size_t>(n) < buffer.size())
    out.target = std::string(buffer.data(), static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> RootDir::readlink(std::string_view relative) const {
  auto found = entry(relative);
  if (!found) return std::nullopt;
  return std::move(found->target);
}

FolderEntries RootDir::each_entry(std::string_view relative, const EntryVisitor& on_entry) const {
  const std::string shown = display(relative);
  if (fd_ < 0) return failure<FolderEntries>(display_.string(), root_errno_);
  UniqueFd fd = open(relative, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
  if (!fd.valid()) return failure<FolderEntries>(shown, errno);
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd.get()), ::closedir);
  if (!dir) return failure<FolderEntries>(shown, errno);
  fd.release();  // owned by `dir` now
  FolderEntries out;
  for (;;) {
    errno = 0;
    const dirent* e = ::readdir(dir.get());
    if (!e) {
      if (errno != 0) {
        out.status = ReadStatus::error;
        out.error = shown + ": " + std::strerror(errno);
      }
      break;
    }
    if (!on_entry(e->d_name, e->d_type)) break;
  }
  return out;
}

FolderEntries RootDir::list(std::string_view relative, std::size_t max_entries) const {
  std::vector<std::string> names;
  bool truncated = false;
  FolderEntries out = each_entry(relative, [&](std::string_view name, unsigned char) {
    if (name == "." || name == "..") return true;
    if (names.size() == max_entries) {
      truncated = true;
      return false;
    }
    names.emplace_back(name);
    return true;
  });
  std::sort(names.begin(), names.end());
  out.names = std::move(names);
  out.truncated = truncated;
  return out;
}

std::vector<std::string> RootDir::glob(std::string_view pattern, std::size_t max_matches) const {
  std::vector<std::string> out;
  if (max_matches == 0 || fd_ < 0) return out;

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
        std::vector<std::string> names;
        each_entry(dir, [&](std::string_view name, unsigned char) {
          if (++entries_read > glob_max_entries) return false;
          if (name == "." || name == "..") return true;
          const std::string owned(name);
          if (::fnmatch(component.c_str(), owned.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0)
            names.push_back(owned);
          return true;
        });
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
    if (last_was_literal && !open(path, O_PATH).valid()) continue;
    out.push_back(std::move(path));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace hostprint::collectors
