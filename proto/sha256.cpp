#include "proto/sha256.hpp"

#include <algorithm>
#include <bit>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#if defined(__clang__)
#include <cpuid.h>
#endif
#endif

namespace hostprint::proto {
namespace {

// FIPS 180-4 4.2.2: the first 32 bits of the fractional parts of the cube roots of the first 64
// primes.
alignas(16) constexpr std::uint32_t round_constants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// FIPS 180-4 5.3.3: the first 32 bits of the fractional parts of the square roots of the first 8
// primes.
constexpr std::array<std::uint32_t, 8> initial_state = {
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

// The message's words are big-endian; memcpy because a block need not be aligned.
std::uint32_t load_big_endian(const unsigned char* bytes) {
  std::uint32_t word;
  std::memcpy(&word, bytes, sizeof word);
  if constexpr (std::endian::native == std::endian::little) word = __builtin_bswap32(word);
  return word;
}

template <typename Word>
void store_big_endian(unsigned char* bytes, Word word) {
  if constexpr (std::endian::native == std::endian::little) {
    if constexpr (sizeof word == 8)
      word = __builtin_bswap64(word);
    else
      word = __builtin_bswap32(word);
  }
  std::memcpy(bytes, &word, sizeof word);
}

// One round (FIPS 180-4 6.2.2 step 3). Rather than shifting the eight working variables along
// after each round, the caller passes them in the roles they have in it: the new a is written to
// the old h, the new e to the old d, and eight rounds bring every variable back to its own name.
[[gnu::always_inline]] inline void sha_round(std::uint32_t a, std::uint32_t b, std::uint32_t c,
                                             std::uint32_t& d, std::uint32_t e, std::uint32_t f,
                                             std::uint32_t g, std::uint32_t& h,
                                             std::uint32_t constant_plus_word) {
  const std::uint32_t choose = g ^ (e & (f ^ g));
  const std::uint32_t majority = (a & b) | (c & (a | b));
  const std::uint32_t t1 =
      h + (std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25)) + choose + constant_plus_word;
  const std::uint32_t t2 = (std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22)) + majority;
  d += t1;
  h = t1 + t2;
}

void compress_portable(std::uint32_t* state, const unsigned char* blocks, std::size_t count) {
  for (; count > 0; --count, blocks += 64) {
    // The schedule kept as a window of its last 16 words, rewritten in place before each group
    // of 16 rounds after the first: W[t] lives at w[t % 16].
    std::uint32_t w[16];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) w[i] = load_big_endian(blocks + 4 * i);
    std::uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    std::uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
    for (int first = 0; first < 64; first += 16) {
      if (first > 0) {
#pragma GCC unroll 16
        for (int i = 0; i < 16; ++i) {
          const std::uint32_t w2 = w[(i + 14) & 15], w15 = w[(i + 1) & 15];
          w[i] += (std::rotr(w2, 17) ^ std::rotr(w2, 19) ^ (w2 >> 10)) + w[(i + 9) & 15] +
                  (std::rotr(w15, 7) ^ std::rotr(w15, 18) ^ (w15 >> 3));
        }
      }
      const std::uint32_t* k = round_constants + first;
      sha_round(a, b, c, d, e, f, g, h, k[0] + w[0]);
      sha_round(h, a, b, c, d, e, f, g, k[1] + w[1]);
      sha_round(g, h, a, b, c, d, e, f, k[2] + w[2]);
      sha_round(f, g, h, a, b, c, d, e, k[3] + w[3]);
      sha_round(e, f, g, h, a, b, c, d, k[4] + w[4]);
      sha_round(d, e, f, g, h, a, b, c, k[5] + w[5]);
      sha_round(c, d, e, f, g, h, a, b, k[6] + w[6]);
      sha_round(b, c, d, e, f, g, h, a, k[7] + w[7]);
      sha_round(a, b, c, d, e, f, g, h, k[8] + w[8]);
      sha_round(h, a, b, c, d, e, f, g, k[9] + w[9]);
      sha_round(g, h, a, b, c, d, e, f, k[10] + w[10]);
      sha_round(f, g, h, a, b, c, d, e, k[11] + w[11]);
      sha_round(e, f, g, h, a, b, c, d, k[12] + w[12]);
      sha_round(d, e, f, g, h, a, b, c, k[13] + w[13]);
      sha_round(c, d, e, f, g, h, a, b, k[14] + w[14]);
      sha_round(b, c, d, e, f, g, h, a, k[15] + w[15]);
    }
    state[0] += a, state[1] += b, state[2] += c, state[3] += d;
    state[4] += e, state[5] += f, state[6] += g, state[7] += h;
  }
}

#if defined(__x86_64__)

