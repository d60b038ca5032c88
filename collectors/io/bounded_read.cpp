#include "collectors/io/bounded_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "collectors/io/root_dir.hpp"
#include "collectors/io/unique_fd.hpp"

namespace hostprint::collectors {
namespace {

using Fd = UniqueFd;

ReadResult read_fd(int fd, const std::string& path, std::size_t max_bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return failure<ReadResult>(path, errno);
  if (!S_ISREG(st.st_mode)) {
    ReadResult r;
    r.status = ReadStatus::error;
    r.error = path + ": not a regular file";
    return r;
  }
  ReadResult r;
  // /proc files report size 0, so the size is only a hint for the first allocation.
  std::size_t hint = st.st_size > 0 ? static_cast<std::size_t>(st.st_size) : 4096;
  r.file.text.resize(std::min(hint, max_bytes) + 1);
  std::size_t used = 0;
  for (;;) {
    if (used == r.file.text.size()) {
      if (used > max_bytes) break;
      r.file.text.resize(std::min(r.file.text.size() * 2, max_bytes + 1));
    }
    ssize_t n = ::read(fd, r.file.text.data() + used, r.file.text.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return failure<ReadResult>(path, errno);
    }
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > max_bytes) {
    r.file.truncated = true;
    used = max_bytes;
  }
  r.file.text.resize(used);
  return r;
}

}  // namespace

ReadResult read_open_file(int fd, const std::string& display, std::size_t max_bytes) {
  return read_fd(fd, display, max_bytes);
}

UniqueFd open_in_root(const std::filesystem::path& root, std::string_view relative, int flags) {
  return RootDir(root).open(relative, flags);
}

ReadResult read_in_root(const std::filesystem::path& root, std::string_view relative,
                        std::size_t max_bytes) {
  return RootDir(root).read(relative, max_bytes);
}

ReadResult read_bounded(const std::filesystem::path& path, std::size_t max_bytes) {
  Fd file(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (file.get() < 0) return failure<ReadResult>(path.string(), errno);
  return read_fd(file.get(), path.string(), max_bytes);
}

}  // namespace hostprint::collectors
