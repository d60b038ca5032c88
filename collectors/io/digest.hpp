#pragma once
// The SHA-256 of a file, in lowercase hex (proto/digest for text).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hostprint::collectors {

// The SHA-256 of the regular file open at `fd`, read to its end in blocks, at most `max_bytes`
// (nothing when it is longer, or cannot be read): bounded time on a hostile or growing file.
std::optional<std::string> sha256_of_open_file(int fd, std::uint64_t max_bytes);

}  // namespace hostprint::collectors