// The SHA extensions: sha256rnds2 does two rounds, sha256msg1/msg2 extend the schedule four words
// at a time. Their state is two registers, one holding A B E F and the other C D G H (from the
// highest lane down), so the eight words are rearranged on the way in and out.
__attribute__((target("sha,sse4.1"))) void compress_sha_extensions(std::uint32_t* state,
                                                                   const unsigned char* blocks,
                                                                   std::size_t count) {
  // Reverses the bytes of each 32-bit lane: the message words are big-endian.
  const __m128i big_endian = _mm_set_epi64x(0x0c0d0e0f08090a0bLL, 0x0405060700010203LL);

  // Lanes (lowest first) a b c d and e f g h become f e b a and h g d c.
  const __m128i low = _mm_shuffle_epi32(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(state)), 0xb1);  // b a d c
  __m128i cdgh = _mm_shuffle_epi32(
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4)), 0x1b);  // h g f e
  __m128i abef = _mm_alignr_epi8(low, cdgh, 8);
  cdgh = _mm_blend_epi16(cdgh, low, 0xf0);

  for (; count > 0; --count, blocks += 64) {
    const __m128i abef_before = abef, cdgh_before = cdgh;
    // w[i % 4] holds schedule words 4i .. 4i+3 while their rounds run.
    __m128i w[4];
#pragma GCC unroll 4
    for (int i = 0; i < 4; ++i)
      w[i] = _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks + 16 * i)),
                              big_endian);
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      if (i >= 4) {
        // W[t] = sigma1(W[t-2]) + W[t-7] + sigma0(W[t-15]) + W[t-16] for four t at once: msg1
        // adds the sigma0 terms, the W[t-7] are the middle of the two latest groups, msg2 adds
        // the sigma1 terms (of words it has just computed itself, for the last two).
        const __m128i latest = w[(i + 3) & 3];
        const __m128i partial = _mm_add_epi32(_mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]),
                                              _mm_alignr_epi8(latest, w[(i + 2) & 3], 4));
        w[i & 3] = _mm_sha256msg2_epu32(partial, latest);
      }
      __m128i words = _mm_add_epi32(
          w[i & 3], _mm_load_si128(reinterpret_cast<const __m128i*>(round_constants + 4 * i)));
      // Each two rounds make the new A B E F; the old one is then C D G H.
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, words);
      words = _mm_shuffle_epi32(words, 0x0e);  // the upper two words down, for the next two
      abef = _mm_sha256rnds2_epu32(abef, cdgh, words);
    }
    abef = _mm_add_epi32(abef, abef_before);
    cdgh = _mm_add_epi32(cdgh, cdgh_before);
  }

  const __m128i abef_in_order = _mm_shuffle_epi32(abef, 0x1b);  // a b e f
  const __m128i cdgh_paired = _mm_shuffle_epi32(cdgh, 0xb1);    // g h c d
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state),
                   _mm_blend_epi16(abef_in_order, cdgh_paired, 0xf0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4),
                   _mm_alignr_epi8(cdgh_paired, abef_in_order, 8));
}

bool cpu_has_sha_extensions() {
#if defined(__clang__)
  // Clang 14 (the fuzz builds' compiler) does not know "sha" in __builtin_cpu_supports: CPUID
  // leaf 7 EBX bit 29 is SHA, leaf 1 ECX bit 19 SSE4.1.
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & (1u << 19))) return false;
  return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ebx & (1u << 29));
#else
  __builtin_cpu_init();
  return __builtin_cpu_supports("sha") && __builtin_cpu_supports("sse4.1");
#endif
}

Sha256::BlockFunction fastest_block_function() {
  static const Sha256::BlockFunction chosen =
      cpu_has_sha_extensions() ? compress_sha_extensions : compress_portable;
  return chosen;
}

#else

Sha256::BlockFunction fastest_block_function() { return compress_portable; }

#endif

}  // namespace

bool sha256_uses_cpu_extensions() { return fastest_block_function() != compress_portable; }

Sha256::Sha256(Sha256Engine engine)
    : compress_(engine == Sha256Engine::portable ? compress_portable : fastest_block_function()) {
  reset();
}

void Sha256::reset() {
  state_ = initial_state;
  pending_size_ = 0;
  message_size_ = 0;
}

void Sha256::update(std::span<const std::byte> bytes) {
  if (bytes.empty()) return;
  const auto* next = reinterpret_cast<const unsigned char*>(bytes.data());
  std::size_t left = bytes.size();
  message_size_ += left;
  if (pending_size_ > 0) {
    const std::size_t taken = std::min(left, pending_.size() - pending_size_);
    std::memcpy(pending_.data() + pending_size_, next, taken);
    pending_size_ += taken;
    next += taken;
    left -= taken;
    if (pending_size_ < pending_.size()) return;
    compress_(state_.data(), pending_.data(), 1);
    pending_size_ = 0;
  }
  // Whole blocks straight from the caller's bytes, in one call.
  if (const std::size_t blocks = left / 64; blocks > 0) {
    compress_(state_.data(), next, blocks);
    next += blocks * 64;
    left -= blocks * 64;
  }
  if (left > 0) {
    std::memcpy(pending_.data(), next, left);
    pending_size_ = left;
  }
}

Sha256::Digest Sha256::finish() {
  // FIPS 180-4 5.1.1: a 1 bit, zeros up to 8 bytes short of a block's end, then the message's
  // length in bits; a second block when the first has no room for the length.
  pending_[pending_size_++] = 0x80;
  if (pending_size_ > 56) {
    std::fill(pending_.begin() + static_cast<std::ptrdiff_t>(pending_size_), pending_.end(), 0);
    compress_(state_.data(), pending_.data(), 1);
    pending_size_ = 0;
  }
  std::fill(pending_.begin() + static_cast<std::ptrdiff_t>(pending_size_), pending_.begin() + 56,
            0);
  store_big_endian(pending_.data() + 56, message_size_ * 8);
  compress_(state_.data(), pending_.data(), 1);

  Digest digest;
  for (std::size_t i = 0; i < state_.size(); ++i)
    store_big_endian(digest.data() + 4 * i, state_[i]);
  reset();
  return digest;
}

}  // namespace hostprint::proto
