#include "agent/http_server.hpp"

#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdio>
#include <future>
#include <limits>
#include <list>
#include <optional>
#include <random>
#include <system_error>
#include <thread>
#include <utility>

#include "agent/cpu_affinity.hpp"
#include "agent/http_request.hpp"
#include "agent/logging.hpp"
#include "agent/tls.hpp"
#include "agent/tls_stream.hpp"
#include "proto/api_error.hpp"

namespace hostprint {

namespace beast = boost::beast;
namespace http = boost::beast::http;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
// Plain connections are the bare socket, on their executor's own type: beast::basic_stream's
// timer, armed and cancelled at every read and write, cost a round of the loop each time.
using PlainStream = ServingSocket;
using PlainTimer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                              asio::wait_traits<std::chrono::steady_clock>,
                                              ServingSocket::executor_type>;

class SessionBase;

// One serving thread's connections. Only that thread touches it, but for `shutting_down` (set by
// the server's) and `load` (read by the acceptor).
struct HttpServerState {
  HttpHandler handler;
  HttpLimits limits;  // max_connections and max_refusing: this thread's share
  std::shared_ptr<TlsSource> tls;  // null: plain TCP
  std::atomic<bool> shutting_down{false};
  std::list<SessionBase*> sessions;  // oldest first
  // Connections handed to this thread and not yet ended, those on their way to it included: what
  // the acceptor balances on.
  std::atomic<std::size_t> load{0};
  std::size_t refusing = 0;  // sessions given a 503 for the cap, not yet closed
  // One sequence of request ids for the whole server.
  std::shared_ptr<std::atomic<std::uint64_t>> request_counter;
  std::uint32_t instance_tag = 0;
  std::chrono::steady_clock::time_point last_cap_warning{};

  // A request id in place: past std::string's short buffer, a heap block per request.
  struct RequestId {
    char text[9 + 16];
    std::size_t size;
    operator std::string_view() const { return {text, size}; }
    std::string str() const { return std::string(text, size); }
  };

  // "%08x-%08llx" of the tag and the count, without printf's cost on every request.
  RequestId next_request_id() {
    static constexpr char digits[] = "0123456789abcdef";
    const std::uint64_t count = ++*request_counter;
    const int count_digits = std::max(8, (static_cast<int>(std::bit_width(count)) + 3) / 4);
    RequestId id;
    id.size = 9 + static_cast<std::size_t>(count_digits);
    id.text[8] = '-';
    for (int i = 0; i < 8; ++i) id.text[7 - i] = digits[(instance_tag >> (4 * i)) & 0xf];
    for (int i = 0; i < count_digits; ++i)
      id.text[id.size - 1 - static_cast<std::size_t>(i)] = digits[(count >> (4 * i)) & 0xf];
    return id;
  }
};

// What the server's bookkeeping (cap, eviction, shutdown) needs of a connection, whatever it
// speaks.
class SessionBase {
 public:
  explicit SessionBase(std::shared_ptr<HttpServerState> state)
      : state_(std::move(state)),
        buffer_(state_->limits.header_bytes + state_->limits.body_bytes + 8192) {
    position_ = state_->sessions.insert(state_->sessions.end(), this);
    ++state_->load;
  }
  virtual ~SessionBase() {
    state_->sessions.erase(position_);
    if (refusing_) --state_->refusing;
    --state_->load;
  }
  SessionBase(const SessionBase&) = delete;
  SessionBase& operator=(const SessionBase&) = delete;

  virtual void run() = 0;
  // Over the connection cap with nothing to evict: one 503 and goodbye.
  virtual void refuse() = 0;
  virtual void close_now() = 0;

  // Waiting for a next request of which no byte has come, or still in the TLS handshake: safe to
  // close.
  bool idle() const {
    return handshaking_ || (waiting_ && !parser_->got_some() && buffer_.size() == 0);
  }
  // When the connection last finished something (accepted, or its last answer sent).
  std::chrono::steady_clock::time_point idle_since() const { return idle_since_; }
  // Idle, and either it never asked anything or it has been quiet long enough that no
  // conversation is cut: a client pausing between its requests keeps its connection.
  bool quiet(std::chrono::steady_clock::time_point now) const {
    return idle() && (!asked_ || now - idle_since_ >= state_->limits.evict_quiet_after);
  }
  // A request whose bytes have been trickling in for long (a slowloris): evictable too.
  bool arriving_slowly(std::chrono::steady_clock::time_point now) const {
    return waiting_ && !idle() && now - idle_since_ >= state_->limits.evict_arriving_after;
  }

