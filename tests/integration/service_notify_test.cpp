// What `serve` tells a service manager over $NOTIFY_SOCKET, read from a real datagram socket the
// way systemd reads it: READY=1 once the port accepts, keep-alives, reload and stop.
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <ctime>
#include <future>
#include <map>
#include <set>
#include <sstream>

#include "collectors/io/unique_fd.hpp"
#include "tests/integration/agent_harness.hpp"

namespace hostprint::test {
namespace {

// The service manager's end: a datagram socket bound at a path, or at an abstract name ("@...").
class NotifyListener {
 public:
  explicit NotifyListener(std::string address) : address_(std::move(address)) {
    socket_ = collectors::UniqueFd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_un un{};
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, address_.data(), address_.size());
    if (address_[0] == '@') un.sun_path[0] = '\0';
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + address_.size());
    if (::bind(socket_.get(), reinterpret_cast<const sockaddr*>(&un), length) != 0)
      throw std::runtime_error("bind " + address_ + ": " + std::strerror(errno));
  }

  const std::string& address() const { return address_; }

  // The next message, or nothing within the timeout.
  std::optional<std::string> next(std::chrono::milliseconds timeout) const {
    pollfd p{socket_.get(), POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
    char buffer[4096];
    const auto n = ::recv(socket_.get(), buffer, sizeof buffer, 0);
    if (n < 0) return std::nullopt;
    return std::string(buffer, static_cast<std::size_t>(n));
  }

  // The next message that is not a keep-alive.
  std::optional<std::string> next_event(std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto message = next(std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now()));
      if (!message) return std::nullopt;
      if (*message != "WATCHDOG=1") return message;
    }
    return std::nullopt;
  }

 private:
  std::string address_;
  collectors::UniqueFd socket_;
};

// Sets the variables a service manager gives its service for as long as the scope lasts.
class ServiceEnvironment {
 public:
  ServiceEnvironment(const std::string& socket, const std::string& watchdog_usec,
                     const std::string& watchdog_pid) {
    ::setenv("NOTIFY_SOCKET", socket.c_str(), 1);
    set_or_clear("WATCHDOG_USEC", watchdog_usec);
    set_or_clear("WATCHDOG_PID", watchdog_pid);
  }
  ~ServiceEnvironment() {
    ::unsetenv("NOTIFY_SOCKET");
    ::unsetenv("WATCHDOG_USEC");
    ::unsetenv("WATCHDOG_PID");
  }
  ServiceEnvironment(const ServiceEnvironment&) = delete;
  ServiceEnvironment& operator=(const ServiceEnvironment&) = delete;

 private:
  static void set_or_clear(const char* name, const std::string& value) {
    if (value.empty())
      ::unsetenv(name);
    else
      ::setenv(name, value.c_str(), 1);
  }
};

std::uint64_t monotonic_usec() {
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  return static_cast<std::uint64_t>(now.tv_sec) * 1000000u +
         static_cast<std::uint64_t>(now.tv_nsec) / 1000u;
}

bool port_accepts(unsigned short port) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket s(io);
  boost::system::error_code ec;
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port}, ec);
  return !ec;
}

constexpr std::string_view ready_prefix = "READY=1\nSTATUS=serving on 127.0.0.1:";

TEST(ServiceNotify, ReadyOnceThePortAcceptsThenKeepAlivesReloadAndStop) {
  TempDir dir;
  NotifyListener manager((dir.path() / "notify").string());
  // The first message, and whether the port it names accepted at the moment it arrived.
  auto first = std::async(std::launch::async, [&] {
    auto message = manager.next(std::chrono::seconds(90));
    bool accepted = false;
    if (message && message->starts_with(ready_prefix))
      accepted = port_accepts(
          static_cast<unsigned short>(std::stoi(message->substr(ready_prefix.size()))));
    return std::make_pair(message, accepted);
  });
  std::optional<Agent> agent;
  {
    ServiceEnvironment env(manager.address(), "400000", "");
    agent.emplace();
  }
  ASSERT_TRUE(agent->ready()) << agent->log_text();
  auto [ready, accepted] = first.get();
  ASSERT_TRUE(ready.has_value()) << "no message at all";
  EXPECT_EQ(*ready, std::string(ready_prefix) + std::to_string(agent->port()));
  EXPECT_TRUE(accepted) << "READY=1 came before the port accepted";

  // A 400 ms watchdog wants a keep-alive every 200 ms.
  int keep_alives = 0;
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(1500);
  while (std::chrono::steady_clock::now() < until)
    if (auto m = manager.next(std::chrono::milliseconds(300)); m && *m == "WATCHDOG=1")
      ++keep_alives;
  EXPECT_GE(keep_alives, 4);
  EXPECT_LE(keep_alives, 10);

  const auto before_reload = monotonic_usec();
  ASSERT_EQ(::kill(agent->pid(), SIGHUP), 0);
  auto reloading = manager.next_event(std::chrono::seconds(10));
  ASSERT_TRUE(reloading.has_value());
  const std::string reloading_prefix =
      "RELOADING=1\nSTATUS=reloading the configuration\nMONOTONIC_USEC=";
  ASSERT_TRUE(reloading->starts_with(reloading_prefix)) << *reloading;
  const auto reload_usec = std::stoull(reloading->substr(reloading_prefix.size()));
  EXPECT_GE(reload_usec, before_reload);
  EXPECT_LE(reload_usec, monotonic_usec());
  auto ready_again = manager.next_event(std::chrono::seconds(10));
  ASSERT_TRUE(ready_again.has_value());
  EXPECT_EQ(*ready_again, std::string(ready_prefix) + std::to_string(agent->port()));

  // A reload the configuration refuses still ends in READY=1: the old configuration serves on.
  agent->dir().write("hostprint.json", "{\"no_such_key\": 1}");
  ASSERT_EQ(::kill(agent->pid(), SIGHUP), 0);
  auto refused = manager.next_event(std::chrono::seconds(10));
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(refused->starts_with("RELOADING=1\n")) << *refused;
  auto ready_after_refusal = manager.next_event(std::chrono::seconds(10));
  ASSERT_TRUE(ready_after_refusal.has_value());
  EXPECT_TRUE(ready_after_refusal->starts_with("READY=1\n")) << *ready_after_refusal;
  EXPECT_NE(agent->log_text().find("reload refused"), std::string::npos) << agent->log_text();

  EXPECT_EQ(agent->stop(SIGTERM), 0);
  auto stopping = manager.next_event(std::chrono::seconds(5));
  ASSERT_TRUE(stopping.has_value());
  EXPECT_EQ(*stopping, "STOPPING=1\nSTATUS=finishing requests in flight");
}

