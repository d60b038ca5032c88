#pragma once
// Runs the real `hostprint` executable and talks to it over real sockets.
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/temp_dir.hpp"

namespace hostprint::test {

inline std::string hostprint_binary() {
  const char* bin = std::getenv("HOSTPRINT_BIN");
  return bin ? bin : "./hostprint";
}

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a program to completion, capturing stdout and stderr (files, so nothing can block).
inline RunResult run_program(const std::vector<std::string>& argv, int timeout_s = 120) {
  TempDir dir;
  auto out_path = dir.path() / "out", err_path = dir.path() / "err";
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    FILE* o = std::freopen(out_path.c_str(), "w", stdout);
    FILE* e = std::freopen(err_path.c_str(), "w", stderr);
    (void)o;
    (void)e;
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    _exit(127);
  }
  RunResult result;
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      result.err = "timed out";
      return result;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  auto slurp = [](const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  result.out = slurp(out_path);
  result.err = slurp(err_path) + result.err;
  // Under a sanitizer build, what a program reported fails the test that ran it.
  for (auto marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"})
    if (result.err.find(marker) != std::string::npos)
      ADD_FAILURE() << argv[0] << " reported: " << result.err;
  return result;
}

inline unsigned short free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}

struct AgentOptions {
  std::vector<std::string> args;  // more flags for `serve`
  std::string token = "test-token-1";
  std::string listen_host = "127.0.0.1";
  unsigned short port = 0;  // 0: a free one
  std::string config = "{}";  // the configuration file's text
  // Set JOURNAL_STREAM to the log file's device and inode, as systemd does for a service whose
  // stderr goes to the journal.
  bool journal_stream = false;
  // Runs before the agent starts (to hand its folder to another user, say), and words put
  // before the agent's command (`setpriv --reuid=...`).
  std::function<void(const TempDir&)> before_start = {};
  std::vector<std::string> prefix = {};
};

// A `hostprint serve` child with a token file, state folder and log of its own.
class Agent {
 public:
  explicit Agent(AgentOptions options = {}) : token_(std::move(options.token)) {
    const auto& extra_args = options.args;
    const auto& listen_host = options.listen_host;
    token_file_ = dir_.write("token", token_ + "\n");
    std::filesystem::permissions(
        token_file_, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
        std::filesystem::perm_options::replace);
    port_ = options.port != 0 ? options.port : free_port();
    host_ = listen_host;
    std::string listen = listen_host.find(':') != std::string::npos
                             ? "[" + listen_host + "]:" + std::to_string(port_)
                             : listen_host + ":" + std::to_string(port_);
    std::vector<std::string> argv{hostprint_binary(), "serve",
                                  "--listen",         listen,
                                  "--token-file",     token_file_.string(),
                                  "--state-dir",      (dir_.path() / "state").string(),
                                  "--config",         write_config(options.config).string()};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    argv.insert(argv.begin(), options.prefix.begin(), options.prefix.end());
    if (options.before_start) options.before_start(dir_);
    start(argv, options.journal_stream);
  }
  ~Agent() {
    stop(SIGKILL);
    // Under a sanitizer build, what the agent reported must fail the test that ran it.
    auto log = log_text();
    for (auto marker : {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"})
      if (log.find(marker) != std::string::npos) ADD_FAILURE() << "the agent reported: " << log;
  }
  Agent(const Agent&) = delete;
  Agent& operator=(const Agent&) = delete;

  const std::string& token() const { return token_; }
  unsigned short port() const { return port_; }
  const std::string& host() const { return host_; }
  pid_t pid() const { return pid_; }
  const TempDir& dir() const { return dir_; }
  std::filesystem::path token_file() const { return token_file_; }
  std::string log_text() const {
    std::ifstream in(dir_.path() / "agent.log", std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  bool ready() const { return ready_; }
  // Waits up to `timeout` for the log to hold `text` (lines written after the port opens, such as
  // start-up warnings, can come a moment after ready()); true once it does.
  bool wait_for_log(const std::string& text,
                    std::chrono::milliseconds timeout = std::chrono::seconds(15)) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (log_text().find(text) == std::string::npos) {
      if (std::chrono::steady_clock::now() >= deadline) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
  }

  // Sends `signal` and waits for the exit; returns the exit status (or 128+signal).
  int stop(int signal = SIGTERM, int timeout_s = 15) {
    if (pid_ <= 0) return exit_code_;
    ::kill(pid_, signal);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
    while (::waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    pid_ = -1;
    return exit_code_;
  }

 private:
  std::filesystem::path write_config(const std::string& text) {
    return dir_.write("hostprint.json", text);
  }

  void start(const std::vector<std::string>& argv, bool journal_stream) {
    auto log_path = dir_.path() / "agent.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a test program that crashed
      FILE* e = std::freopen(log_path.c_str(), "w", stderr);
      FILE* o = std::freopen(log_path.c_str(), "a", stdout);
      (void)e;
      (void)o;
      struct stat st {};
      if (journal_stream && ::fstat(STDERR_FILENO, &st) == 0) {
        const std::string value = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
        ::setenv("JOURNAL_STREAM", value.c_str(), 1);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execv(args[0], args.data());
      _exit(127);
    }
    // Ready once the port takes connections: it opens at the end of the first scan, and nothing
    // is answered before that scan is published.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        pid_ = -1;
        return;
      }
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket s(io);
      boost::system::error_code ec;
      s.connect({boost::asio::ip::make_address(host_), port_}, ec);
      if (!ec) {
        ready_ = true;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  TempDir dir_;
  std::string token_;
  std::filesystem::path token_file_;
  std::string host_;
  unsigned short port_ = 0;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  bool ready_ = false;
};

namespace http = boost::beast::http;
using Response = http::response<http::string_body>;

// One client connection speaking raw bytes, reading answers with Beast's parser.
class Connection {
 public:
  Connection(const std::string& host, unsigned short port) : socket_(io_) {
    socket_.connect({boost::asio::ip::make_address(host), port});
  }
  explicit Connection(const Agent& agent) : Connection(agent.host(), agent.port()) {}

  void send(std::string_view bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }

  // Reads one response; `head` when it answers a HEAD request (no body follows).
  Response read(bool head = false) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    parser.skip(head);
    http::read(socket_, buffer_, parser);
    return parser.release();
  }

  // True when the server closed the connection (EOF, no further response bytes) within the wait.
  bool closed_by_server(int wait_ms = 5000) {
    if (buffer_.size() > 0) return false;
    pollfd p{socket_.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, wait_ms) <= 0) return false;
    char byte;
    ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno == ECONNRESET);
  }

  boost::asio::ip::tcp::socket& socket() { return socket_; }

 private:
  boost::asio::io_context io_;
  boost::asio::ip::tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

inline std::string get_request(std::string_view target, std::optional<std::string_view> token,
                               std::string_view method = "GET", std::string extra_headers = "") {
  std::string r =
      std::string(method) + " " + std::string(target) + " HTTP/1.1\r\nHost: localhost\r\n";
  if (token) r += "X-Auth-Token: " + std::string(*token) + "\r\n";
  r += extra_headers;
  r += "\r\n";
  return r;
}

// One request on a fresh connection.
inline Response fetch(const Agent& agent, std::string_view target,
                      std::optional<std::string_view> token, std::string_view method = "GET") {
  Connection c(agent);
  c.send(get_request(target, token, method));
  return c.read(method == "HEAD");
}

inline Response fetch(const Agent& agent, std::string_view target) {
  return fetch(agent, target, agent.token());
}

}  // namespace hostprint::test
