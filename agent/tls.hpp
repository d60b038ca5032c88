#pragma once
// The server's certificate and key: loaded and checked as a pair, swapped whole on reload.
#include <atomic>
#include <boost/asio/ssl/context.hpp>
#include <filesystem>
#include <memory>
#include <string>

namespace hostprint {

// An OpenSSL server context for TLS 1.2 and 1.3 only, with the PEM certificate chain and key
// loaded and checked against each other. Throws ConfigError, one line naming `tls.cert_file` or
// `tls.key_file`. The key file is refused when group or others may read or write it.
std::shared_ptr<boost::asio::ssl::context> load_tls_context(const std::filesystem::path& cert_file,
                                                            const std::filesystem::path& key_file);

// "subject CN=..., serial 03E9, expires 2027-01-01": for the log.
std::string describe_certificate(boost::asio::ssl::context& context);

// What the server takes its context from: each accepted connection uses the context current at
// that moment, so a reload reaches new connections and leaves open ones as they are.
class TlsSource {
 public:
  explicit TlsSource(std::shared_ptr<boost::asio::ssl::context> context)
      : current_(std::move(context)) {}
  std::shared_ptr<boost::asio::ssl::context> current() const { return current_.load(); }
  void install(std::shared_ptr<boost::asio::ssl::context> context) {
    current_.store(std::move(context));
  }

 private:
  std::atomic<std::shared_ptr<boost::asio::ssl::context>> current_;
};

}  // namespace hostprint
