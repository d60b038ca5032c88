#pragma once
// The accepted API tokens, from a file only its owner may read, compared in constant time.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace hostprint {

inline constexpr std::size_t max_token_length = 32768;

class TokenSet {
 public:
  TokenSet() = default;
  explicit TokenSet(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}

  // Every token is compared, and each comparison takes time that depends only on the stored
  // token's length, so the answer's timing says nothing about which bytes matched.
  bool accepts(std::string_view presented) const;
  std::size_t size() const { return tokens_.size(); }

 private:
  std::vector<std::string> tokens_;
};

// One token per line; blank lines ignored; surrounding spaces and a trailing CR trimmed.
// Throws ConfigError for a bad text (no token, a token longer than 32,768 characters).
TokenSet parse_token_text(std::string_view text, const std::string& origin);

// Refuses (ConfigError) a file that group or others may read or write, or that is missing.
// A file holding a secret (tokens, a TLS key), at most `max_bytes`: refused, naming `origin`,
// unless it is a regular file that group and others can neither read nor write, checked on the
// descriptor it is read from. `what` names the secret in that message.
std::string read_secret_file(const std::filesystem::path& path, const std::string& origin,
                             std::string_view what, std::size_t max_bytes);

TokenSet load_token_file(const std::filesystem::path& path);

}  // namespace hostprint
