// `serve` and `query`: the same configuration, scanner and router; only the transport differs.
// `fleet`: the same configuration, validation and HTTP server, answered from a metrics engine.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>

#include "agent/cli.hpp"
#include "agent/fleet.hpp"
#include "agent/http_server.hpp"
#include "agent/logging.hpp"
#include "agent/router.hpp"
#include "agent/scanner.hpp"
#include "agent/service_notify.hpp"
#include "agent/tls.hpp"
#include "agent/tokens.hpp"
#include "collectors/io/bounded_read.hpp"
#include "collectors/rules/fingerprints.hpp"

namespace hostprint {
namespace {

RouterSettings router_settings(const Config& config) {
  return {config.project_id, config.enterprise_project_id, effective_host_id(config)};
}

// The rules file as configured; the rules built in when the default file is not installed (a
// build tree). A rules file that is there but wrong stops the agent, naming the key.
std::shared_ptr<const collectors::Fingerprints> load_rules(const Config& config) {
  auto read = collectors::read_bounded(config.rules_file, 16u << 20);
  std::string_view text;
  if (read.status == collectors::ReadStatus::missing && config.rules_file == Config{}.rules_file) {
    text = collectors::builtin_fingerprints_text();
  } else if (read.status != collectors::ReadStatus::ok) {
    throw ConfigError("rules_file: " + (read.error.empty()
                                            ? config.rules_file.string() + ": no such file"
                                            : read.error));
  } else if (read.file.truncated) {
    throw ConfigError("rules_file: " + config.rules_file.string() + ": larger than 16 MiB");
  } else {
    text = read.file.text;
  }
  try {
    return std::make_shared<const collectors::Fingerprints>(collectors::parse_fingerprints(text));
  } catch (const collectors::RulesError& e) {
    throw ConfigError("rules_file: " + config.rules_file.string() + ": " + e.what());
  }
}

ScanSettings scan_settings(const Config& config) {
  ScanSettings s;
  s.rules = load_rules(config);
  s.root = config.root;
  s.interval = std::chrono::seconds(config.scan_interval_s);
  s.state_dir = config.state_dir;
  s.rasp_agent_jars = config.rasp_agent_jars;
  s.rasp_alarm_logs = config.rasp_alarm_logs;
  s.metrics = {effective_host_id(config), config.enterprise_project_id,
               config.metrics_max_process_paths, s.interval};
  s.history = {config.history_max_age_days, config.history_max_events};
  return s;
}

// Creates the state folder (0700) when missing; a failure costs persistence, nothing else.
// Returns whether the folder exists: one that cannot be written (read-only) is still read, so
// the records saved before are not forgotten, and each failed save is reported by its owner.
bool prepare_state_dir(const Config& config) {
  std::error_code ec;
  std::filesystem::create_directories(config.state_dir, ec);
  if (!ec) {
    ::chmod(config.state_dir.c_str(), 0700);
    if (::access(config.state_dir.c_str(), W_OK) == 0) return true;
    log(LogLevel::warning, "state",
        config.state_dir.string() + " cannot be written (" + std::strerror(errno) +
            "); its records are read, and new ones kept in memory only");
    return true;
  }
  log(LogLevel::warning, "state",
      config.state_dir.string() + " cannot be created (" + ec.message() +
          "); the RASP event window is kept in memory only");
  return false;
}

ScanSettings scan_settings_with_state(const Config& config) {
  ScanSettings settings = scan_settings(config);
  if (!prepare_state_dir(config)) settings.state_dir.clear();
  return settings;
}

// What requests need from the configuration, swapped whole on reload.
struct Runtime {
  TokenSet tokens;
  RouterSettings router;
};

const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Payload Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
  }
  return "";
}

// A reload's certificate and key, read and checked before anything changes (a broken pair
// refuses the whole reload, like a broken token file); null when TLS is off.
std::shared_ptr<TlsContext> reloaded_tls(const Config& fresh) {
  check_listen_exposure(fresh);
  if (!fresh.tls_enabled()) return nullptr;
  return load_tls_context(fresh.tls_cert_file, fresh.tls_key_file);
}

// What a reload cannot change on a running listener: said, and left for the next start.
HttpLimits http_limits(const Config& config) {
  HttpLimits limits;
  limits.threads = config.http_threads;
  limits.cpu_affinity = config.http_cpu_affinity;
  return limits;
}

