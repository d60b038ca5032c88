// The HTTP contract of api.md against the real server on loopback, with a real client.
#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <regex>
#include <set>

#include "agent/cpu_affinity.hpp"
#include "agent/http_server.hpp"
#include "tests/integration/agent_harness.hpp"
#include "tests/integration/engine_harness.hpp"

namespace hostprint::test {
namespace {

boost::json::object body_json(const Response& r) {
  return boost::json::parse(r.body()).as_object();
}

void expect_error(const Response& r, int status, std::string_view code,
                  std::string_view message = {}) {
  EXPECT_EQ(static_cast<int>(r.result_int()), status) << r.body();
  EXPECT_EQ(r[http::field::content_type], "application/json;charset=UTF-8");
  EXPECT_FALSE(r["X-Request-Id"].empty());
  auto o = body_json(r);
  EXPECT_EQ(o.size(), 3u) << r.body();
  EXPECT_EQ(o.at("error_code").as_string(), code) << r.body();
  EXPECT_TRUE(o.at("error_description").is_string());
  if (!message.empty()) {
    EXPECT_EQ(o.at("error_msg").as_string(), message) << r.body();
  }
}

class HttpContract : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    AgentOptions options;
    options.config = R"({"host_id": "host-under-test", "enterprise_project_id": "ep-1"})";
    agent_ = new Agent(options);
  }
  // Checked per test, so that an agent that failed to start fails every test instead of
  // skipping them.
  void SetUp() override { ASSERT_TRUE(agent_->ready()) << agent_->log_text(); }
  static void TearDownTestSuite() {
    delete agent_;
    agent_ = nullptr;
  }
  static Agent* agent_;
  const Agent& agent() { return *agent_; }
};
Agent* HttpContract::agent_ = nullptr;

const char* const api_paths[] = {"/v5/p1/asset/statistics", "/v5/p1/asset/process/statistics",
                                 "/v5/p1/rasp/statistics", "/status"};

TEST_F(HttpContract, EveryEndpointAnswersWithTheToken) {
  for (auto path : api_paths) {
    auto r = fetch(agent(), path);
    EXPECT_EQ(r.result_int(), 200u) << path << " " << r.body();
    EXPECT_EQ(r[http::field::content_type], "application/json;charset=UTF-8");
    EXPECT_FALSE(r["X-Request-Id"].empty());
    EXPECT_NO_THROW(boost::json::parse(r.body())) << r.body();
  }
  auto stats = body_json(fetch(agent(), "/v5/p1/asset/statistics"));
  EXPECT_EQ(stats.size(), 12u);
  for (const auto& [key, value] : stats) {
    EXPECT_TRUE(value.is_int64()) << key;
    EXPECT_GE(value.as_int64(), 0) << key;
  }
  EXPECT_GT(stats.at("process_num").as_int64(), 0);
  auto rasp = body_json(fetch(agent(), "/v5/p1/rasp/statistics"));
  EXPECT_EQ(rasp.size(), 2u);
  EXPECT_TRUE(rasp.contains("protect_host_num"));
  EXPECT_TRUE(rasp.contains("anti_tampering_num"));
  auto processes = body_json(fetch(agent(), "/v5/p1/asset/process/statistics"));
  EXPECT_EQ(processes.size(), 2u);
  EXPECT_LE(processes.at("data_list").as_array().size(), 10u);
}

TEST_F(HttpContract, AuthenticationFailuresAre401BeforeAnythingElse) {
  for (auto path :
       {"/v5/p1/asset/statistics", "/status", "/no/such/path", "/v5/p1/asset/statistics?limit=x"}) {
    expect_error(fetch(agent(), path, std::nullopt), 401, "HSS.0010");
    expect_error(fetch(agent(), path, "wrong-token"), 401, "HSS.0010");
    expect_error(fetch(agent(), path, "test-token-"), 401, "HSS.0010");
    expect_error(fetch(agent(), path, "test-token-11"), 401, "HSS.0010");
  }
  // An empty header value and a wrong method without a token are refused the same way.
  Connection c(agent());
  c.send("GET /v5/p1/asset/statistics HTTP/1.1\r\nHost: x\r\nX-Auth-Token:\r\n\r\n");
  expect_error(c.read(), 401, "HSS.0010");
  expect_error(fetch(agent(), "/v5/p1/asset/statistics", std::nullopt, "POST"), 401, "HSS.0010");
  // Header names are case-insensitive.
  Connection lower(agent());
  lower.send(
      "GET /v5/p1/asset/statistics HTTP/1.1\r\nHost: x\r\nx-auth-token: test-token-1\r\n\r\n");
  EXPECT_EQ(lower.read().result_int(), 200u);
}

TEST(HttpTokens, LongestTokenAcceptedOneMoreRefused) {
  AgentOptions options;
  options.token = std::string(32768, 'T');
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  auto ok = fetch(agent, "/v5/p1/asset/statistics", agent.token());
  EXPECT_EQ(ok.result_int(), 200u) << ok.body();
  expect_error(fetch(agent, "/v5/p1/asset/statistics", std::string(32769, 'T')), 401, "HSS.0010");
  expect_error(fetch(agent, "/v5/p1/asset/statistics", std::string(32767, 'T')), 401, "HSS.0010");
}