TEST(ServiceNotify, AbstractSocketAndAWatchdogMeantForAnotherProcess) {
  NotifyListener manager("@hostprint-test-" + std::to_string(::getpid()));
  std::optional<Agent> agent;
  {
    // WATCHDOG_PID names someone else (pid 1): these keep-alives are not ours to send.
    ServiceEnvironment env(manager.address(), "200000", "1");
    agent.emplace();
  }
  ASSERT_TRUE(agent->ready()) << agent->log_text();
  auto ready = manager.next(std::chrono::seconds(30));
  ASSERT_TRUE(ready.has_value());
  EXPECT_EQ(*ready, std::string(ready_prefix) + std::to_string(agent->port()));
  EXPECT_FALSE(manager.next(std::chrono::milliseconds(800)).has_value());
  EXPECT_EQ(agent->stop(SIGTERM), 0);
}

// Under journald (JOURNAL_STREAM naming stderr) each line starts with its sd-daemon priority and
// has no time of its own; with the variable naming another stream, the usual lines.
TEST(Journald, LinesCarryThePriorityAndNoTimestamp) {
  TempDir dir;
  const auto not_a_folder = dir.write("file", "x");
  AgentOptions options;
  options.journal_stream = true;
  // A state folder that cannot be made (a warning), debug lines on.
  options.args = {"--state-dir", (not_a_folder / "state").string(), "--log-level", "debug"};
  Agent agent(options);
  ASSERT_TRUE(agent.ready()) << agent.log_text();
  EXPECT_EQ(fetch(agent, "/v5/p1/asset/statistics").result_int(), 200u);
  std::ofstream(agent.token_file(), std::ios::trunc) << "\n";  // holds no token: refused
  ::kill(agent.pid(), SIGHUP);
  agent.wait_for_log("reload refused", std::chrono::seconds(4));  // asserted below, with the rest
  const std::string log = agent.log_text();
  std::set<std::string> prefixes;
  std::istringstream lines(log);
  for (std::string line; std::getline(lines, line);) {
    SCOPED_TRACE(line);
    ASSERT_GE(line.size(), 3u);
    prefixes.insert(line.substr(0, 3));
    const std::map<std::string, std::string> level_of = {
        {"<7>", "<7>debug "}, {"<6>", "<6>info "}, {"<4>", "<4>warning "}, {"<3>", "<3>error "}};
    auto expected = level_of.find(line.substr(0, 3));
    ASSERT_NE(expected, level_of.end());
    EXPECT_TRUE(line.starts_with(expected->second));  // and so no time stamp before the level
  }
  EXPECT_EQ(prefixes, (std::set<std::string>{"<7>", "<6>", "<4>", "<3>"})) << log;
  EXPECT_NE(log.find("<4>warning state: "), std::string::npos) << log;
  EXPECT_NE(log.find("<3>error config: reload refused"), std::string::npos) << log;
  EXPECT_NE(log.find("<6>info http: request_id="), std::string::npos) << log;
}

TEST(Journald, AnotherStreamKeepsTheUsualLines) {
  ::setenv("JOURNAL_STREAM", "1:1", 1);  // inherited, but stderr is the agent's log file
  std::optional<Agent> agent;
  agent.emplace();
  ::unsetenv("JOURNAL_STREAM");
  ASSERT_TRUE(agent->ready()) << agent->log_text();
  EXPECT_EQ(fetch(*agent, "/v5/p1/asset/statistics").result_int(), 200u);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto log = agent->log_text();
  std::istringstream lines(log);
  int count = 0;
  for (std::string line; std::getline(lines, line); ++count) {
    // 2026-12-04T19:12:47.123Z info http: ...
    EXPECT_TRUE(line.size() > 25 && line[4] == '-' && line[10] == 'T' && line[23] == 'Z') << line;
    EXPECT_NE(line[0], '<') << line;
  }
  EXPECT_GT(count, 0);
}

}  // namespace
}  // namespace hostprint::test
