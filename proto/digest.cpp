#include "proto/digest.hpp"

#include "proto/sha256.hpp"

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
  Sha256 hash;
  hash.update(bytes);
  return hex_text(hash.finish());
}

}  // namespace hostprint::proto
