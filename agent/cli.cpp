#include "agent/cli.hpp"

#include <array>

namespace hostprint {
namespace {

struct FlagSpec {
  std::string_view name;
  bool serve;
  bool query;
  bool fleet;

  bool for_subcommand(Subcommand s) const {
    return s == Subcommand::serve ? serve : s == Subcommand::query ? query : fleet;
  }
};

constexpr std::array<FlagSpec, 10> flags{{
    {"--config", true, true, true},
    {"--listen", true, false, true},
    {"--root", true, true, false},
    {"--token-file", true, false, true},
    {"--state-dir", true, true, false},
    {"--scan-interval", true, false, false},
    {"--log-level", true, true, true},
    {"--prometheus", false, false, true},
    {"--max-age", false, false, true},
    {"--help", true, true, true},
}};

}  // namespace

std::string usage_text(const std::optional<std::string>& subcommand) {
  if (subcommand == "serve")
    return "usage: hostprint serve [--config FILE] [--listen ADDR:PORT] [--root DIR]\n"
           "                       [--token-file FILE] [--state-dir DIR]\n"
           "                       [--scan-interval SECONDS] [--log-level LEVEL]\n"
           "\n"
           "Scans the host, then answers the asset API over HTTP, rescanning every interval.\n"
           "\n"
           "  --config FILE          configuration file (default /etc/hostprint/hostprint.json)\n"
           "  --listen ADDR:PORT     listen address, IPv6 as [::1]:9779 (default 127.0.0.1:9779)\n"
           "  --root DIR             read host files under DIR (default /)\n"
           "  --token-file FILE      accepted tokens, one per line, mode 0600\n"
           "                         (default /etc/hostprint/token)\n"
           "  --state-dir DIR        state kept across restarts (default /var/lib/hostprint)\n"
           "  --scan-interval SECONDS  seconds between scans, 10 to 86400 (default 60)\n"
           "  --log-level LEVEL      debug, info, warning or error (default info)\n"
           "\n"
           "Signals: SIGTERM/SIGINT stop gracefully; SIGHUP reloads the configuration and tokens\n"
           "and rescans.\n";
  if (subcommand == "query")
    return "usage: hostprint query [--config FILE] [--root DIR] [--state-dir DIR] TARGET\n"
           "\n"
           "Runs one scan and answers TARGET through the same router as `serve`, without a\n"
           "socket or token. The body goes to stdout, the status to stderr.\n"
           "Exit status: 0 for 2xx, 2 for 4xx, 1 otherwise.\n"
           "\n"
           "  TARGET   a request target, e.g. "
           "'/v5/p1/asset/process/statistics?limit=20&path=java'\n"
           "  --config FILE   configuration file (default /etc/hostprint/hostprint.json)\n"
           "  --root DIR      read host files under DIR (default /)\n"
           "  --state-dir DIR state kept across restarts (default /var/lib/hostprint)\n"
           "  --log-level LEVEL  debug, info, warning or error (default warning)\n";
  if (subcommand == "fleet")
    return "usage: hostprint fleet --prometheus URL [--config FILE] [--listen ADDR:PORT]\n"
           "                       [--token-file FILE] [--max-age SECONDS] [--log-level LEVEL]\n"
           "\n"
           "Answers asset/statistics, asset/process/statistics and rasp/statistics for every\n"
           "host whose hostprint metrics an engine with Prometheus's query API holds.\n"
           "\n"
           "  --prometheus URL       the engine's base URL, e.g. http://127.0.0.1:9090\n"
           "                         (configuration key prometheus)\n"
           "  --config FILE          configuration file (default /etc/hostprint/hostprint.json)\n"
           "  --listen ADDR:PORT     listen address, IPv6 as [::1]:9779 (default 127.0.0.1:9779)\n"
           "  --token-file FILE      accepted tokens, one per line, mode 0600\n"
           "                         (default /etc/hostprint/token)\n"
           "  --max-age SECONDS      a host counts while its latest scan is at most this old,\n"
           "                         10 to 604800 (default 600)\n"
           "  --log-level LEVEL      debug, info, warning or error (default info)\n"
           "\n"
           "Answers are refreshed in the background and served until fleet.max_stale_ms\n"
           "(default 120000) old; with none that young, an engine that cannot be queried within\n"
           "fleet.query_timeout_s (default 10) gives 503. Signals: SIGTERM/SIGINT stop\n"
           "gracefully; SIGHUP reloads the configuration and tokens.\n";
  return "usage: hostprint serve [options]     scan, then answer the asset API over HTTP\n"
         "       hostprint query [options] TARGET  one scan, one answer on stdout\n"
         "       hostprint fleet --prometheus URL [options]  the API for a whole fleet\n"
         "       hostprint --version | --help | SUBCOMMAND --help\n"
         "\n"
         "hostprint counts what is on this host (accounts, open ports, processes, kernel\n"
         "modules, ...) and answers the asset-statistics API locally.\n"
         "\n"
         "Example:\n"
         "  curl -s -H \"X-Auth-Token: $(sudo cat /etc/hostprint/token)\" \\\n"
         "    'http://127.0.0.1:9779/v5/my-project/asset/statistics?category=host'\n";
}

CommandLine parse_command_line(const std::vector<std::string>& args) {
  CommandLine out;
  if (args.empty())
    throw ConfigError("a subcommand is required (serve, query or fleet); see hostprint --help");
  const std::string& first = args[0];
  if (first == "--help" || first == "-h" || first == "help") {
    out.subcommand = Subcommand::help;
    return out;
  }
  if (first == "--version") {
    out.subcommand = Subcommand::version;
    return out;
  }
  if (first == "serve")
    out.subcommand = Subcommand::serve;
  else if (first == "query")
    out.subcommand = Subcommand::query;
  else if (first == "fleet")
    out.subcommand = Subcommand::fleet;
  else
    throw ConfigError("unknown subcommand '" + printable(first, 64) +
                      "' (allowed: serve, query, fleet)");
  const bool query = out.subcommand == Subcommand::query;

  bool have_target = false;
  for (std::size_t i = 1; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg == "--help" || arg == "-h") {
      out.help_for = first;
      return out;
    }
    if (!arg.starts_with("--") || arg == "--") {
      if (arg == "--" && i + 1 < args.size()) arg = args[++i];
      if (!query)
        throw ConfigError(first + " takes no arguments, got '" + printable(arg, 64) + "'");
      if (have_target)
        throw ConfigError("query takes one TARGET, got a second: '" + printable(arg, 64) + "'");
      out.target = arg;
      have_target = true;
      continue;
    }
    std::string name = arg;
    std::optional<std::string> value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    const FlagSpec* spec = nullptr;
    for (const auto& f : flags)
      if (f.name == name && f.for_subcommand(out.subcommand)) spec = &f;
    if (!spec) {
      std::string message =
          "unknown flag '" + printable(name, 64) + "' for " + first + " (allowed: ";
      bool first_flag = true;
      for (const auto& f : flags) {
        if (!f.for_subcommand(out.subcommand)) continue;
        message.append(first_flag ? "" : ", ").append(f.name);
        first_flag = false;
      }
      throw ConfigError(message + ")");
    }
    if (!value) {
      if (i + 1 >= args.size()) throw ConfigError(name + " needs a value");
      value = args[++i];
    }
    if (name == "--config")
      out.config_file = *value;
    else
      out.overrides.emplace_back(name, *value);
  }
  if (query && !have_target)
    throw ConfigError("query needs a TARGET such as /v5/p1/asset/statistics");
  if (query && !out.target.starts_with("/"))
    throw ConfigError("TARGET must be a request target beginning with '/', got '" +
                      printable(out.target, 64) + "'");
  return out;
}