  // At shutdown: close if idle; a request already arriving is finished.
  void on_shutdown() {
    if (idle())
      close_now();
    else
      finish_current_ = true;
  }

 protected:
  std::shared_ptr<HttpServerState> state_;
  std::list<SessionBase*>::iterator position_;
  beast::flat_buffer buffer_;  // bounded: a chunk line or trailer cannot grow it past the limits
  std::optional<RequestParser> parser_;
  std::string peer_ = "-";
  bool waiting_ = false;
  bool handshaking_ = false;
  bool finish_current_ = false;
  bool asked_ = false;   // a request has been read
  bool refusing_ = false;  // given a 503 for the cap
  bool closed_ = false;  // closed by the server (evicted, shut down, timed out)
  std::chrono::steady_clock::time_point idle_since_ = std::chrono::steady_clock::now();
};

template <class Stream>
class HttpSession final : public SessionBase,
                          public std::enable_shared_from_this<HttpSession<Stream>> {
  static constexpr bool tls = std::is_same_v<Stream, TlsStream>;

 public:
  HttpSession(ServingSocket socket, std::shared_ptr<HttpServerState> state,
              std::shared_ptr<TlsContext> context)
      : SessionBase(std::move(state)), stream_(make_stream(std::move(socket), std::move(context))) {
    boost::system::error_code ec;
    auto remote = this->socket().remote_endpoint(ec);
    if (!ec) peer_ = remote.address().to_string() + ":" + std::to_string(remote.port());
    // Each answer is one write: Nagle's wait for an ACK can only delay it (as nginx, tcp_nodelay).
    this->socket().set_option(tcp::no_delay(true), ec);
    if constexpr (!tls) {
      timer_.emplace(stream_.get_executor());
      // Answers are written at once when the socket takes them (nearly always): no loop round.
      this->socket().non_blocking(true, ec);
    }
  }

  void run() override {
    if constexpr (tls)
      handshake([](HttpSession& self) { self.read_next(); });
    else
      read_next();
  }

  void close_now() override {
    closed_ = true;
    boost::system::error_code ec;
    socket().shutdown(tcp::socket::shutdown_both, ec);
    socket().close(ec);
  }

  void refuse() override {
    refusing_ = true;
    ++state_->refusing;
    if constexpr (tls)
      handshake([](HttpSession& self) { self.send_refusal(); });
    else
      send_refusal();
  }

 private:
  static Stream make_stream(ServingSocket socket, std::shared_ptr<TlsContext> context) {
    if constexpr (tls)
      return Stream(tcp::socket(std::move(socket)), std::move(context));
    else
      return Stream(std::move(socket));
  }

  auto& lowest() { return beast::get_lowest_layer(stream_); }
  auto& socket() {
    if constexpr (tls)
      return lowest().socket();
    else
      return stream_;
  }

  // The deadline of what the connection waits for now (the next request, an answer's write, the
  // linger). TLS: the stream's own timer. Plain: one timer per connection, which is only moved
  // when it fires before the deadline or the deadline comes earlier than it.
  void expire_after(std::chrono::steady_clock::duration limit,
                    std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
    if constexpr (tls) {
      lowest().expires_after(limit);
    } else {
      deadline_ = now + limit;
      if (!timer_set_ || deadline_ < timer_->expiry()) arm_timer();
    }
  }

  void arm_timer() {
    timer_set_ = true;
    timer_->expires_at(deadline_);  // a wait already pending ends with operation_aborted
    // Weak: a closed connection is not kept for the rest of its timeout.
    timer_->async_wait([weak = this->weak_from_this()](const beast::error_code& ec) {
      auto self = weak.lock();
      if (!self || ec == asio::error::operation_aborted) return;
      self->timer_set_ = false;
      if (!self->socket().is_open()) return;
      if (std::chrono::steady_clock::now() >= self->deadline_)
        self->close_now();  // the pending read or write ends with operation_aborted
      else
        self->arm_timer();
    });
  }

  void send_refusal() {
    auto error = error_answer(proto::shutting_down());
    error.body = proto::to_json(proto::ApiError{503, "HSS.0002", "service unavailable",
                                                "too many connections; try again later"});
    send(error, state_->next_request_id(), false, false, 11);
  }

  // The handshake has its own deadline; until it is done the connection counts against the cap
  // and is the first to go when room is needed, like an idle one.
  template <class Next>
  void handshake(Next next) {
    handshaking_ = true;
    lowest().expires_after(state_->limits.handshake_timeout);
    stream_.async_handshake(
        [self = this->shared_from_this(), next](beast::error_code ec, std::size_t) {
          self->handshaking_ = false;
          if (ec) {
            self->log_handshake_failure(ec);
            return self->close_now();
          }
          next(*self);
        });
  }

  // One line per failed handshake; a client that closes before it (a port probe) only at debug.
  void log_handshake_failure(const beast::error_code& ec) {
    if (closed_) return;
    LogLevel level = LogLevel::info;
    std::string what;
    if (ec == beast::error::timeout) {
      what = "no TLS handshake within " + std::to_string(state_->limits.handshake_timeout.count()) +
             " s";
    } else if (ec == asio::error::eof || ec == TlsErrc::truncated ||
               ec == asio::error::connection_reset) {
      level = LogLevel::debug;
      what = "closed the connection during the TLS handshake";
    } else if (ec == TlsErrc::plain_http) {
      what = "sent plain HTTP to the HTTPS port";
    } else if (ec == TlsErrc::failed) {
      if constexpr (tls) what = "TLS handshake failed: " + stream_.failure_reason();
    } else {
      what = "TLS handshake failed: " + printable(ec.message(), 200);
    }
    log(level, "http", "peer=" + peer_ + " " + what + "; connection closed");
  }

  void read_next() {
    parser_.emplace(state_->limits.header_bytes);
    parser_->header_limit(static_cast<std::uint32_t>(state_->limits.header_bytes));
    parser_->body_limit(state_->limits.body_bytes);
    idle_since_ = std::chrono::steady_clock::now();
    expire_after(state_->limits.idle_timeout, idle_since_);
    waiting_ = true;
    reading_body_ = false;
    parse_or_read();
  }

  // Beast's http::async_read_header and async_read, without their composed operations (a post
  // when the parser is already done, a round of the loop per step): parse what the buffer holds,
  // read when the parser needs more, with the same errors.
  void parse_or_read() {
    for (;;) {
      if (reading_body_ ? parser_->is_done() : parser_->is_header_done()) return phase_done({});
      if (buffer_.size() > 0) {
        beast::error_code ec;
        buffer_.consume(parser_->put(buffer_.data(), ec));
        if (ec && ec != http::error::need_more) return phase_done(ec);
        if (!ec) continue;
      }
      const std::size_t size = beast::read_size(buffer_, 65536);
      if (size == 0) return phase_done(http::error::buffer_overflow);
      stream_.async_read_some(buffer_.prepare(size), [self = this->shared_from_this()](
                                                         beast::error_code ec, std::size_t n) {
        self->on_bytes(ec, n);
      });
      return;
    }
  }

  void on_bytes(beast::error_code ec, std::size_t n) {
    buffer_.commit(n);
    if (ec == asio::error::eof) {
      if (!parser_->got_some()) return phase_done(http::error::end_of_stream);
      // A message ended by the close (or cut short: partial_message).
      ec = {};
      parser_->put_eof(ec);
      return phase_done(ec);
    }
    if (ec) return phase_done(ec);
    parse_or_read();
  }

  void phase_done(beast::error_code ec) {
    if (reading_body_ || ec) return on_read(ec);
    on_header();
  }

  void on_header() {
    auto& request = parser_->get();
    auto expect = request.find(http::field::expect);
    const bool body_follows =
        parser_->chunked() || (parser_->content_length() && *parser_->content_length() > 0);
    if (expect != request.end() && beast::iequals(expect->value(), "100-continue") &&
        body_follows && !parser_->is_done()) {
      // The client waits for leave to send its body; give it (an oversized one fails on reading).
      static constexpr std::string_view go_on = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(go_on.data(), go_on.size()),
                        [self = this->shared_from_this()](beast::error_code e, std::size_t) {
                          if (e) return self->on_read(e);
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    reading_body_ = true;
    parse_or_read();
  }

  void on_read(beast::error_code ec) {
    waiting_ = false;
    asked_ = true;
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
        ec == asio::error::bad_descriptor || ec == http::error::partial_message ||
        ec == asio::error::eof || ec.category() == tls_category()) {
      // A TLS failure (a bad record, a truncated stream) leaves nothing to answer over.
      close_now();
      return;
    }
    const auto started = std::chrono::steady_clock::now();
    const auto id = state_->next_request_id();
    if (ec) {
      proto::ApiError error;
      if (ec == http::error::header_limit && parser_->is_header_done())
        error = proto::request_too_large(431, "the trailer fields exceed 64 KiB");
      else if (ec == http::error::header_limit ||
               (ec == http::error::buffer_overflow && !parser_->is_header_done()))
        error = proto::request_too_large(431, "the request line and headers exceed 64 KiB");
      else if (ec == http::error::body_limit || ec == http::error::buffer_overflow)
        error = proto::request_too_large(413, "the request body exceeds 64 KiB");
      else
        error = {400, "HSS.0001", "malformed request", "the request is not valid HTTP/1.1"};
      auto answer = error_answer(error);
      const bool header = parser_->is_header_done();
      log_request(id, header ? parser_->get().method_string() : "-",
                  header ? parser_->get().target() : "-", answer.status, answer.body.size(),
                  started, error.description + ": " + ec.message());
      send(answer, id, false, false, 11);
      return;
    }

    auto& request = parser_->get();
    const bool head = request.method() == http::verb::head;
    Answer answer;
    const FieldsSeen seen = scan_fields(request);
    if (auto problem = framing_problem(request, seen)) {
      answer = error_answer({400, "HSS.0001", "malformed request", *problem});
      log_request(id, request.method_string(), request.target(), answer.status, answer.body.size(),
                  started, *problem);
      send(answer, id, head, false, request.version());
      return;
    }
    if (state_->shutting_down && !finish_current_) {
      answer = error_answer(proto::shutting_down());
    } else {
      HttpRequestView view{request.method_string(), origin_form(request.target()),
                           request_token(seen), seen.accept};
      try {
        answer = state_->handler(view);
      } catch (const std::exception& e) {
        log(LogLevel::error, "http",
            "request_id=" + id.str() + " internal failure: " + printable(e.what()));
        answer = error_answer(proto::internal_error(id));
      } catch (...) {
        log(LogLevel::error, "http",
            "request_id=" + id.str() + " internal failure: unknown exception");
        answer = error_answer(proto::internal_error(id));
      }
    }
    finish_current_ = false;
    const bool keep_alive = request.keep_alive() && !state_->shutting_down;
    log_request(id, request.method_string(), request.target(), answer.status, answer.body.size(),
                started, {});
    send(answer, id, head, keep_alive, request.version());
  }

  // The fields the server reads, each the first of its name, with how many there are: one pass
  // over a request's few fields instead of Beast's count() and find(), which each walk its tree
  // with case-insensitive compares (a tenth of the instructions of a request, under callgrind).
  struct FieldsSeen {
    std::size_t hosts = 0, transfer_encodings = 0, tokens = 0, authorizations = 0, accepts = 0;
    std::string_view transfer_encoding, token, authorization, accept;
  };
  static FieldsSeen scan_fields(const http::request<http::string_body>& request) {
    FieldsSeen seen;
    for (const auto& f : request) {
      switch (f.name()) {
        case http::field::host:
          ++seen.hosts;
          break;
        case http::field::transfer_encoding:
          if (seen.transfer_encodings++ == 0) seen.transfer_encoding = f.value();
          break;
        case http::field::authorization:
          if (seen.authorizations++ == 0) seen.authorization = f.value();
          break;
        case http::field::accept:
          if (seen.accepts++ == 0) seen.accept = f.value();
          break;
        case http::field::unknown:
          if (beast::iequals(f.name_string(), "X-Auth-Token") && seen.tokens++ == 0)
            seen.token = f.value();
          break;
        default:
          break;
      }
    }
    return seen;
  }

  // A repeated token header, or a token sent both ways, is ambiguous: it authenticates nothing.
  static std::optional<std::string_view> request_token(const FieldsSeen& seen) {
    if (seen.tokens + seen.authorizations != 1) return std::nullopt;
    if (seen.tokens == 1) return seen.token;
    std::string_view value = seen.authorization;
    constexpr std::string_view scheme = "bearer ";
    if (value.size() <= scheme.size() || !beast::iequals(value.substr(0, scheme.size()), scheme))
      return std::nullopt;
    value.remove_prefix(scheme.size());
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    return value;
  }

  // RFC 9112: a request whose length cannot be told, or an HTTP/1.1 request without Host.
  static std::optional<std::string> framing_problem(const http::request<http::string_body>& request,
                                                    const FieldsSeen& seen) {
    if (request.version() >= 11 && seen.hosts != 1)
      return "an HTTP/1.1 request needs exactly one Host header";
    if (seen.transfer_encodings > 0) {
      std::string_view codings = seen.transfer_encoding;
      auto last_comma = codings.rfind(',');
      std::string_view last =
          codings.substr(last_comma == std::string_view::npos ? 0 : last_comma + 1);
      while (!last.empty() && (last.front() == ' ' || last.front() == '\t')) last.remove_prefix(1);
      while (!last.empty() && (last.back() == ' ' || last.back() == '\t')) last.remove_suffix(1);
      if (!beast::iequals(last, "chunked") || seen.transfer_encodings != 1 ||
          codings.find(',') != std::string_view::npos)
        return "Transfer-Encoding must be chunked alone";
    }
    return std::nullopt;
  }

  // The answer's bytes are laid out here, in one buffer the session keeps (one write at a time):
  // Beast's serializer, which walks a view of several buffers, cost more than the request.
  void send(const Answer& answer, std::string_view id, bool head, bool keep_alive,
            unsigned version) {
    const auto status = static_cast<http::status>(answer.status);
    const std::string_view reason = http::obsolete_reason(status);
    char length[24];
    const auto end = std::to_chars(length, length + sizeof length, answer.body.size()).ptr;
    out_.clear();
    out_.reserve(256 + (head ? 0 : answer.body.size()));
    out_.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ").append(std::to_string(answer.status));
    out_.append(" ").append(reason).append("\r\nServer: hostprint\r\nContent-Type: ");
    out_.append(answer.content_type).append("\r\nCache-Control: no-store\r\nX-Request-Id: ");
    out_.append(id).append("\r\n");
    if (answer.allow_header) out_.append("Allow: GET, HEAD\r\n");
    // HTTP/1.1 keeps the connection unless told; HTTP/1.0 closes it unless told.
    if (version == 10 && keep_alive) out_.append("Connection: keep-alive\r\n");
    if (version != 10 && !keep_alive) out_.append("Connection: close\r\n");
    // A HEAD answer announces the length of the GET body without sending it.
    out_.append("Content-Length: ").append(length, end).append("\r\n\r\n");
    if (!head) out_.append(answer.body);
    std::size_t written = 0;
    if constexpr (!tls) {
      beast::error_code ec;
      written = stream_.write_some(asio::buffer(out_), ec);  // the socket is non-blocking
      if (ec == asio::error::would_block || ec == asio::error::try_again) {
        written = 0;
      } else if (ec) {
        return close_now();
      } else if (written == out_.size()) {
        // A pipelined request already in the buffer is read on the next round, so that a long
        // pipeline does not recurse.
        if (keep_alive && buffer_.size() > 0)
          return asio::post(stream_.get_executor(),
                            [self = this->shared_from_this()] { self->sent(true); });
        return sent(keep_alive);
      }
    }
    expire_after(state_->limits.write_timeout);
    asio::async_write(stream_, asio::buffer(out_) + written,
                      [self = this->shared_from_this(), keep_alive](beast::error_code ec,
                                                                    std::size_t) {
                        if (ec) return self->close_now();
                        self->sent(keep_alive);
                      });
  }

  void sent(bool keep_alive) {
    // A large answer's buffer is not kept for the connection's life.
    if (out_.capacity() > 16 * 1024) std::string().swap(out_);
    if (!keep_alive) return linger();
    read_next();
  }

  // Closing with unread bytes would reset the connection and could destroy the answer before the
  // client reads it (RFC 9112 9.6): stop sending, then read and drop input for a short while.
  // Over TLS, close_notify goes first (bounded by the same linger time), so that the client can
  // tell the end from a truncation.
  void linger() {
    expire_after(state_->limits.linger);
    if constexpr (tls)
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code, std::size_t) { self->linger_tcp(); });
    else
      linger_tcp();
  }

