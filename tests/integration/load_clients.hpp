#pragma once
// Clients for load and fault runs against a real `hostprint serve`: a crowd of raw non-blocking
// connections driven by one epoll thread (keep-alive, slowloris, flood, pipelined bursts), a
// well-behaved client that times its answers, the agent's memory and descriptors sampled from
// /proc, and the figures each run appends to $HOSTPRINT_RELIABILITY_FIGURES (one JSON object a
// line) for scripts/reliability.sh.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/agent_harness.hpp"

namespace hostprint::test {

using Clock = std::chrono::steady_clock;

inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto i = static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(i, values.size() - 1)];
}

// A /proc/<pid>/status field in kB (VmRSS, VmHWM).
inline long proc_status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  return -1;
}

inline long open_descriptors(pid_t pid) {
  std::error_code ec;
  long n = 0;
  for (std::filesystem::directory_iterator it("/proc/" + std::to_string(pid) + "/fd", ec), end;
       !ec && it != end; it.increment(ec))
    ++n;
  return ec ? -1 : n;
}

// Samples the agent's resident memory and open descriptors every 50 ms while alive.
class AgentSampler {
 public:
  explicit AgentSampler(pid_t pid) : pid_(pid), thread_([this] { run(); }) {}
  ~AgentSampler() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  long max_rss_kb() const { return max_rss_kb_; }
  long max_fds() const { return max_fds_; }
  bool alive() const { return ::kill(pid_, 0) == 0; }

