#include "agent/tls.hpp"

#include "agent/tokens.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "agent/config.hpp"
#include "agent/logging.hpp"
#include "collectors/io/bounded_read.hpp"
#include "collectors/io/unique_fd.hpp"

namespace hostprint {
namespace {

namespace ssl = boost::asio::ssl;
constexpr std::size_t max_pem_bytes = 1024 * 1024;

// OpenSSL's reason for the last failure, or `fallback`; the queue is left empty either way.
std::string openssl_reason(const boost::system::error_code& ec) {
  std::string reason = ec ? ec.message() : std::string();
  unsigned long code = ::ERR_peek_last_error();
  if (code != 0) {
    char text[256];
    ::ERR_error_string_n(code, text, sizeof text);
    const char* r = ::ERR_reason_error_string(code);
    reason = r ? r : text;
  }
  ::ERR_clear_error();
  return printable(reason.empty() ? std::string("unknown OpenSSL error") : reason, 200);
}

std::string read_cert_file(const std::filesystem::path& path) {
  const std::string origin = "tls.cert_file: " + path.string();
  auto read = collectors::read_bounded(path, max_pem_bytes);
  if (read.status == collectors::ReadStatus::missing) throw ConfigError(origin + ": no such file");
  if (read.status != collectors::ReadStatus::ok) throw ConfigError("tls.cert_file: " + read.error);
  if (read.file.truncated) throw ConfigError(origin + ": larger than 1 MiB");
  return std::move(read.file.text);
}

// The mode is checked on the descriptor the key is then read from, so the file checked is the
// file read (as for the token file).
std::string read_key_file(const std::filesystem::path& path) {
  return read_secret_file(path, "tls.key_file: " + path.string(), "the private key",
                          max_pem_bytes);
}

}  // namespace

std::shared_ptr<ssl::context> load_tls_context(const std::filesystem::path& cert_file,
                                               const std::filesystem::path& key_file) {
  std::string cert_text = read_cert_file(cert_file);
  std::string key_text = read_key_file(key_file);
  ::ERR_clear_error();

  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  // TLS 1.2 and 1.3 only; security level 2 (112-bit keys, no SHA-1 signatures) with OpenSSL's
  // default ciphers. No renegotiation (a client could make the server pay for handshakes at
  // will), no compression (CRIME), and no client certificates (the server never asks).
  ::SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  ::SSL_CTX_set_max_proto_version(native, 0);
  ::SSL_CTX_set_security_level(native, 2);
  context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::no_compression | ssl::context::single_dh_use);
  ::SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  context->set_verify_mode(ssl::verify_none);
  // Idle connections give their read and write buffers back (about 34 KiB each).
  ::SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  // An encrypted key would make OpenSSL prompt on the terminal: answer for it, with nothing.
  context->set_password_callback(
      [](std::size_t, ssl::context::password_purpose) { return std::string(); });

  boost::system::error_code ec;
  context->use_certificate_chain(boost::asio::buffer(cert_text), ec);
  if (ec)
    throw ConfigError("tls.cert_file: " + cert_file.string() +
                      ": not a usable PEM certificate chain: " + openssl_reason(ec));
  context->use_private_key(boost::asio::buffer(key_text), ssl::context::pem, ec);
  // Not left in memory longer than needed.
  ::OPENSSL_cleanse(key_text.data(), key_text.size());
  // OpenSSL compares the key with the certificate as it loads it.
  auto reason_of = [](unsigned long code) { return ERR_GET_REASON(code); };
  const bool mismatch =
      ec && (reason_of(static_cast<unsigned long>(ec.value())) == X509_R_KEY_VALUES_MISMATCH ||
             reason_of(::ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH);
  if (ec && !mismatch)
    throw ConfigError("tls.key_file: " + key_file.string() +
                      ": not a usable PEM private key (an encrypted key is not supported): " +
                      openssl_reason(ec));
  if (mismatch || ::SSL_CTX_check_private_key(native) != 1) {
    ::ERR_clear_error();
    throw ConfigError("tls.key_file: " + key_file.string() +
                      ": does not match the certificate in tls.cert_file (" + cert_file.string() +
                      ")");
  }
  return context;
}

std::string describe_certificate(ssl::context& context) {
  X509* cert = ::SSL_CTX_get0_certificate(context.native_handle());
  if (!cert) return "no certificate";
  std::string out = "subject ";
  char subject[256] = {};
  ::X509_NAME_oneline(::X509_get_subject_name(cert), subject, sizeof subject);
  out += printable(subject, 200);
  if (const ASN1_INTEGER* serial = ::X509_get0_serialNumber(cert)) {
    if (BIGNUM* bn = ::ASN1_INTEGER_to_BN(serial, nullptr)) {
      if (char* hex = ::BN_bn2hex(bn)) {
        out.append(", serial ").append(hex);
        ::OPENSSL_free(hex);
      }
      ::BN_free(bn);
    }
  }
  struct tm expiry {};
  if (::ASN1_TIME_to_tm(::X509_get0_notAfter(cert), &expiry) == 1) {
    char date[48];
    std::snprintf(date, sizeof date, "%04d-%02d-%02d", expiry.tm_year + 1900, expiry.tm_mon + 1,
                  expiry.tm_mday);
    out.append(", expires ").append(date);
  }
  ::ERR_clear_error();
  return out;
}

}  // namespace hostprint
