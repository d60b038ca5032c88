#include "agent/prometheus_client.hpp"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <chrono>
#include <thread>

namespace hostprint {
namespace {

void expect_engine_error(std::string_view body, std::string_view reason_part) {
  try {
    parse_query_response(body);
    ADD_FAILURE() << "accepted: " << body;
  } catch (const EngineError& e) {
    EXPECT_NE(std::string(e.what()).find(reason_part), std::string::npos) << e.what();
  }
}

TEST(PrometheusParse, VectorResult) {
  auto samples = parse_query_response(
      R"({"status":"success","data":{"resultType":"vector","result":[)"
      R"({"metric":{"__name__":"hostprint_accounts","host_id":"h1","path":"/opt/caf\u00e9"},)"
      R"("value":[1700000000.5,"26"]},{"metric":{},"value":[1700000000,"1.5e+03"]}]}})");
  ASSERT_EQ(samples.size(), 2u);
  EXPECT_EQ(*samples[0].label("host_id"), "h1");
  EXPECT_EQ(*samples[0].label("path"), "/opt/caf\xc3\xa9");
  EXPECT_EQ(samples[0].label("instance"), nullptr);
  EXPECT_EQ(samples[0].value, 26);
  EXPECT_EQ(samples[1].value, 1500);
  EXPECT_TRUE(parse_query_response(
                  R"({"status":"success","data":{"resultType":"vector","result":[]}})")
                  .empty());
}

TEST(PrometheusParse, MalformedAnswersAreErrorsNeverPartialResults) {
  expect_engine_error("", "not JSON");
  expect_engine_error("{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[",
                      "not JSON");
  expect_engine_error("[]", "not a JSON object");
  expect_engine_error(R"({"data":{}})", "no status");
  expect_engine_error(R"({"status":"error","errorType":"bad_data","error":"parse error at 1"})",
                      "parse error at 1");
  expect_engine_error(R"({"status":"success"})", "no data");
  expect_engine_error(R"({"status":"success","data":{"resultType":"matrix","result":[]}})",
                      "instant vector");
  expect_engine_error(R"({"status":"success","data":{"resultType":"vector","result":{}}})",
                      "no result array");
  expect_engine_error(R"({"status":"success","data":{"resultType":"vector","result":[1]}})",
                      "not an object");
  expect_engine_error(
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":1},"value":[1,"2"]}]}})",
      "label value");
  expect_engine_error(
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,2]}]}})",
      "[time, \"value\"]");
  for (auto bad : {"NaN", "+Inf", "-Inf", "12abc", "", " 1"})
    expect_engine_error(
        std::string(R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,")") +
            bad + "\"]}]}}",
        "finite number");
  // A good first sample does not survive a bad second one.
  expect_engine_error(
      R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"3"]},{"metric":{}}]}})",
      "value");
  // Deep nesting is refused by the parser's depth limit, not by the stack.
  expect_engine_error(std::string(100000, '['), "not JSON");
  // Invalid UTF-8 in a label.
  expect_engine_error(std::string(R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"p":")") +
                          "\xff" + R"("},"value":[1,"1"]}]}})",
                      "not JSON");
}

TEST(PrometheusUrl, AcceptsHttpAndRefusesTheRest) {
  auto u = parse_engine_url("http://127.0.0.1:9090");
  EXPECT_EQ(u.host, "127.0.0.1");
  EXPECT_EQ(u.port, "9090");
  EXPECT_EQ(u.base_path, "");
  u = parse_engine_url("http://[::1]:8428/select/0/prometheus/");
  EXPECT_EQ(u.host, "::1");
  EXPECT_EQ(u.base_path, "/select/0/prometheus");
  EXPECT_EQ(u.host_header, "[::1]:8428");
  u = parse_engine_url("http://prometheus.example");
  EXPECT_EQ(u.port, "80");
  for (auto bad : {"https://x:9090", "ftp://x", "127.0.0.1:9090", "http://", "http://x:0",
                   "http://x:70000", "http://x:", "http://u:p@x", "http://x/?a=b", "http://x/ a",
                   "http://[::1", "http://[zz]:1"})
    EXPECT_THROW(parse_engine_url(bad), EngineError) << bad;
}

