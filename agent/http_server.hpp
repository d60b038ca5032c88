#pragma once
// HTTP/1.1 on Boost.Beast: persistent connections, pipelining, limits and timeouts per
// connection, a cap on connections, and a graceful stop, over plain TCP or TLS. It knows nothing
// of the API.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/router.hpp"

namespace hostprint {

struct HttpLimits {
  std::size_t header_bytes = 64 * 1024;  // request line and headers
  std::size_t body_bytes = 64 * 1024;
  std::size_t max_connections = 512;
  std::chrono::seconds idle_timeout{30};       // waiting for (all of) the next request
  std::chrono::seconds write_timeout{10};      // sending one answer
  std::chrono::seconds linger{2};              // reading what a refused client still sends
  std::chrono::seconds handshake_timeout{10};  // TLS: from accept to the end of the handshake
  // At the cap, what may be closed for a newcomer: a connection quiet this long since its last
  // answer (one that never asked at once), or one whose request has been arriving this long.
  std::chrono::milliseconds evict_quiet_after{100};
  std::chrono::milliseconds evict_arriving_after{2000};
  // Refused connections still lingering after their 503 (up to `linger`); past this many a
  // newcomer over the cap is closed unanswered, so a flood cannot pile up descriptors.
  std::size_t max_refusing = 64;
  // Threads serving connections, the caller's (which runs the io_context given to the server)
  // being the first; each serves its share of the connections, given to the least loaded.
  unsigned threads = 1;
  // Each serving thread pinned to its own CPU of the process's set, in turn (http.cpu_affinity
  // auto); the caller's loop then only accepts. Without effect for one thread or one CPU.
  bool cpu_affinity = false;
};

struct HttpRequestView {
  std::string_view method;
  std::string_view target;  // origin-form ("/v5/..."), also for absolute-form requests
  // X-Auth-Token, or Authorization: Bearer, when exactly one of them is given, exactly once.
  std::optional<std::string_view> token;
  std::string_view accept;  // the Accept header, empty when absent
};

// Answers one request; must not throw (a throw becomes a logged 500).
using HttpHandler = std::function<Answer(const HttpRequestView&)>;

// An accepted connection, on the executor of the io_context that serves it.
using ServingSocket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

struct HttpServerState;
class TlsSource;

class HttpServer {
 public:
  // With `tls`, every connection speaks TLS, with the context `tls` holds when it is accepted.
  HttpServer(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
             HttpHandler handler, HttpLimits limits = {}, std::shared_ptr<TlsSource> tls = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Starts accepting, and the threads past the first.
  void start();
  // Stops accepting and closes idle connections. Requests already arriving are answered; a
  // request that starts later on an open connection gets 503, and the connection is closed.
  void begin_shutdown();
  bool shutting_down() const;
  boost::asio::ip::tcp::endpoint local_endpoint() const;
  std::size_t connection_count() const;
  // For the watchdog: whether every thread past the first ran the ping the previous call sent
  // it (true at the first call); sends the next. Called from the first thread, whose own
  // liveness the caller's timer shows.
  bool threads_answer();

 private:
  struct Worker;
  void accept_next();
  void dispatch(ServingSocket socket);

  boost::asio::io_context& io_;
  boost::asio::ip::tcp protocol_;  // the listening endpoint's, given to handed-off sockets
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer accept_pause_;
  // One per serving thread; the first runs on `io_` unless the threads are pinned. Each worker's
  // state is shared with its connections, which may outlive the server while the loop winds down.
  std::vector<std::unique_ptr<Worker>> workers_;
  std::atomic<bool> shutting_down_{false};
};

// Runs `io` until it stops or runs out of work. An exception escaping a handler (a library's
// length_error, bad_alloc, anything) has already destroyed that handler, and with it the
// connection it held; it is logged, and the loop goes on serving the others.
void run_io_loop(boost::asio::io_context& io);

}  // namespace hostprint