  void linger_tcp() {
    boost::system::error_code ec;
    socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close_now();
    drain(0);
  }

  void drain(std::size_t drained) {
    constexpr std::size_t max_drained = 4 * 1024 * 1024;
    if (drained > max_drained) return close_now();
    lowest().async_read_some(asio::buffer(scratch_), [self = this->shared_from_this(), drained](
                                                         beast::error_code ec, std::size_t n) {
      if (ec) return self->close_now();
      self->drain(drained + n);
    });
  }

  void log_request(std::string_view id, std::string_view method, std::string_view target,
                   int status, std::size_t bytes, std::chrono::steady_clock::time_point started,
                   const std::string& problem) {
    const LogLevel level = status >= 500 ? LogLevel::warning : LogLevel::info;
    if (!log_enabled(level)) return;
    auto micros = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - started)
                      .count();
    std::string line = "request_id=";
    line.append(id);
    line.append(" peer=").append(peer_).append(" \"").append(printable(method, 16)).append(" ");
    line.append(printable(target, 300)).append("\" ").append(std::to_string(status)).append(" ");
    line.append(std::to_string(bytes)).append("B ").append(std::to_string(micros)).append("us");
    if (!problem.empty()) line.append(" (").append(problem).append(")");
    log(level, "http", line);
  }

  Stream stream_;
  std::optional<PlainTimer> timer_;  // plain connections only
  std::chrono::steady_clock::time_point deadline_{};
  bool timer_set_ = false;
  bool reading_body_ = false;
  std::string out_;  // the answer being written
  std::array<char, 8192> scratch_{};
};

