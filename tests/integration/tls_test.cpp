// HTTPS: certificates made with the openssl CLI, the server in this process and the real agent,
// clients that verify the certificate against the test's own CA.
#include "agent/tls.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <boost/asio/ssl.hpp>
#include <boost/json.hpp>
#include <regex>
#include <thread>

#include "agent/config.hpp"
#include "agent/http_server.hpp"
#include "proto/api_error.hpp"
#include "tests/integration/tls_harness.hpp"

namespace hostprint::test {
namespace {

namespace asio = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;

// The servers made in this process load the TLS module built beside the agent.
const bool module_chosen = [] {
  use_tls_module(HOSTPRINT_TEST_TLS_MODULE);
  return true;
}();

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void chmod_file(const std::filesystem::path& p, unsigned mode) {
  ASSERT_EQ(::chmod(p.c_str(), mode), 0) << p;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Everything a plain connection receives until the server closes it.
std::string plain_read_all(Connection& c) {
  std::string out;
  char chunk[4096];
  for (;;) {
    boost::system::error_code ec;
    std::size_t n = c.socket().read_some(asio::buffer(chunk), ec);
    out.append(chunk, n);
    if (ec) break;
  }
  return out;
}

// Request ids differ between servers by design; everything else must not.
std::string without_request_ids(const std::string& bytes) {
  static const std::regex id("X-Request-Id: [^\r]*");
  return std::regex_replace(bytes, id, "X-Request-Id: *");
}

// ---------------------------------------------------------------------------------------------
// Loading the pair.

class TlsFiles : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = new Pki();
    pki_->issue("server-1", 4097);
    pki_->issue("server-2", 4098);
  }
  static void TearDownTestSuite() {
    delete pki_;
    pki_ = nullptr;
  }
  static Pki* pki_;
};
Pki* TlsFiles::pki_ = nullptr;

std::string load_error(const std::filesystem::path& cert, const std::filesystem::path& key) {
  try {
    load_tls_context(cert, key);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

TEST_F(TlsFiles, AGoodPairLoads) {
  auto ctx = load_tls_context(pki_->cert("server-1"), pki_->key("server-1"));
  auto text = describe_certificate(*ctx);
  EXPECT_NE(text.find("CN=server-1"), std::string::npos) << text;
  EXPECT_NE(text.find("serial 1001"), std::string::npos) << text;  // 4097 in hex
}

TEST_F(TlsFiles, AKeyOthersMayReadIsRefused) {
  TempDir dir;
  auto key = dir.write("open.key", slurp(pki_->key("server-1")));
  for (unsigned mode : {0644u, 0640u, 0604u, 0620u}) {
    chmod_file(key, mode);
    auto e = load_error(pki_->cert("server-1"), key);
    EXPECT_EQ(e.rfind("tls.key_file: " + key.string(), 0), 0u) << e;
    EXPECT_NE(e.find("mode 0"), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
  chmod_file(key, 0400);
  EXPECT_EQ(load_error(pki_->cert("server-1"), key), "");
}

TEST_F(TlsFiles, BrokenPairsAreRefusedInOneLineNamingTheKey) {
  TempDir dir;
  auto garbage_key = dir.write("garbage.key", "not a key\n");
  chmod_file(garbage_key, 0600);
  auto garbage_cert = dir.write("garbage.crt", "-----BEGIN CERTIFICATE-----\nAAAA\n");
  auto empty_cert = dir.write("empty.crt", "");
  struct Case {
    std::filesystem::path cert, key;
    std::string key_name, says;
  } cases[] = {
      {pki_->cert("server-1"), pki_->key("server-2"), "tls.key_file", "does not match"},
      {pki_->cert("server-1"), garbage_key, "tls.key_file", "not a usable PEM private key"},
      {pki_->cert("server-1"), dir.path() / "missing.key", "tls.key_file", "No such file"},
      {garbage_cert, pki_->key("server-1"), "tls.cert_file", "not a usable PEM certificate"},
      {empty_cert, pki_->key("server-1"), "tls.cert_file", "not a usable PEM certificate"},
      {dir.path() / "missing.crt", pki_->key("server-1"), "tls.cert_file", "no such file"},
      {pki_->cert("server-1"), dir.path(), "tls.key_file", "not a regular file"},
  };
  for (const auto& c : cases) {
    auto e = load_error(c.cert, c.key);
    EXPECT_EQ(e.rfind(c.key_name + ": ", 0), 0u) << e;
    EXPECT_NE(e.find(c.says), std::string::npos) << e;
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  }
}

// An encrypted key must be refused, not prompt for a passphrase on the terminal.
TEST_F(TlsFiles, AnEncryptedKeyIsRefusedWithoutPrompting) {
  TempDir dir;
  auto encrypted = dir.path() / "encrypted.key";
  auto r = run_program({"openssl", "pkey", "-in", pki_->key("server-1").string(), "-aes256",
                        "-passout", "pass:secret", "-out", encrypted.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  chmod_file(encrypted, 0600);
  auto e = load_error(pki_->cert("server-1"), encrypted);
  EXPECT_EQ(e.rfind("tls.key_file: ", 0), 0u) << e;
}

// Security level 2: an RSA key under 2048 bits is refused when loaded, not at the first client.
TEST_F(TlsFiles, AWeakKeyIsRefused) {
  TempDir dir;
  auto key = dir.path() / "weak.key", cert = dir.path() / "weak.crt";
  auto r = run_program({"openssl", "req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout",
                        key.string(), "-out", cert.string(), "-days", "1", "-subj", "/CN=weak"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  chmod_file(key, 0600);
  auto e = load_error(cert, key);
  EXPECT_EQ(e.rfind("tls.cert_file: ", 0), 0u) << e;
  EXPECT_NE(e.find("too small"), std::string::npos) << e;
}

TEST(TlsConfig, KeysAndTheListenRule) {
  Config c;
  apply_config_text(c, R"({"tls": {"cert_file": "/c.pem", "key_file": "/k.pem"}})", "f");
  EXPECT_TRUE(c.tls_enabled());
  EXPECT_EQ(c.tls_key_file, "/k.pem");
  auto error_of = [](std::string_view text) -> std::string {
    Config config;
    try {
      apply_config_text(config, text, "f");
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of(R"({"tls.cert_file": "/c.pem"})").find("tls.key_file"), std::string::npos);
  EXPECT_NE(error_of(R"({"tls.key_file": "/k.pem"})").find("tls.cert_file"), std::string::npos);
  EXPECT_NE(error_of(R"({"tls.allow_plaintext": "yes"})").find("tls.allow_plaintext"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"tls": {"ciphers": "x"}})").find("tls.ciphers"), std::string::npos);
  EXPECT_NE(error_of(R"({"tls.cert_file": ""})").find("tls.cert_file"), std::string::npos);

  auto exposure = [](const std::string& host, bool tls, bool plaintext) -> std::string {
    Config config;
    config.listen = {host, 9779};
    if (tls) config.tls_cert_file = config.tls_key_file = "/x";
    config.tls_allow_plaintext = plaintext;
    try {
      check_listen_exposure(config);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  for (auto host : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"})
    EXPECT_EQ(exposure(host, false, false), "") << host;
  for (auto host : {"0.0.0.0", "192.0.2.1", "::", "2001:db8::1", "::ffff:192.0.2.1"}) {
    auto e = exposure(host, false, false);
    EXPECT_EQ(e.rfind("listen: ", 0), 0u) << host << ": " << e;
    EXPECT_NE(e.find("tls.allow_plaintext"), std::string::npos) << e;
    EXPECT_EQ(exposure(host, true, false), "") << host;
    EXPECT_EQ(exposure(host, false, true), "") << host;
  }
}

// ---------------------------------------------------------------------------------------------
// The server in this process, plain and TLS side by side with the same handler, and limits
// small enough to test quickly.

class TlsServer : public TlsFiles {
 protected:
  void SetUp() override {
    HttpLimits limits;
    limits.max_connections = 4;
    limits.handshake_timeout = std::chrono::seconds(1);
    limits.idle_timeout = std::chrono::seconds(5);
    HttpHandler handler = [](const HttpRequestView& r) -> Answer {
      if (!r.token || *r.token != "t") return error_answer(proto::unauthorized());
      Answer a;
      a.body = boost::json::serialize(boost::json::object{{"method", std::string(r.method)},
                                                          {"target", std::string(r.target)}});
      return a;
    };
    source_ = std::make_shared<TlsSource>(
        load_tls_context(pki_->cert("server-1"), pki_->key("server-1")));
    auto loopback = tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0);
    plain_ = std::make_unique<HttpServer>(io_, loopback, handler, limits);
    tls_ = std::make_unique<HttpServer>(io_, loopback, handler, limits, source_);
    plain_->start();
    tls_->start();
    thread_ = std::thread([this] { run_io_loop(io_); });
  }
  void TearDown() override {
    io_.stop();
    thread_.join();
    tls_.reset();
    plain_.reset();
  }
  unsigned short plain_port() const { return plain_->local_endpoint().port(); }
  unsigned short tls_port() const { return tls_->local_endpoint().port(); }

  asio::io_context io_;
  std::shared_ptr<TlsSource> source_;
  std::unique_ptr<HttpServer> plain_, tls_;
  std::thread thread_;
};

TEST_F(TlsServer, TheSameBytesAsOverPlainHttp) {
  using namespace std::string_literals;
  const std::string exchanges[] = {
      get_request("/a?b=c", "t") + get_request("/pipelined", "t", "HEAD") +
          get_request("/last", "t", "GET", "Connection: close\r\n"),
      get_request("/no-token", std::nullopt, "GET", "Connection: close\r\n"),
      "POST /body HTTP/1.1\r\nHost: x\r\nX-Auth-Token: t\r\nTransfer-Encoding: chunked\r\n"
      "Connection: close\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
      "POST /continue HTTP/1.1\r\nHost: x\r\nX-Auth-Token: t\r\nContent-Length: 3\r\n"
      "Expect: 100-continue\r\nConnection: close\r\n\r\nabc",
      "GET /v5 HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
      "GET /big HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70 * 1024, 'a') + "\r\n\r\n",
      "GET /old HTTP/1.0\r\nX-Auth-Token: t\r\n\r\n",
  };
  for (const auto& request : exchanges) {
    Connection plain("127.0.0.1", plain_port());
    plain.send(request);
    auto over_plain = without_request_ids(plain_read_all(plain));
    auto tls = TlsConnection::open(tls_port(), pki_->ca());
    tls->send(request);
    auto over_tls = without_request_ids(tls->read_all());
    EXPECT_FALSE(over_plain.empty()) << request.substr(0, 60);
    EXPECT_EQ(over_tls, over_plain) << request.substr(0, 60);
  }
}

TEST_F(TlsServer, OnlyTls12And13) {
  for (int version : {TLS1_2_VERSION, TLS1_3_VERSION}) {
    auto c = TlsConnection::open(tls_port(), pki_->ca(), {version, version, -1});
    EXPECT_EQ(c->protocol(), version == TLS1_2_VERSION ? "TLSv1.2" : "TLSv1.3");
    c->send(get_request("/x", "t"));
    EXPECT_EQ(c->read().result_int(), 200u);
  }
  // The client lowers its own security level so that it really offers the old versions: the
  // refusal must come from the server.
  for (int version : {TLS1_VERSION, TLS1_1_VERSION}) {
    TlsConnection c(tls_port(), pki_->ca(), {version, version, 0});
    EXPECT_TRUE(c.handshake()) << version;
  }
  auto ok = TlsConnection::open(tls_port(), pki_->ca());
  ok->send(get_request("/after", "t"));
  EXPECT_EQ(ok->read().result_int(), 200u);
}

TEST_F(TlsServer, PlainHttpAndGarbageGetAClosedConnection) {
  using namespace std::string_literals;
  for (const std::string& bytes :
       {get_request("/x", "t"), "\x16\x03\x01\x00\x05hello"s, std::string(20000, '\0'), "\r\n"s}) {
    Connection c("127.0.0.1", tls_port());
    c.send(bytes);
    auto answer = plain_read_all(c);
    EXPECT_EQ(answer.find("HTTP/"), std::string::npos) << answer;
  }
  auto ok = TlsConnection::open(tls_port(), pki_->ca());
  ok->send(get_request("/after", "t"));
  EXPECT_EQ(ok->read().result_int(), 200u);
}

TEST_F(TlsServer, AStalledHandshakeIsDroppedAndBlocksNoOne) {
  Connection stalled("127.0.0.1", tls_port());
  auto start = std::chrono::steady_clock::now();
  auto c = TlsConnection::open(tls_port(), pki_->ca());
  c->send(get_request("/meanwhile", "t"));
  EXPECT_EQ(c->read().result_int(), 200u);
  EXPECT_TRUE(stalled.closed_by_server(5000));
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(900));
  EXPECT_LE(waited, std::chrono::milliseconds(3000));
  // A handshake begun and left half done is dropped the same way.
  Connection half("127.0.0.1", tls_port());
  half.send("\x16\x03\x01\x02\x00\x01");
  EXPECT_TRUE(half.closed_by_server(5000));
}

// Handshakes count against the cap (4 here), and the one waiting longest makes room.
TEST_F(TlsServer, HandshakesCountAgainstTheCap) {
  std::vector<std::unique_ptr<Connection>> stalled;
  for (int i = 0; i < 6; ++i) {
    stalled.push_back(std::make_unique<Connection>("127.0.0.1", tls_port()));
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_LE(tls_->connection_count(), 4u);
  EXPECT_TRUE(stalled[0]->closed_by_server(800));
  EXPECT_TRUE(stalled[1]->closed_by_server(800));
  EXPECT_FALSE(stalled[5]->closed_by_server(50));
  auto c = TlsConnection::open(tls_port(), pki_->ca());
  c->send(get_request("/x", "t"));
  EXPECT_EQ(c->read().result_int(), 200u);
}

// With every connection busy in a request, a newcomer still gets its TLS handshake, then a 503.
TEST_F(TlsServer, BusyAtTheCapGets503OverTls) {
  std::vector<std::unique_ptr<TlsConnection>> busy;
  for (int i = 0; i < 4; ++i) {
    busy.push_back(TlsConnection::open(tls_port(), pki_->ca()));
    busy.back()->send("GET /half HTTP/1.1\r\n");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto late = TlsConnection::open(tls_port(), pki_->ca());
  late->send(get_request("/x", "t"));
  auto r = late->read();
  EXPECT_EQ(r.result_int(), 503u) << r.body();
}

TEST_F(TlsServer, ANewContextReachesNewConnectionsOnly) {
  auto before = TlsConnection::open(tls_port(), pki_->ca());
  EXPECT_EQ(before->peer_serial(), "4097");
  source_->install(load_tls_context(pki_->cert("server-2"), pki_->key("server-2")));
  auto after = TlsConnection::open(tls_port(), pki_->ca());
  EXPECT_EQ(after->peer_serial(), "4098");
  before->send(get_request("/still", "t"));
  EXPECT_EQ(before->read().result_int(), 200u);
}

TEST_F(TlsServer, ShutdownClosesIdleTlsConnections) {
  auto idle = TlsConnection::open(tls_port(), pki_->ca());
  idle->send(get_request("/x", "t"));
  EXPECT_EQ(idle->read().result_int(), 200u);
  Connection handshaking("127.0.0.1", tls_port());
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  asio::post(io_, [this] { tls_->begin_shutdown(); });
  EXPECT_TRUE(handshaking.closed_by_server(500));
  idle->read_all();  // returns: the server closed it
  for (int i = 0; i < 50 && tls_->connection_count() > 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(tls_->connection_count(), 0u);
}

// ---------------------------------------------------------------------------------------------
// The real agent.

class TlsAgent : public TlsFiles {
 protected:
  // A configuration naming the pair `name` (copied, so that a test may replace it).
  static std::string tls_config(const TempDir& dir, const std::string& name,
                                const std::string& more = "") {
    auto cert = dir.write("agent.crt", slurp(pki_->cert(name)));
    auto key = dir.write("agent.key", slurp(pki_->key(name)));
    chmod_file(key, 0600);
    return R"({"tls.cert_file": ")" + cert.string() + R"(", "tls.key_file": ")" + key.string() +
           "\"" + more + "}";
  }
  static RunResult serve_with(const std::string& config_text, const std::string& listen,
                              const std::string& binary = hostprint_binary()) {
    TempDir dir;
    auto token = dir.write("token", "t\n");
    chmod_file(token, 0600);
    auto config = dir.write("hostprint.json", config_text);
    return run_program(
        {binary, "serve", "--config", config.string(), "--listen", listen,
         "--token-file", token.string(), "--state-dir", (dir.path() / "state").string()},
        30);
  }
  static void expect_one_line_error(const RunResult& r, const std::string& key) {
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(count_of(r.err, "\n"), 1u) << r.err;
    EXPECT_EQ(r.err.rfind("hostprint: error: ", 0), 0u) << r.err;
    EXPECT_NE(r.err.find(key), std::string::npos) << r.err;
  }
};

TEST_F(TlsAgent, ServesHttpsWithTheBodiesOfPlainHttp) {
  TempDir files;
  const std::string common = R"(, "host_id": "h1", "enterprise_project_id": "e1")";
  AgentOptions tls_options;
  tls_options.config = tls_config(files, "server-1", common);
  Agent tls(tls_options);
  ASSERT_TRUE(tls.ready()) << tls.log_text();
  AgentOptions plain_options;
  plain_options.config = "{" + common.substr(1) + "}";
  Agent plain(plain_options);
  ASSERT_TRUE(plain.ready()) << plain.log_text();

  for (auto target : {"/v5/p1/asset/statistics", "/v5/p1/asset/process/statistics",
                      "/v5/p1/rasp/statistics", "/status"}) {
    auto r = tls_fetch(tls.port(), pki_->ca(), target, tls.token());
    EXPECT_EQ(r.result_int(), 200u) << target << r.body();
    EXPECT_NO_THROW(boost::json::parse(r.body())) << r.body();
  }
  // Targets whose answers do not depend on the moment of the scan: byte for byte.
  for (auto target : {"/v5/p1/rasp/statistics", "/v5/p1/rasp/statistics?host_id=other",
                      "/v5/p1/asset/statistics?host_id=other", "/v5/p1/nothing",
                      "/v5/p1/asset/process/statistics?limit=0"}) {
    auto over_tls = tls_fetch(tls.port(), pki_->ca(), target, tls.token());
    auto over_plain = fetch(plain, target, plain.token());
    EXPECT_EQ(over_tls.result_int(), over_plain.result_int()) << target;
    EXPECT_EQ(over_tls.body(), over_plain.body()) << target;
  }
  auto unauthorized = tls_fetch(tls.port(), pki_->ca(), "/status", std::nullopt);
  EXPECT_EQ(unauthorized.body(), fetch(plain, "/status", std::nullopt).body());
  EXPECT_EQ(unauthorized.result_int(), 401u);

  // curl, verifying against the CA; the Bearer form of the token.
  const std::string url = "https://127.0.0.1:" + std::to_string(tls.port());
  auto curl = run_program({"curl", "-sS", "--fail-with-body", "--cacert", pki_->ca().string(), "-H",
                           "Authorization: Bearer " + tls.token(), url + "/v5/p1/rasp/statistics"});
  EXPECT_EQ(curl.exit_code, 0) << curl.err;
  EXPECT_EQ(curl.out, fetch(plain, "/v5/p1/rasp/statistics", plain.token()).body());
  // Without the CA, curl does not trust the server.
  auto untrusted = run_program({"curl", "-sS", url + "/status"});
  EXPECT_NE(untrusted.exit_code, 0);
  // curl capped at TLS 1.1 is refused by the server.
  auto old = run_program({"curl", "-sS", "--cacert", pki_->ca().string(), "--tlsv1.0", "--tls-max",
                          "1.1", "--ciphers", "DEFAULT@SECLEVEL=0", url + "/status"});
  EXPECT_NE(old.exit_code, 0) << old.out;
  auto s_client = run_program({"sh", "-c",
                               "openssl s_client -connect 127.0.0.1:" + std::to_string(tls.port()) +
                                   " -tls1_1 -cipher DEFAULT@SECLEVEL=0 </dev/null"});
  EXPECT_NE(s_client.exit_code, 0) << s_client.out;
  EXPECT_NE(tls.log_text().find("HTTPS, certificate subject /CN=server-1"), std::string::npos)
      << tls.log_text();
  EXPECT_EQ(tls.stop(SIGTERM), 0);
}

// OpenSSL is in the TLS module, which only an agent with TLS configured loads: one without maps
// neither libssl nor libcrypto (about 1.8 MiB of resident memory).
TEST_F(TlsAgent, OpenSslIsLoadedOnlyWithTls) {
  TempDir files;
  AgentOptions tls_options;
  tls_options.config = tls_config(files, "server-1");
  Agent tls(tls_options);
  ASSERT_TRUE(tls.ready()) << tls.log_text();
  Agent plain;
  ASSERT_TRUE(plain.ready()) << plain.log_text();
  // Both have scanned the host and answered a request.
  EXPECT_EQ(tls_fetch(tls.port(), pki_->ca(), "/status", tls.token()).result_int(), 200u);
  EXPECT_EQ(fetch(plain, "/status", plain.token()).result_int(), 200u);

  const std::string tls_maps = slurp("/proc/" + std::to_string(tls.pid()) + "/maps");
  EXPECT_NE(tls_maps.find("/hostprint-tls.so"), std::string::npos) << tls_maps;
  EXPECT_NE(tls_maps.find("/libssl.so"), std::string::npos) << tls_maps;
  const std::string plain_maps = slurp("/proc/" + std::to_string(plain.pid()) + "/maps");
  ASSERT_NE(plain_maps.find("/hostprint"), std::string::npos) << plain_maps;
  EXPECT_EQ(plain_maps.find("/hostprint-tls.so"), std::string::npos) << plain_maps;
  EXPECT_EQ(plain_maps.find("/libssl.so"), std::string::npos) << plain_maps;
  EXPECT_EQ(plain_maps.find("/libcrypto.so"), std::string::npos) << plain_maps;
}

// Without its TLS module (or with a file of that name that is not one), an agent configured for
// TLS does not start: one line naming the module, exit 2.
TEST_F(TlsAgent, AMissingOrForeignModuleStopsTheStartInOneLine) {
  const std::filesystem::path installed =
      std::filesystem::path(HOSTPRINT_TLS_MODULE_DIR) / "hostprint-tls.so";
  if (std::filesystem::exists(installed))
    GTEST_SKIP() << installed << " is installed on this host: an agent copied elsewhere loads it";
  TempDir files;
  const auto config = tls_config(files, "server-1");
  TempDir bin;
  const auto agent = bin.path() / "hostprint";
  std::filesystem::copy_file(hostprint_binary(), agent);
  std::filesystem::permissions(agent, std::filesystem::perms::owner_all);

  auto missing = serve_with(config, "127.0.0.1:" + std::to_string(free_port()), agent.string());
  expect_one_line_error(missing, "tls: the TLS module hostprint-tls.so is not installed");
  EXPECT_NE(missing.err.find((bin.path() / "hostprint-tls.so").string()), std::string::npos)
      << missing.err;

  // A shared library of that name, but not the module.
  std::filesystem::path other;
  for (const char* candidate : {"/usr/lib/x86_64-linux-gnu/libz.so.1", "/lib/x86_64-linux-gnu/libz.so.1",
                                "/usr/lib64/libz.so.1", "/lib/libz.so.1"})
    if (std::filesystem::exists(candidate)) other = candidate;
  ASSERT_FALSE(other.empty()) << "no libz.so.1 to stand in for a foreign module";
  std::filesystem::copy_file(other, bin.path() / "hostprint-tls.so");
  auto foreign = serve_with(config, "127.0.0.1:" + std::to_string(free_port()), agent.string());
  expect_one_line_error(foreign, "not a TLS module of this version of hostprint");
}

TEST_F(TlsAgent, PlainHttpToTheTlsPortIsClosedWithOneLogLine) {
  TempDir files;
  AgentOptions options;
  options.config = tls_config(files, "server-1");
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  {
    Connection c(agent);
    c.send(get_request("/status", agent.token()));
    auto answer = plain_read_all(c);
    EXPECT_EQ(answer.find("HTTP/"), std::string::npos) << answer;
  }
  EXPECT_EQ(tls_fetch(agent.port(), pki_->ca(), "/status", agent.token()).result_int(), 200u);
  auto log = agent.log_text();
  EXPECT_EQ(count_of(log, "sent plain HTTP to the HTTPS port"), 1u) << log;
}

TEST_F(TlsAgent, StartIsRefusedForABadPair) {
  TempDir files;
  auto config = tls_config(files, "server-1");
  chmod_file(files.path() / "agent.key", 0644);
  auto open_key = serve_with(config, "127.0.0.1:" + std::to_string(free_port()));
  expect_one_line_error(open_key, "tls.key_file: " + (files.path() / "agent.key").string());
  EXPECT_NE(open_key.err.find("0644"), std::string::npos) << open_key.err;

  files.write("agent.key", slurp(pki_->key("server-2")));
  chmod_file(files.path() / "agent.key", 0600);
  auto mismatched = serve_with(config, "127.0.0.1:" + std::to_string(free_port()));
  expect_one_line_error(mismatched, "tls.key_file");
  EXPECT_NE(mismatched.err.find("does not match"), std::string::npos) << mismatched.err;

  auto half = serve_with(R"({"tls.cert_file": "/etc/hostname"})",
                         "127.0.0.1:" + std::to_string(free_port()));
  expect_one_line_error(half, "tls.key_file");
}

TEST_F(TlsAgent, BeyondLoopbackOnlyWithTlsOrAllowPlaintext) {
  auto refused = serve_with("{}", "0.0.0.0:" + std::to_string(free_port()));
  expect_one_line_error(refused, "tls.allow_plaintext");
  EXPECT_NE(refused.err.find("listen: 0.0.0.0:"), std::string::npos) << refused.err;

  AgentOptions plaintext;
  plaintext.listen_host = "0.0.0.0";
  plaintext.config = R"({"tls.allow_plaintext": true})";
  Agent open(plaintext);
  ASSERT_TRUE(open.ready()) << open.log_text();
  EXPECT_EQ(fetch(open, "/status").result_int(), 200u);

  TempDir files;
  AgentOptions with_tls;
  with_tls.listen_host = "0.0.0.0";
  with_tls.config = tls_config(files, "server-1");
  Agent secure(with_tls);
  ASSERT_TRUE(secure.ready()) << secure.log_text();
  EXPECT_EQ(tls_fetch(secure.port(), pki_->ca(), "/status", secure.token()).result_int(), 200u);
}

bool wait_for_log(const Agent& agent, const std::string& text, std::size_t count) {
  for (int i = 0; i < 500; ++i) {
    if (count_of(agent.log_text(), text) >= count) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST_F(TlsAgent, SighupReloadsThePairOrKeepsTheRunningOne) {
  TempDir files;
  AgentOptions options;
  options.config = tls_config(files, "server-1");
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  auto kept = TlsConnection::open(agent.port(), pki_->ca());
  EXPECT_EQ(kept->peer_serial(), "4097");

  files.write("agent.crt", slurp(pki_->cert("server-2")));
  files.write("agent.key", slurp(pki_->key("server-2")));
  ::kill(agent.pid(), SIGHUP);
  ASSERT_TRUE(wait_for_log(agent, "config: reloaded", 1)) << agent.log_text();
  EXPECT_NE(agent.log_text().find("certificate subject /CN=server-2, serial 1002"),
            std::string::npos)
      << agent.log_text();
  EXPECT_EQ(TlsConnection::open(agent.port(), pki_->ca())->peer_serial(), "4098");
  kept->send(get_request("/status", agent.token()));
  EXPECT_EQ(kept->read().result_int(), 200u);

  // A broken pair (server-1's key with server-2's certificate): refused, server-2 still served.
  files.write("agent.key", slurp(pki_->key("server-1")));
  ::kill(agent.pid(), SIGHUP);
  ASSERT_TRUE(wait_for_log(agent, "reload refused", 1)) << agent.log_text();
  auto log = agent.log_text();
  EXPECT_NE(log.find("reload refused, keeping the running configuration: tls.key_file: "),
            std::string::npos)
      << log;
  EXPECT_EQ(TlsConnection::open(agent.port(), pki_->ca())->peer_serial(), "4098");
  // And a key others may read, the same.
  files.write("agent.key", slurp(pki_->key("server-2")));
  chmod_file(files.path() / "agent.key", 0644);
  ::kill(agent.pid(), SIGHUP);
  ASSERT_TRUE(wait_for_log(agent, "reload refused", 2)) << agent.log_text();
  EXPECT_EQ(TlsConnection::open(agent.port(), pki_->ca())->peer_serial(), "4098");
  EXPECT_EQ(agent.stop(SIGTERM), 0);
}

TEST_F(TlsAgent, AClientThatNeverHandshakesIsDroppedAfterTheTimeout) {
  TempDir files;
  AgentOptions options;
  options.config = tls_config(files, "server-1");
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  Connection stalled(agent);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(tls_fetch(agent.port(), pki_->ca(), "/status", agent.token()).result_int(), 200u);
  EXPECT_TRUE(stalled.closed_by_server(15000));
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::seconds(9));
  EXPECT_LE(waited, std::chrono::seconds(13));
  EXPECT_TRUE(wait_for_log(agent, "no TLS handshake within 10 s; connection closed", 1))
      << agent.log_text();
}

}  // namespace
}  // namespace hostprint::test