TEST(HttpTokens, SeveralTokensAndReloadOnSighup) {
  Agent agent;
  ASSERT_TRUE(agent.ready());
  Connection kept(agent);
  kept.send(get_request("/v5/p1/asset/statistics", "test-token-1"));
  EXPECT_EQ(kept.read().result_int(), 200u);
  {
    std::ofstream out(agent.token_file(), std::ios::trunc);
    out << "second-token\nthird-token\n";
  }
  ::kill(agent.pid(), SIGHUP);
  bool switched = false;
  for (int i = 0; i < 200 && !switched; ++i) {
    switched = fetch(agent, "/v5/p1/asset/statistics", "second-token").result_int() == 200;
    if (!switched) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_TRUE(switched) << agent.log_text();
  EXPECT_EQ(fetch(agent, "/v5/p1/asset/statistics", "third-token").result_int(), 200u);
  EXPECT_EQ(fetch(agent, "/v5/p1/asset/statistics", "test-token-1").result_int(), 401u);
  // The connection opened before the reload still works.
  kept.send(get_request("/v5/p1/asset/statistics", "third-token"));
  EXPECT_EQ(kept.read().result_int(), 200u);
  // A token file that may not be used (others may read it) is refused on reload, though it names
  // new tokens: the running tokens stay and the new ones are not taken.
  {
    std::ofstream out(agent.token_file(), std::ios::trunc);
    out << "fourth-token\n";
  }
  std::filesystem::permissions(agent.token_file(), std::filesystem::perms::others_read,
                               std::filesystem::perm_options::add);
  ::kill(agent.pid(), SIGHUP);
  ASSERT_TRUE(agent.wait_for_log("reload refused", std::chrono::seconds(6))) << agent.log_text();
  const std::string log = agent.log_text();
  EXPECT_EQ(fetch(agent, "/v5/p1/asset/statistics", "second-token").result_int(), 200u);
  EXPECT_EQ(fetch(agent, "/v5/p1/asset/statistics", "third-token").result_int(), 200u);
  EXPECT_EQ(fetch(agent, "/v5/p1/asset/statistics", "fourth-token").result_int(), 401u);
  // The control: the same file, once only its owner may read it, is taken.
  std::filesystem::permissions(agent.token_file(), std::filesystem::perms::others_read,
                               std::filesystem::perm_options::remove);
  ::kill(agent.pid(), SIGHUP);
  bool taken = false;
  for (int i = 0; i < 200 && !taken; ++i) {
    taken = fetch(agent, "/v5/p1/asset/statistics", "fourth-token").result_int() == 200;
    if (!taken) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(taken) << agent.log_text();
  EXPECT_EQ(fetch(agent, "/v5/p1/asset/statistics", "second-token").result_int(), 401u);
}

// A reload is checked whole before anything changes: new tokens and a new host id are not taken
// when the rules file the same reload names is broken.
TEST(HttpTokens, ARefusedReloadChangesNothing) {
  AgentOptions options;
  options.config = R"({"host_id": "host-a"})";
  options.args = {"--log-level", "warning"};
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  auto processes = [&](std::string_view token, const std::string& host) -> std::int64_t {
    auto r = fetch(agent, "/v5/p1/asset/statistics?host_id=" + host, token);
    if (r.result_int() != 200) return -static_cast<std::int64_t>(r.result_int());
    return body_json(r).at("process_num").as_int64();
  };
  ASSERT_GT(processes("test-token-1", "host-a"), 0);
  const auto broken = agent.dir().write("broken-rules.json", R"({"version": 1, "products": [)");
  std::ofstream(agent.token_file(), std::ios::trunc) << "new-token\n";
  std::ofstream(agent.dir().path() / "hostprint.json")
      << R"({"host_id": "host-b", "rules_file": ")" << broken.string() << R"("})";
  ::kill(agent.pid(), SIGHUP);
  ASSERT_TRUE(agent.wait_for_log("reload refused", std::chrono::seconds(6))) << agent.log_text();
  const std::string log = agent.log_text();
  EXPECT_NE(log.find("rules_file"), std::string::npos) << log;
  EXPECT_GT(processes("test-token-1", "host-a"), 0);
  EXPECT_EQ(processes("test-token-1", "host-b"), 0);
  EXPECT_EQ(processes("new-token", "host-a"), -401);
  // Still at warning: the requests above wrote no info line.
  EXPECT_EQ(agent.log_text().find("request_id="), std::string::npos) << agent.log_text();

  // The same reload with the rules file mended takes everything at once.
  std::ofstream(agent.dir().path() / "hostprint.json") << R"({"host_id": "host-b"})";
  ::kill(agent.pid(), SIGHUP);
  bool switched = false;
  for (int i = 0; i < 300 && !switched; ++i) {
    switched = processes("new-token", "host-b") > 0;
    if (!switched) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(switched) << agent.log_text();
  EXPECT_EQ(processes("test-token-1", "host-a"), -401);
}

TEST_F(HttpContract, UnknownPathIs404) {
  for (auto path : {"/", "/v5", "/v5/p1", "/v5/p1/asset", "/v5/p1/asset/statistics/x",
                    "/v5/p1/asset/statistics/", "/v6/p1/asset/statistics", "/metrics/",
                    "/v5/p1/ASSET/statistics"})
    expect_error(fetch(agent(), path), 404, "HSS.0011");
}

TEST_F(HttpContract, WrongMethodIs405WithAllow) {
  for (auto method : {"POST", "PUT", "DELETE", "PATCH", "OPTIONS"}) {
    for (auto path : api_paths) {
      auto r = fetch(agent(), path, agent().token(), method);
      expect_error(r, 405, "HSS.0001");
      EXPECT_EQ(r[http::field::allow], "GET, HEAD") << method << " " << path;
    }
  }
}

TEST_F(HttpContract, HeadAnswersLikeGetWithoutBody) {
  for (auto path : {"/v5/p1/asset/statistics", "/v5/p1/rasp/statistics", "/nope"}) {
    Connection c(agent());
    c.send(get_request(path, agent().token(), "HEAD"));
    auto head = c.read(true);
    auto get = fetch(agent(), path);
    EXPECT_EQ(head.result_int(), get.result_int()) << path;
    EXPECT_EQ(head[http::field::content_length], std::to_string(get.body().size())) << path;
    EXPECT_TRUE(head.body().empty());
    EXPECT_EQ(head[http::field::content_type], "application/json;charset=UTF-8");
    // The connection goes on after a HEAD: no stray body bytes were sent.
    c.send(get_request("/v5/p1/rasp/statistics", agent().token()));
    EXPECT_EQ(c.read().result_int(), 200u);
  }
}

TEST_F(HttpContract, RequestIdsAreUnique) {
  std::set<std::string> ids;
  Connection c(agent());
  for (int i = 0; i < 50; ++i) {
    c.send(get_request("/v5/p1/asset/statistics", agent().token()));
    ids.insert(std::string(c.read()["X-Request-Id"]));
  }
  ids.insert(std::string(fetch(agent(), "/nope")["X-Request-Id"]));
  EXPECT_EQ(ids.size(), 51u);
  // The server's tag, then its count of requests, in hex: "1a2b3c4d-0000002a".
  const std::regex form("[0-9a-f]{8}-[0-9a-f]{8,16}");
  std::set<std::string> tags;
  for (const auto& each : ids) {
    EXPECT_TRUE(std::regex_match(each, form)) << each;
    tags.insert(each.substr(0, 8));
  }
  EXPECT_EQ(tags.size(), 1u);
  // Each id appears in the log line of its request.
  auto id = std::string(fetch(agent(), "/v5/p1/rasp/statistics?marker=abc")["X-Request-Id"]);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto log = agent_->log_text();
  auto at = log.find("request_id=" + id);
  ASSERT_NE(at, std::string::npos);
  EXPECT_NE(log.substr(at, log.find('\n', at) - at).find("marker=abc"), std::string::npos);
}

TEST_F(HttpContract, InvalidParametersAre400NamingTheParameter) {
  struct Case {
    std::string target;
    std::string name;
  };
  std::vector<Case> cases = {
      {"/v5/p1/asset/statistics?category=vm", "category"},
      {"/v5/p1/asset/statistics?category=", "category"},
      {"/v5/p1/asset/statistics?host_id=" + std::string(65, 'h'), "host_id"},
      {"/v5/p1/asset/statistics?host_id=", "host_id"},
      {"/v5/p1/asset/statistics?enterprise_project_id=" + std::string(257, 'e'),
       "enterprise_project_id"},
      {"/v5/p1/asset/statistics?enterprise_project_id=", "enterprise_project_id"},
      {"/v5/p1/asset/statistics?category=host&category=host", "category"},
      {"/v5/p1/asset/process/statistics?category=VM", "category"},
      {"/v5/p1/asset/process/statistics?path=", "path"},
      {"/v5/p1/asset/process/statistics?path=" + std::string(257, 'p'), "path"},
      {"/v5/p1/asset/process/statistics?path=%zz", "path"},
      {"/v5/p1/asset/process/statistics?path=%C3%28", "path"},
      {"/v5/p1/asset/process/statistics?path=a%00b", "path"},
      {"/v5/p1/asset/process/statistics?path=%", "path"},
      {"/v5/p1/asset/process/statistics?path=a&path=b", "path"},
      {"/v5/p1/asset/process/statistics?limit=0", "limit"},
      {"/v5/p1/asset/process/statistics?limit=201", "limit"},
      {"/v5/p1/asset/process/statistics?limit=-1", "limit"},
      {"/v5/p1/asset/process/statistics?limit=+1", "limit"},
      {"/v5/p1/asset/process/statistics?limit=%2B1", "limit"},
      {"/v5/p1/asset/process/statistics?limit=%201", "limit"},
      {"/v5/p1/asset/process/statistics?limit=0x10", "limit"},
      {"/v5/p1/asset/process/statistics?limit=1e1", "limit"},
      {"/v5/p1/asset/process/statistics?limit=", "limit"},
      {"/v5/p1/asset/process/statistics?limit=ten", "limit"},
      {"/v5/p1/asset/process/statistics?limit=10&limit=10", "limit"},
      {"/v5/p1/asset/process/statistics?limit=99999999999999999999", "limit"},
      {"/v5/p1/asset/process/statistics?offset=2000001", "offset"},
      {"/v5/p1/asset/process/statistics?offset=-1", "offset"},
      {"/v5/p1/asset/process/statistics?offset=1.5", "offset"},
      {"/v5/p1/asset/process/statistics?offset=", "offset"},
      {"/v5/p1/asset/process/statistics?enterprise_project_id=%FF", "enterprise_project_id"},
      {"/v5/p1/rasp/statistics?enterprise_project_id=", "enterprise_project_id"},
      {"/v5/p1/rasp/statistics?enterprise_project_id=a&enterprise_project_id=a",
       "enterprise_project_id"},
      {"/v5/" + std::string(257, 'p') + "/asset/statistics", "project_id"},
      {"/v5/%zz/asset/statistics", "project_id"},
      {"/v5/%00/rasp/statistics", "project_id"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.target);
    expect_error(fetch(agent(), c.target), 400, "HSS.0001", "invalid parameter: " + c.name);
  }
}

TEST_F(HttpContract, BoundaryValuesAreAccepted) {
  for (const std::string& target : std::vector<std::string>{
           "/v5/p1/asset/process/statistics?limit=1", "/v5/p1/asset/process/statistics?limit=200",
           "/v5/p1/asset/process/statistics?offset=0",
           "/v5/p1/asset/process/statistics?offset=2000000",
           "/v5/p1/asset/process/statistics?path=" + std::string(256, 'p'),
           "/v5/" + std::string(256, 'p') + "/asset/statistics",
           "/v5/p1/asset/statistics?host_id=" + std::string(64, 'h'),
           "/v5/p1/asset/statistics?enterprise_project_id=" + std::string(256, 'e'),
           "/v5/p1/asset/statistics?unknown=1&unknown=2&also=%zz",
           "/v5/p1/asset/statistics?category=container"})
    EXPECT_EQ(fetch(agent(), target).result_int(), 200u) << target;
  auto past = body_json(fetch(agent(), "/v5/p1/asset/process/statistics?offset=2000000"));
  EXPECT_TRUE(past.at("data_list").as_array().empty());
  EXPECT_GT(past.at("total_num").as_int64(), 0);
}

TEST_F(HttpContract, EnterpriseProjectAndHostSelection) {
  auto processes = [&](const std::string& query) {
    return body_json(fetch(agent(), "/v5/p1/asset/statistics" + query))
        .at("process_num")
        .as_int64();
  };
  EXPECT_GT(processes(""), 0);
  EXPECT_GT(processes("?enterprise_project_id=ep-1"), 0);
  EXPECT_GT(processes("?enterprise_project_id=all_granted_eps"), 0);
  EXPECT_EQ(processes("?enterprise_project_id=0"), 0);
  EXPECT_EQ(processes("?enterprise_project_id=ep-2"), 0);
  EXPECT_GT(processes("?host_id=host-under-test"), 0);
  EXPECT_EQ(processes("?host_id=another-host"), 0);
  EXPECT_EQ(processes("?host_id=host-under-test&enterprise_project_id=ep-2"), 0);
  auto zeros = body_json(fetch(agent(), "/v5/p1/asset/statistics?host_id=another-host"));
  EXPECT_EQ(zeros.size(), 12u);
  for (const auto& [key, value] : zeros) EXPECT_EQ(value.as_int64(), 0) << key;
  EXPECT_EQ(fetch(agent(), "/v5/p1/asset/process/statistics?enterprise_project_id=ep-2").body(),
            R"({"total_num":0,"data_list":[]})");
  EXPECT_EQ(fetch(agent(), "/v5/p1/rasp/statistics?enterprise_project_id=ep-2").body(),
            R"({"protect_host_num":0,"anti_tampering_num":0})");
}

TEST(HttpProject, MismatchIs400WhenConfigured) {
  AgentOptions options;
  options.config = R"({"project_id": "proj-a"})";
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  EXPECT_EQ(fetch(agent, "/v5/proj-a/asset/statistics").result_int(), 200u);
  EXPECT_EQ(fetch(agent, "/v5/proj%2Da/rasp/statistics").result_int(), 200u);
  for (auto path : {"/v5/proj-b/asset/statistics", "/v5/proj-b/asset/process/statistics",
                    "/v5/proj-b/rasp/statistics", "/v5/PROJ-A/asset/statistics"})
    expect_error(fetch(agent, path), 400, "HSS.0011");
}

TEST_F(HttpContract, ProcessStatisticsOrderAndPaging) {
  auto all = body_json(fetch(agent(), "/v5/p1/asset/process/statistics?limit=200"));
  auto total = all.at("total_num").as_int64();
  auto& list = all.at("data_list").as_array();
  ASSERT_GT(total, 0);
  ASSERT_EQ(static_cast<std::int64_t>(list.size()), std::min<std::int64_t>(total, 200));
  for (std::size_t i = 1; i < list.size(); ++i) {
    auto a_num = list[i - 1].at("num").as_int64(), b_num = list[i].at("num").as_int64();
    std::string a_path(list[i - 1].at("path").as_string()), b_path(list[i].at("path").as_string());
    EXPECT_TRUE(a_num > b_num || (a_num == b_num && a_path < b_path))
        << a_path << " before " << b_path;
  }
  // Pages of 3 put together give the same list, and total_num never changes.
  boost::json::array joined;
  for (std::int64_t offset = 0; offset < std::min<std::int64_t>(total, 200); offset += 3) {
    auto page = body_json(
        fetch(agent(), "/v5/p1/asset/process/statistics?limit=3&offset=" + std::to_string(offset)));
    EXPECT_EQ(page.at("total_num").as_int64(), total);
    for (auto& e : page.at("data_list").as_array()) joined.push_back(e);
  }
  joined.resize(list.size());
  EXPECT_EQ(boost::json::value(joined), boost::json::value(list));
  // The filter is a case-sensitive substring of the path; hostprint itself is running.
  auto self = body_json(fetch(agent(), "/v5/p1/asset/process/statistics?path=hostprint"));
  ASSERT_GE(self.at("total_num").as_int64(), 1);
  for (auto& e : self.at("data_list").as_array())
    EXPECT_NE(std::string(e.at("path").as_string()).find("hostprint"), std::string::npos);
  auto upper = body_json(fetch(agent(), "/v5/p1/asset/process/statistics?path=HOSTPRINT"));
  EXPECT_EQ(upper.at("total_num").as_int64(), 0);
}

TEST_F(HttpContract, KeepAliveAndPipelining) {
  Connection c(agent());
  std::string batch;
  const char* targets[] = {"/v5/p1/asset/statistics", "/nope", "/v5/p1/rasp/statistics",
                           "/v5/p1/asset/process/statistics?limit=0",
                           "/v5/p1/asset/process/statistics"};
  for (auto t : targets) batch += get_request(t, agent().token());
  c.send(batch);  // all requests in one write
  unsigned expected[] = {200, 404, 200, 400, 200};
  std::set<std::string> ids;
  for (unsigned status : expected) {
    auto r = c.read();
    EXPECT_EQ(r.result_int(), status);
    EXPECT_TRUE(r.keep_alive());
    ids.insert(std::string(r["X-Request-Id"]));
  }
  EXPECT_EQ(ids.size(), 5u);
  // And the connection is still usable.
  c.send(get_request("/v5/p1/asset/statistics", agent().token()));
  EXPECT_EQ(c.read().result_int(), 200u);
  // Connection: close is honoured.
  c.send(get_request("/v5/p1/asset/statistics", agent().token(), "GET", "Connection: close\r\n"));
  auto last = c.read();
  EXPECT_EQ(last.result_int(), 200u);
  EXPECT_FALSE(last.keep_alive());
  EXPECT_TRUE(c.closed_by_server());
}

TEST_F(HttpContract, OversizeHeadersAre431) {
  Connection c(agent());
  c.send(get_request("/v5/p1/asset/statistics", agent().token(), "GET",
                     "X-Filler: " + std::string(70 * 1024, 'f') + "\r\n"));
  auto r = c.read();
  expect_error(r, 431, "HSS.0002");
  EXPECT_TRUE(c.closed_by_server());
  // A target alone past the limit too.
  Connection d(agent());
  d.send(get_request("/v5/p1/asset/statistics?x=" + std::string(70 * 1024, 'x'), agent().token()));
  expect_error(d.read(), 431, "HSS.0002");
  // Headers just under 64 KiB with the longest token are still fine (checked in HttpTokens).
  Connection e(agent());
  e.send(get_request("/v5/p1/asset/statistics", agent().token(), "GET",
                     "X-Filler: " + std::string(60 * 1024, 'f') + "\r\n"));
  EXPECT_EQ(e.read().result_int(), 200u);
}

TEST_F(HttpContract, BodyOnGetIsIgnoredUpTo64KiB) {
  Connection c(agent());
  std::string body(64 * 1024, 'b');
  c.send(get_request("/v5/p1/asset/statistics", agent().token(), "GET",
                     "Content-Length: " + std::to_string(body.size()) + "\r\n") +
         body);
  EXPECT_EQ(c.read().result_int(), 200u);
  c.send(get_request("/v5/p1/rasp/statistics", agent().token()));
  EXPECT_EQ(c.read().result_int(), 200u);  // the body did not leak into the next request

  Connection big(agent());
  big.send(get_request("/v5/p1/asset/statistics", agent().token(), "GET",
                       "Content-Length: " + std::to_string(64 * 1024 + 1) + "\r\n"));
  expect_error(big.read(), 413, "HSS.0002");

  Connection chunked(agent());
  std::string chunk(40 * 1024, 'c');
  char size_line[32];
  std::snprintf(size_line, sizeof size_line, "%zx\r\n", chunk.size());
  chunked.send(get_request("/v5/p1/asset/statistics", agent().token(), "GET",
                           "Transfer-Encoding: chunked\r\n") +
               size_line + chunk + "\r\n" + size_line + chunk + "\r\n0\r\n\r\n");
  expect_error(chunked.read(), 413, "HSS.0002");
}

std::size_t resident_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6));
  return 0;
}