Config resolve_config(const CommandLine& command_line) {
  Config config;
  if (command_line.subcommand == Subcommand::query) config.log_level = LogLevel::warning;
  apply_config_file(config, command_line.config_file.value_or(default_config_path),
                    command_line.config_file.has_value());
  for (const auto& [name, value] : command_line.overrides) {
    // A plain name for the binding: clang before 16 cannot capture structured bindings.
    const std::string& option = name;
    auto non_empty = [&option](const std::string& v) -> std::filesystem::path {
      if (v.empty()) throw ConfigError(option + ": must not be empty");
      return v;
    };
    if (name == "--listen")
      config.listen = parse_listen_address(value);
    else if (name == "--root")
      config.root = non_empty(value);
    else if (name == "--token-file")
      config.token_file = non_empty(value);
    else if (name == "--state-dir")
      config.state_dir = non_empty(value);
    else if (name == "--scan-interval")
      config.scan_interval_s = checked_scan_interval(name, value);
    else if (name == "--prometheus")
      config.prometheus = std::string(non_empty(value));
    else if (name == "--max-age")
      config.fleet_max_age_s = checked_max_age(name, value);
    else if (name == "--log-level") {
      auto level = parse_log_level(value);
      if (!level)
        throw ConfigError("--log-level: '" + printable(value, 40) +
                          "' is not one of debug, info, warning, error");
      config.log_level = *level;
    }
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(config.root, ec))
    throw ConfigError("root: " + config.root.string() + " is not a directory");
  return config;
}

}  // namespace hostprint