 private:
  void run() {
    while (!done_) {
      max_rss_kb_ = std::max(max_rss_kb_.load(), proc_status_kb(pid_, "VmRSS"));
      max_fds_ = std::max(max_fds_.load(), open_descriptors(pid_));
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  pid_t pid_;
  std::atomic<bool> done_{false};
  std::atomic<long> max_rss_kb_{0}, max_fds_{0};
  std::thread thread_;
};

// Asks `target` every `pause` on one keep-alive connection, as a monitoring client would: an
// answer not received within 5 s is a failure; a connection the server closed is replaced and the
// request asked again on the new one (that retry counts in the latency).
class WellBehavedClient {
 public:
  WellBehavedClient(const Agent& agent, std::string target,
                    std::chrono::milliseconds pause = std::chrono::milliseconds(20))
      : host_(agent.host()), port_(agent.port()), token_(agent.token()),
        target_(std::move(target)), pause_(pause), thread_([this] { run(); }) {}
  ~WellBehavedClient() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }

  std::vector<double> latencies_ms() const {
    std::lock_guard lock(mutex_);
    return latencies_;
  }
  std::map<int, long> statuses() const {
    std::lock_guard lock(mutex_);
    return statuses_;
  }
  std::set<std::string> request_ids() const {
    std::lock_guard lock(mutex_);
    return ids_;
  }
  long failures() const { return failures_; }
  long reconnects() const { return reconnects_; }
  // The longest time without a 200 answer, from the first request to the end.
  double longest_gap_ms() const {
    std::lock_guard lock(mutex_);
    return longest_gap_ms_;
  }
  long answered() const {
    std::lock_guard lock(mutex_);
    return statuses_.count(200) ? statuses_.at(200) : 0;
  }

 private:
  // One request; false when the connection failed (nothing received).
  bool ask(std::optional<Connection>& c, Response& out) {
    try {
      if (!c) {
        c.emplace(host_, port_);
        timeval tv{5, 0};
        ::setsockopt(c->socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(c->socket().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      }
      c->send(get_request(target_, token_));
      out = c->read();
      if (!out.keep_alive()) c.reset();
      return true;
    } catch (const std::exception&) {
      c.reset();
      return false;
    }
  }

  void run() {
    std::optional<Connection> c;
    auto last_ok = Clock::now();
    while (!done_) {
      const auto start = Clock::now();
      Response r;
      bool ok = ask(c, r);
      if (!ok) {  // closed under us (evicted while idle): once more on a new connection
        ++reconnects_;
        ok = ask(c, r);
      }
      const auto end = Clock::now();
      {
        std::lock_guard lock(mutex_);
        if (!ok) {
          ++failures_;
        } else {
          ++statuses_[r.result_int()];
          if (r.result_int() == 200) {
            ids_.insert(std::string(r["X-Request-Id"]));
            latencies_.push_back(std::chrono::duration<double, std::milli>(end - start).count());
          }
        }
        longest_gap_ms_ = std::max(
            longest_gap_ms_, std::chrono::duration<double, std::milli>(end - last_ok).count());
        if (ok && r.result_int() == 200) last_ok = end;
      }
      std::this_thread::sleep_for(pause_);
    }
  }

  std::string host_;
  unsigned short port_;
  std::string token_, target_;
  std::chrono::milliseconds pause_;
  mutable std::mutex mutex_;
  std::vector<double> latencies_;
  std::map<int, long> statuses_;
  std::set<std::string> ids_;
  double longest_gap_ms_ = 0;
  std::atomic<long> failures_{0}, reconnects_{0};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

enum class CrowdMode {
  keep_alive,  // a request, its answer, the next request, ...
  slowloris,   // one byte of a request header a second, never finishing it
  flood,       // connect and say nothing; reconnect when closed
  pipelined,   // bursts of `burst` requests in one write, then their answers
};

struct CrowdFigures {
  long connects = 0;         // connections opened (reconnects included)
  long connect_errors = 0;   // refused or failed connects
  long closed_by_server = 0;
  long requests_sent = 0;
  long answers = 0;
  std::map<int, long> statuses;
  long open_at_end = 0;
};

// `size` connections at once, one epoll thread; each connection that ends is opened again.
class Crowd {
 public:
  Crowd(const Agent& agent, CrowdMode mode, int size, std::string target = "/status",
        int burst = 32)
      : mode_(mode), size_(size), burst_(burst) {
    addr_.sin_family = AF_INET;
    addr_.sin_port = htons(agent.port());
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    request_ = get_request(target, agent.token());
    thread_ = std::thread([this] { run(); });
  }
  ~Crowd() { stop(); }
  void stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  CrowdFigures figures() const {
    std::lock_guard lock(mutex_);
    return figures_;
  }

 private:
  struct Conn {
    int fd = -1;
    bool connected = false;
    std::string out;  // bytes still to write
    std::string in;
    long pending = 0;  // requests sent, not yet answered
    Clock::time_point next_byte{};
    std::size_t trickled = 0;
  };

  void open_one(Conn& c) {
    c = Conn{};
    c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c.fd < 0) return;
    int one = 1;
    ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::lock_guard lock(mutex_);
    ++figures_.connects;
    if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr_), sizeof addr_) != 0 &&
        errno != EINPROGRESS) {
      ++figures_.connect_errors;
      ::close(c.fd);
      c.fd = -1;
      return;
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
    ev.data.ptr = &c;
    ::epoll_ctl(epoll_, EPOLL_CTL_ADD, c.fd, &ev);
  }

  void close_one(Conn& c, bool by_server) {
    if (c.fd < 0) return;
    ::epoll_ctl(epoll_, EPOLL_CTL_DEL, c.fd, nullptr);
    ::close(c.fd);
    c.fd = -1;
    std::lock_guard lock(mutex_);
    if (by_server) ++figures_.closed_by_server;
  }

  void queue_requests(Conn& c) {
    if (mode_ == CrowdMode::keep_alive) {
      c.out += request_;
      c.pending += 1;
    } else if (mode_ == CrowdMode::pipelined) {
      for (int i = 0; i < burst_; ++i) c.out += request_;
      c.pending += burst_;
    }
    std::lock_guard lock(mutex_);
    figures_.requests_sent += mode_ == CrowdMode::pipelined ? burst_ : 1;
  }

  // Takes whole answers off `c.in`; true while the connection stays usable.
  bool parse_answers(Conn& c) {
    for (;;) {
      auto end = c.in.find("\r\n\r\n");
      if (end == std::string::npos) return true;
      int status = std::atoi(c.in.c_str() + 9);
      std::size_t length = 0;
      auto at = c.in.find("Content-Length: ");
      if (at != std::string::npos && at < end) length = std::strtoul(c.in.c_str() + at + 16, nullptr, 10);
      if (c.in.size() < end + 4 + length) return true;
      const bool closes = c.in.substr(0, end).find("Connection: close") != std::string::npos;
      c.in.erase(0, end + 4 + length);
      --c.pending;
      {
        std::lock_guard lock(mutex_);
        ++figures_.answers;
        ++figures_.statuses[status];
      }
      if (closes) return false;
    }
  }

  // A non-blocking connect has ended: false (and the connection closed, counted) when it failed.
  bool finish_connect(Conn& c) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      {
        std::lock_guard lock(mutex_);
        ++figures_.connect_errors;
      }
      close_one(c, false);
      return false;
    }
    c.connected = true;
    c.next_byte = Clock::now();
    return true;
  }

  void on_event(Conn& c, std::uint32_t events) {
    if (!c.connected && (events & (EPOLLOUT | EPOLLERR))) {
      if (!finish_connect(c)) return;
      queue_requests(c);
    }
    if (events & EPOLLIN) {
      char buffer[16384];
      for (;;) {
        ssize_t n = ::recv(c.fd, buffer, sizeof buffer, 0);
        if (n > 0) {
          c.in.append(buffer, static_cast<std::size_t>(n));
          continue;
        }
        if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
          parse_answers(c);
          close_one(c, true);
          return;
        }
        break;
      }
      if (!parse_answers(c)) {
        close_one(c, true);
        return;
      }
      if (c.pending == 0) queue_requests(c);
    }
    flush(c);
  }

  void flush(Conn& c) {
    while (c.fd >= 0 && c.connected && !c.out.empty()) {
      ssize_t n = ::send(c.fd, c.out.data(), c.out.size(), MSG_NOSIGNAL);
      if (n > 0) {
        c.out.erase(0, static_cast<std::size_t>(n));
      } else {
        if (n < 0 && errno != EAGAIN && errno != EINTR) close_one(c, true);
        return;
      }
    }
  }

  void trickle(Conn& c, Clock::time_point now) {
    if (c.fd < 0 || !c.connected || now < c.next_byte) return;
    // A request that never ends: its header grows by one byte a second.
    static const std::string slow = "GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: " +
                                    std::string(100000, 'a');
    char byte = slow[std::min(c.trickled, slow.size() - 1)];
    ++c.trickled;
    if (::send(c.fd, &byte, 1, MSG_NOSIGNAL) < 0 && errno != EAGAIN) close_one(c, true);
    c.next_byte = now + std::chrono::seconds(1);
  }

  void run() {
    epoll_ = ::epoll_create1(EPOLL_CLOEXEC);
    std::vector<Conn> conns(static_cast<std::size_t>(size_));
    // Opened at a few hundred a millisecond at most, so that the listen backlog holds them.
    for (auto& c : conns) {
      if (done_) break;
      open_one(c);
    }
    std::vector<epoll_event> events(256);
    while (!done_) {
      int n = ::epoll_wait(epoll_, events.data(), static_cast<int>(events.size()), 50);
      for (int i = 0; i < n; ++i) {
        auto& c = *static_cast<Conn*>(events[static_cast<std::size_t>(i)].data.ptr);
        if (c.fd < 0) continue;
        if (mode_ == CrowdMode::flood || mode_ == CrowdMode::slowloris) {
          if (!c.connected && (events[static_cast<std::size_t>(i)].events & EPOLLOUT)) {
            if (!finish_connect(c)) continue;
            // Only the closing matters from here on.
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLRDHUP;
            ev.data.ptr = &c;
            ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
          }
          if (events[static_cast<std::size_t>(i)].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
            char buffer[4096];
            ssize_t got = ::recv(c.fd, buffer, sizeof buffer, 0);
            if (got > 0) {
              c.in.append(buffer, static_cast<std::size_t>(got));
              parse_answers(c);
            }
            if (got == 0 || (got < 0 && errno != EAGAIN)) close_one(c, true);
          }
        } else {
          on_event(c, events[static_cast<std::size_t>(i)].events);
          if (c.fd >= 0 && c.out.empty()) {
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLRDHUP;
            ev.data.ptr = &c;
            ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
          } else if (c.fd >= 0) {
            epoll_event ev{};
            ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP;
            ev.data.ptr = &c;
            ::epoll_ctl(epoll_, EPOLL_CTL_MOD, c.fd, &ev);
          }
        }
      }
      const auto now = Clock::now();
      for (auto& c : conns) {
        if (done_) break;
        if (c.fd < 0) {
          open_one(c);
          continue;
        }
        if (mode_ == CrowdMode::slowloris) trickle(c, now);
      }
    }
    long open = 0;
    for (auto& c : conns)
      if (c.fd >= 0) {
        ++open;
        ::close(c.fd);
      }
    ::close(epoll_);
    std::lock_guard lock(mutex_);
    figures_.open_at_end = open;
  }

  CrowdMode mode_;
  int size_;
  int burst_;
  sockaddr_in addr_{};
  std::string request_;
  int epoll_ = -1;
  mutable std::mutex mutex_;
  CrowdFigures figures_;
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// The agent's log lines that record a request, by request id; the test fails on a line that
// holds more than one request or a request id written twice.
inline std::map<std::string, int> request_lines(const std::string& log) {
  std::map<std::string, int> out;
  std::istringstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    auto at = line.find("request_id=");
    if (at == std::string::npos) continue;
    EXPECT_EQ(line.find("request_id=", at + 1), std::string::npos) << line;
    auto end = line.find(' ', at);
    ++out[line.substr(at + 11, end == std::string::npos ? std::string::npos : end - at - 11)];
  }
  return out;
}

// One row of docs/RELIABILITY.md: appended to $HOSTPRINT_RELIABILITY_FIGURES when set.
inline void record_figures(const std::string& section, const std::string& scenario,
                           const std::string& how, const std::string& result,
                           const boost::json::object& figures) {
  const char* file = std::getenv("HOSTPRINT_RELIABILITY_FIGURES");
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  boost::json::object row{{"section", section}, {"scenario", scenario}, {"how", how},
                          {"result", result}, {"figures", figures},
                          {"test", test ? std::string(test->test_suite_name()) + "." + test->name()
                                        : std::string()}};
  std::cout << "[figures] " << boost::json::serialize(row) << "\n";
  if (!file) return;
  std::ofstream out(file, std::ios::app);
  out << boost::json::serialize(row) << "\n";
}

inline std::string statuses_text(const std::map<int, long>& statuses) {
  std::string out;
  for (const auto& [status, n] : statuses)
    out += (out.empty() ? "" : ", ") + std::to_string(n) + " x " + std::to_string(status);
  return out.empty() ? "none" : out;
}

}  // namespace hostprint::test
