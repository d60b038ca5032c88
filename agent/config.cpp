#include "agent/config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <initializer_list>

#include <boost/asio/ip/address.hpp>
#include <boost/json.hpp>

#include "collectors/formats/text_fields.hpp"
#include "collectors/io/bounded_read.hpp"
#include "proto/query.hpp"

namespace hostprint {
namespace {

constexpr std::size_t max_config_bytes = 1024 * 1024;

[[noreturn]] void bad(const std::string& origin, std::string_view key, std::string_view allowed) {
  throw ConfigError(origin + ": " + std::string(key) + ": " + std::string(allowed));
}

std::string string_value(const boost::json::value& v, const std::string& origin,
                         std::string_view key) {
  if (!v.is_string()) bad(origin, key, "must be a string");
  return std::string(v.get_string());
}

std::vector<std::string> string_list(const boost::json::value& v, const std::string& origin,
                                     std::string_view key) {
  if (!v.is_array()) bad(origin, key, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& item : v.get_array()) {
    if (!item.is_string() || item.get_string().empty())
      bad(origin, key, "must be an array of non-empty strings");
    out.emplace_back(item.get_string());
  }
  return out;
}

std::filesystem::path path_value(const boost::json::value& v, const std::string& origin,
                                 std::string_view key) {
  auto text = string_value(v, origin, key);
  if (text.empty() || text.find('\0') != std::string::npos)
    bad(origin, key, "must be a non-empty path");
  return text;
}

unsigned bounded_integer(const boost::json::value& v, const std::string& origin,
                         std::string_view key, std::int64_t low, std::int64_t high) {
  const std::string allowed =
      "must be an integer from " + std::to_string(low) + " to " + std::to_string(high);
  if (!v.is_int64() && !v.is_uint64()) bad(origin, key, allowed);
  auto n = v.is_int64() ? v.get_int64()
                        : static_cast<std::int64_t>(std::min<std::uint64_t>(v.get_uint64(), 1u << 31));
  if (n < low || n > high) bad(origin, key, allowed);
  return static_cast<unsigned>(n);
}

// The keys that may also be written nested: {"tls": {"cert_file": ...}} is "tls.cert_file".
struct Section {
  std::string_view name;
  std::string_view object_text;  // what the value must be
  std::initializer_list<std::string_view> keys;
};
const Section sections[] = {
    {"rasp", "must be an object with alarm_logs and agent_jars", {"alarm_logs", "agent_jars"}},
    {"metrics", "must be an object with max_process_paths", {"max_process_paths"}},
    {"history", "must be an object with max_age_days and max_events",
     {"max_age_days", "max_events"}},
    {"fleet", "must be an object with query_timeout_s, max_age_s, cache_ms and max_stale_ms",
     {"query_timeout_s", "max_age_s", "cache_ms", "max_stale_ms"}},
    {"http", "must be an object with threads and cpu_affinity", {"threads", "cpu_affinity"}},
    {"tls", "must be an object with cert_file, key_file, allow_plaintext",
     {"cert_file", "key_file", "allow_plaintext"}},
};

const Section* section_named(std::string_view key) {
  for (const auto& section : sections)
    if (section.name == key) return &section;
  return nullptr;
}

void apply_key(Config& config, std::string_view key, const boost::json::value& v,
               const std::string& origin);

// Each member of a section's object is applied as the dotted key it stands for.
void apply_section(Config& config, const Section& section, const boost::json::value& v,
                   const std::string& origin) {
  if (!v.is_object()) bad(origin, section.name, section.object_text);
  for (const auto& member : v.get_object()) {
    const std::string nested = std::string(section.name) + "." + std::string(member.key());
    if (std::find(section.keys.begin(), section.keys.end(), std::string_view(member.key())) ==
        section.keys.end()) {
      std::string allowed = "unknown key (allowed: ";
      for (auto k = section.keys.begin(); k != section.keys.end(); ++k)
        allowed.append(k == section.keys.begin() ? "" : ", ")
            .append(section.name)
            .append(".")
            .append(*k);
      bad(origin, nested, allowed + ")");
    }
    apply_key(config, nested, member.value(), origin);
  }
}

void apply_key(Config& config, std::string_view key, const boost::json::value& v,
               const std::string& origin) {
  try {
    if (const Section* section = section_named(key)) {
      apply_section(config, *section, v, origin);
    } else if (key == "listen") {
      config.listen = parse_listen_address(string_value(v, origin, key));
    } else if (key == "root") {
      config.root = path_value(v, origin, key);
    } else if (key == "token_file") {
      config.token_file = path_value(v, origin, key);
    } else if (key == "project_id") {
      config.project_id = checked_id(key, string_value(v, origin, key), 256);
    } else if (key == "enterprise_project_id") {
      config.enterprise_project_id = checked_id(key, string_value(v, origin, key), 256);
    } else if (key == "host_id") {
      config.host_id = checked_id(key, string_value(v, origin, key), 64);
    } else if (key == "state_dir") {
      config.state_dir = path_value(v, origin, key);
    } else if (key == "scan_interval_s") {
      if (!v.is_int64() && !v.is_uint64()) bad(origin, key, "must be an integer from 10 to 86400");
      auto n = v.is_int64()
                   ? v.get_int64()
                   : static_cast<std::int64_t>(std::min<std::uint64_t>(v.get_uint64(), 1u << 31));
      if (n < 10 || n > 86400) bad(origin, key, "must be an integer from 10 to 86400");
      config.scan_interval_s = static_cast<unsigned>(n);
    } else if (key == "rasp.alarm_logs") {
      config.rasp_alarm_logs = string_list(v, origin, key);
    } else if (key == "rasp.agent_jars") {
      config.rasp_agent_jars = string_list(v, origin, key);
    } else if (key == "rules_file") {
      config.rules_file = path_value(v, origin, key);
    } else if (key == "metrics.max_process_paths") {
      if (!v.is_int64() || v.get_int64() < 0 || v.get_int64() > 100000)
        bad(origin, key, "must be an integer from 0 to 100000");
      config.metrics_max_process_paths = static_cast<std::size_t>(v.get_int64());
    } else if (key == "history.max_age_days") {
      config.history_max_age_days = bounded_integer(v, origin, key, 1, 3650);
    } else if (key == "history.max_events") {
      config.history_max_events = bounded_integer(v, origin, key, 1, 1000000);
    } else if (key == "prometheus") {
      config.prometheus = string_value(v, origin, key);
      if (config.prometheus->empty()) bad(origin, key, "must be an http:// URL");
    } else if (key == "fleet.query_timeout_s") {
      config.fleet_query_timeout_s = bounded_integer(v, origin, key, 1, 300);
    } else if (key == "fleet.max_age_s") {
      config.fleet_max_age_s = bounded_integer(v, origin, key, 10, 604800);
    } else if (key == "fleet.cache_ms") {
      config.fleet_cache_ms = bounded_integer(v, origin, key, 0, 60000);
    } else if (key == "fleet.max_stale_ms") {
      config.fleet_max_stale_ms = bounded_integer(v, origin, key, 0, 3600000);
    } else if (key == "http.threads") {
      config.http_threads = bounded_integer(v, origin, key, 1, 16);
    } else if (key == "http.cpu_affinity") {
      if (!v.is_string() || (v.get_string() != "auto" && v.get_string() != "off"))
        bad(origin, key, "must be \"auto\" or \"off\"");
      config.http_cpu_affinity = v.get_string() == "auto";
    } else if (key == "tls.cert_file") {
      config.tls_cert_file = path_value(v, origin, key);
    } else if (key == "tls.key_file") {
      config.tls_key_file = path_value(v, origin, key);
    } else if (key == "tls.allow_plaintext") {
      if (!v.is_bool()) bad(origin, key, "must be true or false");
      config.tls_allow_plaintext = v.get_bool();
    } else {
      bad(origin, key,
          "unknown key (allowed: listen, root, token_file, project_id, enterprise_project_id, "
          "host_id, state_dir, scan_interval_s, rasp.alarm_logs, rasp.agent_jars, rules_file, "
          "metrics.max_process_paths, history.max_age_days, history.max_events, prometheus, "
          "fleet.query_timeout_s, fleet.max_age_s, fleet.cache_ms, fleet.max_stale_ms, "
          "http.threads, http.cpu_affinity, tls.cert_file, tls.key_file, tls.allow_plaintext)");
    }
  } catch (const ConfigError& e) {
    // Value checks shared with the flags name only the key; add the file.
    std::string message = e.what();
    if (!message.starts_with(origin + ": ")) throw ConfigError(origin + ": " + message);
    throw;
  }
}

}  // namespace

std::string ListenAddress::text() const {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                             : host + ":" + std::to_string(port);
}

ListenAddress parse_listen_address(std::string_view text) {
  const std::string allowed = "listen: '" + printable(text, 80) +
                              "' is not ADDRESS:PORT (an IPv4 address, or an IPv6 address in "
                              "brackets, and a port from 1 to 65535)";
  ListenAddress out;
  std::string_view port_text;
  if (text.starts_with("[")) {
    auto close = text.find("]:");
    if (close == std::string_view::npos) throw ConfigError(allowed);
    out.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
    in6_addr a6{};
    if (inet_pton(AF_INET6, out.host.c_str(), &a6) != 1) throw ConfigError(allowed);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos) throw ConfigError(allowed);
    out.host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
    in_addr a4{};
    if (inet_pton(AF_INET, out.host.c_str(), &a4) != 1) throw ConfigError(allowed);
  }
  auto port = collectors::parse_unsigned<unsigned>(port_text);
  if (!port || *port < 1 || *port > 65535) throw ConfigError(allowed);
  out.port = static_cast<unsigned short>(*port);
  return out;
}

