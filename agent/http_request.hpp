#pragma once
// The server's request parser and target normalisation, apart from the connection code so that
// the request-path fuzz target (tests/fuzz/http_request_fuzzer.cpp) parses exactly as it does.
#include <algorithm>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cstdint>
#include <limits>
#include <string_view>

namespace hostprint {

// "http://host:port/path?q" -> "/path?q" (RFC 9112 3.2.2: servers accept the absolute form).
inline std::string_view origin_form(std::string_view target) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (target.size() >= scheme.size() &&
        std::equal(scheme.begin(), scheme.end(), target.begin(), [](char a, char b) {
          return a == std::tolower(static_cast<unsigned char>(b));
        })) {
      auto rest = target.substr(scheme.size());
      auto slash = rest.find_first_of("/?");
      if (slash == std::string_view::npos) return "/";
      return rest[slash] == '/' ? rest.substr(slash) : std::string_view("/");
    }
  }
  return target;
}

// Beast bounds the request line and headers (header_limit) but not the trailer fields of a chunked
// body, and its field store throws std::length_error for a field over 64 KiB: this parser refuses
// both with header_limit, before anything is stored.
class RequestParser : public boost::beast::http::request_parser<boost::beast::http::string_body> {
 public:
  explicit RequestParser(std::size_t trailer_limit) : trailer_left_(trailer_limit) {}

 private:
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::beast::error_code& ec) override {
    // basic_fields stores a field's sizes (with their CRLF) in 16 bits.
    constexpr std::size_t max_part = std::numeric_limits<std::uint16_t>::max() - 2;
    const std::size_t line = name_string.size() + value.size() + 4;  // "name: value\r\n"
    if (name_string.size() > max_part || value.size() > max_part ||
        (is_header_done() && line > trailer_left_)) {
      ec = boost::beast::http::error::header_limit;
      return;
    }
    if (is_header_done()) trailer_left_ -= line;
    get().insert(name, name_string, value);
  }

  std::size_t trailer_left_;
};

}  // namespace hostprint
