#include "collectors/formats/x509_pem.hpp"

// OpenSSL's headers give the types and constants only: libcrypto is loaded on the first certificate
// (below) rather than linked, so reading certificates does not put its ~1.6 MiB in the resident
// memory of an agent that has none to read.
#include <dlfcn.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <climits>
#include <ctime>
#include <memory>
#include <optional>
#include <type_traits>

#ifndef HOSTPRINT_LIBCRYPTO_SONAME
#error "HOSTPRINT_LIBCRYPTO_SONAME (the libcrypto to load, collectors/meson.build) is not defined"
#endif

namespace hostprint::collectors {
namespace {

// The libcrypto functions this file calls, resolved by name. Typed after the headers' declarations
// (decltype refers to no symbol), so the 1.1.1 and 3.x signatures both fit.
struct Libcrypto {
  void* handle = nullptr;
  decltype(&::BIO_s_mem) bio_s_mem = nullptr;
  decltype(&::BIO_new) bio_new = nullptr;
  decltype(&::BIO_new_mem_buf) bio_new_mem_buf = nullptr;
  decltype(&::BIO_ctrl) bio_ctrl = nullptr;  // BIO_get_mem_data is a macro over it
  decltype(&::BIO_free) bio_free = nullptr;
  decltype(&::PEM_read_bio_X509) pem_read_bio_x509 = nullptr;
  decltype(&::X509_free) x509_free = nullptr;
  decltype(&::X509_get0_notBefore) x509_get0_not_before = nullptr;
  decltype(&::X509_get0_notAfter) x509_get0_not_after = nullptr;
  decltype(&::X509_get_issuer_name) x509_get_issuer_name = nullptr;
  decltype(&::X509_get_subject_name) x509_get_subject_name = nullptr;
  decltype(&::X509_NAME_print_ex) x509_name_print_ex = nullptr;
  decltype(&::ASN1_TIME_to_tm) asn1_time_to_tm = nullptr;
  decltype(&::ERR_clear_error) err_clear_error = nullptr;
};

// dlerror()'s text for one line of the scan's errors (it is not trusted to be one), without the
// library's name it usually starts with: the caller's text names it.
std::string one_line_reason(const char* text, std::string_view library) {
  std::string reason = text ? text : "unknown reason";
  if (reason.size() > library.size() + 2 && reason.starts_with(library) &&
      reason.compare(library.size(), 2, ": ") == 0)
    reason.erase(0, library.size() + 2);
  for (char& c : reason)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  return reason;
}

std::variant<Libcrypto, std::string> load_libcrypto(const char* library) {
  // Local: the functions are reached through the table only, nothing else in the process is
  // bound to them by loading.
  void* handle = ::dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return "OpenSSL's " + std::string(library) + " not loaded (" +
           one_line_reason(::dlerror(), library) + ")";
  Libcrypto lib;
  lib.handle = handle;
  const char* missing = nullptr;
  auto resolve = [&](auto& function, const char* name) {
    if (missing) return;
    void* symbol = ::dlsym(handle, name);
    if (symbol)
      function = reinterpret_cast<std::remove_reference_t<decltype(function)>>(symbol);
    else
      missing = name;
  };
  resolve(lib.bio_s_mem, "BIO_s_mem");
  resolve(lib.bio_new, "BIO_new");
  resolve(lib.bio_new_mem_buf, "BIO_new_mem_buf");
  resolve(lib.bio_ctrl, "BIO_ctrl");
  resolve(lib.bio_free, "BIO_free");
  resolve(lib.pem_read_bio_x509, "PEM_read_bio_X509");
  resolve(lib.x509_free, "X509_free");
  resolve(lib.x509_get0_not_before, "X509_get0_notBefore");
  resolve(lib.x509_get0_not_after, "X509_get0_notAfter");
  resolve(lib.x509_get_issuer_name, "X509_get_issuer_name");
  resolve(lib.x509_get_subject_name, "X509_get_subject_name");
  resolve(lib.x509_name_print_ex, "X509_NAME_print_ex");
  resolve(lib.asn1_time_to_tm, "ASN1_TIME_to_tm");
  resolve(lib.err_clear_error, "ERR_clear_error");
  if (missing) {
    ::dlclose(handle);
    return "OpenSSL's " + std::string(library) + " has no " + missing;
  }
  return lib;
}

// The configured libcrypto, loaded by the first certificate of any thread (the collectors run on
// several; a function's static is initialized once, the others wait) and never unloaded. A
// failure is kept as well: every certificate reports it, none tries again.
const std::variant<Libcrypto, std::string>& configured_libcrypto() {
  static const std::variant<Libcrypto, std::string> loaded =
      load_libcrypto(HOSTPRINT_LIBCRYPTO_SONAME);
  return loaded;
}

using Bio = std::unique_ptr<BIO, decltype(&::BIO_free)>;
using Certificate = std::unique_ptr<X509, decltype(&::X509_free)>;

std::string one_line(const Libcrypto& lib, const X509_NAME* name) {
  Bio out(lib.bio_new(lib.bio_s_mem()), lib.bio_free);
  if (!out || !name) return {};
  // RFC 2253 order and escaping, with UTF-8 kept as is rather than \-escaped.
  if (lib.x509_name_print_ex(out.get(), name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) < 0)
    return {};
  char* data = nullptr;
  // BIO_get_mem_data(out, &data), a macro in OpenSSL's headers.
  const long length = lib.bio_ctrl(out.get(), BIO_CTRL_INFO, 0, &data);
  return length > 0 && data ? std::string(data, static_cast<std::size_t>(length)) : std::string();
}

std::optional<std::int64_t> epoch_ms(const Libcrypto& lib, const ASN1_TIME* time) {
  std::tm tm{};
  if (!time || lib.asn1_time_to_tm(time, &tm) != 1) return std::nullopt;
  const std::time_t seconds = timegm(&tm);
  return static_cast<std::int64_t>(seconds) * 1000;
}

std::variant<CertificateInfo, std::string> parse_with(
    std::string_view pem, const std::variant<Libcrypto, std::string>& loaded) {
  if (const auto* error = std::get_if<std::string>(&loaded)) return *error;
  const Libcrypto& lib = std::get<Libcrypto>(loaded);
  Bio in(lib.bio_new_mem_buf(pem.data(), static_cast<int>(pem.size())), lib.bio_free);
  if (!in) return std::string("out of memory");
  // A file holding the key first and then the certificate (nginx accepts it): the reader skips
  // PEM blocks of other types until it finds a certificate.
  // No passphrase is ever asked for (OpenSSL's default would prompt on the terminal).
  pem_password_cb* no_passphrase = [](char*, int, int, void*) { return 0; };
  Certificate cert(lib.pem_read_bio_x509(in.get(), nullptr, no_passphrase, nullptr),
                   lib.x509_free);
  lib.err_clear_error();  // the failure, or the skipped blocks, must not linger for the TLS server
  if (!cert) return std::string("no PEM certificate");
  auto before = epoch_ms(lib, lib.x509_get0_not_before(cert.get()));
  auto after = epoch_ms(lib, lib.x509_get0_not_after(cert.get()));
  if (!before || !after) return std::string("certificate with an unreadable validity period");
  return CertificateInfo{one_line(lib, lib.x509_get_issuer_name(cert.get())),
                         one_line(lib, lib.x509_get_subject_name(cert.get())), *before, *after};
}

std::optional<std::string> refused(std::string_view pem) {
  if (pem.size() > max_certificate_file_bytes || pem.size() > INT_MAX)
    return std::string("longer than ") + std::to_string(max_certificate_file_bytes) + " bytes";
  return std::nullopt;
}

}  // namespace

std::variant<CertificateInfo, std::string> parse_pem_certificate(std::string_view pem) {
  // Checked first: a file too long to read does not load libcrypto.
  if (auto error = refused(pem)) return *error;
  return parse_with(pem, configured_libcrypto());
}

namespace detail {

std::variant<CertificateInfo, std::string> parse_pem_certificate_loading(std::string_view pem,
                                                                         const char* library) {
  if (auto error = refused(pem)) return *error;
  auto loaded = load_libcrypto(library);
  auto result = parse_with(pem, loaded);
  if (const auto* lib = std::get_if<Libcrypto>(&loaded)) ::dlclose(lib->handle);
  return result;
}

}  // namespace detail
}  // namespace hostprint::collectors
