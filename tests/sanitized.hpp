#pragma once

// Whether this test program (and so the hostprint it starts: the suite builds both in one build
// dir) is built with AddressSanitizer. gcc defines __SANITIZE_ADDRESS__; clang 14 says so only
// through __has_feature.
namespace hostprint::test {

#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool address_sanitized = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool address_sanitized = true;
#else
inline constexpr bool address_sanitized = false;
#endif
#else
inline constexpr bool address_sanitized = false;
#endif

}  // namespace hostprint::test
