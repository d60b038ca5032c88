#pragma once
// A folder taken as a root: every path below it is resolved with openat2(RESOLVE_IN_ROOT |
// RESOLVE_NO_MAGICLINKS), so no symlink, absolute or climbing, leads out of it. The one place
// hostprint opens files of a host tree, a test tree or a container's held root.
#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collectors/io/bounded_read.hpp"
#include "collectors/io/unique_fd.hpp"

namespace hostprint::collectors {

inline constexpr std::size_t glob_max_entries = 100'000;  // directory entries read by one glob

struct OpenedInRoot {
  ReadStatus status = ReadStatus::ok;
  UniqueFd fd;
  std::string error;  // for ReadStatus::error: what failed, with the path
  dev_t device = 0;   // identity of what was opened
  ino_t inode = 0;
  std::uint64_t size = 0;
};

enum class OpenKind { regular_file, directory };

struct FolderEntries {
  ReadStatus status = ReadStatus::ok;
  std::vector<std::string> names;  // sorted by byte value, without "." and ".."
  bool truncated = false;          // more than the bound; `names` holds the first ones read
  std::string error;               // for ReadStatus::error: what failed, with the path
};

class RootDir {
 public:
  // Opens `root`; when it cannot be, valid() is false and root_errno() says why.
  explicit RootDir(const std::filesystem::path& root);
  // Takes a root already held (O_PATH | O_DIRECTORY); `display` prefixes paths in messages.
  RootDir(UniqueFd held, std::filesystem::path display);
  // Uses a root another owner holds open for as long as this lives.
  static RootDir borrow(int fd, std::filesystem::path display = {});

  RootDir(RootDir&& other) noexcept
      : owned_(std::move(other.owned_)),
        fd_(std::exchange(other.fd_, -1)),
        root_errno_(other.root_errno_),
        display_(std::move(other.display_)) {}
  RootDir& operator=(RootDir&& other) noexcept {
    if (this != &other) {
      owned_ = std::move(other.owned_);
      fd_ = std::exchange(other.fd_, -1);
      root_errno_ = other.root_errno_;
      display_ = std::move(other.display_);
    }
    return *this;
  }

  bool valid() const { return fd_ >= 0; }
  int root_errno() const { return root_errno_; }
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return display_; }
  // `relative` as it reads on the host, for messages.
  std::string display(std::string_view relative) const;

  // Opens `relative` (a leading '/' is allowed; empty is the root itself) with O_CLOEXEC, and
  // O_NOCTTY unless O_PATH (openat2 refuses it there), added to `flags`; EINTR and EAGAIN are
  // retried a bounded number of times. Invalid with errno set when it cannot be opened.
  UniqueFd open(std::string_view relative, int flags) const;

  // The regular file `relative`, at most `max_bytes` bytes (a FIFO neither blocks nor is read).
  ReadResult read(std::string_view relative, std::size_t max_bytes) const;

  // Opens `relative` read-only; anything but the kind asked for is an error.
  OpenedInRoot open_checked(std::string_view relative, OpenKind kind) const;

  // `relative` opened for reading (a FIFO does not block) with what fstat says of that very
  // descriptor, so a check made on `st` holds for what is read. Nothing when it cannot be opened.
  struct OpenFile {
    UniqueFd fd;
    struct stat st {};
  };
  std::optional<OpenFile> open_file(std::string_view relative) const;

  // What `relative` names, symlinks followed inside the root.
  std::optional<struct stat> stat(std::string_view relative) const;
  bool exists(std::string_view relative) const { return stat(relative).has_value(); }

  // The entry itself (a symlink is not followed) and, for a symlink, its target: both from one
  // descriptor, so the target read is the link's whose type was seen.
  struct Entry {
    struct stat st {};
    std::optional<std::string> target;  // a symlink's, when it could be read
  };
  std::optional<Entry> entry(std::string_view relative) const;
  // The target of the symlink `relative`; nothing when it is not a symlink or cannot be read.
  std::optional<std::string> readlink(std::string_view relative) const;

  // The folder `relative`'s names, at most `max_entries`.
  FolderEntries list(std::string_view relative, std::size_t max_entries) const;

  // Calls `on_entry(name, d_type)` for each entry of the folder `relative` in the order read,
  // "." and ".." included, until it returns false. missing / error as for list().
  using EntryVisitor = std::function<bool(std::string_view name, unsigned char type)>;
  FolderEntries each_entry(std::string_view relative, const EntryVisitor& on_entry) const;

  // The paths matching the absolute shell pattern `pattern` (`*`, `?`, `[...]` in any component;
  // a wildcard matches neither '/' nor a leading '.'), as absolute paths inside the root, sorted
  // by byte value, at most `max_matches`, at most glob_max_entries folder entries read.
  // Components without wildcards are taken as written; the final paths exist. A relative
  // pattern is taken from the root.
  std::vector<std::string> glob(std::string_view pattern, std::size_t max_matches) const;

 private:
  RootDir() = default;

  UniqueFd owned_;
  int fd_ = -1;
  int root_errno_ = 0;
  std::filesystem::path display_;
};

// A failed open as a result: missing for ENOENT / ENOTDIR, else an error naming `path`.
template <typename Result>
Result failure(const std::string& path, int err) {
  Result r;
  if (err == ENOENT || err == ENOTDIR) {
    r.status = ReadStatus::missing;
  } else {
    r.status = ReadStatus::error;
    r.error = path + ": " + std::strerror(err);
  }
  return r;
}

}  // namespace hostprint::collectors
