#include "agent/prometheus_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "agent/logging.hpp"

namespace hostprint {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;

[[noreturn]] void malformed(std::string_view what) {
  throw EngineError("malformed answer from the engine: " + std::string(what));
}

// The engine's own error text from an error answer, when it sent one.
std::string engine_error_text(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  const auto* error = v.get_object().if_contains("error");
  if (!error || !error->is_string()) return {};
  return printable(std::string_view(error->get_string()), 300);
}

}  // namespace

EngineUrl parse_engine_url(std::string_view url) {
  const std::string shown = "'" + printable(url, 120) + "'";
  if (url.starts_with("https://"))
    throw EngineError(shown + ": https:// is not supported yet; use http:// (a local engine or a "
                              "TLS-terminating proxy on loopback)");
  if (!url.starts_with("http://"))
    throw EngineError(shown + " is not an http:// URL such as http://127.0.0.1:9090");
  std::string_view rest = url.substr(7);
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  for (char c : url)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      throw EngineError(shown + ": spaces and control characters are not allowed");
  if (path.find_first_of("?#") != std::string_view::npos)
    throw EngineError(shown + ": a query or fragment is not allowed in the base URL");
  if (authority.find('@') != std::string_view::npos)
    throw EngineError(shown + ": credentials in the URL are not supported");
  EngineUrl out;
  std::string_view port;
  if (authority.starts_with("[")) {
    auto close = authority.find(']');
    if (close == std::string_view::npos) throw EngineError(shown + ": unbalanced '['");
    out.host = std::string(authority.substr(1, close - 1));
    auto after = authority.substr(close + 1);
    if (!after.empty() && !after.starts_with(":")) throw EngineError(shown + ": bad port");
    if (!after.empty()) port = after.substr(1);
    boost::system::error_code ec;
    asio::ip::make_address_v6(out.host, ec);
    if (ec)
      throw EngineError(shown + ": not an IPv6 address in brackets");
  } else {
    auto colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) throw EngineError(shown + ": no host");
  if (port.empty() && authority.ends_with(":")) throw EngineError(shown + ": empty port");
  if (!port.empty()) {
    unsigned n = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
    if (ec != std::errc{} || end != port.data() + port.size() || n < 1 || n > 65535)
      throw EngineError(shown + ": the port must be from 1 to 65535");
  }
  out.port = port.empty() ? "80" : std::string(port);
  while (path.ends_with("/")) path.remove_suffix(1);
  out.base_path = std::string(path);
  out.host_header = std::string(authority);
  return out;
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() * 3);
  for (unsigned char c : text) {
    if ((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 15]);
    }
  }
  return out;
}

std::vector<PromSample> parse_query_response(std::string_view body) {
  // One arena for the parse: tens of thousands of small objects freed at once.
  json::monotonic_resource arena;
  json::parse_options options;
  options.max_depth = 16;
  boost::system::error_code ec;
  json::value root = json::parse(body, ec, &arena, options);
  if (ec) malformed("not JSON: " + ec.message());
  const auto* top = root.if_object();
  if (!top) malformed("not a JSON object");
  const auto* status = top->if_contains("status");
  if (!status || !status->is_string()) malformed("no status");
  if (status->get_string() != "success") {
    std::string text = engine_error_text(body);
    throw EngineError("the engine answered status '" + printable(status->get_string(), 40) + "'" +
                      (text.empty() ? "" : ": " + text));
  }
  const auto* data = top->if_contains("data");
  if (!data || !data->is_object()) malformed("no data object");
  const auto* type = data->get_object().if_contains("resultType");
  if (!type || !type->is_string() || type->get_string() != "vector")
    malformed("the result is not an instant vector");
  const auto* result = data->get_object().if_contains("result");
  if (!result || !result->is_array()) malformed("no result array");

  std::vector<PromSample> out;
  out.reserve(result->get_array().size());
  for (const auto& item : result->get_array()) {
    const auto* o = item.if_object();
    if (!o) malformed("a result that is not an object");
    const auto* metric = o->if_contains("metric");
    const auto* value = o->if_contains("value");
    if (!metric || !metric->is_object()) malformed("a result without a metric object");
    if (!value || !value->is_array() || value->get_array().size() != 2 ||
        !value->get_array()[1].is_string())
      malformed("a result without a [time, \"value\"] pair");
    PromSample sample;
    sample.labels.reserve(metric->get_object().size());
    for (const auto& member : metric->get_object()) {
      if (!member.value().is_string()) malformed("a label value that is not a string");
      sample.labels.emplace_back(std::string(member.key()),
                                 std::string(member.value().get_string()));
    }
    const auto& text = value->get_array()[1].get_string();
    auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), sample.value);
    if (err != std::errc{} || end != text.data() + text.size() || !std::isfinite(sample.value))
      malformed("a sample value that is not a finite number: '" + printable(text, 40) + "'");
    out.push_back(std::move(sample));
  }
  return out;
}

