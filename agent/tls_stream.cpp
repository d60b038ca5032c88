#include "agent/tls_stream.hpp"

#include <new>

#include "agent/logging.hpp"

namespace hostprint {
namespace {

class TlsCategory final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "hostprint.tls"; }
  std::string message(int value) const override {
    switch (static_cast<TlsErrc>(value)) {
      case TlsErrc::failed:
        return "TLS failure";
      case TlsErrc::plain_http:
        return "plain HTTP sent to the TLS port";
      case TlsErrc::truncated:
        return "connection closed without TLS close_notify";
    }
    return "unknown TLS error";
  }
};

}  // namespace

const boost::system::error_category& tls_category() {
  static const TlsCategory category;
  return category;
}

TlsStream::TlsStream(boost::asio::ip::tcp::socket socket, std::shared_ptr<TlsContext> context)
    : tcp_(std::move(socket)), context_(std::move(context)) {
  connection_ = context_->api().connection_new(context_->get());
  if (!connection_) throw std::bad_alloc();
}

TlsStream::~TlsStream() { context_->api().connection_free(connection_); }

int TlsStream::step(Kind kind, boost::asio::mutable_buffer in, boost::asio::const_buffer out,
                    std::size_t& bytes) {
  const hp_tls_api& api = context_->api();
  bytes = 0;
  switch (kind) {
    case Kind::handshake:
      return api.handshake(connection_);
    case Kind::shutdown:
      return api.shutdown(connection_);
    case Kind::read:
      // Asio's rule: reading into no room completes at once, with nothing.
      if (in.size() == 0) return HP_TLS_DONE;
      return api.read(connection_, in.data(), in.size(), &bytes);
    case Kind::write:
      if (out.size() == 0) return HP_TLS_DONE;
      return api.write(connection_, out.data(), out.size(), &bytes);
  }
  return HP_TLS_FAILED;
}

std::size_t TlsStream::take_output() {
  const hp_tls_api& api = context_->api();
  const std::size_t pending = api.pending_output(connection_);
  if (pending == 0) return 0;
  out_.resize(pending);
  return api.take_output(connection_, out_.data(), out_.size());
}

bool TlsStream::give_input(std::size_t n) {
  if (context_->api().give_input(connection_, in_.data(), n) == 0) return true;
  reason_ = "out of memory for the peer's bytes";
  return false;
}

boost::system::error_code TlsStream::failure() {
  char reason[256] = {};
  const int kind = context_->api().error(connection_, reason, sizeof reason);
  reason_ = printable(reason, 200);
  return kind == HP_TLS_FAILURE_PLAIN_HTTP ? TlsErrc::plain_http : TlsErrc::failed;
}

}  // namespace hostprint