void warn_restart_only(const Config& running, const Config& fresh, bool serving_tls) {
  if (!(fresh.listen.host == running.listen.host && fresh.listen.port == running.listen.port))
    log(LogLevel::warning, "config",
        "listen changed to " + fresh.listen.text() + "; it takes effect at the next start");
  if (fresh.http_threads != running.http_threads)
    log(LogLevel::warning, "config",
        "http.threads changed to " + std::to_string(fresh.http_threads) +
            "; it takes effect at the next start");
  if (fresh.http_cpu_affinity != running.http_cpu_affinity)
    log(LogLevel::warning, "config",
        std::string("http.cpu_affinity changed to ") + (fresh.http_cpu_affinity ? "auto" : "off") +
            "; it takes effect at the next start");
  if (fresh.tls_enabled() != serving_tls)
    log(LogLevel::warning, "config",
        std::string(serving_tls ? "tls.cert_file and tls.key_file removed"
                                : "tls.cert_file and tls.key_file set") +
            "; switching between HTTP and HTTPS takes effect at the next start");
}

// Runs `io` until a SIGTERM or SIGINT has drained `server`: SIGHUP calls `reload` (which
// logs its own outcome); requests in flight get 5 s, and the loop ends as soon as no connection
// is left. Ready is told only once SIGHUP is handled: systemd sends a queued reload at once.
// `signals` (SIGINT, SIGTERM, SIGHUP) is made before the port opens: one sent since is handled
// here.
void serve_until_stopped(boost::asio::io_context& io, boost::asio::signal_set& signals,
                         HttpServer& server, const ServiceNotifier& notifier,
                         const std::function<void()>& reload,
                         const std::function<std::string()>& ready_text,
                         const std::function<void()>& on_stop) {
  namespace asio = boost::asio;
  asio::steady_timer drain_deadline(io);
  asio::steady_timer reload_soon(io);
  bool reload_armed = false;
  // The drain timer keeps run() alive until it fires; end earlier once no connection is left.
  // Polled only while stopping: an idle agent is not woken 20 times a second.
  asio::steady_timer poll(io);
  std::function<void()> watch_drain = [&] {
    poll.expires_after(std::chrono::milliseconds(50));
    poll.async_wait([&](const boost::system::error_code& e) {
      if (e) return;
      if (server.shutting_down() && server.connection_count() == 0) {
        drain_deadline.cancel();
        return;
      }
      watch_drain();
    });
  };
  std::function<void()> wait_for_signal = [&] {
    signals.async_wait([&](const boost::system::error_code& error, int signal) {
      if (error) return;
      if (signal == SIGHUP) {
        // A storm of SIGHUPs is one reload: those within 50 ms of the first join it, so a slow
        // reload cannot leave a backlog of signals each queueing a scan.
        if (!reload_armed) {
          reload_armed = true;
          reload_soon.expires_after(std::chrono::milliseconds(50));
          reload_soon.async_wait([&](const boost::system::error_code& e) {
            reload_armed = false;
            if (e) return;
            notifier.reloading();
            reload();
            notifier.ready(ready_text());
          });
        }
        wait_for_signal();
        return;
      }
      log(LogLevel::info, "agent",
          std::string("stopping on ") + (signal == SIGTERM ? "SIGTERM" : "SIGINT"));
      notifier.stopping();
      server.begin_shutdown();
      signals.cancel();
      reload_soon.cancel();
      on_stop();
      drain_deadline.expires_after(std::chrono::seconds(5));
      drain_deadline.async_wait([&](const boost::system::error_code& e) {
        if (!e) io.stop();
      });
      watch_drain();
    });
  };
  wait_for_signal();
  notifier.ready(ready_text());
  run_io_loop(io);
}

// The listening socket, bound and listening (not yet accepting), made once by whichever asks
// first: the first scan on its own thread, or serve when that scan is held past the deadline.
class PortOpener {
 public:
  PortOpener(boost::asio::io_context& io, std::function<std::unique_ptr<HttpServer>()> make)
      : io_(io), make_(std::move(make)) {}

  void open() {
    std::lock_guard lock(mutex_);
    if (std::exchange(tried_, true)) return;
    // Caught from before a client can connect, so a stop sent by one that saw the port open is
    // a graceful stop once serving starts, not the signal's default end.
    signals_ = std::make_unique<boost::asio::signal_set>(io_, SIGINT, SIGTERM, SIGHUP);
    try {
      server_ = make_();
    } catch (const boost::system::system_error& e) {
      error_ = e.code().message();
    } catch (const std::exception& e) {
      // On the scanning thread nothing may escape: serve reports it as it reports a bind.
      error_ = e.what();
    }
  }
  // After open(): the server, or null and why it could not listen.
  HttpServer* server() {
    std::lock_guard lock(mutex_);
    return server_.get();
  }
  std::string error() {
    std::lock_guard lock(mutex_);
    return error_;
  }
  boost::asio::signal_set& signals() {
    std::lock_guard lock(mutex_);
    return *signals_;
  }

