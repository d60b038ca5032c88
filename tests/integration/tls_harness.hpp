#pragma once
// HTTPS for tests: a CA and server certificates made with the openssl command, and a client that
// verifies the server's certificate against that CA.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl.hpp>

#include "tests/integration/agent_harness.hpp"

namespace hostprint::test {

namespace ssl = boost::asio::ssl;

// A CA and server certificates for IP 127.0.0.1, made with the openssl command.
class Pki {
 public:
  Pki() {
    run({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key("ca").string(), "-out", ca().string(), "-days", "3", "-subj",
         "/CN=hostprint test CA"});
    dir_.write("server.ext",
               "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
               "extendedKeyUsage=serverAuth\n");
  }
  std::filesystem::path ca() const { return dir_.path() / "ca.crt"; }
  std::filesystem::path cert(const std::string& name) const {
    return dir_.path() / (name + ".crt");
  }
  std::filesystem::path key(const std::string& name) const { return dir_.path() / (name + ".key"); }
  const std::filesystem::path& path() const { return dir_.path(); }

  // A server certificate signed by the CA; its key mode 0600. The serial is given in decimal.
  void issue(const std::string& name, int serial) const {
    auto csr = dir_.path() / (name + ".csr");
    run({"openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", key(name).string(), "-out", csr.string(), "-subj", "/CN=" + name});
    run({"openssl", "x509", "-req", "-in", csr.string(), "-CA", ca().string(), "-CAkey",
         key("ca").string(), "-set_serial", std::to_string(serial), "-days", "3", "-out",
         cert(name).string(), "-extfile", (dir_.path() / "server.ext").string()});
    std::filesystem::permissions(
        key(name), std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
        std::filesystem::perm_options::replace);
  }

 private:
  static void run(const std::vector<std::string>& argv) {
    auto r = run_program(argv);
    if (r.exit_code != 0)
      throw std::runtime_error("openssl failed (" + std::to_string(r.exit_code) + "): " + r.err);
  }
  TempDir dir_;
};

struct ClientOptions {
  int min_version = TLS1_2_VERSION;
  int max_version = 0;
  int security_level = -1;  // -1: OpenSSL's default
};

inline ssl::context client_context(const std::filesystem::path& ca, const ClientOptions& o) {
  ssl::context ctx(ssl::context::tls_client);
  ctx.load_verify_file(ca.string());
  ctx.set_verify_mode(ssl::verify_peer);
  if (o.security_level >= 0) ::SSL_CTX_set_security_level(ctx.native_handle(), o.security_level);
  ::SSL_CTX_set_min_proto_version(ctx.native_handle(), o.min_version);
  ::SSL_CTX_set_max_proto_version(ctx.native_handle(), o.max_version);
  return ctx;
}

// A client that verifies the server's certificate (chain to the CA, IP 127.0.0.1).
class TlsConnection {
 public:
  TlsConnection(unsigned short port, const std::filesystem::path& ca, ClientOptions o = {})
      : ctx_(client_context(ca, o)), stream_(io_, ctx_) {
    ::X509_VERIFY_PARAM_set1_ip_asc(::SSL_get0_param(stream_.native_handle()), "127.0.0.1");
    stream_.next_layer().connect({boost::asio::ip::make_address("127.0.0.1"), port});
  }

  boost::system::error_code handshake() {
    boost::system::error_code ec;
    stream_.handshake(ssl::stream_base::client, ec);
    return ec;
  }
  // Connected, handshaken, ready for requests.
  static std::unique_ptr<TlsConnection> open(unsigned short port, const std::filesystem::path& ca,
                                             ClientOptions o = {}) {
    auto c = std::make_unique<TlsConnection>(port, ca, o);
    auto ec = c->handshake();
    if (ec) throw boost::system::system_error(ec, "TLS handshake");
    return c;
  }

  void send(std::string_view bytes) { boost::asio::write(stream_, boost::asio::buffer(bytes)); }
  Response read(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head);
    http::read(stream_, buffer_, parser);
    return parser.release();
  }
  // Everything the server sends until it closes.
  std::string read_all() {
    std::string out(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    buffer_.consume(buffer_.size());
    char chunk[4096];
    for (;;) {
      boost::system::error_code ec;
      std::size_t n = stream_.read_some(boost::asio::buffer(chunk), ec);
      out.append(chunk, n);
      if (ec) break;
    }
    return out;
  }
  std::string peer_serial() {
    X509* cert = ::SSL_get1_peer_certificate(stream_.native_handle());
    if (!cert) return {};
    BIGNUM* bn = ::ASN1_INTEGER_to_BN(::X509_get0_serialNumber(cert), nullptr);
    char* dec = ::BN_bn2dec(bn);
    std::string out = dec;
    ::OPENSSL_free(dec);
    ::BN_free(bn);
    ::X509_free(cert);
    return out;
  }
  std::string protocol() { return ::SSL_get_version(stream_.native_handle()); }

 private:
  boost::asio::io_context io_;
  ssl::context ctx_;
  ssl::stream<boost::asio::ip::tcp::socket> stream_;
  boost::beast::flat_buffer buffer_;
};

inline Response tls_fetch(unsigned short port, const std::filesystem::path& ca,
                          std::string_view target, std::optional<std::string_view> token,
                          std::string_view method = "GET") {
  auto c = TlsConnection::open(port, ca);
  c->send(get_request(target, token, method));
  return c->read(method == "HEAD");
}

}  // namespace hostprint::test
