#include "collectors/io/digest.hpp"

// The SHA-256 functions themselves, not EVP: EVP loads OpenSSL's providers and configuration,
// which keeps megabytes of libcrypto resident for a hash of a few bytes.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>
#include <unistd.h>

#include <array>
#include <cerrno>

namespace hostprint::collectors {
namespace {

std::string hex(const unsigned char* digest, unsigned length) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned i = 0; i < length; ++i) {
    out.push_back(digits[digest[i] >> 4]);
    out.push_back(digits[digest[i] & 15]);
  }
  return out;
}

}  // namespace

std::string sha256_hex(std::string_view bytes) {
  // Not SHA256(): in OpenSSL 3 the one-shot form goes through EVP as well.
  SHA256_CTX context;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  if (SHA256_Init(&context) != 1 || SHA256_Update(&context, bytes.data(), bytes.size()) != 1 ||
      SHA256_Final(digest, &context) != 1)
    return {};
  return hex(digest, SHA256_DIGEST_LENGTH);
}

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
  return hex(digest, SHA256_DIGEST_LENGTH);
}

}  // namespace hostprint::collectors