 private:
  boost::asio::io_context& io_;
  std::function<std::unique_ptr<HttpServer>()> make_;
  std::mutex mutex_;
  bool tried_ = false;
  std::unique_ptr<boost::asio::signal_set> signals_;
  std::unique_ptr<HttpServer> server_;
  std::string error_;
};

}  // namespace

int run_query(const CommandLine& command_line) {
  Config config = resolve_config(command_line);
  set_log_level(config.log_level);
  Scanner scanner(scan_settings_with_state(config));
  auto snapshot = scanner.scan_once();
  Answer answer = route("GET", command_line.target, *snapshot, router_settings(config));
  std::fwrite(answer.body.data(), 1, answer.body.size(), stdout);
  std::fputc('\n', stdout);  // the body, then the shell's prompt on a line of its own
  std::fflush(stdout);
  std::fprintf(stderr, "%d %s\n", answer.status, reason_phrase(answer.status));
  if (answer.status >= 200 && answer.status < 300) return 0;
  if (answer.status >= 400 && answer.status < 500) return 2;
  return 1;
}

int run_serve(const CommandLine& command_line) {
  Config config = resolve_config(command_line);
  set_log_level(config.log_level);
  check_listen_exposure(config);
  auto runtime = std::make_shared<const Runtime>(
      Runtime{load_token_file(config.token_file), router_settings(config)});
  std::atomic<std::shared_ptr<const Runtime>> current_runtime{runtime};
  // Whether the server speaks TLS is fixed at start; the certificate and key may be reloaded.
  std::shared_ptr<TlsSource> tls;
  if (config.tls_enabled())
    tls = std::make_shared<TlsSource>(load_tls_context(config.tls_cert_file, config.tls_key_file));

  namespace asio = boost::asio;
  asio::io_context io(1);  // run by this thread only (the other serving threads have their own)
  boost::system::error_code ec;
  auto address = asio::ip::make_address(config.listen.host, ec);
  if (ec) throw ConfigError("listen: " + config.listen.text() + ": " + ec.message());

  Scanner scanner(scan_settings_with_state(config));
  HttpHandler handler = [&](const HttpRequestView& request) -> Answer {
    auto rt = current_runtime.load();
    if (!request.token || !rt->tokens.accepts(*request.token))
      return error_answer(proto::unauthorized());
    auto snapshot = scanner.current();
    if (!snapshot)
      return route_before_first_scan(request.method, request.target, rt->router,
                                     scanner.created());
    return route(request.method, request.target, *snapshot, rt->router, request.accept);
  };
  PortOpener port(
      io, [&io, &handler, endpoint = asio::ip::tcp::endpoint(address, config.listen.port),
           limits = http_limits(config),
           tls] { return std::make_unique<HttpServer>(io, endpoint, handler, limits, tls); });
  // The scanning thread may open the port: it is stopped before the port goes.
  struct StopScanner {
    Scanner& scanner;
    ~StopScanner() { scanner.stop_background(); }
  } stop_scanner{scanner};

  const auto deadline = ScanSettings{}.collector_deadline;
  // The first scan runs on the scanner's thread. Its collectors run, then the port opens and the
  // ports are read again, so the first scan lists the agent's own port; then it is published and
  // the port accepts, so the first answer is real. A scan held past a collector's deadline (a
  // stalled mount) has the port open anyway, and answers that need a scan are 503 until it ends.
  scanner.before_first_publish([&port] { port.open(); }, {"listening_ports"});
  scanner.start_background(true);
  for (auto until = std::chrono::steady_clock::now() + deadline;
       !scanner.current() && std::chrono::steady_clock::now() < until;)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  if (auto first = scanner.current())
    log(LogLevel::info, "scanner",
        "first scan done in " + std::to_string(static_cast<long>(first->scan_duration_ms)) +
            " ms: " + std::to_string(first->host.counts.process_num) + " processes, " +
            std::to_string(first->host.counts.port_num) + " ports, " +
            std::to_string(first->host.counts.account_num) + " accounts");
  else
    log(LogLevel::warning, "scanner",
        "the first scan is still running after " +
            std::to_string(std::chrono::duration_cast<std::chrono::seconds>(deadline).count()) +
            " s; listening anyway (answers that need it are 503 until it ends)");
  port.open();
  if (!port.server()) {
    log(LogLevel::error, "http", "cannot listen on " + config.listen.text() + ": " + port.error());
    return 1;
  }
  HttpServer& server = *port.server();
  server.start();
  log(LogLevel::info, "http",
      "listening on " + config.listen.text() +
          (tls ? " (HTTPS, certificate " + describe_certificate(*tls->current()) + ")"
               : " (plain HTTP)"));
  const auto notifier = ServiceNotifier::from_environment();

  // Sent from the HTTP loop's own thread, and only while the other serving threads answer its
  // pings, so a wedged loop, thread or handler stops it. A collector stuck in a read does not:
  // the scanner abandons it, reports it in /status and goes on.
  asio::steady_timer keep_alive(io);
  std::function<void()> schedule_keep_alive = [&] {
    keep_alive.expires_after(notifier.keep_alive_interval());
    keep_alive.async_wait([&](const boost::system::error_code& e) {
      if (e) return;
      if (server.threads_answer())
        notifier.keep_alive();
      else
        log(LogLevel::warning, "http",
            "a serving thread has not answered for " +
                std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   notifier.keep_alive_interval())
                                   .count()) +
                " ms; the watchdog is not told it is alive");
      schedule_keep_alive();
    });
  };
  if (notifier.keep_alive_interval().count() > 0) schedule_keep_alive();

  serve_until_stopped(
      io, port.signals(), server, notifier,
      [&] {
        // Everything (configuration, tokens, rules) is read and checked before anything changes,
        // so a refused reload leaves the running configuration whole.
        try {
          Config fresh = resolve_config(command_line);
          auto fresh_runtime = std::make_shared<const Runtime>(
              Runtime{load_token_file(fresh.token_file), router_settings(fresh)});
          auto fresh_tls = reloaded_tls(fresh);
          ScanSettings fresh_scan = scan_settings(fresh);
          // The one step that may still fail (allocating) goes first.
          scanner.reload(std::move(fresh_scan));
          current_runtime.store(fresh_runtime);
          if (tls && fresh_tls) tls->install(fresh_tls);
          set_log_level(fresh.log_level);
          warn_restart_only(config, fresh, static_cast<bool>(tls));
          config = std::move(fresh);
          log(LogLevel::info, "config",
              "reloaded; " + std::to_string(fresh_runtime->tokens.size()) + " tokens accepted" +
                  (tls ? ", certificate " + describe_certificate(*tls->current()) : "") +
                  ", rescanning");
        } catch (const std::exception& e) {
          log(LogLevel::error, "config",
              std::string("reload refused, keeping the running configuration: ") + e.what());
        }
      },
      [&] { return "serving on " + config.listen.text(); }, [&] { keep_alive.cancel(); });
  scanner.stop_background();
  log(LogLevel::info, "agent", "stopped");
  return 0;
}

