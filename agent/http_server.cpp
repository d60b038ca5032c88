#include "agent/http_server.hpp"

#include <boost/asio/ip/v6_only.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdio>
#include <random>

#include "agent/logging.hpp"
#include "proto/api_error.hpp"

namespace hostprint {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  HttpSession(tcp::socket socket, HttpServer& server)
      : stream_(std::move(socket)), server_(server) {
    server_.sessions_.insert(this);
    boost::system::error_code ec;
    auto remote = stream_.socket().remote_endpoint(ec);
    if (!ec) peer_ = remote.address().to_string() + ":" + std::to_string(remote.port());
  }
  ~HttpSession() { server_.sessions_.erase(this); }

  void run() { read_next(); }

  // At shutdown: a connection waiting for its next request with nothing buffered is closed.
  void close_if_idle() {
    if (waiting_ && !parser_->got_some() && buffer_.size() == 0) {
      boost::system::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      stream_.socket().close(ec);
    }
  }

 private:
  void read_next() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.limits_.header_bytes));
    parser_->body_limit(server_.limits_.body_bytes);
    stream_.expires_after(server_.limits_.idle_timeout);
    waiting_ = true;
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_read(ec);
                     });
  }

  void on_read(beast::error_code ec) {
    waiting_ = false;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::bad_descriptor) {
      close();
      return;
    }
    const auto started = std::chrono::steady_clock::now();
    const std::string id = server_.next_request_id();
    if (ec) {
      proto::ApiError error;
      if (ec == http::error::header_limit)
        error = proto::request_too_large(431, "the request line and headers exceed 64 KiB");
      else if (ec == http::error::body_limit)
        error = proto::request_too_large(413, "the request body exceeds 64 KiB");
      else if (ec == http::error::partial_message)
        return close();  // the client went away mid-request
      else
        error = {400, "HSS.0001", "malformed request", "the request is not valid HTTP/1.1"};
      auto answer = error_answer(error);
      log_request(id, "-", "-", answer.status, answer.body.size(), started, ec.message());
      send(answer, id, /*head=*/false, /*keep_alive=*/false, 11);
      return;
    }

    auto& request = parser_->get();
    const bool head = request.method() == http::verb::head;
    Answer answer;
    if (server_.shutting_down_) {
      answer = error_answer(proto::shutting_down());
    } else {
      HttpRequestView view{request.method_string(), request.target(), std::nullopt};
      auto token = request.find("X-Auth-Token");
      if (token != request.end()) view.token = token->value();
      try {
        answer = server_.handler_(view);
      } catch (const std::exception& e) {
        log(LogLevel::error, "http", "request_id=" + id + " internal failure: " + printable(e.what()));
        answer = error_answer(proto::internal_error(id));
      }
    }
    const bool keep_alive = request.keep_alive() && !server_.shutting_down_;
    log_request(id, request.method_string(), request.target(), answer.status, answer.body.size(),
                started, {});
    send(answer, id, head, keep_alive, request.version());
  }

  void send(const Answer& answer, const std::string& id, bool head, bool keep_alive, unsigned version) {
    auto response = std::make_shared<http::response<http::string_body>>(
        static_cast<http::status>(answer.status), version);
    response->set(http::field::server, "hostprint");
    response->set(http::field::content_type, "application/json;charset=UTF-8");
    response->set(http::field::cache_control, "no-store");
    response->set("X-Request-Id", id);
    if (answer.allow_header) response->set(http::field::allow, "GET, HEAD");
    response->keep_alive(keep_alive);
    // A HEAD answer announces the length of the GET body without sending it.
    response->content_length(answer.body.size());
    if (!head) response->body() = answer.body;
    stream_.expires_after(server_.limits_.write_timeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response, keep_alive](beast::error_code ec, std::size_t) {
                        if (ec || !keep_alive) return self->close();
                        self->read_next();
                      });
  }

  void close() {
    boost::system::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    stream_.socket().close(ec);
  }

  void log_request(const std::string& id, std::string_view method, std::string_view target,
                   int status, std::size_t bytes, std::chrono::steady_clock::time_point started,
                   const std::string& problem) {
    const LogLevel level = status >= 500 ? LogLevel::warning : LogLevel::info;
    if (!log_enabled(level)) return;
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started).count();
    std::string line = "request_id=" + id + " peer=" + peer_ + " \"" + printable(method, 16) + " " +
                       printable(target, 300) + "\" " + std::to_string(status) + " " +
                       std::to_string(bytes) + "B " + std::to_string(micros) + "us";
    if (!problem.empty()) line += " (" + problem + ")";
    log(level, "http", line);
  }

  beast::tcp_stream stream_;
  HttpServer& server_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string peer_ = "-";
  bool waiting_ = false;
};

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& endpoint, HttpHandler handler,
                       HttpLimits limits)
    : io_(io), acceptor_(io), accept_pause_(io), handler_(std::move(handler)), limits_(limits) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  if (endpoint.protocol() == tcp::v6()) acceptor_.set_option(asio::ip::v6_only(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
  instance_tag_ = std::random_device{}();
}

HttpServer::~HttpServer() = default;

tcp::endpoint HttpServer::local_endpoint() const { return acceptor_.local_endpoint(); }

void HttpServer::start() { accept_next(); }

void HttpServer::accept_next() {
  acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (!ec) {
      if (sessions_.size() >= limits_.max_connections) {
        auto now = std::chrono::steady_clock::now();
        if (now - last_cap_warning_ > std::chrono::seconds(10)) {
          last_cap_warning_ = now;
          log(LogLevel::warning, "http", "connection refused: " + std::to_string(sessions_.size()) +
                                              " connections are open, the cap is " +
                                              std::to_string(limits_.max_connections));
        }
        boost::system::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<HttpSession>(std::move(socket), *this)->run();
      }
    } else {
      // Out of descriptors or memory: pause instead of spinning on the same failure.
      log(LogLevel::warning, "http", "accept failed: " + ec.message() + "; retrying in 100 ms");
      accept_pause_.expires_after(std::chrono::milliseconds(100));
      accept_pause_.async_wait([this](const boost::system::error_code& e) {
        if (!e && acceptor_.is_open()) accept_next();
      });
      return;
    }
    accept_next();
  });
}

void HttpServer::begin_shutdown() {
  if (shutting_down_) return;
  shutting_down_ = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  accept_pause_.cancel();
  // Copy: closing a session may end it and remove it from the set.
  std::vector<HttpSession*> open(sessions_.begin(), sessions_.end());
  for (auto* session : open)
    if (sessions_.contains(session)) session->close_if_idle();
}

std::string HttpServer::next_request_id() {
  char id[32];
  std::snprintf(id, sizeof id, "%08x-%08llx", instance_tag_,
                static_cast<unsigned long long>(++request_counter_));
  return id;
}

}  // namespace hostprint
