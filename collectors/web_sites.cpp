#include "collectors/web_sites.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <exception>
#include <map>
#include <variant>

#include "collectors/formats/x509_pem.hpp"
#include "collectors/io/bounded_read.hpp"
#include "collectors/io/process_files.hpp"
#include "collectors/formats/proc_text.hpp"
#include "collectors/io/root_glob.hpp"
#include "collectors/io/unique_fd.hpp"

namespace hostprint::collectors {
namespace {

namespace fs = std::filesystem;

}  // namespace

FileSource file_source_in_root(const fs::path& root) {
  FileSource files;
  files.read = [root](const std::string& path,
                      std::size_t max_bytes) -> std::optional<std::string> {
    auto r = read_in_root(root, path, max_bytes);
    if (r.status != ReadStatus::ok) return std::nullopt;
    return std::move(r.file.text);
  };
  files.glob = [root](const std::string& pattern, std::size_t max_matches) {
    return glob_in_root(root, pattern, max_matches);
  };
  return files;
}

std::map<std::string, std::string> parse_apache_envvars(std::string_view text) {
  std::map<std::string, std::string> out;
  for_each_line(text, 64 * 1024, [&](std::string_view line, bool) {
    auto trim = [](std::string_view s) {
      while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
      while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
        s.remove_suffix(1);
      return s;
    };
    line = trim(line);
    if (!line.starts_with("export ")) return;
    line = trim(line.substr(7));
    auto eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) return;
    std::string name(line.substr(0, eq));
    if (name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
        std::string::npos)
      return;
    std::string_view raw = line.substr(eq + 1);
    if (auto hash = raw.find(" #"); hash != std::string_view::npos) raw = trim(raw.substr(0, hash));
    std::string value;
    char quote = 0;
    for (char ch : raw) {
      if (quote) {
        if (ch == quote)
          quote = 0;
        else
          value += ch;
      } else if (ch == '"' || ch == '\'') {
        quote = ch;
      } else {
        value += ch;
      }
    }
    for (std::string_view suffix : {"${SUFFIX}", "$SUFFIX"})
      for (auto p = value.find(suffix); p != std::string::npos; p = value.find(suffix))
        value.erase(p, suffix.size());
    out[name] = value;
  });
  return out;
}