namespace {

// What fleet requests need from the configuration, swapped whole on reload.
struct FleetRuntime {
  TokenSet tokens;
  std::optional<std::string> project_id;
  unsigned max_age_s = 600;
  std::shared_ptr<FleetEngine> engine;
  std::string engine_settings;  // a reload that keeps them keeps the engine and its warm answers
};

std::shared_ptr<const FleetRuntime> fleet_runtime(const Config& config,
                                                  const FleetRuntime* previous = nullptr) {
  if (!config.prometheus)
    throw ConfigError(
        "prometheus: fleet needs --prometheus URL (or the configuration key "
        "prometheus), e.g. http://127.0.0.1:9090");
  EngineUrl url;
  try {
    url = parse_engine_url(*config.prometheus);
  } catch (const EngineError& e) {
    throw ConfigError(std::string("prometheus: ") + e.what());
  }
  auto tokens = load_token_file(config.token_file);
  const std::string settings =
      *config.prometheus + " " + std::to_string(config.fleet_query_timeout_s) + " " +
      std::to_string(config.fleet_max_age_s) + " " + std::to_string(config.fleet_cache_ms) + " " +
      std::to_string(config.fleet_max_stale_ms);
  if (previous && previous->engine_settings == settings)
    return std::make_shared<const FleetRuntime>(FleetRuntime{
        std::move(tokens), config.project_id, config.fleet_max_age_s, previous->engine, settings});
  FleetCacheLimits cache;
  cache.fresh = std::chrono::milliseconds(config.fleet_cache_ms);
  cache.max_stale =
      std::chrono::milliseconds(std::max(config.fleet_max_stale_ms, config.fleet_cache_ms));
  cache.failure_hold = std::chrono::milliseconds(std::min(config.fleet_cache_ms, 1000u));
  cache.wait = std::chrono::seconds(config.fleet_query_timeout_s);
  cache.max_age_s = config.fleet_max_age_s;
  // A request waits at most query_timeout_s; the query itself may run until its answer would be
  // too old to serve, so a slow engine still refreshes the cache.
  EngineLimits limits;
  limits.timeout = std::max<std::chrono::milliseconds>(cache.wait, cache.max_stale);
  auto engine =
      std::make_shared<FleetEngine>([client = PrometheusClient(std::move(url), limits)](
                                        const std::string& promql) { return client.query(promql); },
                                    cache);
  engine->prefetch(fleet_promql_texts(config.fleet_max_age_s));
  engine->keep_fresh();
  return std::make_shared<const FleetRuntime>(
      FleetRuntime{std::move(tokens), config.project_id, config.fleet_max_age_s, engine, settings});
}

}  // namespace

