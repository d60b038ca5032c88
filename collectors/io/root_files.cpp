#include "collectors/io/root_files.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace hostprint::collectors {

namespace {

OpenedInRoot failure(const std::string& path, int err) {
  OpenedInRoot r;
  if (err == ENOENT || err == ENOTDIR) {
    r.status = ReadStatus::missing;
  } else {
    r.status = ReadStatus::error;
    r.error = path + ": " + std::strerror(err);
  }
  return r;
}

}  // namespace

OpenedInRoot open_in_root(const std::filesystem::path& root, std::string_view relative,
                          OpenKind kind) {
  while (!relative.empty() && relative.front() == '/') relative.remove_prefix(1);
  const std::string rel = relative.empty() ? std::string(1, '.') : std::string(relative);
  const std::string display = (root / rel).string();
  UniqueFd root_fd(::open(root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (root_fd.get() < 0) return failure(root.string(), errno);
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK;
  if (kind == OpenKind::directory) how.flags |= O_DIRECTORY;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  int fd;
  do {
    fd = static_cast<int>(::syscall(SYS_openat2, root_fd.get(), rel.c_str(), &how, sizeof how));
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0) return failure(display, errno);
  OpenedInRoot r;
  r.fd = UniqueFd(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return failure(display, errno);
  if (kind == OpenKind::regular_file && !S_ISREG(st.st_mode)) {
    r.status = ReadStatus::error;
    r.error = display + ": not a regular file";
    r.fd = UniqueFd();
    return r;
  }
  // O_NONBLOCK only kept a FIFO from blocking the open; reads of a regular file ignore it.
  r.device = st.st_dev;
  r.inode = st.st_ino;
  r.size = st.st_size > 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  return r;
}

FolderEntries list_folder_in_root(const std::filesystem::path& root, std::string_view relative,
                                  std::size_t max_entries) {
  FolderEntries out;
  auto opened = open_in_root(root, relative, OpenKind::directory);
  if (opened.status != ReadStatus::ok) {
    out.status = opened.status;
    out.error = opened.error;
    return out;
  }
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(opened.fd.get()), ::closedir);
  if (!dir) {
    out.status = ReadStatus::error;
    out.error = (root / std::string(relative)).string() + ": " + std::strerror(errno);
    return out;
  }
  opened.fd.release();  // owned by `dir` now
  for (;;) {
    errno = 0;
    const dirent* entry = ::readdir(dir.get());
    if (!entry) {
      if (errno != 0) {
        out.status = ReadStatus::error;
        out.error = (root / std::string(relative)).string() + ": " + std::strerror(errno);
      }
      break;
    }
    std::string_view name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (out.names.size() == max_entries) {
      out.truncated = true;
      break;
    }
    out.names.emplace_back(name);
  }
  return out;
}

}  // namespace hostprint::collectors
