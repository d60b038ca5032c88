#pragma once
// Instant queries against an engine with Prometheus's HTTP query API (Prometheus, VictoriaMetrics,
// Thanos, Mimir): one bounded HTTP/1.1 GET per query, the vector answer parsed with Boost.JSON.
#include <chrono>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hostprint {

// Any failure to get a whole, well-formed answer; what() is the reason, fit for the log.
class EngineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PromSample {
  std::vector<std::pair<std::string, std::string>> labels;  // as the engine sent them
  double value = 0;

  const std::string* label(std::string_view name) const {
    for (const auto& [k, v] : labels)
      if (k == name) return &v;
    return nullptr;
  }
};

struct EngineUrl {
  std::string host;       // name or address, IPv6 without brackets
  std::string port;       // "80" when the URL names none
  std::string base_path;  // "" or "/prefix" (no trailing slash)
  std::string host_header;
};

// http://HOST[:PORT][/PATH]; throws EngineError naming what is wrong (https:// is refused for now).
EngineUrl parse_engine_url(std::string_view url);

// Every byte but RFC 3986's unreserved ones as %XX: a query parameter's value.
std::string percent_encode(std::string_view text);

// The body of /api/v1/query: status "success" and a vector result, or EngineError.
std::vector<PromSample> parse_query_response(std::string_view body);

struct EngineLimits {
  std::chrono::milliseconds timeout{10'000};  // the whole query: resolve, connect, send, receive
  std::size_t max_answer_bytes = 64u << 20;
};

class PrometheusClient {
 public:
  PrometheusClient(EngineUrl url, EngineLimits limits) : url_(std::move(url)), limits_(limits) {}

  // The instant vector `promql` evaluates to now; throws EngineError.
  std::vector<PromSample> query(std::string_view promql) const;

  const EngineLimits& limits() const { return limits_; }

 private:
  EngineUrl url_;
  EngineLimits limits_;
};

}  // namespace hostprint