namespace {

// Admits a connection on its thread: within the thread's share of the cap, or by closing an idle
// or trickling connection of the thread, or with a 503 (or, past the lingering refusals, closed).
void admit(const std::shared_ptr<HttpServerState>& state_ptr, ServingSocket socket) {
  auto& state = *state_ptr;
  bool refuse = false;
  if (state.sessions.size() >= state.limits.max_connections) {
    // Make room by closing the connection that has waited longest without sending anything
    // (since its last answer, not since it was accepted), unless it is pausing between requests;
    // failing that, the one whose request has been trickling in longest (a slowloris crowd
    // cannot hold the cap). When every connection is busy, the newcomer is told so.
    const auto now = std::chrono::steady_clock::now();
    SessionBase* idle_longest = nullptr;
    SessionBase* slowest = nullptr;
    for (auto* session : state.sessions) {
      SessionBase** pick = session->quiet(now)             ? &idle_longest
                           : session->arriving_slowly(now) ? &slowest
                                                           : nullptr;
      if (pick && (!*pick || session->idle_since() < (*pick)->idle_since())) *pick = session;
    }
    if (auto* victim = idle_longest ? idle_longest : slowest) {
      victim->close_now();
    } else {
      refuse = true;
      if (now - state.last_cap_warning > std::chrono::seconds(10)) {
        state.last_cap_warning = now;
        log(LogLevel::warning, "http",
            "connection refused with 503: all " + std::to_string(state.limits.max_connections) +
                " connections of a serving thread are busy");
      }
    }
  }
  // From here the session, if one is made, carries the connection's share of the load.
  --state.load;
  if (refuse && state.refusing >= state.limits.max_refusing) {
    boost::system::error_code ec;
    socket.close(ec);
    return;
  }
  std::shared_ptr<SessionBase> session;
  if (state.tls)
    session =
        std::make_shared<HttpSession<TlsStream>>(std::move(socket), state_ptr, state.tls->current());
  else
    session = std::make_shared<HttpSession<PlainStream>>(std::move(socket), state_ptr, nullptr);
  if (refuse)
    session->refuse();
  else
    session->run();
}

// A connection on its way from the acceptor to another thread: closed, and taken off that
// thread's load, if it never arrives (the thread stopped first).
struct Handoff {
  int fd = -1;
  std::shared_ptr<HttpServerState> state;
  tcp protocol = tcp::v4();

