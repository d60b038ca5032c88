#include "collectors/formats/x509_pem.hpp"

#include <gtest/gtest.h>

#include <string>

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

}  // namespace
}  // namespace hostprint::collectors