TEST(PrometheusUrl, PercentEncodingLeavesOnlyUnreserved) {
  EXPECT_EQ(percent_encode(R"(a{b="c"} or vector(1) & x=1#)"),
            "a%7Bb%3D%22c%22%7D%20or%20vector%281%29%20%26%20x%3D1%23");
  EXPECT_EQ(percent_encode("Az09-._~"), "Az09-._~");
}

// A one-connection server on loopback answering with `reply` (raw bytes), or holding the
// connection silent when `reply` is empty.
class CannedServer {
 public:
  explicit CannedServer(std::string reply)
      : acceptor_(io_, {boost::asio::ip::make_address("127.0.0.1"), 0}), reply_(std::move(reply)) {
    thread_ = std::thread([this] {
      boost::system::error_code ec;
      boost::asio::ip::tcp::socket s(io_);
      acceptor_.accept(s, ec);
      if (ec) return;
      std::string request;
      char buf[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        auto n = s.read_some(boost::asio::buffer(buf), ec);
        if (ec) return;
        request.append(buf, n);
      }
      received_ = request;
      if (reply_.empty()) {
        s.read_some(boost::asio::buffer(buf), ec);  // until the client gives up
        return;
      }
      boost::asio::write(s, boost::asio::buffer(reply_), ec);
    });
  }
  ~CannedServer() {
    boost::system::error_code ec;
    acceptor_.close(ec);
    thread_.join();
  }
  unsigned short port() const { return acceptor_.local_endpoint().port(); }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port()); }
  const std::string& received() const { return received_; }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::string reply_;
  std::string received_;
  std::thread thread_;
};

std::string http_reply(int status, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
}

PrometheusClient client_for(const std::string& url, std::chrono::milliseconds timeout,
                            std::size_t max_bytes = 64u << 20) {
  EngineLimits limits;
  limits.timeout = timeout;
  limits.max_answer_bytes = max_bytes;
  return PrometheusClient(parse_engine_url(url), limits);
}

TEST(PrometheusClientLive, SendsTheEncodedQueryAndParsesTheAnswer) {
  CannedServer server(http_reply(
      200, R"({"status":"success","data":{"resultType":"vector","result":[{"metric":{"host_id":"h"},"value":[1,"7"]}]}})"));
  auto samples = client_for(server.url() + "/prefix/", std::chrono::seconds(5))
                     .query(R"(count by (path) (x{a="b"}))");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].value, 7);
  EXPECT_TRUE(server.received().starts_with(
      "GET /prefix/api/v1/query?query=count%20by%20%28path%29%20%28x%7Ba%3D%22b%22%7D%29 HTTP/1.1"))
      << server.received();
}

TEST(PrometheusClientLive, ErrorStatusCarriesTheEnginesReason) {
  CannedServer server(
      http_reply(422, R"({"status":"error","errorType":"execution","error":"too many series"})"));
  try {
    client_for(server.url(), std::chrono::seconds(5)).query("up");
    ADD_FAILURE();
  } catch (const EngineError& e) {
    EXPECT_NE(std::string(e.what()).find("HTTP 422: too many series"), std::string::npos)
        << e.what();
  }
}

TEST(PrometheusClientLive, ASilentEngineTimesOutOnTime) {
  CannedServer server("");
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(client_for(server.url(), std::chrono::milliseconds(300)).query("up"), EngineError);
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_GE(took, std::chrono::milliseconds(250));
  EXPECT_LT(took, std::chrono::milliseconds(1500));
}

TEST(PrometheusClientLive, AnOversizedAnswerIsRefused) {
  CannedServer server(http_reply(200, std::string(4096, ' ') + "{}"));
  try {
    client_for(server.url(), std::chrono::seconds(5), 1024).query("up");
    ADD_FAILURE();
  } catch (const EngineError& e) {
    EXPECT_NE(std::string(e.what()).find("larger than"), std::string::npos) << e.what();
  }
}

TEST(PrometheusClientLive, ConnectionRefusedIsAnError) {
  unsigned short port;
  {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    port = a.local_endpoint().port();
  }
  try {
    client_for("http://127.0.0.1:" + std::to_string(port), std::chrono::seconds(5)).query("up");
    ADD_FAILURE();
  } catch (const EngineError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot connect"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace hostprint
