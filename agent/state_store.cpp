#include "agent/state_store.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "collectors/io/bounded_read.hpp"
#include "collectors/io/unique_fd.hpp"

namespace hostprint {
namespace {

using collectors::ReadStatus;
using collectors::UniqueFd;

constexpr std::string_view temporary_suffix = ".new";

// "" or why `name` cannot name a record: it must stay a plain file in the folder.
std::string invalid_name(std::string_view name) {
  const bool bad = name.empty() || name.starts_with('.') ||
                   name.find_first_of(std::string_view("/\0", 2)) != std::string_view::npos ||
                   name.ends_with(temporary_suffix) || name.size() > 200;
  return bad ? "\"" + std::string(name) + "\" is not a state record name" : "";
}

std::string size_text(std::size_t bytes) {
  if (bytes >= (1u << 20) && bytes % (1u << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

std::string StateStore::where(std::string_view name) const {
  return (folder_ / name).string();
}

std::optional<std::string> StateStore::load(std::string_view name, std::size_t max_bytes,
                                            std::string& error) {
  error = invalid_name(name);
  if (!error.empty()) return std::nullopt;
  const std::filesystem::path file = folder_ / name;
  auto read = collectors::read_bounded(file, max_bytes);
  if (read.status == ReadStatus::missing) return std::nullopt;
  if (read.status != ReadStatus::ok) {
    error = read.error;
    return std::nullopt;
  }
  if (read.file.truncated) {
    error = file.string() + ": larger than " + size_text(max_bytes);
    return std::nullopt;
  }
  return std::move(read.file.text);
}

std::string StateStore::save(std::string_view name, std::string_view bytes) {
  if (auto bad = invalid_name(name); !bad.empty()) return bad;
  const std::filesystem::path file = folder_ / name;
  const std::filesystem::path temporary = file.string() + std::string(temporary_suffix);
  auto failed = [&](const std::filesystem::path& what) {
    std::string message = what.string() + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return message;
  };
  // A temporary file left by a crash may be a link or have another mode: it is never reused.
  if (::unlink(temporary.c_str()) != 0 && errno != ENOENT && errno != ENOTDIR)
    return temporary.string() + ": " + std::strerror(errno);
  UniqueFd fd(
      ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return temporary.string() + ": " + std::strerror(errno);
  std::string_view rest = bytes;
  while (!rest.empty()) {
    ssize_t n = ::write(fd.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = ENOSPC;
    if (n <= 0) return failed(temporary);
    rest.remove_prefix(static_cast<std::size_t>(n));
  }
  if (::fsync(fd.get()) != 0) return failed(temporary);
  if (::close(fd.release()) != 0) return failed(temporary);
  if (::rename(temporary.c_str(), file.c_str()) != 0) return failed(file);
  // The rename is durable only once the folder is; a file system that cannot sync a folder
  // (EINVAL) has nothing more to do.
  UniqueFd folder(
      ::open(folder_.empty() ? "." : folder_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!folder.valid() || (::fsync(folder.get()) != 0 && errno != EINVAL))
    return folder_.string() + ": " + std::strerror(errno) + " (syncing the folder after writing " +
           std::string(name) + ")";
  return "";
}

std::shared_ptr<collectors::StateRecords> make_state_store(const std::filesystem::path& folder) {
  if (folder.empty()) return nullptr;
  return std::make_shared<StateStore>(folder);
}

}  // namespace hostprint
