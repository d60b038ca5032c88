#pragma once
// A TLS site's certificate (lists.md: cert_issuer, cert_user, cert_issue_time, cert_expired_time),
// read from the PEM text of the file its configuration names. Pure: the caller reads the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

namespace hostprint::collectors {

// A certificate file longer than this is not read (a PEM chain of a few certificates is ~10 KiB).
inline constexpr std::size_t max_certificate_file_bytes = 1u << 20;

struct CertificateInfo {
  // Names in the one-line RFC 2253 form ("CN=example.com,O=Example,C=DE"), UTF-8.
  std::string issuer;
  std::string subject;
  std::int64_t not_before_ms = 0;  // epoch milliseconds
  std::int64_t not_after_ms = 0;
  friend bool operator==(const CertificateInfo&, const CertificateInfo&) = default;
};

// The first certificate of `pem` (a chain file's first is the server's own; a key before it is
// skipped); else what is wrong with the text. OpenSSL's libcrypto (the soname found at build time)
// is loaded once, by the first call with a text to read; if it cannot be, or lacks a function,
// each call returns that reason, which names the library.
std::variant<CertificateInfo, std::string> parse_pem_certificate(std::string_view pem);

namespace detail {
// parse_pem_certificate with libcrypto loaded from `library` for this call alone, then released:
// tests name one that does not load, or is not libcrypto.
std::variant<CertificateInfo, std::string> parse_pem_certificate_loading(std::string_view pem,
                                                                         const char* library);
}  // namespace detail

}  // namespace hostprint::collectors
