#pragma once
// The server's certificate and key: loaded and checked as a pair, swapped whole on reload. Every
// call into OpenSSL is in the TLS module (hostprint-tls.so, agent/tls_module.c), loaded on first
// use: an agent without TLS never maps libssl and libcrypto.
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

struct hp_tls_api;
struct hp_tls_context;
struct hp_tls_connection;

namespace hostprint {

// The TLS module, loaded once: from the directory of the running executable (a build tree), else
// from the library directory it was installed to. Throws ConfigError, one line, when it cannot be
// loaded or is of another version.
const hp_tls_api& tls_module();

// Where tls_module() loads the module from instead (tests that run in a test binary). Only before
// the first tls_module().
void use_tls_module(const std::filesystem::path& path);

// A certificate chain and its private key, as the module holds them.
class TlsContext {
 public:
  TlsContext(const hp_tls_api& api, hp_tls_context* context) : api_(api), context_(context) {}
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  const hp_tls_api& api() const { return api_; }
  hp_tls_context* get() const { return context_; }

 private:
  const hp_tls_api& api_;
  hp_tls_context* context_;
};

// A server context for TLS 1.2 and 1.3 only, with the PEM certificate chain and key loaded and
// checked against each other. Throws ConfigError, one line naming `tls.cert_file` or
// `tls.key_file`. The key file is refused when group or others may read or write it.
std::shared_ptr<TlsContext> load_tls_context(const std::filesystem::path& cert_file,
                                             const std::filesystem::path& key_file);

// "subject /CN=..., serial 03E9, expires 2027-01-01": for the log.
std::string describe_certificate(const TlsContext& context);

// What the server takes its context from: each accepted connection uses the context current at
// that moment, so a reload reaches new connections and leaves open ones as they are.
class TlsSource {
 public:
  explicit TlsSource(std::shared_ptr<TlsContext> context) : current_(std::move(context)) {}
  std::shared_ptr<TlsContext> current() const { return current_.load(); }
  void install(std::shared_ptr<TlsContext> context) { current_.store(std::move(context)); }

 private:
  std::atomic<std::shared_ptr<TlsContext>> current_;
};

}  // namespace hostprint