TEST_F(HttpContract, EndlessChunkLinesAndTrailersCostBoundedMemory) {
  const std::string head =
      "GET /v5/p1/rasp/statistics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string shapes[] = {"5;x=", "0000", "0\r\nX-Trailer: ", "5;a=b;a=b;a=b"};
  const auto before = resident_kib(agent_->pid());
  for (const auto& shape : shapes) {
    Connection c(agent());
    c.send(head + shape);
    std::string filler(64 * 1024, shape[0] == '0' && shape.size() == 4 ? '0' : 'a');
    std::size_t sent = 0;
    boost::system::error_code ec;
    // Up to 32 MiB: far more than any limit; the server must refuse long before.
    while (sent < (32u << 20) && !ec)
      sent += boost::asio::write(c.socket(), boost::asio::buffer(filler), ec);
    EXPECT_LT(sent, 32u << 20) << "the server kept reading: " << shape;
  }
  EXPECT_LT(resident_kib(agent_->pid()), before + 8 * 1024);
  EXPECT_EQ(fetch(agent(), "/v5/p1/asset/statistics").result_int(), 200u);
}

// Running, not a zombie that has not been waited for.
bool alive(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  auto close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

std::string chunked_with_trailer(std::optional<std::string_view> token,
                                 const std::string& trailer) {
  return get_request("/v5/p1/asset/statistics", token, "GET", "Transfer-Encoding: chunked\r\n") +
         "5\r\nhello\r\n0\r\n" + trailer + "\r\n";
}

TEST(HttpTrailers, AHugeTrailerFieldIsRefusedAndTheServerLivesOn) {
  Agent agent;
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  // Past 64 KiB Beast's field store throws; without a token, before any authentication.
  for (std::size_t size : {std::size_t{70} * 1024, std::size_t{65534}, std::size_t{120} * 1024}) {
    SCOPED_TRACE(size);
    Connection c(agent);
    c.send(chunked_with_trailer(std::nullopt, "X-Big: " + std::string(size, 'a') + "\r\n"));
    Response r;
    ASSERT_NO_THROW(r = c.read()) << agent.log_text();
    EXPECT_EQ(r.result_int(), 431u) << r.body();
    EXPECT_TRUE(c.closed_by_server());
    ASSERT_TRUE(alive(agent.pid())) << agent.log_text();
    EXPECT_EQ(fetch(agent, "/v5/p1/asset/statistics").result_int(), 200u);
  }
  EXPECT_NE(agent.log_text().find("the trailer fields exceed 64 KiB"), std::string::npos)
      << agent.log_text();
}

TEST(HttpTrailers, TrailersUpTo64KiBAreReadAndIgnored) {
  Agent agent;
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  // "X-T: value\r\n" counts name, value and 4 bytes; 64 KiB in all is the most.
  const std::size_t most = 64 * 1024 - 3 - 4;
  Connection c(agent);
  c.send(chunked_with_trailer(agent.token(), "X-T: " + std::string(most, 't') + "\r\n"));
  EXPECT_EQ(c.read().result_int(), 200u);
  c.send(get_request("/v5/p1/rasp/statistics", agent.token()));  // the connection goes on
  EXPECT_EQ(c.read().result_int(), 200u);
  Connection over(agent);
  over.send(chunked_with_trailer(agent.token(), "X-T: " + std::string(most + 1, 't') + "\r\n"));
  EXPECT_EQ(over.read().result_int(), 431u);

  // Many small fields: 10,000 of 6 counted bytes fit, 11,000 do not.
  auto many = [](int n) {
    std::string t;
    for (int i = 0; i < n; ++i) t += "a: b\r\n";
    return t;
  };
  Connection fits(agent);
  fits.send(chunked_with_trailer(agent.token(), many(10000)));
  EXPECT_EQ(fits.read().result_int(), 200u);
  Connection too_many(agent);
  too_many.send(chunked_with_trailer(std::nullopt, many(11000)));
  EXPECT_EQ(too_many.read().result_int(), 431u);
  EXPECT_TRUE(alive(agent.pid()));
  EXPECT_EQ(fetch(agent, "/v5/p1/asset/statistics").result_int(), 200u);
}

TEST_F(HttpContract, RefusalOfABigBodyReachesAClientThatWritesFirst) {
  Connection c(agent());
  std::string body(1 << 20, 'b');
  c.send(get_request("/v5/p1/asset/statistics", agent().token(), "GET",
                     "Content-Length: " + std::to_string(body.size()) + "\r\n"));
  boost::system::error_code ec;
  boost::asio::write(c.socket(), boost::asio::buffer(body), ec);  // may fail once refused
  expect_error(c.read(), 413, "HSS.0002");
}

TEST_F(HttpContract, RepeatedTokenHeaderAuthenticatesNothing) {
  for (auto order : {"X-Auth-Token: test-token-1\r\nX-Auth-Token: bad\r\n",
                     "X-Auth-Token: bad\r\nX-Auth-Token: test-token-1\r\n",
                     "X-Auth-Token: test-token-1\r\nX-Auth-Token: test-token-1\r\n"}) {
    Connection c(agent());
    c.send(get_request("/v5/p1/asset/statistics", std::nullopt, "GET", order));
    expect_error(c.read(), 401, "HSS.0010");
  }
}

TEST_F(HttpContract, BearerTokenAuthenticatesLikeTheTokenHeader) {
  // What Prometheus's authorization.credentials_file sends; the scheme is case-insensitive.
  for (auto header : {"Authorization: Bearer test-token-1\r\n",
                      "Authorization: bearer   test-token-1 \r\n"}) {
    Connection c(agent());
    c.send(get_request("/v5/p1/asset/statistics", std::nullopt, "GET", header));
    EXPECT_EQ(c.read().result_int(), 200u) << header;
  }
  // Another scheme, an empty credential, two of them, or both ways at once: nothing is accepted.
  for (auto header : {"Authorization: Basic test-token-1\r\n", "Authorization: Bearer \r\n",
                      "Authorization: Bearer test-token-1\r\nAuthorization: Bearer test-token-1\r\n",
                      "Authorization: Bearer test-token-1\r\nX-Auth-Token: test-token-1\r\n",
                      "Authorization: Bearer bad\r\n"}) {
    Connection c(agent());
    c.send(get_request("/v5/p1/asset/statistics", std::nullopt, "GET", header));
    expect_error(c.read(), 401, "HSS.0010");
  }
}

TEST_F(HttpContract, FramingRulesOfHttp11) {
  // A length that cannot be told and a missing Host are refused; the absolute form is accepted.
  Connection te(agent());
  te.send(get_request("/v5/p1/asset/statistics", agent().token(), "GET",
                      "Transfer-Encoding: gzip\r\n") +
          get_request("/nothere", agent().token()));
  expect_error(te.read(), 400, "HSS.0001");
  EXPECT_TRUE(te.closed_by_server());
  Connection no_host(agent());
  no_host.send("GET /v5/p1/asset/statistics HTTP/1.1\r\nX-Auth-Token: test-token-1\r\n\r\n");
  expect_error(no_host.read(), 400, "HSS.0001");
  Connection old(agent());
  old.send("GET /v5/p1/asset/statistics HTTP/1.0\r\nX-Auth-Token: test-token-1\r\n\r\n");
  auto r10 = old.read();
  EXPECT_EQ(r10.result_int(), 200u);
  EXPECT_EQ(r10.version(), 10u);
  EXPECT_FALSE(r10.keep_alive());
  Connection absolute(agent());
  absolute.send(
      get_request("http://127.0.0.1/v5/p1/asset/statistics?category=host", agent().token()));
  EXPECT_EQ(absolute.read().result_int(), 200u);
}

TEST_F(HttpContract, ExpectContinueIsAnswered) {
  Connection c(agent());
  c.send(get_request("/v5/p1/asset/statistics", agent().token(), "GET",
                     "Content-Length: 5\r\nExpect: 100-continue\r\n"));
  auto interim = c.read();
  EXPECT_EQ(interim.result_int(), 100u);
  c.send("hello");
  EXPECT_EQ(c.read().result_int(), 200u);
  Connection big(agent());
  big.send(get_request("/v5/p1/asset/statistics", agent().token(), "GET",
                       "Content-Length: 100000\r\nExpect: 100-continue\r\n"));
  expect_error(big.read(), 413, "HSS.0002");
}

// Each malformed request has one answer: its status and error code, or (for bytes that end
// before a request could be told) a close without one. The server serves on after all of them.
TEST_F(HttpContract, MalformedRequestsAreRefusedEachAsItSays) {
  using namespace std::string_literals;
  struct Case {
    std::string bytes;
    int status;  // 0: the server closes without an answer
    const char* code;
  };
  const Case cases[] = {
      {"\r\n\r\n", 400, "HSS.0001"},
      {"GET\r\n\r\n", 400, "HSS.0001"},
      {"GET / HTTP/9.9\r\n\r\n", 400, "HSS.0001"},
      {"G\x01T / HTTP/1.1\r\n\r\n", 400, "HSS.0001"},
      {"GET /v5/p1/asset/statistics HTTP/1.1\r\nHost: x\r\nX-Auth-Token: a\0b\r\n\r\n"s, 400,
       "HSS.0001"},
      {"GET /v5/p1/asset/statistics HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400, "HSS.0001"},
      {"GET /v5/p1/asset/statistics HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       400, "HSS.0001"},
      {"GET /v5/p1/asset/statistics HTTP/1.1\r\nBad Header\r\n\r\n", 400, "HSS.0001"},
      {std::string(100 * 1024, 'A'), 431, "HSS.0002"},
      // A request cut short by the client's end of stream: nothing to answer.
      {"GET /v5/p1/asset/statis", 0, ""},
      {"GET /v5/p1/asset/statistics HTTP/1.1\r\nHost: x\r\n", 0, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(testing::PrintToString(c.bytes.substr(0, 80)));
    Connection connection(agent());
    connection.send(c.bytes);
    boost::system::error_code ec;
    connection.socket().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
    if (c.status == 0) {
      EXPECT_TRUE(connection.closed_by_server());
      continue;
    }
    Response r;
    try {
      r = connection.read();
    } catch (const boost::system::system_error& e) {
      ADD_FAILURE() << "no answer: " << e.what();
      continue;
    }
    expect_error(r, c.status, c.code);
    EXPECT_FALSE(r.keep_alive());
  }
  // A client that disappears mid-request.
  {
    Connection c(agent());
    c.send("GET /v5/p1/asset/statis");
  }
  EXPECT_EQ(fetch(agent(), "/v5/p1/asset/statistics").result_int(), 200u);
}

TEST_F(HttpContract, IdleConnectionsCannotLockClientsOut) {
  // 600 connections that send nothing: the cap is 512, and a real client is still served,
  // because the connection idle the longest makes room for a newcomer.
  std::vector<std::unique_ptr<Connection>> open;
  for (int i = 0; i < 600; ++i) open.push_back(std::make_unique<Connection>(agent()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int closed = 0;
  for (auto& c : open)
    if (c->closed_by_server(5)) ++closed;
  EXPECT_GE(closed, 600 - 512);
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(fetch(agent(), "/v5/p1/asset/statistics").result_int(), 200u);
}

// An agent with `threads` serving threads: the cap's 512 connections are opened (the readiness
// probe gone first), the first is answered once, then a newcomer comes and must be served.
// Returns the 512, still open unless the server closed them.
std::vector<std::unique_ptr<Connection>> newcomer_at_the_cap(Agent& agent) {
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::vector<std::unique_ptr<Connection>> open;
  for (int i = 0; i < 512; ++i) open.push_back(std::make_unique<Connection>(agent));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // all 512 accepted
  for (auto& c : open) EXPECT_FALSE(c->closed_by_server(1)) << "closed below the cap";
  open.front()->send(get_request("/v5/p1/asset/statistics", agent.token()));
  EXPECT_EQ(open.front()->read().result_int(), 200u);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  Connection newcomer(agent);
  newcomer.send(get_request("/v5/p1/asset/statistics", agent.token()));
  EXPECT_EQ(newcomer.read().result_int(), 200u);
  return open;
}

AgentOptions with_http_threads(int threads) {
  AgentOptions options;
  options.config = R"({"http": {"threads": )" + std::to_string(threads) + "}}";
  return options;
}

// At the cap, the connection closed is the one idle longest (since its last answer), not the
// oldest one: A is accepted first but answered last, so B goes. With one serving thread the
// choice is over all 512.
TEST(HttpConnections, TheConnectionIdleLongestIsClosedAtTheCap) {
  Agent agent(with_http_threads(1));
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  auto open = newcomer_at_the_cap(agent);
  Connection& a = *open[0];
  EXPECT_TRUE(open[1]->closed_by_server(2000));  // B
  EXPECT_FALSE(a.closed_by_server(100));
  a.send(get_request("/v5/p1/rasp/statistics", agent.token()));
  EXPECT_EQ(a.read().result_int(), 200u);
  int closed = 0;
  for (std::size_t i = 2; i < open.size(); ++i)
    if (open[i]->closed_by_server(1)) ++closed;
  EXPECT_EQ(closed, 0);
}

// With two serving threads (the default) each holds half the cap, connections go to the one
// with fewer, and at the cap the newcomer's thread closes its own connection idle longest: one
// connection in all, never the one just answered, and the newcomer is served.
TEST(HttpConnections, TwoThreadsShareTheCap) {
  Agent agent(with_http_threads(2));
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  auto open = newcomer_at_the_cap(agent);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int closed = 0;
  for (std::size_t i = 1; i < open.size(); ++i)
    if (open[i]->closed_by_server(1)) ++closed;
  EXPECT_EQ(closed, 1);
  EXPECT_FALSE(open[0]->closed_by_server(100));
  open[0]->send(get_request("/v5/p1/rasp/statistics", agent.token()));
  EXPECT_EQ(open[0]->read().result_int(), 200u);
}

// The watchdog's check of the serving threads past the first: a thread stuck in a handler
// stops answering pings (so serve stops telling systemd it is alive), and answers again once
// the handler returns.
TEST(HttpServerThreads, AWedgedThreadStopsAnsweringPings) {
  std::mutex mutex;
  std::condition_variable changed;
  bool entered = false, release = false;
  HttpHandler handler = [&](const HttpRequestView& r) -> Answer {
    if (r.target == "/block") {
      std::unique_lock lock(mutex);
      entered = true;
      changed.notify_all();
      changed.wait(lock, [&] { return release; });
    }
    return Answer{};
  };
  HttpLimits limits;
  limits.threads = 2;
  boost::asio::io_context io;
  HttpServer server(io, {boost::asio::ip::make_address("127.0.0.1"), 0}, handler, limits);
  server.start();
  std::thread loop([&] { run_io_loop(io); });
  const auto port = server.local_endpoint().port();
  // Runs threads_answer on the first thread, as serve's keep-alive timer does.
  auto ping = [&] {
    std::promise<bool> answered;
    boost::asio::post(io, [&] { answered.set_value(server.threads_answer()); });
    return answered.get_future().get();
  };
  auto settle = [] { std::this_thread::sleep_for(std::chrono::milliseconds(100)); };
  EXPECT_TRUE(ping());
  settle();
  EXPECT_TRUE(ping()) << "an idle thread answers";
  // Connections go to the thread with the fewest: the first to the first thread, the second to
  // the other one, which the blocking request then holds.
  Connection first("127.0.0.1", port);
  settle();
  Connection second("127.0.0.1", port);
  second.send(get_request("/block", "t"));
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(5), [&] { return entered; }));
  }
  settle();
  EXPECT_TRUE(ping()) << "the ping sent before the thread was held was run";
  settle();
  EXPECT_FALSE(ping()) << "a held thread does not run its ping";
  EXPECT_FALSE(ping());
  first.send(get_request("/on-the-first-thread", "t"));
  EXPECT_EQ(first.read().result_int(), 200u) << "the other thread still serves";
  {
    std::lock_guard lock(mutex);
    release = true;
  }
  changed.notify_all();
  EXPECT_EQ(second.read().result_int(), 200u);
  settle();
  EXPECT_TRUE(ping()) << "answers again once released";
  io.stop();
  loop.join();
}

// With http.cpu_affinity, each serving thread is the server's own and pinned to its own CPU,
// in the order of the process's CPUs; the caller's loop (which starts other threads) is not
// pinned and only accepts. Each connection is answered on a pinned thread, and the watchdog's
// pings reach both threads.
TEST(HttpServerThreads, PinnedThreadsServeAndTheCallersLoopStaysFree) {
  const std::vector<int> all = calling_thread_cpus();
  if (all.size() < 2) GTEST_SKIP() << "one CPU allowed: nothing to pin apart";
  std::mutex mutex;
  std::set<std::vector<int>> serving_masks;
  HttpHandler handler = [&](const HttpRequestView&) -> Answer {
    auto mask = calling_thread_cpus();
    std::lock_guard lock(mutex);
    serving_masks.insert(mask);
    return Answer{};
  };
  HttpLimits limits;
  limits.threads = 2;
  limits.cpu_affinity = true;
  boost::asio::io_context io;
  HttpServer server(io, {boost::asio::ip::make_address("127.0.0.1"), 0}, handler, limits);
  server.start();
  std::thread loop([&] { run_io_loop(io); });
  const auto port = server.local_endpoint().port();
  auto on_loop = [&](auto f) {
    std::promise<decltype(f())> done;
    boost::asio::post(io, [&] { done.set_value(f()); });
    return done.get_future().get();
  };
  std::vector<std::unique_ptr<Connection>> open;
  for (int i = 0; i < 4; ++i) {
    open.push_back(std::make_unique<Connection>("127.0.0.1", port));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // each goes to the one with fewer
  }
  for (auto& c : open) {
    c->send(get_request("/x", "t"));
    EXPECT_EQ(c->read().result_int(), 200u);
  }
  EXPECT_EQ(serving_masks, (std::set<std::vector<int>>{{all[0]}, {all[1]}}));
  EXPECT_EQ(on_loop([] { return calling_thread_cpus(); }), all);
  EXPECT_EQ(server.connection_count(), 4u);
  EXPECT_TRUE(on_loop([&] { return server.threads_answer(); }));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(on_loop([&] { return server.threads_answer(); })) << "both pinned threads answer";
  open.clear();
  io.stop();
  loop.join();
}

// Each thread of a running agent and the CPUs it may run on (Cpus_allowed_list).
std::vector<std::string> thread_cpu_lists(pid_t pid) {
  std::vector<std::string> lists;
  for (const auto& task :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/task")) {
    std::ifstream status(task.path() / "status");
    std::string line;
    while (std::getline(status, line))
      if (line.starts_with("Cpus_allowed_list:"))
        lists.push_back(line.substr(line.find_first_not_of(" \t", 18)));
  }
  return lists;
}

std::string cpu_range_text(const std::vector<int>& cpus) {
  // As the kernel writes a set: runs of consecutive CPUs as "first-last", joined by commas.
  std::string text;
  for (std::size_t i = 0; i < cpus.size();) {
    std::size_t j = i;
    while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) ++j;
    text += (text.empty() ? "" : ",") + std::to_string(cpus[i]) +
            (j > i ? "-" + std::to_string(cpus[j]) : "");
    i = j + 1;
  }
  return text;
}

// serve with http.cpu_affinity auto: exactly the two serving threads are pinned, to two
// different CPUs; every other thread (the main loop, the scanner, the collectors) keeps the
// process's CPUs; the log says where they went; requests are answered.
TEST(HttpServerThreads, ServeWithCpuAffinityAutoPinsOnlyTheServingThreads) {
  const std::vector<int> all = calling_thread_cpus();
  if (all.size() < 2) GTEST_SKIP() << "one CPU allowed: nothing to pin apart";
  AgentOptions options;
  options.config = R"({"http": {"threads": 2, "cpu_affinity": "auto"}})";
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  for (int i = 0; i < 4; ++i) {
    Connection c(agent);
    c.send(get_request("/v5/p1/asset/statistics", agent.token()));
    EXPECT_EQ(c.read().result_int(), 200u);
  }
  std::multiset<std::string> lists;
  for (auto& list : thread_cpu_lists(agent.pid())) lists.insert(list);
  EXPECT_EQ(lists.count(std::to_string(all[0])), 1u);
  EXPECT_EQ(lists.count(std::to_string(all[1])), 1u);
  EXPECT_EQ(lists.count(cpu_range_text(all)), lists.size() - 2) << "only two threads pinned";
  EXPECT_GE(lists.size(), 4u);  // main loop, scanner, two serving threads at least
  EXPECT_NE(agent.log_text().find("http.cpu_affinity auto: 2 serving threads, pinned to CPUs " +
                                  std::to_string(all[0]) + ", " + std::to_string(all[1])),
            std::string::npos)
      << agent.log_text();
}

// By default nothing is pinned: every thread keeps the process's CPUs.
TEST(HttpServerThreads, ServeByDefaultPinsNothing) {
  const std::vector<int> all = calling_thread_cpus();
  Agent agent;
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  const auto lists = thread_cpu_lists(agent.pid());
  ASSERT_FALSE(lists.empty());
  for (const auto& list : lists) EXPECT_EQ(list, cpu_range_text(all));
  EXPECT_EQ(agent.log_text().find("cpu_affinity"), std::string::npos);
}

// Started on one CPU (taskset), auto has nothing to spread: it says so, and pins nothing.
TEST(HttpServerThreads, ServeWithCpuAffinityOnOneCpuPinsNothing) {
  const std::vector<int> all = calling_thread_cpus();
  AgentOptions options;
  options.config = R"({"http": {"threads": 2, "cpu_affinity": "auto"}})";
  options.prefix = {"/usr/bin/taskset", "-c", std::to_string(all.back())};
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  for (const auto& list : thread_cpu_lists(agent.pid()))
    EXPECT_EQ(list, std::to_string(all.back()));
  EXPECT_NE(agent.log_text().find(
                "http.cpu_affinity auto: only one CPU is allowed, so no thread is pinned"),
            std::string::npos)
      << agent.log_text();
  Connection c(agent);
  c.send(get_request("/v5/p1/asset/statistics", agent.token()));
  EXPECT_EQ(c.read().result_int(), 200u);
}

// Where sched_setaffinity is refused, as the packaged unit's system-call filter refuses it, auto
// says for each serving thread which CPU it could not have and why, claims no pin, and serves
// with every thread on the process's CPUs.
TEST(HttpServerThreads, ServeWithCpuAffinityRefusedWarnsAndServesUnpinned) {
  const std::vector<int> all = calling_thread_cpus();
  if (all.size() < 2) GTEST_SKIP() << "one CPU allowed: nothing to pin apart";
  AgentOptions options;
  options.config = R"({"http": {"threads": 2, "cpu_affinity": "auto"}})";
  options.prefix = {HOSTPRINT_TEST_REFUSE_SETAFFINITY};
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  // The port opens before the serving threads try their pins: their warnings come a moment later.
  for (int cpu : {all[0], all[1]})
    EXPECT_TRUE(agent.wait_for_log(
        "warning http: http.cpu_affinity auto: cannot pin a serving thread to CPU " +
        std::to_string(cpu) + ": Operation not permitted; it runs on any CPU"))
        << agent.log_text();
  // "listening on" follows start(): by then a line claiming pins would have been written.
  EXPECT_TRUE(agent.wait_for_log("listening on")) << agent.log_text();
  EXPECT_EQ(agent.log_text().find("pinned to CPUs"), std::string::npos) << agent.log_text();
  for (const auto& list : thread_cpu_lists(agent.pid())) EXPECT_EQ(list, cpu_range_text(all));
  for (int i = 0; i < 4; ++i) {
    Connection c(agent);
    c.send(get_request("/v5/p1/asset/statistics", agent.token()));
    EXPECT_EQ(c.read().result_int(), 200u);
  }
}

// A reload cannot move running threads: http.threads and http.cpu_affinity changed in the file
// are each said to take effect at the next start, and no thread is pinned meanwhile.
TEST(HttpServerThreads, AReloadLeavesThreadsAndPinsForTheNextStart) {
  const std::vector<int> all = calling_thread_cpus();
  Agent agent;
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  std::ofstream(agent.dir().path() / "hostprint.json")
      << R"({"http": {"threads": 3, "cpu_affinity": "auto"}})";
  ::kill(agent.pid(), SIGHUP);
  EXPECT_TRUE(agent.wait_for_log(
      "http.cpu_affinity changed to auto; it takes effect at the next start"))
      << agent.log_text();
  const auto log = agent.log_text();
  EXPECT_NE(log.find("http.threads changed to 3; it takes effect at the next start"),
            std::string::npos)
      << log;
  for (const auto& list : thread_cpu_lists(agent.pid())) EXPECT_EQ(list, cpu_range_text(all));
  Connection c(agent);
  c.send(get_request("/v5/p1/asset/statistics", agent.token()));
  EXPECT_EQ(c.read().result_int(), 200u);
}

TEST_F(HttpContract, BusyConnectionsAtTheCapGet503) {
  // 520 connections each with half a request: nothing is idle to evict, so newcomers get 503.
  std::vector<std::unique_ptr<Connection>> busy;
  for (int i = 0; i < 520; ++i) {
    busy.push_back(std::make_unique<Connection>(agent()));
    busy.back()->send("GET /v5/p1/asset/statistics HTTP/1.1\r\n");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Connection late(agent());
  late.send(get_request("/v5/p1/asset/statistics", agent().token()));
  expect_error(late.read(), 503, "HSS.0002");
  busy.clear();
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    try {
      served = fetch(agent(), "/v5/p1/asset/statistics").result_int() == 200;
    } catch (...) {
    }
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(served);
}

TEST_F(HttpContract, SlowOrIdleClientsAreClosedAfterTheTimeout) {
  // One that never finishes its headers, and one that goes quiet after an answer.
  Connection slow(agent());
  slow.send("GET /v5/p1/asset/statistics HTTP/1.1\r\nHost: x\r\n");
  Connection idle(agent());
  idle.send(get_request("/v5/p1/asset/statistics", agent().token()));
  EXPECT_EQ(idle.read().result_int(), 200u);
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(slow.closed_by_server(40000));
  EXPECT_TRUE(idle.closed_by_server(5000));
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::seconds(25));
  EXPECT_LE(waited, std::chrono::seconds(40));
}

// "An answer that cannot be written within 10 s ends its connection": a client that pipelines
// more answers than the sockets hold and never reads is closed then, not at the 30-s idle limit.
TEST_F(HttpContract, AnAnswerNotTakenWithinTheWriteTimeoutEndsTheConnection) {
  const std::string target = "/metrics";
  const std::size_t answer_bytes = fetch(agent(), target).body().size();
  ASSERT_GT(answer_bytes, 0u);
  // Far more than the loopback socket buffers of both ends hold.
  const std::size_t count = std::min<std::size_t>(4000, 64 * 1024 * 1024 / answer_bytes + 1);
  Connection c(agent());
  std::string batch;
  for (std::size_t i = 0; i < count; ++i) batch += get_request(target, agent().token());
  c.send(batch);
  const auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(13));
  // Drain what the server wrote before it gave up: the end comes within a few seconds.
  int fd = c.socket().native_handle();
  std::vector<char> chunk(1 << 20);
  bool ended = false;
  std::size_t received = 0;
  while (!ended && std::chrono::steady_clock::now() - start < std::chrono::seconds(20)) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 1000) <= 0) continue;
    ssize_t n = ::recv(fd, chunk.data(), chunk.size(), MSG_DONTWAIT);
    if (n > 0) received += static_cast<std::size_t>(n);
    if (n == 0 || (n < 0 && errno == ECONNRESET)) ended = true;
  }
  EXPECT_TRUE(ended) << "still open " << std::chrono::duration_cast<std::chrono::seconds>(
                                            std::chrono::steady_clock::now() - start)
                                            .count()
                     << " s after the requests; " << received << " bytes read";
  EXPECT_LT(received, count * answer_bytes);
}