  Handoff(int f, std::shared_ptr<HttpServerState> s, tcp p) : fd(f), state(std::move(s)), protocol(p) {}
  Handoff(Handoff&& other) noexcept
      : fd(std::exchange(other.fd, -1)), state(std::move(other.state)), protocol(other.protocol) {}
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;
  Handoff& operator=(Handoff&&) = delete;
  ~Handoff() {
    if (fd < 0) return;
    ::close(fd);
    --state->load;
  }

  void arrive(asio::io_context& io) {
    ServingSocket socket(io);
    boost::system::error_code ec;
    socket.assign(protocol, fd, ec);
    if (ec) return;  // the destructor closes it
    fd = -1;
    try {
      admit(state, std::move(socket));
    } catch (const std::exception& e) {
      log(LogLevel::error, "http", "a new connection failed: " + printable(e.what()));
    } catch (...) {
      log(LogLevel::error, "http", "a new connection failed: unknown exception");
    }
  }
};

}  // namespace

struct HttpServer::Worker {
  std::unique_ptr<asio::io_context> own_io;  // null for the thread that runs the server's loop
  asio::io_context* io = nullptr;
  int cpu = -1;  // the CPU the thread pins itself to, if any
  std::shared_ptr<HttpServerState> state;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
  std::thread thread;
  std::uint64_t pings_sent = 0;  // by the first thread only
  std::atomic<std::uint64_t> pings_run{0};
};

