#pragma once
// Real metrics engines (VictoriaMetrics, Prometheus), static exposition servers and a
// `hostprint fleet` child, each on loopback on a free port in a folder of its own, for tests that
// check fleet answers against what the simulated (or real) hosts add up to.
#include <array>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/agent_harness.hpp"

namespace hostprint::test {

// A child process with its own log file, killed (SIGTERM, then SIGKILL) when destroyed.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_path)
      : log_path_(log_path) {
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      FILE* e = std::freopen(log_path.c_str(), "w", stderr);
      FILE* o = std::freopen(log_path.c_str(), "a", stdout);
      (void)e;
      (void)o;
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      _exit(127);
    }
  }
  ~ChildProcess() { stop(SIGTERM); }
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      pid_ = -1;
      return false;
    }
    return true;
  }
  std::string log_text() const {
    std::ifstream in(log_path_, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Sends `signal`, waits up to `timeout_s`, then SIGKILL; the exit status (or 128+signal).
  int stop(int signal = SIGTERM, int timeout_s = 10) {
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
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  int exit_code_ = -1;
};

// One plain request on a fresh connection; nullopt when nothing answers.
inline std::optional<Response> http_request(unsigned short port, const std::string& method,
                                            const std::string& target,
                                            const std::string& headers = "",
                                            const std::string& body = "") {
  try {
    Connection c("127.0.0.1", port);
    std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + headers +
                    "Content-Length: " + std::to_string(body.size()) +
                    "\r\nConnection: close\r\n\r\n" + body;
    c.send(r);
    return c.read(method == "HEAD");
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Polls until `target` answers 200 or the wait ends.
inline bool wait_for_ok(unsigned short port, const std::string& target, int timeout_s = 60) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = http_request(port, "GET", target);
    if (r && r->result_int() == 200) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

// A single-node VictoriaMetrics with its own storage; samples come through its import API.
class VictoriaMetrics {
 public:
  // `extra_args`: more flags (-promscrape.config=FILE to have it scrape targets itself).
  explicit VictoriaMetrics(const std::vector<std::string>& extra_args = {})
      : port_(free_port()), process_(argv(dir_.path(), port_, extra_args), dir_.path() / "vm.log") {
    ready_ = wait_for_ok(port_, "/health");
  }
  bool ready() const { return ready_; }
  unsigned short port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  ChildProcess& process() { return process_; }
  std::string log_text() const { return process_.log_text(); }

  // Prometheus exposition text, stamped with the current time; returns once every series of it
  // can be queried (new series take about a second to become searchable, even after a flush).
  bool import(const std::string& exposition) {
    auto r = http_request(port_, "POST", "/api/v1/import/prometheus",
                          "Content-Type: text/plain\r\n", exposition);
    if (!r || r->result_int() / 100 != 2) return false;
    http_request(port_, "GET", "/internal/force_flush");
    std::size_t samples = 0;
    for (std::size_t at = 0; at < exposition.size();) {
      auto end = exposition.find('\n', at);
      if (end == std::string::npos) end = exposition.size();
      if (end > at && exposition[at] != '#') ++samples;
      at = end + 1;
    }
    const std::string count =
        "/api/v1/query?query=count%28last_over_time%28%7B__name__%3D~%22.%2B%22%7D%5B1h%5D%29%29";
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      auto q = http_request(port_, "GET", count);
      auto at = q ? q->body().find("\"value\":[") : std::string::npos;
      if (at != std::string::npos) {
        auto quote = q->body().find('"', q->body().find(',', at) );
        if (quote != std::string::npos &&
            std::strtoull(q->body().c_str() + quote + 1, nullptr, 10) >= samples)
          return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
  }

 private:
  static std::vector<std::string> argv(const std::filesystem::path& dir, unsigned short port,
                                       const std::vector<std::string>& extra_args) {
    std::vector<std::string> out{
        "/usr/bin/victoria-metrics", "-storageDataPath=" + (dir / "data").string(),
        "-httpListenAddr=127.0.0.1:" + std::to_string(port), "-retentionPeriod=1d",
        // Samples are visible to queries at once (the default hides the last 30 s).
        "-search.latencyOffset=0s", "-loggerLevel=ERROR"};
    out.insert(out.end(), extra_args.begin(), extra_args.end());
    return out;
  }

  TempDir dir_;
  unsigned short port_;
  ChildProcess process_;
  bool ready_ = false;
};

// Static exposition servers: each serves one file named `metrics`, rewritten at will.
class ExpositionServer {
 public:
  explicit ExpositionServer(const std::string& text)
      : port_(free_port()),
        file_(dir_.write("metrics", text)),
        process_({"python3", "-m", "http.server", "--bind", "127.0.0.1", "--directory",
                  dir_.path().string(), std::to_string(port_)},
                 dir_.path() / "server.log") {
    ready_ = wait_for_ok(port_, "/metrics", 30);
  }
  bool ready() const { return ready_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  // Atomically, so a scrape never sees half a file.
  void rewrite(const std::string& text) {
    std::filesystem::rename(dir_.write("metrics.tmp", text), file_);
  }

 private:
  TempDir dir_;
  unsigned short port_;
  std::filesystem::path file_;
  ChildProcess process_;
  bool ready_ = false;
};

// The text of a `scrape_configs:` list (YAML, its items indented by two spaces).
struct ScrapeConfigs {
  std::string yaml;
};

// Prometheus scraping `targets` (host:port, path /metrics) every second, or the jobs given.
class Prometheus {
 public:
  explicit Prometheus(const std::vector<std::string>& targets)
      : Prometheus(ScrapeConfigs{plain_job(targets)}) {}
  explicit Prometheus(const ScrapeConfigs& jobs) : port_(free_port()) {
    auto config = dir_.write("prometheus.yml",
                             "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
                             "scrape_configs:\n" + jobs.yaml);
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{"/usr/bin/prometheus", "--config.file=" + config.string(),
                                 "--storage.tsdb.path=" + (dir_.path() / "data").string(),
                                 "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                 "--log.level=warn"},
        dir_.path() / "prometheus.log");
    ready_ = wait_for_ok(port_, "/-/ready");
  }
  bool ready() const { return ready_; }
  unsigned short port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string log_text() const { return process_->log_text(); }
  ChildProcess& process() { return *process_; }

 private:
  static std::string plain_job(const std::vector<std::string>& targets) {
    std::string list;
    for (const auto& t : targets) list += (list.empty() ? "'" : ", '") + t + "'";
    return "  - job_name: hostprint\n    static_configs:\n      - targets: [" + list + "]\n";
  }

  TempDir dir_;
  unsigned short port_;
  std::unique_ptr<ChildProcess> process_;
  bool ready_ = false;
};

// `hostprint fleet` with a token file and configuration of its own.
class FleetProcess {
 public:
  FleetProcess(const std::string& engine_url, const std::string& config = "{}",
               std::vector<std::string> extra_args = {})
      : port_(free_port()) {
    token_file_ = dir_.write("token", token_ + "\n");
    std::filesystem::permissions(token_file_, std::filesystem::perms::owner_read,
                                 std::filesystem::perm_options::replace);
    std::vector<std::string> argv{hostprint_binary(), "fleet",
                                  "--prometheus",     engine_url,
                                  "--listen",         "127.0.0.1:" + std::to_string(port_),
                                  "--token-file",     token_file_.string(),
                                  "--config",         dir_.write("hostprint.json", config).string()};
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    process_ = std::make_unique<ChildProcess>(argv, dir_.path() / "fleet.log");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline && process_->running()) {
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket s(io);
      boost::system::error_code ec;
      s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
      if (!ec) {
        ready_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  bool ready() const { return ready_; }
  unsigned short port() const { return port_; }
  const std::string& token() const { return token_; }
  ChildProcess& process() { return *process_; }
  std::string log_text() const { return process_->log_text(); }

  Response get(const std::string& target, std::optional<std::string> token = {}) const {
    Connection c("127.0.0.1", port_);
    c.send(get_request(target, token.value_or(token_)));
    return c.read();
  }

 private:
  TempDir dir_;
  std::string token_ = "fleet-token-1";
  std::filesystem::path token_file_;
  unsigned short port_;
  std::unique_ptr<ChildProcess> process_;
  bool ready_ = false;
};

// A real `hostprint serve` as pid 1 of a PID namespace of its own (unshare --pid --fork
// --mount-proc; the network is the host's, so it listens on loopback), with the programs
// `background` names (shell commands) running beside it. Stopping the unshare kills the namespace.
struct NamespacedAgentOptions {
  std::vector<std::string> background;
  std::string config = "{}";                      // the configuration file's text
  std::map<std::string, std::string> root_files;  // relative path under --root -> content
  std::string token = "ns-token";
};

class NamespacedAgent {
 public:
  explicit NamespacedAgent(const NamespacedAgentOptions& o) : token_(o.token), port_(free_port()) {
    for (const auto& [path, text] : o.root_files) dir_.write("root/" + path, text);
    std::filesystem::create_directories(dir_.path() / "root");
    auto token_file = dir_.write("token", token_ + "\n");
    std::filesystem::permissions(token_file, std::filesystem::perms::owner_read,
                                 std::filesystem::perm_options::replace);
    std::string script = "pids=\n";
    for (const auto& command : o.background) script += command + " &\npids=\"$pids $!\"\n";
    // The first scan happens before the agent listens: every background program must have
    // replaced its forked shell by then, or the scan counts a shell in its place.
    script +=
        "shell=$(readlink /proc/$$/exe)\n"
        "for p in $pids; do\n"
        "  while [ \"$(readlink /proc/$p/exe)\" = \"$shell\" ]; do :; done\n"
        "done\n"
        "exec \"$0\" serve --listen \"$1\" --token-file \"$2\" --state-dir \"$3\" "
        "--config \"$4\" --root \"$5\"\n";
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{
            "unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "sh", "-c", script,
            hostprint_binary(), "127.0.0.1:" + std::to_string(port_), token_file.string(),
            (dir_.path() / "state").string(), dir_.write("hostprint.json", o.config).string(),
            (dir_.path() / "root").string()},
        dir_.path() / "agent.log");
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline && process_->running()) {
      boost::asio::io_context io;
      boost::asio::ip::tcp::socket s(io);
      boost::system::error_code ec;
      s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
      if (!ec) {
        ready_ = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  // unshare blocks SIGTERM; its death SIGKILLs the namespace's pid 1, and so the namespace.
  ~NamespacedAgent() { process_->stop(SIGKILL); }
  NamespacedAgent(const NamespacedAgent&) = delete;
  NamespacedAgent& operator=(const NamespacedAgent&) = delete;

  bool ready() const { return ready_; }
  unsigned short port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  const std::string& token() const { return token_; }
  std::filesystem::path token_file() const { return dir_.path() / "token"; }
  ChildProcess& process() { return *process_; }
  std::string log_text() const { return process_->log_text(); }

 private:
  TempDir dir_;
  std::string token_;
  unsigned short port_;
  std::unique_ptr<ChildProcess> process_;
  bool ready_ = false;
};

// One simulated host's figures, and its exposition with hostprint's metric names.
struct SimHost {
  std::string host_id;
  std::string enterprise_project_id = "0";
  std::map<std::string, std::array<std::int64_t, 12>> counts;  // category -> twelve counts
  std::map<std::string, std::map<std::string, std::int64_t>> processes;  // category -> path -> n
  int rasp_protected = 0;
  std::int64_t rasp_blocked = 0;
  double scan_age_s = 5;  // how long before now its last scan completed
  std::string extra_labels;  // e.g. instance="a" to simulate a second scrape of the same host
};

inline constexpr std::array<const char*, 12> count_metric_names{
    "hostprint_accounts",    "hostprint_ports",          "hostprint_running_processes",
    "hostprint_apps",        "hostprint_auto_launches",  "hostprint_web_frameworks",
    "hostprint_web_sites",   "hostprint_jar_packages",   "hostprint_kernel_modules",
    "hostprint_web_services", "hostprint_web_apps",      "hostprint_databases"};

// Label values escaped as the exposition format wants (backslash, quote, newline).
inline std::string escape_label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

inline std::string exposition(const SimHost& h, double now) {
  std::string ids = "host_id=\"" + escape_label(h.host_id) + "\",enterprise_project_id=\"" +
                    escape_label(h.enterprise_project_id) + "\"" +
                    (h.extra_labels.empty() ? "" : "," + h.extra_labels);
  std::string out;
  for (std::size_t i = 0; i < count_metric_names.size(); ++i) {
    out += std::string("# TYPE ") + count_metric_names[i] + " gauge\n";
    for (const auto& [category, counts] : h.counts)
      out += std::string(count_metric_names[i]) + "{" + ids + ",category=\"" + category + "\"} " +
             std::to_string(counts[i]) + "\n";
  }
  out += "# TYPE hostprint_processes gauge\n";
  for (const auto& [category, paths] : h.processes)
    for (const auto& [path, n] : paths)
      out += "hostprint_processes{" + ids + ",category=\"" + category + "\",path=\"" +
             escape_label(path) + "\"} " + std::to_string(n) + "\n";
  out += "# TYPE hostprint_rasp_protected gauge\nhostprint_rasp_protected{" + ids + "} " +
         std::to_string(h.rasp_protected) + "\n";
  out += "# TYPE hostprint_rasp_blocked_attacks gauge\nhostprint_rasp_blocked_attacks{" + ids +
         "} " + std::to_string(h.rasp_blocked) + "\n";
  char ts[64];
  std::snprintf(ts, sizeof ts, "%.3f", now - h.scan_age_s);
  out += "# TYPE hostprint_scan_timestamp_seconds gauge\nhostprint_scan_timestamp_seconds{" + ids +
         "} " + ts + "\n";
  out += "# TYPE hostprint_build_info gauge\nhostprint_build_info{" + ids +
         ",version=\"0.1.0\"} 1\n";
  return out;
}

inline double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace hostprint::test