TEST(HttpListen, Ipv6Loopback) {
  AgentOptions options;
  options.listen_host = "::1";
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  EXPECT_EQ(fetch(agent, "/v5/p1/asset/statistics").result_int(), 200u);
}

TEST(HttpLifecycle, SigtermStopsGracefullyWithIdleConnectionsOpen) {
  Agent agent;
  ASSERT_TRUE(agent.ready());
  Connection idle(agent);
  idle.send(get_request("/v5/p1/asset/statistics", agent.token()));
  EXPECT_EQ(idle.read().result_int(), 200u);
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(agent.stop(SIGTERM), 0) << agent.log_text();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(4));
  EXPECT_TRUE(idle.closed_by_server());
}

TEST(HttpLifecycle, SigintStopsToo) {
  Agent agent;
  ASSERT_TRUE(agent.ready());
  EXPECT_EQ(agent.stop(SIGINT), 0);
}

TEST(HttpLifecycle, RequestInFlightFinishesAtShutdownLaterOnesGet503) {
  Agent agent;
  ASSERT_TRUE(agent.ready());
  Connection arriving(agent);
  Connection idle_then_late(agent);
  idle_then_late.send(get_request("/v5/p1/rasp/statistics", agent.token()));
  EXPECT_EQ(idle_then_late.read().result_int(), 200u);
  // Half a request, then SIGTERM, then the rest: it is answered, then the connection ends.
  arriving.send("GET /v5/p1/asset/statistics HTTP/1.1\r\nHost: x\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  ::kill(agent.pid(), SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  arriving.send("X-Auth-Token: test-token-1\r\n\r\n");
  auto r = arriving.read();
  EXPECT_EQ(r.result_int(), 200u) << r.body();
  EXPECT_FALSE(r.keep_alive());
  // The idle connection was closed at the signal.
  EXPECT_TRUE(idle_then_late.closed_by_server());
  EXPECT_EQ(agent.stop(SIGTERM), 0) << agent.log_text();
}

TEST(HttpLifecycle, StragglerAtTheDrainDeadlineStillExitsCleanly) {
  Agent agent;
  ASSERT_TRUE(agent.ready());
  Connection straggler(agent);
  straggler.send("GET /v5/p1/asset/statistics HTTP/1.1\r\nHost: x\r\n");  // never finished
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(agent.stop(SIGTERM, 20), 0) << agent.log_text();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// A client knocking from the moment serve starts: its first answer is the first scan's, which
// lists the agent's own port, owned by the agent (api.md "Freshness").
TEST(HttpStart, TheFirstAnswerIsTheFirstScanWithTheAgentsOwnPort) {
  AgentOptions options;
  options.port = free_port();
  std::atomic<bool> stop{false};
  auto first = std::async(std::launch::async, [&]() -> std::optional<Response> {
    while (!stop) {
      try {
        Connection c("127.0.0.1", options.port);
        c.send(get_request("/v5/p1/asset/ports?category=host&limit=200", options.token));
        return c.read();
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
    return std::nullopt;
  });
  Agent agent(options);
  stop = !agent.ready();
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  auto answer = first.get();
  ASSERT_TRUE(answer.has_value());
  ASSERT_EQ(answer->result_int(), 200u) << "answered before the first scan: " << answer->body();
  bool own = false;
  const auto ports = body_json(*answer);
  for (const auto& e : ports.at("data_list").as_array())
    if (e.at("port").as_int64() == options.port && e.at("type").as_string() == "TCP") {
      own = true;
      EXPECT_EQ(e.at("pid").as_int64(), agent.pid()) << e;
    }
  EXPECT_TRUE(own) << "the agent's own port is not in its first scan: " << answer->body();
  EXPECT_EQ(body_json(fetch(agent, "/status")).at("generation").as_int64(), 1);
}

// A port taken: serve says so and ends, after its first scan, without serving anything.
TEST(HttpStart, APortInUseEndsServeWithAnError) {
  TempDir dir;
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor taken(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  const auto port = taken.local_endpoint().port();
  auto token = dir.write("token", "abcdefghijklmnop\n");
  std::filesystem::permissions(token, std::filesystem::perms::owner_read,
                               std::filesystem::perm_options::replace);
  auto r = run_program({hostprint_binary(), "serve", "--token-file", token.string(), "--listen",
                        "127.0.0.1:" + std::to_string(port), "--state-dir",
                        (dir.path() / "state").string(), "--config",
                        dir.write("c.json", "{}").string()},
                       60);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("cannot listen on 127.0.0.1:" + std::to_string(port) + ": "),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("listening on"), std::string::npos) << r.err;
}

// A client that sees the port take connections may stop the agent at once: SIGTERM is then a
// graceful stop (exit 0), not the signal's default end.
TEST(HttpStart, AStopAsSoonAsThePortTakesConnectionsIsGraceful) {
  TempDir dir;
  auto token = dir.write("token", "abcdefghijklmnop\n");
  std::filesystem::permissions(token, std::filesystem::perms::owner_read,
                               std::filesystem::perm_options::replace);
  const auto port = free_port();
  ChildProcess serve({hostprint_binary(), "serve", "--token-file", token.string(), "--listen",
                      "127.0.0.1:" + std::to_string(port), "--state-dir",
                      (dir.path() / "state").string(), "--config",
                      dir.write("c.json", "{}").string()},
                     dir.path() / "agent.log");
  bool connected = false;
  boost::asio::io_context io;
  for (auto until = std::chrono::steady_clock::now() + std::chrono::seconds(60);
       !connected && std::chrono::steady_clock::now() < until && serve.running();) {
    boost::asio::ip::tcp::socket s(io);
    boost::system::error_code ec;
    s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
    connected = !ec;
  }
  ASSERT_TRUE(connected) << serve.log_text();
  EXPECT_EQ(serve.stop(SIGTERM), 0) << serve.log_text();
}

TEST(HttpStart, RefusesAReadableTokenFile) {
  TempDir dir;
  auto token = dir.write("token", "abc\n");
  std::filesystem::permissions(
      token, std::filesystem::perms::owner_read | std::filesystem::perms::group_read,
      std::filesystem::perm_options::replace);
  auto r = run_program({hostprint_binary(), "serve", "--token-file", token.string(), "--listen",
                        "127.0.0.1:" + std::to_string(free_port()), "--config",
                        dir.write("c.json", "{}").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("group or others"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace hostprint::test