std::string checked_id(std::string_view key, std::string_view value, std::size_t max_length) {
  auto length = proto::utf8_length(value);
  if (length < 1 || length > max_length || !proto::is_valid_text(value))
    throw ConfigError(std::string(key) + ": must be 1 to " + std::to_string(max_length) +
                      " characters of UTF-8 without NUL");
  return std::string(value);
}

unsigned checked_scan_interval(std::string_view key, std::string_view digits) {
  auto n = collectors::parse_unsigned<unsigned long>(digits);
  if (!n || *n < 10 || *n > 86400)
    throw ConfigError(std::string(key) + ": '" + printable(digits, 40) +
                      "' is not an integer from 10 to 86400");
  return static_cast<unsigned>(*n);
}

unsigned checked_max_age(std::string_view key, std::string_view digits) {
  auto n = collectors::parse_unsigned<unsigned long>(digits);
  if (!n || *n < 10 || *n > 604800)
    throw ConfigError(std::string(key) + ": '" + printable(digits, 40) +
                      "' is not an integer from 10 to 604800");
  return static_cast<unsigned>(*n);
}

void apply_config_text(Config& config, std::string_view text, const std::string& origin) {
  boost::json::parse_options options;
  options.allow_comments = true;
  boost::system::error_code ec;
  boost::json::value root = boost::json::parse(text, ec, {}, options);
  if (ec) throw ConfigError(origin + ": not valid JSON: " + ec.message());
  if (!root.is_object()) throw ConfigError(origin + ": must hold one JSON object");
  for (const auto& member : root.get_object())
    apply_key(config, member.key(), member.value(), origin);
  if (config.tls_cert_file.empty() != config.tls_key_file.empty())
    throw ConfigError(origin + ": " +
                      (config.tls_cert_file.empty() ? "tls.cert_file" : "tls.key_file") +
                      ": must be set too: tls.cert_file and tls.key_file go together");
}

