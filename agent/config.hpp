#pragma once
// The agent's configuration: built-in defaults, then the JSON file, then command-line flags.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/logging.hpp"

namespace hostprint {

// A bad flag, key or value: the message is the whole one-line explanation.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct ListenAddress {
  std::string host;  // IPv4 dotted quad or IPv6 text without brackets
  unsigned short port = 0;
  std::string text() const;
};

ListenAddress parse_listen_address(std::string_view text);  // throws ConfigError

struct Config {
  ListenAddress listen{"127.0.0.1", 9779};
  std::filesystem::path root = "/";
  std::filesystem::path token_file = "/etc/hostprint/token";
  std::optional<std::string> project_id;
  std::string enterprise_project_id = "0";
  std::optional<std::string> host_id;  // unset: etc/machine-id under the root
  std::filesystem::path state_dir = "/var/lib/hostprint";
  unsigned scan_interval_s = 60;
  std::vector<std::string> rasp_alarm_logs;
  std::vector<std::string> rasp_agent_jars;
  std::filesystem::path rules_file = "/usr/share/hostprint/fingerprints.json";
  std::size_t metrics_max_process_paths = 2000;
  // The change history: how many days and how many events it keeps (the oldest go first).
  unsigned history_max_age_days = 90;
  unsigned history_max_events = 100000;
  // Threads serving HTTP connections (the loop's own included); a restart applies a change.
  unsigned http_threads = 2;
  // http.cpu_affinity "auto": each serving thread pinned to its own CPU of the process's set,
  // the main loop only accepting; "off" (the default) leaves placement to the kernel.
  bool http_cpu_affinity = false;
  LogLevel log_level = LogLevel::info;
  // fleet: the engine's base URL, how long one query may take, how old a host's scan may be.
  std::optional<std::string> prometheus;
  unsigned fleet_query_timeout_s = 10;
  unsigned fleet_max_age_s = 600;
  unsigned fleet_cache_ms = 2000;
  // How old (from the query's start) an engine answer may still be served while a refresh runs.
  unsigned fleet_max_stale_ms = 120000;
  // tls.cert_file and tls.key_file: both set (HTTPS) or neither.
  std::filesystem::path tls_cert_file;
  std::filesystem::path tls_key_file;
  bool tls_allow_plaintext = false;
  bool tls_enabled() const { return !tls_cert_file.empty(); }
};

inline const std::filesystem::path default_config_path = "/etc/hostprint/hostprint.json";

// Applies a configuration file's text (JSON with // comments) over `config`. `origin` names the
// file in messages. Throws ConfigError naming the key and what is allowed.
void apply_config_text(Config& config, std::string_view text, const std::string& origin);

// Reads and applies the file at `path`; a missing default file is not an error.
void apply_config_file(Config& config, const std::filesystem::path& path, bool explicitly_named);

// Value checks shared by the file and the flags.
std::string checked_id(std::string_view key, std::string_view value, std::size_t max_length);
unsigned checked_scan_interval(std::string_view key, std::string_view digits);
unsigned checked_max_age(std::string_view key, std::string_view digits);

// A `listen` address beyond loopback without TLS would send tokens in clear text over the
// network: refused (ConfigError naming the keys) unless tls.allow_plaintext is true.
void check_listen_exposure(const Config& config);

// host_id as configured, else the machine id under the root ("" when there is none).
std::string effective_host_id(const Config& config);

}  // namespace hostprint
