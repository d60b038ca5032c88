#include "collectors/io/digest.hpp"

#include "proto/digest.hpp"

// Not EVP: see proto/digest.cpp.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace hostprint::collectors {

std::optional<std::string> sha256_of_open_file(int fd, std::uint64_t max_bytes) {
  SHA256_CTX context;
  if (SHA256_Init(&context) != 1) return std::nullopt;
  std::array<char, 64 * 1024> block;
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::pread(fd, block.data(), block.size(), static_cast<off_t>(total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::nullopt;
    if (n == 0) break;
    total += static_cast<std::uint64_t>(n);
    if (total > max_bytes) return std::nullopt;
    if (SHA256_Update(&context, block.data(), static_cast<std::size_t>(n)) != 1)
      return std::nullopt;
  }
  unsigned char digest[SHA256_DIGEST_LENGTH];
  if (SHA256_Final(digest, &context) != 1) return std::nullopt;
  return proto::hex_text(digest);
}

}  // namespace hostprint::collectors
