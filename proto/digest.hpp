#pragma once
// SHA-256 as the lists show it (lists.md: a process path's, a file's), in lowercase hex.
#include <span>
#include <string>
#include <string_view>

namespace hostprint::proto {

std::string sha256_hex(std::string_view bytes);

// Bytes as lowercase hex, two digits each.
std::string hex_text(std::span<const unsigned char> bytes);

}  // namespace hostprint::proto