void check_listen_exposure(const Config& config) {
  if (config.tls_enabled() || config.tls_allow_plaintext) return;
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(config.listen.host, ec);
  if (ec) return;  // refused when the server binds, naming `listen`
  bool loopback = address.is_loopback();
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    loopback =
        boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6()).is_loopback();
  if (loopback) return;
  throw ConfigError("listen: " + config.listen.text() +
                    " is not a loopback address, and tokens would cross the network in clear "
                    "text: set tls.cert_file and tls.key_file, or tls.allow_plaintext to true");
}

void apply_config_file(Config& config, const std::filesystem::path& path, bool explicitly_named) {
  auto read = collectors::read_bounded(path, max_config_bytes);
  if (read.status == collectors::ReadStatus::missing) {
    if (explicitly_named) throw ConfigError(path.string() + ": no such file");
    return;
  }
  if (read.status == collectors::ReadStatus::error) throw ConfigError(read.error);
  if (read.file.truncated) throw ConfigError(path.string() + ": larger than 1 MiB");
  apply_config_text(config, read.file.text, path.string());
}

std::string effective_host_id(const Config& config) {
  if (config.host_id) return *config.host_id;
  auto read = collectors::read_in_root(config.root, "etc/machine-id", 4096);
  if (read.status != collectors::ReadStatus::ok) return {};
  std::string_view text = read.file.text;
  auto id = collectors::trim(text.substr(0, text.find('\n')));
  if (id.empty() || proto::utf8_length(id) > 64 || !proto::is_valid_text(id)) return {};
  return std::string(id);
}

}  // namespace hostprint