HttpServer::HttpServer(asio::io_context& io, const tcp::endpoint& endpoint, HttpHandler handler,
                       HttpLimits limits, std::shared_ptr<TlsSource> tls)
    : io_(io), protocol_(endpoint.protocol()), acceptor_(io), accept_pause_(io) {
  const unsigned threads = std::clamp(limits.threads, 1u, 64u);
  auto counter = std::make_shared<std::atomic<std::uint64_t>>(0);
  const std::uint32_t tag = std::random_device{}();
  // Pinned threads are all the server's own: the caller's thread, which starts others (the
  // scanner's, the fleet's queries) that would inherit a pin, keeps the process's CPUs.
  const auto& cpus = process_cpus();
  const bool pinned = limits.cpu_affinity && threads > 1 && cpus.size() > 1;
  if (limits.cpu_affinity && !pinned)
    log(LogLevel::info, "http",
        "http.cpu_affinity auto: " +
            std::string(threads > 1 ? "only one CPU is allowed" : "one serving thread") +
            ", so no thread is pinned");
  for (unsigned i = 0; i < threads; ++i) {
    auto worker = std::make_unique<Worker>();
    if (i > 0 || pinned) worker->own_io = std::make_unique<asio::io_context>(1);
    worker->io = worker->own_io ? worker->own_io.get() : &io;
    if (pinned) worker->cpu = cpus[i % cpus.size()];
    worker->state = std::make_shared<HttpServerState>();
    auto& state = *worker->state;
    state.handler = handler;
    state.limits = limits;
    // The cap and the lingering refusals are shared out; the acceptor keeps the shares even.
    state.limits.max_connections = (limits.max_connections + i) / threads;
    state.limits.max_refusing = std::max<std::size_t>(1, (limits.max_refusing + i) / threads);
    state.tls = tls;
    state.request_counter = counter;
    state.instance_tag = tag;
    workers_.push_back(std::move(worker));
  }
  acceptor_.open(protocol_);
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  if (endpoint.protocol() == tcp::v6()) acceptor_.set_option(asio::ip::v6_only(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

HttpServer::~HttpServer() {
  // Connections still open hold their state; they must no longer call into the API.
  for (auto& worker : workers_) worker->state->shutting_down = true;
  for (auto& worker : workers_) {
    if (!worker->own_io) continue;
    worker->keep_running.reset();
    worker->own_io->stop();
  }
  for (auto& worker : workers_)
    if (worker->thread.joinable()) worker->thread.join();
  // Each own io_context, destroyed with its worker, destroys the connections it still held.
}

bool HttpServer::shutting_down() const {
  return shutting_down_;
}

std::size_t HttpServer::connection_count() const {
  std::size_t n = 0;
  for (const auto& worker : workers_) n += worker->state->load;
  return n;
}

bool HttpServer::threads_answer() {
  bool all = true;
  for (auto& worker : workers_) {
    if (!worker->own_io) continue;
    if (worker->pings_run != worker->pings_sent) {
      all = false;  // still busy with something since the last ping: not pinged again
      continue;
    }
    const auto n = ++worker->pings_sent;
    asio::post(*worker->own_io, [w = worker.get(), n] { w->pings_run = n; });
  }
  return all;
}

tcp::endpoint HttpServer::local_endpoint() const {
  return acceptor_.local_endpoint();
}

void HttpServer::start() {
  // Each pinned thread tells how its pin went before it serves, so the log says what holds.
  std::vector<std::pair<int, std::future<int>>> pins;
  for (auto& worker : workers_) {
    if (!worker->own_io || worker->thread.joinable()) continue;
    worker->keep_running.emplace(worker->own_io->get_executor());
    std::promise<int> pinned;
    if (worker->cpu >= 0) pins.emplace_back(worker->cpu, pinned.get_future());
    worker->thread = std::thread(
        [io = worker->own_io.get(), cpu = worker->cpu, pinned = std::move(pinned)]() mutable {
          if (cpu >= 0) pinned.set_value(pin_this_thread(cpu));
          run_io_loop(*io);
        });
  }
  std::vector<int> held;
  for (auto& [cpu, outcome] : pins) {
    if (int error = outcome.get())
      log(LogLevel::warning, "http",
          "http.cpu_affinity auto: cannot pin a serving thread to CPU " + std::to_string(cpu) +
              ": " + std::generic_category().message(error) + "; it runs on any CPU");
    else
      held.push_back(cpu);
  }
  if (!held.empty())
    log(LogLevel::info, "http",
        "http.cpu_affinity auto: " + std::to_string(held.size()) +
            " serving threads, pinned to CPUs " + cpu_list_text(held) + " in turn");
  accept_next();
}

void HttpServer::accept_next() {
  acceptor_.async_accept(io_, [this](boost::system::error_code ec, ServingSocket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of descriptors or memory: pause instead of spinning on the same failure.
      log(LogLevel::warning, "http", "accept failed: " + ec.message() + "; retrying in 100 ms");
      accept_pause_.expires_after(std::chrono::milliseconds(100));
      accept_pause_.async_wait([this](const boost::system::error_code& e) {
        if (!e && acceptor_.is_open()) accept_next();
      });
      return;
    }
    // Whatever fails for this newcomer, the server keeps accepting.
    try {
      dispatch(std::move(socket));
    } catch (const std::exception& e) {
      log(LogLevel::error, "http", "a new connection failed: " + printable(e.what()));
    } catch (...) {
      log(LogLevel::error, "http", "a new connection failed: unknown exception");
    }
    accept_next();
  });
}

// To the thread with the fewest connections (the first of them).
void HttpServer::dispatch(ServingSocket socket) {
  Worker* target = workers_.front().get();
  std::size_t least = target->state->load;
  for (auto& worker : workers_) {
    const std::size_t load = worker->state->load;
    if (load < least) least = load, target = worker.get();
  }
  ++target->state->load;
  if (target->io == &io_) return admit(target->state, std::move(socket));
  Handoff handoff(socket.release(), target->state, protocol_);
  asio::post(*target->io, [handoff = std::move(handoff), io = target->io]() mutable {
    handoff.arrive(*io);
  });
}

void run_io_loop(asio::io_context& io) {
  for (;;) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      log(LogLevel::error, "http", "a connection ended on an exception: " + printable(e.what()));
    } catch (...) {
      log(LogLevel::error, "http", "a connection ended on an unknown exception");
    }
  }
}

void HttpServer::begin_shutdown() {
  if (shutting_down_.exchange(true)) return;
  for (auto& worker : workers_) worker->state->shutting_down = true;
  boost::system::error_code ec;
  acceptor_.close(ec);
  accept_pause_.cancel();
  // Each thread closes its own idle connections.
  for (auto& worker : workers_)
    asio::post(*worker->io, [state = worker->state] {
      // Copy: closing a session may end it and remove it from the list.
      std::vector<SessionBase*> open(state->sessions.begin(), state->sessions.end());
      for (auto* session : open) session->on_shutdown();
    });
}

}  // namespace hostprint
