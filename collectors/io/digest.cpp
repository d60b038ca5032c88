#include "collectors/io/digest.hpp"

#include "proto/digest.hpp"
#include "proto/sha256.hpp"

#include <unistd.h>

#include <array>
#include <cerrno>

namespace hostprint::collectors {

std::optional<std::string> sha256_of_open_file(int fd, std::uint64_t max_bytes) {
  proto::Sha256 hash;
  std::array<char, 64 * 1024> block;
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, block.data(), block.size(), static_cast<off_t>(total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    total += static_cast<std::uint64_t>(n);
    if (total > max_bytes) return std::nullopt;
    hash.update(std::string_view(block.data(), static_cast<std::size_t>(n)));
  }
  return proto::hex_text(hash.finish());
}

}  // namespace hostprint::collectors
