#pragma once
// SHA-256 (FIPS 180-4), computed here rather than by libcrypto: hashing a process path, a JAR or
// an auto-start file then needs no OpenSSL, which is loaded only when the agent serves TLS.
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace hostprint::proto {

// Which block function a Sha256 uses. `fastest` is the x86 SHA extensions' where the CPU has them
// (sha256_uses_cpu_extensions()), else the portable one; tests ask for `portable` to compare the
// two.
enum class Sha256Engine : std::uint8_t { fastest, portable };

// Whether `fastest` is the SHA extensions' block function on this CPU (decided once).
bool sha256_uses_cpu_extensions();

// An incremental SHA-256: update() any number of times with pieces of the message, in order,
// then finish(), which returns the digest and leaves the object ready for a new message.
class Sha256 {
 public:
  using Digest = std::array<unsigned char, 32>;

  explicit Sha256(Sha256Engine engine = Sha256Engine::fastest);

  void update(std::span<const std::byte> bytes);
  void update(std::string_view bytes) { update(std::as_bytes(std::span(bytes))); }
  Digest finish();

  // Compresses `count` whole 64-byte blocks into the eight state words.
  using BlockFunction = void (*)(std::uint32_t* state, const unsigned char* blocks,
                                 std::size_t count);

 private:
  void reset();

  BlockFunction compress_;
  std::array<std::uint32_t, 8> state_;
  std::array<unsigned char, 64> pending_;  // the start of a block not yet whole
  std::size_t pending_size_ = 0;
  std::uint64_t message_size_ = 0;  // bytes
};

}  // namespace hostprint::proto
