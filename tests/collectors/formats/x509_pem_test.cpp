#include "collectors/formats/x509_pem.hpp"

#include <gtest/gtest.h>
#include <stdio.h>

#include <atomic>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/temp_dir.hpp"

namespace hostprint::collectors {
namespace {

// Made with the openssl CLI: a P-256 CA "/O=Hostprint/CN=Hostprint Test CA" signing
// "/C=DE/O=Example Org/CN=www.example.test" for 30 days; `openssl x509 -noout -dates` says
// notBefore=Dec  4 22:44:16 2026 GMT (1796424256) and notAfter=Jan  3 22:44:16 2027 GMT
// (1799016256).
constexpr const char* leaf_pem = R"(-----BEGIN CERTIFICATE-----
MIIBVDCB/AIBBzAKBggqhkjOPQQDAjAwMRIwEAYDVQQKDAlIb3N0cHJpbnQxGjAY
BgNVBAMMEUhvc3RwcmludCBUZXN0IENBMB4XDTI2MTIwNDIyNDQxNloXDTI3MDEw
MzIyNDQxNlowPjELMAkGA1UEBhMCREUxFDASBgNVBAoMC0V4YW1wbGUgT3JnMRkw
FwYDVQQDDBB3d3cuZXhhbXBsZS50ZXN0MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcD
QgAEerqeaRVCVIY+0cTTw0fIr0d2gMTbxeqT0hZGW6bDHY6uGZnvRQolpxyzMOYN
4IeeyUdO1F4ilHw1dI2iBg6w+zAKBggqhkjOPQQDAgNHADBEAiAguY2l2i+Zxfe/
RcFlrE5J0cF8KpJlxzFPhzCEKcqoSwIgWFAvt3Hu79uCW7C0xQY8ib1kREEaOZuk
aLbJtF2B0WU=
-----END CERTIFICATE-----
)";

const CertificateInfo expected{"CN=Hostprint Test CA,O=Hostprint",
                               "CN=www.example.test,O=Example Org,C=DE", 1796424256000,
                               1799016256000};

TEST(ParsePemCertificate, IssuerSubjectAndValidity) {
  auto parsed = parse_pem_certificate(leaf_pem);
  ASSERT_TRUE(std::holds_alternative<CertificateInfo>(parsed)) << std::get<std::string>(parsed);
  EXPECT_EQ(std::get<CertificateInfo>(parsed), expected);
}

// nginx takes a file with the key first, or the chain after the certificate: the first
// certificate is the site's.
TEST(ParsePemCertificate, OtherBlocksBeforeAndAChainAfter) {
  const std::string pem =
      std::string("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n") +
      "comment line\n" + leaf_pem +
      "-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n";
  auto parsed = parse_pem_certificate(pem);
  ASSERT_TRUE(std::holds_alternative<CertificateInfo>(parsed)) << std::get<std::string>(parsed);
  EXPECT_EQ(std::get<CertificateInfo>(parsed), expected);
}

TEST(ParsePemCertificate, NotACertificate) {
  const std::string bad_base64 = "-----BEGIN CERTIFICATE-----\nZm9v\n-----END CERTIFICATE-----\n";
  for (std::string text :
       {std::string(), std::string("hello\n"), bad_base64, std::string(leaf_pem).substr(0, 200),
        std::string("\0\xff\x30\x82", 4)}) {
    auto parsed = parse_pem_certificate(text);
    ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << text;
    EXPECT_FALSE(std::get<std::string>(parsed).empty());
  }
}

TEST(ParsePemCertificate, LongerThanTheBoundIsRefused) {
  std::string text(max_certificate_file_bytes + 1, '\n');
  auto parsed = parse_pem_certificate(text);
  ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
  EXPECT_NE(std::get<std::string>(parsed).find("longer than"), std::string::npos);
}

// A shell word for `text`: in single quotes, each single quote of it closed, escaped, reopened.
std::string quoted(const std::string& text) {
  std::string word = "'";
  for (char c : text) word += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return word + "'";
}

// What `openssl ARGS...` prints on its standard output, or nullopt when it fails.
std::optional<std::string> openssl(const std::vector<std::string>& args) {
  std::string command = "openssl";
  for (const auto& arg : args) command += " " + quoted(arg);
  command += " 2>/dev/null";
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) return std::nullopt;
  std::string out;
  char block[4096];
  for (std::size_t n; (n = std::fread(block, 1, sizeof block, pipe)) > 0;) out.append(block, n);
  if (::pclose(pipe) != 0) return std::nullopt;
  return out;
}