int run_fleet(const CommandLine& command_line) {
  Config config = resolve_config(command_line);
  set_log_level(config.log_level);
  std::atomic<std::shared_ptr<const FleetRuntime>> current_runtime{fleet_runtime(config)};

  namespace asio = boost::asio;
  asio::io_context io(1);  // run by this thread only (the other serving threads have their own)
  boost::system::error_code ec;
  auto address = asio::ip::make_address(config.listen.host, ec);
  if (ec) throw ConfigError("listen: " + config.listen.text() + ": " + ec.message());
  // Fleet answers cross the network like an agent's: the same TLS rules (fleet.md).
  check_listen_exposure(config);
  std::shared_ptr<TlsSource> tls;
  if (config.tls_enabled())
    tls = std::make_shared<TlsSource>(load_tls_context(config.tls_cert_file, config.tls_key_file));

  // Requests are answered on the serving threads (http.threads), each engine query bounded by
  // the timeout; FleetEngine's hold makes the requests queued behind one cheap.
  HttpHandler handler = [&](const HttpRequestView& request) -> Answer {
    auto rt = current_runtime.load();
    if (!request.token || !rt->tokens.accepts(*request.token))
      return error_answer(proto::unauthorized());
    auto checked = validate_request(request.method, request.target, rt->project_id);
    if (auto* refused = std::get_if<Answer>(&checked)) return std::move(*refused);
    FleetFetch fetch = [engine = rt->engine](const std::string& promql) {
      return engine->fetch(promql);
    };
    return fleet_answer(std::get<proto::Query>(checked), fetch, rt->max_age_s);
  };

  asio::signal_set signals(io, SIGINT, SIGTERM, SIGHUP);  // see serve_until_stopped
  std::unique_ptr<HttpServer> server;
  try {
    server = std::make_unique<HttpServer>(io, asio::ip::tcp::endpoint(address, config.listen.port),
                                          handler, http_limits(config), tls);
  } catch (const boost::system::system_error& e) {
    log(LogLevel::error, "http",
        "cannot listen on " + config.listen.text() + ": " + e.code().message());
    return 1;
  }
  server->start();
  log(LogLevel::info, "http",
      "fleet listening on " + config.listen.text() + (tls ? " (HTTPS)" : "") + ", answering from " +
          *config.prometheus);
  const auto notifier = ServiceNotifier::from_environment();

  serve_until_stopped(
      io, signals, *server, notifier,
      [&] {
        try {
          Config fresh = resolve_config(command_line);
          auto fresh_runtime = fleet_runtime(fresh, current_runtime.load().get());
          auto fresh_tls = reloaded_tls(fresh);
          if (tls && fresh_tls) tls->install(fresh_tls);
          current_runtime.store(fresh_runtime);
          set_log_level(fresh.log_level);
          warn_restart_only(config, fresh, static_cast<bool>(tls));
          config = std::move(fresh);
          log(LogLevel::info, "config",
              "reloaded; " + std::to_string(fresh_runtime->tokens.size()) + " tokens accepted");
        } catch (const std::exception& e) {
          log(LogLevel::error, "config",
              std::string("reload refused, keeping the running configuration: ") + e.what());
        }
      },
      [&] { return "serving the fleet on " + config.listen.text(); }, [] {});
  // A query still running ends within its timeout; the exit waits for it only briefly.
  current_runtime.load()->engine->wait_idle(std::chrono::seconds(1));
  log(LogLevel::info, "agent", "stopped");
  return 0;
}

}  // namespace hostprint
