#include "proto/digest.hpp"

// The SHA-256 functions themselves, not EVP: EVP loads OpenSSL's providers and configuration,
// which keeps megabytes of libcrypto resident for a hash of a few bytes.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/sha.h>

namespace hostprint::proto {

std::string hex_text(std::span<const unsigned char> bytes) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) {
    out.push_back(digits[b >> 4]);
    out.push_back(digits[b & 15]);
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  // Not SHA256(): in OpenSSL 3 the one-shot form goes through EVP as well.
  SHA256_CTX context;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  if (SHA256_Init(&context) != 1 || SHA256_Update(&context, bytes.data(), bytes.size()) != 1 ||
      SHA256_Final(digest, &context) != 1)
    return {};
  return hex_text(digest);
}

}  // namespace hostprint::proto