bool have_openssl_command() {
  return std::system("openssl version >/dev/null 2>&1") == 0;
}

// "Sep  7 07:47:23 2081 GMT", as `openssl x509 -startdate` prints a date, in epoch milliseconds.
std::optional<std::int64_t> openssl_date_ms(const std::string& text) {
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%b %d %H:%M:%S %Y GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return static_cast<std::int64_t>(::timegm(&tm)) * 1000;
}

// The certificate of `file` as the openssl command reads it. -esc_msb: the agent's names keep
// UTF-8 as is, where RFC2253 alone prints each byte above 0x7f \-escaped ("\C3\A9").
std::optional<CertificateInfo> openssl_reading(const std::filesystem::path& file) {
  auto out = openssl({"x509", "-in", file.string(), "-noout", "-issuer", "-subject", "-startdate",
                      "-enddate", "-nameopt", "RFC2253,-esc_msb"});
  if (!out) return std::nullopt;
  CertificateInfo info;
  std::optional<std::int64_t> before, after;
  std::istringstream lines(*out);
  for (std::string line; std::getline(lines, line);) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) return std::nullopt;
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "issuer")
      info.issuer = value;
    else if (key == "subject")
      info.subject = value;
    else if (key == "notBefore")
      before = openssl_date_ms(value);
    else if (key == "notAfter")
      after = openssl_date_ms(value);
  }
  if (!before || !after) return std::nullopt;
  info.not_before_ms = *before;
  info.not_after_ms = *after;
  return info;
}

std::string text_of(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Certificates the openssl command makes in a temporary folder: a self-signed CA with a UTF-8
// name signing leaves whose names need RFC 2253's escapes, have multi-valued RDNs, or UTF-8 of
// three and four bytes; one leaf's validity ends after 2049 (a GeneralizedTime, not a UTCTime).
class OpensslMadeCertificates : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!have_openssl_command()) GTEST_SKIP() << "no openssl command";
    ASSERT_TRUE(openssl(with_new_key({"req", "-x509", "-days", "3650", "-keyout", path("ca.key"),
                                      "-out", path("ca.pem"), "-subj",
                                      "/C=FR/O=Société Générale/CN=Autorité de test"})))
        << "openssl could not make the CA";
    leaf("escapes", 2, "20000",
         "/C=DE/O=Example, Inc./OU=Web+UID=team 7/CN=#www.example.test\\/x; \"q\" <a> =b ");
    leaf("unicode", 3, "30",
         "/DC=test/DC=example/O=株式会社 例/CN=🔒 ünïcödé+serialNumber=42+"
         "emailAddress=web@example.test");
  }

  std::string path(const std::string& name) const { return (dir_.path() / name).string(); }

  // `args` making a new P-256 key, taking the subject's text as UTF-8.
  static std::vector<std::string> with_new_key(std::vector<std::string> args) {
    args.insert(args.end(),
                {"-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-utf8"});
    return args;
  }

  // A key and a certificate NAME.pem for `subject`, signed by the CA for `days`. The serial is
  // given: OpenSSL 1.1.1's x509 -req has no default one.
  void leaf(const std::string& name, int serial, const std::string& days,
            const std::string& subject) {
    ASSERT_TRUE(openssl(with_new_key({"req", "-new", "-keyout", path(name + ".key"), "-out",
                                      path(name + ".csr"), "-subj", subject})))
        << "openssl could not make the request for " << name;
    ASSERT_TRUE(openssl({"x509", "-req", "-in", path(name + ".csr"), "-CA", path("ca.pem"),
                         "-CAkey", path("ca.key"), "-set_serial", std::to_string(serial), "-days",
                         days, "-out", path(name + ".pem")}))
        << "openssl could not sign " << name;
  }

  test::TempDir dir_;
};

TEST_F(OpensslMadeCertificates, ReadAsTheOpensslCommandReadsThem) {
  for (const char* name : {"ca", "escapes", "unicode"}) {
    const auto file = dir_.path() / (std::string(name) + ".pem");
    auto expected = openssl_reading(file);
    ASSERT_TRUE(expected) << name;
    auto parsed = parse_pem_certificate(text_of(file));
    ASSERT_TRUE(std::holds_alternative<CertificateInfo>(parsed))
        << name << ": " << std::get<std::string>(parsed);
    EXPECT_EQ(std::get<CertificateInfo>(parsed), *expected)
        << name << ": issuer " << std::get<CertificateInfo>(parsed).issuer << ", subject "
        << std::get<CertificateInfo>(parsed).subject;
  }
}

