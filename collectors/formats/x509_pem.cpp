#include "collectors/formats/x509_pem.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>
#include <ctime>
#include <memory>
#include <optional>

namespace hostprint::collectors {
namespace {

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;

std::string one_line(const X509_NAME* name) {
  Bio out(BIO_new(BIO_s_mem()), BIO_free);
  if (!out || !name) return {};
  // RFC 2253 order and escaping, with UTF-8 kept as is rather than \-escaped.
  if (X509_NAME_print_ex(out.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
    return {};
  char* data = nullptr;
  const long length = BIO_get_mem_data(out.get(), &data);
  return length > 0 && data ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

std::optional<std::int64_t> epoch_ms(const ASN1_TIME* time) {
  std::tm tm{};
  if (!time || ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  const std::time_t seconds = timegm(&tm);
  return static_cast<std::int64_t>(seconds) * 1000;
}

}  // namespace

std::variant<CertificateInfo, std::string> parse_pem_certificate(std::string_view pem) {
  if (pem.size() > max_certificate_file_bytes || pem.size() > INT_MAX)
    return std::string("longer than ") + std::to_string(max_certificate_file_bytes) + " bytes";
  Bio in(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!in) return std::string("out of memory");
  // A file holding the key first and then the certificate (nginx accepts it): the reader skips
  // PEM blocks of other types until it finds a certificate.
  // No passphrase is ever asked for (OpenSSL's default would prompt on the terminal).
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
  Certificate cert(PEM_read_bio_X509(in.get(), nullptr, no_passphrase, nullptr), X509_free);
  ERR_clear_error();  // the failure, or the skipped blocks, must not linger for the TLS server
  if (!cert) return std::string("no PEM certificate");
  auto before = epoch_ms(X509_get0_notBefore(cert.get()));
  auto after = epoch_ms(X509_get0_notAfter(cert.get()));
  if (!before || !after) return std::string("certificate with an unreadable validity period");
  return CertificateInfo{one_line(X509_get_issuer_name(cert.get())),
                         one_line(X509_get_subject_name(cert.get())), *before, *after};
}

}  // namespace hostprint::collectors
