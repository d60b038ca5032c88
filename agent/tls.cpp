#include "agent/tls.hpp"

#include <dlfcn.h>
#include <string.h>
#include <unistd.h>

#include <mutex>
#include <optional>

#include "agent/config.hpp"
#include "agent/logging.hpp"
#include "agent/tls_engine.h"
#include "agent/tokens.hpp"
#include "collectors/io/bounded_read.hpp"

#ifndef HOSTPRINT_TLS_MODULE_DIR
#error "HOSTPRINT_TLS_MODULE_DIR: where hostprint-tls.so is installed (agent/meson.build)"
#endif

namespace hostprint {
namespace {

constexpr std::size_t max_pem_bytes = 1024 * 1024;
constexpr const char* module_name = "hostprint-tls.so";

std::mutex module_mutex;
std::optional<std::filesystem::path> module_override;
const hp_tls_api* module_api = nullptr;

// The directory of the running executable, or nothing.
std::optional<std::filesystem::path> executable_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec || exe.empty()) return std::nullopt;
  return exe.parent_path();
}

const hp_tls_api* open_module(const std::filesystem::path& path, std::string& error) {
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char* why = ::dlerror();  // names the file
    error = "the TLS module cannot be loaded: " + printable(why ? why : path.string(), 300);
    return nullptr;
  }
  using Entry = const hp_tls_api* (*)();
  auto entry = reinterpret_cast<Entry>(::dlsym(handle, "hostprint_tls_api"));
  const hp_tls_api* api = entry ? entry() : nullptr;
  if (!api || api->abi != HP_TLS_ABI) {
    error = "the TLS module " + path.string() +
            " is not a TLS module of this version of hostprint (ABI " +
            std::to_string(HP_TLS_ABI) + ")";
    ::dlclose(handle);
    return nullptr;
  }
  return api;  // never unloaded: contexts and connections live until exit
}

std::string read_cert_file(const std::filesystem::path& path) {
  const std::string origin = "tls.cert_file: " + path.string();
  auto read = collectors::read_bounded(path, max_pem_bytes);
  if (read.status == collectors::ReadStatus::missing) throw ConfigError(origin + ": no such file");
  if (read.status != collectors::ReadStatus::ok) throw ConfigError("tls.cert_file: " + read.error);
  if (read.file.truncated) throw ConfigError(origin + ": larger than 1 MiB");
  return std::move(read.file.text);
}

// The mode is checked on the descriptor the key is then read from, so the file checked is the
// file read (as for the token file).
std::string read_key_file(const std::filesystem::path& path) {
  return read_secret_file(path, "tls.key_file: " + path.string(), "the private key",
                          max_pem_bytes);
}

}  // namespace

void use_tls_module(const std::filesystem::path& path) {
  std::lock_guard lock(module_mutex);
  module_override = path;
}

const hp_tls_api& tls_module() {
  std::lock_guard lock(module_mutex);
  if (module_api) return *module_api;
  std::vector<std::filesystem::path> candidates;
  if (module_override) {
    candidates.push_back(*module_override);
  } else {
    if (auto dir = executable_dir()) candidates.push_back(*dir / module_name);
    candidates.push_back(std::filesystem::path(HOSTPRINT_TLS_MODULE_DIR) / module_name);
  }
  std::string tried;
  for (const auto& path : candidates) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      tried += (tried.empty() ? "" : ", ") + path.string();
      continue;
    }
    std::string error;
    if (const hp_tls_api* api = open_module(path, error)) return *(module_api = api);
    throw ConfigError("tls: " + error);
  }
  throw ConfigError("tls: the TLS module " + std::string(module_name) +
                    " is not installed (looked for " + tried + ")");
}

TlsContext::~TlsContext() { api_.context_free(context_); }

std::shared_ptr<TlsContext> load_tls_context(const std::filesystem::path& cert_file,
                                             const std::filesystem::path& key_file) {
  std::string cert_text = read_cert_file(cert_file);
  std::string key_text = read_key_file(key_file);
  const hp_tls_api& api = tls_module();
  int failure = 0;
  char reason[256] = {};
  hp_tls_context* context = api.context_new(cert_text.data(), cert_text.size(), key_text.data(),
                                            key_text.size(), &failure, reason, sizeof reason);
  // Not left in memory longer than needed.
  ::explicit_bzero(key_text.data(), key_text.size());
  if (context) return std::make_shared<TlsContext>(api, context);
  const std::string why = printable(reason[0] ? reason : "unknown OpenSSL error", 200);
  switch (failure) {
    case HP_TLS_BAD_CERTIFICATE:
      throw ConfigError("tls.cert_file: " + cert_file.string() +
                        ": not a usable PEM certificate chain: " + why);
    case HP_TLS_KEY_MISMATCH:
      throw ConfigError("tls.key_file: " + key_file.string() +
                        ": does not match the certificate in tls.cert_file (" +
                        cert_file.string() + ")");
    case HP_TLS_BAD_KEY:
      throw ConfigError("tls.key_file: " + key_file.string() +
                        ": not a usable PEM private key (an encrypted key is not supported): " +
                        why);
    default:
      throw ConfigError("tls: cannot make a TLS context: " + why);
  }
}

std::string describe_certificate(const TlsContext& context) {
  char text[512] = {};
  context.api().context_describe(context.get(), text, sizeof text);
  return printable(text, 300);
}

}  // namespace hostprint
