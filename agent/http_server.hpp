#pragma once
// HTTP/1.1 on Boost.Beast: persistent connections, pipelining, limits and timeouts per
// connection, a cap on connections, and a graceful stop. It knows nothing of the API.
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "agent/router.hpp"

namespace hostprint {

struct HttpLimits {
  std::size_t header_bytes = 64 * 1024;  // request line and headers
  std::size_t body_bytes = 64 * 1024;
  std::size_t max_connections = 512;
  std::chrono::seconds idle_timeout{30};   // waiting for (all of) the next request
  std::chrono::seconds write_timeout{10};  // sending one answer
};

struct HttpRequestView {
  std::string_view method;
  std::string_view target;
  std::optional<std::string_view> token;  // X-Auth-Token, when present
};

// Answers one request; must not throw (a throw becomes a logged 500).
using HttpHandler = std::function<Answer(const HttpRequestView&)>;

class HttpSession;

class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
             HttpHandler handler, HttpLimits limits = {});
  ~HttpServer();

  void start();
  // Stops accepting, closes idle connections, lets requests in flight finish; later requests on
  // open connections get 503 and the connection is closed.
  void begin_shutdown();
  bool shutting_down() const { return shutting_down_; }
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  std::size_t connection_count() const { return sessions_.size(); }

 private:
  friend class HttpSession;
  void accept_next();
  std::string next_request_id();

  boost::asio::io_context& io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_pause_;
  HttpHandler handler_;
  HttpLimits limits_;
  bool shutting_down_ = false;
  std::unordered_set<HttpSession*> sessions_;
  std::uint64_t request_counter_ = 0;
  std::uint32_t instance_tag_ = 0;
  std::chrono::steady_clock::time_point last_cap_warning_{};
};

}  // namespace hostprint
