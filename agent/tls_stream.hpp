#pragma once
// A server-side TLS connection as Beast and Asio take a stream: the TCP side is a
// beast::tcp_stream (so its timeouts apply to every step), the TLS side the module's engine
// (tls_engine.h), which is handed the bytes read and gives the bytes to send.
#include <boost/asio/buffer.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/system/error_code.hpp>
#include <cstddef>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

#include "agent/tls.hpp"
#include "agent/tls_engine.h"

namespace hostprint {

enum class TlsErrc {
  failed = 1,      // a protocol failure (TlsStream::failure_reason says which)
  plain_http = 2,  // the peer spoke plain HTTP to the TLS port
  truncated = 3,   // the peer closed the TCP connection without close_notify
};
const boost::system::error_category& tls_category();
inline boost::system::error_code make_error_code(TlsErrc e) {
  return {static_cast<int>(e), tls_category()};
}

}  // namespace hostprint

template <>
struct boost::system::is_error_code_enum<hostprint::TlsErrc> : std::true_type {};

namespace hostprint {

class TlsStream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;
  using next_layer_type = boost::beast::tcp_stream;

  // Throws std::bad_alloc when the module cannot make a connection.
  TlsStream(boost::asio::ip::tcp::socket socket, std::shared_ptr<TlsContext> context);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  executor_type get_executor() { return tcp_.get_executor(); }
  boost::beast::tcp_stream& next_layer() { return tcp_; }
  // After a TlsErrc::failed: OpenSSL's reason.
  const std::string& failure_reason() const { return reason_; }

  template <class Token>
  auto async_handshake(Token&& token) {
    return start(Kind::handshake, {}, {}, std::forward<Token>(token));
  }
  // Sends close_notify (not waiting for the peer's).
  template <class Token>
  auto async_shutdown(Token&& token) {
    return start(Kind::shutdown, {}, {}, std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return start(Kind::read, first_of<boost::asio::mutable_buffer>(buffers), {},
                 std::forward<Token>(token));
  }
  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    auto first = first_of<boost::asio::const_buffer>(buffers);
    // One TLS record at a time: what is encrypted is sent before more is taken.
    return start(Kind::write, {}, boost::asio::buffer(first, record_bytes),
                 std::forward<Token>(token));
  }

 private:
  enum class Kind { handshake, read, write, shutdown };
  static constexpr std::size_t record_bytes = 16 * 1024;
  static constexpr int not_stepped = -1;

  template <class Buffer, class Buffers>
  static Buffer first_of(const Buffers& buffers) {
    for (auto it = boost::asio::buffer_sequence_begin(buffers);
         it != boost::asio::buffer_sequence_end(buffers); ++it) {
      Buffer buffer(*it);
      if (buffer.size() > 0) return buffer;
    }
    return Buffer();
  }

  // One call into the engine; `bytes` is what a read or write moved.
  int step(Kind kind, boost::asio::mutable_buffer in, boost::asio::const_buffer out,
           std::size_t& bytes);
  // The engine's pending output taken into out_; its size.
  std::size_t take_output();
  // The bytes just read into in_ handed to the engine; false if it refused them.
  bool give_input(std::size_t n);
  boost::system::error_code failure();

  // handshake, read, write or shutdown, as one composed operation: engine calls, each followed
  // by sending its output, and reading more when it wants more.
  struct Operation {
    TlsStream& stream;
    Kind kind;
    boost::asio::mutable_buffer in;
    boost::asio::const_buffer out;
    enum class State { starting, stepping, flushed, read } state = State::starting;
    int last = not_stepped;
    std::size_t bytes = 0;

    template <class Self>
    void operator()(Self& self, boost::system::error_code ec = {}, std::size_t n = 0) {
      switch (state) {
        case State::starting:
          // Never completes inside the call that starts it.
          state = State::stepping;
          return boost::asio::post(stream.tcp_.get_executor(), std::move(self));
        case State::stepping:
          break;
        case State::flushed:
          if (ec) return self.complete(ec, 0);
          break;
        case State::read:
          if (ec == boost::asio::error::eof) return self.complete(TlsErrc::truncated, 0);
          if (ec) return self.complete(ec, 0);
          if (!stream.give_input(n)) return self.complete(TlsErrc::failed, 0);
          last = not_stepped;
          break;
      }
      if (last == not_stepped) last = stream.step(kind, in, out, bytes);
      if (std::size_t pending = stream.take_output(); pending > 0) {
        state = State::flushed;
        return boost::asio::async_write(stream.tcp_, boost::asio::buffer(stream.out_.data(), pending),
                                        std::move(self));
      }
      switch (last) {
        case HP_TLS_DONE:
          return self.complete({}, bytes);
        case HP_TLS_WANT_INPUT:
          state = State::read;
          stream.in_.resize(record_bytes + 1024);
          return stream.tcp_.async_read_some(boost::asio::buffer(stream.in_), std::move(self));
        case HP_TLS_CLOSED:
          if (kind == Kind::shutdown) return self.complete({}, 0);
          return self.complete(boost::asio::error::eof, 0);
        default:
          return self.complete(stream.failure(), 0);
      }
    }
  };

  template <class Token>
  auto start(Kind kind, boost::asio::mutable_buffer in, boost::asio::const_buffer out,
             Token&& token) {
    return boost::asio::async_compose<Token, void(boost::system::error_code, std::size_t)>(
        Operation{*this, kind, in, out}, token, tcp_);
  }

  boost::beast::tcp_stream tcp_;
  std::shared_ptr<TlsContext> context_;  // outlives the connection made from it
  hp_tls_connection* connection_ = nullptr;
  std::vector<char> in_;   // bytes read from the peer, on their way to the engine
  std::vector<char> out_;  // the engine's bytes, on their way to the peer
  std::string reason_;
};

}  // namespace hostprint
