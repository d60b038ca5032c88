// The HTTP request path: bytes -> the server's Beast parser with the server's limits -> route()
// over a fixed snapshot -> an answer that must be a valid status with a JSON body.
#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/json.hpp>

#include "agent/http_request.hpp"
#include "agent/http_server.hpp"
#include "agent/router.hpp"
#include "agent/snapshot.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace hostprint;
namespace http = boost::beast::http;

namespace {

std::shared_ptr<const Snapshot> fixed_snapshot() {
  proto::AssetSet inventory;
  auto processes = std::make_shared<std::vector<proto::ProcessInfo>>();
  processes->push_back({1, 0, "/usr/sbin/nginx", {}});
  processes->push_back({2, 0, "/usr/bin/java", {}});
  processes->push_back({3, 0, "/tmp/bad\xff", std::string(64, 'a')});
  inventory.add<proto::ProcessInfo>(processes);
  auto accounts = std::make_shared<std::vector<proto::Account>>();
  accounts->push_back({"root", 0, 0, "/root", "/bin/sh"});
  accounts->push_back({"www-data", 33, 33, "/var/www", "/usr/sbin/nologin"});
  inventory.add<proto::Account>(accounts);
  auto ports = std::make_shared<std::vector<proto::ListeningPort>>();
  ports->push_back({proto::PortType::tcp, 80});
  ports->push_back({proto::PortType::udp6, 53});
  inventory.add<proto::ListeningPort>(ports);
  return build_snapshot(inventory, {}, 1, 1.0);
}

void check_answer(const Answer& answer) {
  fuzz::require(answer.status >= 200 && answer.status <= 599, "status out of range");
  if (!answer.content_type.starts_with("application/json")) return;
  boost::system::error_code ec;
  auto body = boost::json::parse(answer.body, ec);
  fuzz::require(!ec && body.is_object(), "the body is not a JSON object");
  if (answer.status >= 400)
    fuzz::require(body.as_object().contains("error_code"), "an error without error_code");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto snapshot = fixed_snapshot();
  static const RouterSettings pinned{std::string("p"), "0", "host-1"};
  static const RouterSettings open{std::nullopt, "0", "host-1"};
  const HttpLimits limits;  // the server's defaults

  // As the server: one parser per request, fed what arrived, in as many pieces as Beast takes.
  RequestParser parser(limits.header_bytes);
  parser.header_limit(static_cast<std::uint32_t>(limits.header_bytes));
  parser.body_limit(limits.body_bytes);
  boost::asio::const_buffer rest(data, size);
  boost::beast::error_code ec;
  while (rest.size() > 0 && !parser.is_done()) {
    auto used = parser.put(rest, ec);
    rest += used;
    if (ec == http::error::need_more) {
      if (used == 0) break;  // the rest is a part-message: the server waits for more
      ec = {};
      continue;
    }
    if (ec) break;
  }
  if (!ec && rest.size() == 0 && parser.got_some() && !parser.is_done()) {
    boost::beast::error_code eof_ec;
    parser.put_eof(eof_ec);
    if (eof_ec || !parser.is_done()) return 0;
  }
  if (ec || !parser.is_done()) {
    // Refused requests get a fixed error answer; it must be valid too.
    check_answer(error_answer({400, "HSS.0001", "malformed request", ec.message()}));
    return 0;
  }
  const auto& request = parser.get();
  std::string_view accept;
  if (auto it = request.find(http::field::accept); it != request.end()) accept = it->value();
  const auto target = origin_form(request.target());
  for (const auto* settings : {&open, &pinned})
    check_answer(route(request.method_string(), target, *snapshot, *settings, accept));
  return 0;
}