namespace {

void add_error(Outcome& outcome, std::size_t& suppressed, std::string message) {
  if (outcome.errors.size() < web_sites_max_errors)
    outcome.error(std::move(message));
  else
    ++suppressed;
}

std::string parent_of(const std::string& path) {
  auto p = fs::path(path).parent_path().string();
  return p.empty() ? std::string("/") : p;
}

// `-X value` or `-Xvalue` in argv (after argv[0]); every occurrence for `all`.
std::vector<std::string> option_values(const std::vector<std::string>& argv,
                                       std::string_view option) {
  std::vector<std::string> out;
  for (std::size_t i = 1; i < argv.size(); ++i) {
    if (argv[i] == option) {
      if (i + 1 < argv.size()) out.push_back(argv[++i]);
    } else if (argv[i].size() > option.size() && argv[i].starts_with(option)) {
      out.push_back(argv[i].substr(option.size()));
    }
  }
  return out;
}

// `proc_pid` is the instance's held /proc entry; empty when it could not be held (its command line
// and environment are then unknown, and defaults apply).
WebConfig parse_instance(const ServiceInstance& s, std::string_view kind, const fs::path& proc_pid,
                         const fs::path& root, const FileSource& files, Outcome& outcome,
                         std::size_t& suppressed) {
  std::vector<std::string> argv;
  ReadResult cmdline;
  if (!proc_pid.empty()) cmdline = read_bounded(proc_pid / "cmdline", web_sites_max_cmdline);
  if (!proc_pid.empty() && cmdline.status == ReadStatus::ok)
    argv = split_cmdline(cmdline.file.text);
  if (kind == "nginx") {
    NginxStart start;
    if (!s.config_file.empty()) start.conf_file = s.config_file;
    if (auto p = option_values(argv, "-p"); !p.empty()) {
      start.prefix = p.back();
      while (start.prefix.size() > 1 && start.prefix.back() == '/') start.prefix.pop_back();
      if (s.config_file.empty()) start.conf_file = start.prefix + "/conf/nginx.conf";
    }
    if (!start.conf_file.empty() && start.conf_file[0] != '/')
      start.conf_file = start.prefix + "/" + start.conf_file;
    return parse_nginx(start, files);
  }
  if (kind == "apache") {
    ApacheStart start;
    if (auto d = option_values(argv, "-d"); !d.empty()) start.server_root = d.back();
    if (!s.config_file.empty()) {
      start.conf_file = s.config_file;
      if (option_values(argv, "-d").empty()) start.server_root = parent_of(s.config_file);
    }
    if (start.conf_file[0] != '/') start.conf_file = start.server_root + "/" + start.conf_file;
    start.defines = option_values(argv, "-D");
    // The instance's own environment first (what apache2ctl exported), then Debian's envvars.
    ReadResult environ;
    if (!proc_pid.empty()) environ = read_bounded(proc_pid / "environ", web_sites_max_environ);
    if (!proc_pid.empty() && environ.status == ReadStatus::ok) {
      for (const auto& entry : split_cmdline(environ.file.text)) {
        auto eq = entry.find('=');
        if (eq != std::string::npos && eq > 0)
          start.environment.emplace(entry.substr(0, eq), entry.substr(eq + 1));
      }
    }
    auto envvars = read_in_root(root, start.server_root + "/envvars", web_sites_max_envvars_bytes);
    if (envvars.status == ReadStatus::ok)
      for (auto& [k, v] : parse_apache_envvars(envvars.file.text)) start.environment.emplace(k, v);
    return parse_apache(start, files);
  }
  TomcatStart start;
  if (s.config_file.empty()) {
    add_error(outcome, suppressed,
              s.product + " " + std::to_string(s.pid) + ": no CATALINA_BASE, sites not read");
    return {};
  }
  start.server_xml = s.config_file;
  start.catalina_base = parent_of(parent_of(s.config_file));
  return parse_tomcat(start, files);
}

// The certificate fields of `served` from its site's certificate file, read inside `root`.
// Sites of one instance often share a file: `seen` keeps each file's result for the instance.
void read_certificate(ServedSite& served, const fs::path& root,
                      std::map<std::string, std::variant<CertificateInfo, std::string>>& seen,
                      Outcome& outcome, std::size_t& suppressed) {
  const std::string& file = served.site.certificate_file;
  if (file.empty()) return;
  auto at = seen.find(file);
  if (at == seen.end()) {
    auto read = read_in_root(root, file, max_certificate_file_bytes + 1);
    std::variant<CertificateInfo, std::string> result;
    if (read.status == ReadStatus::missing)
      result = std::string("missing");
    else if (read.status == ReadStatus::error)
      result = read.error;
    else if (read.file.truncated || read.file.text.size() > max_certificate_file_bytes)
      result = "longer than " + std::to_string(max_certificate_file_bytes) + " bytes";
    else
      result = parse_pem_certificate(read.file.text);
    at = seen.emplace(file, std::move(result)).first;
    if (const auto* error = std::get_if<std::string>(&at->second))
      add_error(outcome, suppressed,
                served.product + " " + std::to_string(served.pid) + ": certificate " + file +
                    " not read: " + *error);
  }
  if (const auto* cert = std::get_if<CertificateInfo>(&at->second)) {
    served.cert_issuer = cert->issuer;
    served.cert_subject = cert->subject;
    served.cert_not_before_ms = cert->not_before_ms;
    served.cert_not_after_ms = cert->not_after_ms;
  }
}

}  // namespace

Outcome WebSitesCollector::collect(const ScanContext& context) {
  Outcome outcome;
  std::vector<ServedSite> sites;
  std::size_t suppressed = 0;
  auto& processes = context.processes();
  for (const auto& s : context.input_part<ServiceInstance>()) {
    // By the rule's `config`, so a product a replaced rules file adds gets its sites too.
    const std::string_view kind = s.config;
    if (kind != "nginx" && kind != "apache" && kind != "tomcat") continue;
    if (context.expired()) {
      outcome.deadline_passed();
      return outcome;
    }
    // The instance's /proc entry and (for a container's) its root, held for all its reading:
    // a pid reused meanwhile cannot lead the reads into another process's tree.
    const auto ticks = processes.start_ticks(s.pid);
    const bool contained = !s.container_id.empty();
    auto held = hold_process(context.proc, s.pid, ticks, contained);
    if (contained && !held) continue;  // gone since the process table was read
    const fs::path root = contained ? held->root_path() : context.root;
    const fs::path proc_pid = held ? held->dir_path() : fs::path();
    FileSource files = file_source_in_root(root);
    WebConfig config = parse_instance(s, kind, proc_pid, root, files, outcome, suppressed);
    for (auto& e : config.errors)
      add_error(outcome, suppressed, s.product + " " + std::to_string(s.pid) + ": " + e);
    std::map<std::string, std::variant<CertificateInfo, std::string>> certificates;
    for (auto& site : config.sites) {
      sites.push_back(ServedSite{std::move(site), s.product, s.pid, s.container_id, s.exe});
      read_certificate(sites.back(), root, certificates, outcome, suppressed);
    }
  }
  if (suppressed) outcome.error(std::to_string(suppressed) + " more errors not listed");
  replace(std::move(sites));
  return outcome;
}

}  // namespace hostprint::collectors