std::vector<PromSample> PrometheusClient::query(std::string_view promql) const {
  const auto deadline = std::chrono::steady_clock::now() + limits_.timeout;
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  beast::tcp_stream stream(io);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.header_limit(64 * 1024);
  parser.body_limit(limits_.max_answer_bytes);

  http::request<http::empty_body> request{
      http::verb::get, url_.base_path + "/api/v1/query?query=" + percent_encode(promql), 11};
  request.set(http::field::host, url_.host_header);
  request.set(http::field::accept, "application/json");
  request.set(http::field::user_agent, "hostprint/" HOSTPRINT_VERSION);
  request.keep_alive(false);

  const std::string where = url_.host_header;
  std::string failure;
  bool done = false;
  auto fail = [&](std::string what, const boost::system::error_code& ec) {
    failure = what + " " + where + ": " +
              (ec == beast::error::timeout ? "timed out" : ec.message());
  };
  auto on_read = [&](const boost::system::error_code& ec, std::size_t) {
    if (ec == http::error::body_limit)
      failure = "the engine's answer is larger than " +
                std::to_string(limits_.max_answer_bytes) + " bytes";
    else if (ec)
      fail("reading the answer from", ec);
    else
      done = true;
  };
  auto on_connect = [&](const boost::system::error_code& ec, const auto&) {
    if (ec) return fail("cannot connect to", ec);
    stream.expires_at(deadline);
    http::async_write(stream, request, [&](const boost::system::error_code& e, std::size_t) {
      if (e) return fail("sending the query to", e);
      stream.expires_at(deadline);
      http::async_read(stream, buffer, parser, on_read);
    });
  };
  auto on_resolve = [&](const boost::system::error_code& ec,
                        const asio::ip::tcp::resolver::results_type& results) {
    if (ec) return fail("cannot resolve", ec);
    stream.expires_at(deadline);
    stream.async_connect(results, on_connect);
  };
  boost::system::error_code literal;
  asio::ip::make_address(url_.host, literal);
  // An address needs no resolver thread; a name does, and its lookup is bounded by run_until.
  resolver.async_resolve(url_.host, url_.port,
                         literal ? asio::ip::resolver_base::flags{}
                                 : asio::ip::resolver_base::numeric_host,
                         on_resolve);
  io.run_until(deadline);
  if (!done && failure.empty()) failure = "no answer from " + where + " within the timeout";
  if (!done) {
    resolver.cancel();
    stream.socket().close();
    throw EngineError(failure);
  }
  const auto& response = parser.get();
  if (response.result() != http::status::ok) {
    std::string text = engine_error_text(response.body());
    throw EngineError("the engine answered HTTP " + std::to_string(response.result_int()) +
                      (text.empty() ? "" : ": " + text));
  }
  return parse_query_response(response.body());
}

}  // namespace hostprint