// The names do hold what they were made to hold (the comparison above cannot tell if both sides
// dropped it): the escapes, the multi-valued RDNs (their values in DER's order for a SET, then
// reversed as the RDNs are), the UTF-8; and the CA's name is the issuer.
TEST_F(OpensslMadeCertificates, NamesKeepEscapesMultiValuedRdnsAndUtf8) {
  auto escapes = parse_pem_certificate(text_of(dir_.path() / "escapes.pem"));
  ASSERT_TRUE(std::holds_alternative<CertificateInfo>(escapes));
  EXPECT_EQ(std::get<CertificateInfo>(escapes).subject,
            "CN=\\#www.example.test/x\\; \\\"q\\\" \\<a\\> =b\\ ,UID=team 7+OU=Web,"
            "O=Example\\, Inc.,C=DE");
  EXPECT_EQ(std::get<CertificateInfo>(escapes).issuer,
            "CN=Autorité de test,O=Société Générale,C=FR");
  auto unicode = parse_pem_certificate(text_of(dir_.path() / "unicode.pem"));
  ASSERT_TRUE(std::holds_alternative<CertificateInfo>(unicode));
  EXPECT_EQ(std::get<CertificateInfo>(unicode).subject,
            "emailAddress=web@example.test+CN=🔒 ünïcödé+serialNumber=42,O=株式会社 例,"
            "DC=example,DC=test");
}

// A libcrypto that cannot be loaded, or a library that is not libcrypto, is the certificate's
// one-line reason, naming the library; nothing crashes.
TEST(ParsePemCertificate, LibraryNotLoadedIsTheReason) {
  auto parsed = detail::parse_pem_certificate_loading(leaf_pem, "libhostprint-no-crypto.so.9");
  ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
  const std::string& reason = std::get<std::string>(parsed);
  EXPECT_EQ(reason.rfind("OpenSSL's libhostprint-no-crypto.so.9 not loaded (", 0), 0u) << reason;
  EXPECT_EQ(reason.find('\n'), std::string::npos) << reason;
  EXPECT_EQ(reason.back(), ')') << reason;

  // zlib loads (the agent links it) but has none of libcrypto's functions.
  parsed = detail::parse_pem_certificate_loading(leaf_pem, "libz.so.1");
  ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
  EXPECT_EQ(std::get<std::string>(parsed), "OpenSSL's libz.so.1 has no BIO_s_mem");

  // The length bound is checked before loading.
  parsed = detail::parse_pem_certificate_loading(std::string(max_certificate_file_bytes + 1, '\n'),
                                                 "libhostprint-no-crypto.so.9");
  ASSERT_TRUE(std::holds_alternative<std::string>(parsed));
  EXPECT_EQ(std::get<std::string>(parsed).find("longer than"), 0u);
}

// Several threads read the same certificate at once, all starting together; exits with 0 when
// each read gave the certificate's fields.
[[noreturn]] void read_from_threads_at_once() {
  constexpr int thread_count = 8, rounds = 50;
  std::atomic<int> waiting{thread_count}, wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < thread_count; ++t)
    threads.emplace_back([&] {
      --waiting;
      while (waiting.load() > 0) std::this_thread::yield();
      for (int i = 0; i < rounds; ++i) {
        auto parsed = parse_pem_certificate(leaf_pem);
        const auto* info = std::get_if<CertificateInfo>(&parsed);
        if (!info || !(*info == expected)) ++wrong;
      }
    });
  for (auto& thread : threads) thread.join();
  if (wrong.load() != 0) std::fprintf(stderr, "%d certificates misread\n", wrong.load());
  std::exit(wrong.load() == 0 ? 0 : 1);
}

// Collectors run on several threads: the first certificates, read by several at once, load
// libcrypto once and are all read. In a fresh process (gtest's threadsafe death-test style runs
// the test again in a new one), where no other test has loaded the library yet.
TEST(ParsePemCertificateFirstUse, SeveralThreadsAtOnce) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(read_from_threads_at_once(), ::testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace hostprint::collectors
