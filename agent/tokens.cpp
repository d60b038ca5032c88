#include "agent/tokens.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "agent/config.hpp"
#include "collectors/formats/text_fields.hpp"
#include "collectors/io/unique_fd.hpp"

namespace hostprint {
namespace {
constexpr std::size_t max_token_file_bytes = 1024 * 1024;

bool equal_in_constant_time(std::string_view stored, std::string_view presented) {
  // Walk the stored token whatever was presented; index the presented one without branching.
  unsigned char difference = stored.size() != presented.size() ? 1 : 0;
  const std::size_t presented_size = presented.size();
  for (std::size_t i = 0; i < stored.size(); ++i) {
    std::size_t in_range = static_cast<std::size_t>(i < presented_size);
    std::size_t index = i * in_range;  // 0 when past the presented token's end
    unsigned char other = presented_size == 0 ? 0 : static_cast<unsigned char>(presented[index]);
    difference =
        difference | static_cast<unsigned char>(static_cast<unsigned char>(stored[i]) ^ other);
    // The compiler may not see through this: it cannot stop at the first difference. (A volatile
    // accumulator did the same with a store and a load per byte.)
    asm volatile("" : "+r"(difference));
  }
  return difference == 0;
}
}  // namespace

bool TokenSet::accepts(std::string_view presented) const {
  if (presented.empty() || presented.size() > max_token_length) return false;
  bool accepted = false;
  for (const auto& token : tokens_) accepted |= equal_in_constant_time(token, presented);
  return accepted;
}

TokenSet parse_token_text(std::string_view text, const std::string& origin) {
  std::vector<std::string> tokens;
  std::size_t line_number = 0;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = collectors::trim(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    ++line_number;
    if (line.empty()) continue;
    if (line.size() > max_token_length)
      throw ConfigError(origin + ": line " + std::to_string(line_number) +
                        ": a token must be 1 to 32768 characters long");
    if (line.find('\0') != std::string_view::npos)
      throw ConfigError(origin + ": line " + std::to_string(line_number) +
                        ": a token must not hold NUL");
    tokens.emplace_back(line);
  }
  if (tokens.empty()) throw ConfigError(origin + ": holds no token");
  return TokenSet(std::move(tokens));
}

std::string read_secret_file(const std::filesystem::path& path, const std::string& origin,
                             std::string_view what, std::size_t max_bytes) {
  // One descriptor for the mode check and the content, so the file checked is the file read. A
  // link is followed (its target is what fstat sees); O_NONBLOCK keeps a FIFO from blocking.
  collectors::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) throw ConfigError(origin + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw ConfigError(origin + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw ConfigError(origin + ": not a regular file");
  if ((st.st_mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    throw ConfigError(origin + ": mode " + mode + " lets group or others read or write " +
                      std::string(what) + "; allowed is 0600 or 0400 (chmod 600 " + path.string() +
                      ")");
  }
  std::string text(max_bytes + 1, '\0');
  std::size_t used = 0;
  while (used < text.size()) {
    ssize_t n = ::read(fd.get(), text.data() + used, text.size() - used);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw ConfigError(origin + ": " + std::strerror(errno));
    if (n == 0) break;
    used += static_cast<std::size_t>(n);
  }
  if (used > max_bytes)
    throw ConfigError(origin + ": larger than " + std::to_string(max_bytes >> 20) + " MiB");
  text.resize(used);
  return text;
}

TokenSet load_token_file(const std::filesystem::path& path) {
  const std::string origin = "token_file: " + path.string();
  return parse_token_text(read_secret_file(path, origin, "it", max_token_file_bytes), origin);
}

}  // namespace hostprint
