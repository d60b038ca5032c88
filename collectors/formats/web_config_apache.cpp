// Apache httpd: line-based directives (`\` continuation, `#` comment lines, quoted words,
// directive and section names in any case) read into its <VirtualHost> sections.
#include <algorithm>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collectors/formats/text_fields.hpp"
#include "collectors/formats/web_config_common.hpp"

namespace hostprint::collectors {
namespace {

using web_config::EnteredFile;
using web_config::IncludeReader;
using web_config::to_lower;
using web_config::where;

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

struct LogicalLine {
  std::string text;
  std::size_t line = 0;  // of its first physical line
  bool too_long = false;
};

// Physical lines joined where one ends in a backslash (nothing may follow it, as httpd says).
class LineReader {
 public:
  LineReader(std::string_view text, std::size_t max_bytes) : text_(text), max_bytes_(max_bytes) {}

  bool next(LogicalLine& out) {
    if (pos_ >= text_.size()) return false;
    out.text.clear();
    out.line = line_;
    out.too_long = false;
    for (;;) {
      auto newline = text_.find('\n', pos_);
      std::size_t end = newline == std::string_view::npos ? text_.size() : newline;
      std::string_view physical = text_.substr(pos_, end - pos_);
      pos_ = newline == std::string_view::npos ? text_.size() : newline + 1;
      ++line_;
      if (!physical.empty() && physical.back() == '\r') physical.remove_suffix(1);
      bool continued = !physical.empty() && physical.back() == '\\';
      if (continued) physical.remove_suffix(1);
      std::size_t room = max_bytes_ - std::min(max_bytes_, out.text.size());
      if (physical.size() > room) {
        out.too_long = true;
        physical = physical.substr(0, room);
      }
      out.text += physical;
      if (!continued || pos_ >= text_.size()) return true;
    }
  }

 private:
  std::string_view text_;
  std::size_t max_bytes_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
};

// Words as ap_getword_conf splits them: blanks separate; a word may be quoted with " or ', and
// inside it a backslash escapes only that quote.
std::vector<std::string> split_words(std::string_view text) {
  std::vector<std::string> words;
  std::size_t i = 0;
  for (;;) {
    while (i < text.size() && is_blank(text[i])) ++i;
    if (i >= text.size()) return words;
    std::string word;
    char quote = text[i];
    if (quote == '"' || quote == '\'') {
      ++i;
      while (i < text.size() && text[i] != quote) {
        if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] == quote) ++i;
        word += text[i++];
      }
      if (i < text.size()) ++i;  // the closing quote; an unclosed one takes the rest of the line
    } else {
      while (i < text.size() && !is_blank(text[i])) word += text[i++];
    }
    words.push_back(std::move(word));
  }
}

struct VirtualHost {
  std::string file;
  std::size_t line = 0;
  std::vector<std::string> addresses{};
  std::optional<std::string> name{};
  std::vector<std::string> aliases{};
  std::optional<std::string> document_root{};
  std::optional<bool> tls{};
  std::optional<std::string> certificate{};  // SSLCertificateFile
};

// The host of a ServerName: "[scheme://]host[:port]".
std::string server_name_host(std::string_view name) {
  if (auto scheme = name.find("://"); scheme != std::string_view::npos) {
    name = name.substr(scheme + 3);
  }
  if (name.starts_with("[")) {
    auto close = name.find(']');
    return std::string(close == std::string_view::npos ? name : name.substr(0, close + 1));
  }
  auto colon = name.find(':');
  if (colon != std::string_view::npos && name.find(':', colon + 1) == std::string_view::npos) {
    name = name.substr(0, colon);
  }
  return std::string(name);
}

// The port of a <VirtualHost> address: "*:443", "[::1]:8080", "_default_:443", "10.0.0.1:80".
// No port (or "*") means every port the server listens on.
struct VirtualHostPort {
  std::optional<unsigned> port;
  bool any = false;
  bool ok = true;
};

VirtualHostPort virtual_host_port(std::string_view address) {
  VirtualHostPort result;
  std::optional<std::string_view> port_text;
  if (address.starts_with("[")) {
    auto close = address.find(']');
    if (close == std::string_view::npos) return {std::nullopt, false, false};
    std::string_view rest = address.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return {std::nullopt, false, false};
      port_text = rest.substr(1);
    }
  } else if (auto colon = address.find(':');
             colon != std::string_view::npos &&
             address.find(':', colon + 1) == std::string_view::npos) {
    port_text = address.substr(colon + 1);
  }
  if (!port_text || *port_text == "*") {
    result.any = true;
    return result;
  }
  result.port = web_config::parse_port(*port_text);
  result.ok = result.port.has_value();
  return result;
}

// The port of a Listen address: "80", "0.0.0.0:443", "[::]:8080".
std::optional<unsigned> listen_port(std::string_view address) {
  auto colon = address.rfind(':');
  if (colon != std::string_view::npos && address.find(']', colon) == std::string_view::npos) {
    address = address.substr(colon + 1);
  }
  return web_config::parse_port(address);
}

class ApacheParser {
 public:
  ApacheParser(const ApacheStart& start, const FileSource& files, const ConfigLimits& limits)
      : start_(start), server_root_(start.server_root), reader_(files, limits, out_) {
    defined_.insert(start.defines.begin(), start.defines.end());
  }

  WebConfig run() {
    read_file(start_.conf_file, "", Scope::main);
    for (const auto& host : hosts_) reader_.add_site(site_of(host));
    reader_.finish();
    return std::move(out_);
  }

 private:
  // Where a directive applies: the main server, the <VirtualHost> being read, or a section of
  // either (<Directory>, <Location>, ...) whose directives do not describe the site.
  enum class Scope { main, virtual_host, other };
  struct Section {
    std::string name;  // as written
    bool active = true;
    Scope scope = Scope::main;
    std::size_t line = 0;
  };

  // A file's sections must close in that file; an included file is read in its include's scope.
  void read_file(const std::string& path, const std::string& from, Scope scope,
                 bool missing_ok = false) {
    auto text = reader_.enter(path, from, missing_ok);
    if (!text) return;
    EnteredFile entered(reader_);
    const ConfigLimits& limits = reader_.limits();
    std::vector<Section> sections;
    std::size_t excess = 0;  // sections open past max_nesting, skipped
    LineReader lines(*text, limits.max_line_bytes);
    LogicalLine line;
    while (lines.next(line)) {
      std::string at = where(path, line.line);
      if (line.too_long) {
        reader_.error(at, "line longer than " + std::to_string(limits.max_line_bytes) +
                              " bytes; only its beginning was read");
      }
      std::string_view text_line = trim(line.text);
      if (text_line.empty() || text_line.front() == '#') continue;
      bool active = sections.empty() || sections.back().active;
      Scope here = sections.empty() ? scope : sections.back().scope;
      std::string resolved = active ? substitute(text_line, at) : std::string(text_line);
      std::string_view statement = resolved;
      if (statement.starts_with("</")) {
        if (excess > 0) {
          --excess;
        } else {
          close_section(sections, statement, at);
        }
      } else if (statement.starts_with("<")) {
        if (excess > 0 || sections.size() >= limits.max_nesting) {
          if (excess == 0) {
            reader_.error(at, "sections nested deeper than " + std::to_string(limits.max_nesting) +
                                  ": their content is skipped");
          }
          ++excess;
        } else {
          sections.push_back(open_section(statement, active, here, path, line.line));
        }
      } else if (active && excess == 0) {
        directive(split_words(statement), here, path, line.line);
      }
    }
    for (auto it = sections.rbegin(); it != sections.rend(); ++it) {
      reader_.error(where(path, it->line), "<" + it->name + "> not closed at the end of the file");
      if (is_virtual_host(*it)) host_.reset();
    }
  }

  // The <VirtualHost> section that made host_ (not one refused or inside an inactive section).
  static bool is_virtual_host(const Section& section) {
    return section.scope == Scope::virtual_host && section.active &&
           web_config::equals_ignoring_case(section.name, "virtualhost");
  }

  // ${NAME} from Define, else from the environment; an unknown one is left as written. What
  // substitution adds counts against max_total_bytes, so a Define cannot multiply the work.
  std::string substitute(std::string_view text, const std::string& at) {
    std::string out;
    const ConfigLimits& limits = reader_.limits();
    while (!text.empty()) {
      auto open = text.find("${");
      auto close = open == std::string_view::npos ? open : text.find('}', open + 2);
      if (close == std::string_view::npos) {
        out += text;
        break;
      }
      out += text.substr(0, open);
      std::string name(text.substr(open + 2, close - open - 2));
      const std::string* value = nullptr;
      if (auto it = variables_.find(name); it != variables_.end()) {
        value = &it->second;
      } else if (auto env = start_.environment.find(name); env != start_.environment.end()) {
        value = &env->second;
      }
      if (value && substituted_bytes_ + value->size() > limits.max_total_bytes) {
        if (!substitution_bound_hit_) {
          reader_.error(at, "${VAR} substitutions add more than " +
                                std::to_string(limits.max_total_bytes) +
                                " bytes in all; the rest are left as written");
        }
        substitution_bound_hit_ = true;
        value = nullptr;
      }
      if (value) {
        out += *value;
        substituted_bytes_ += value->size();
      } else {
        out += text.substr(open, close - open + 1);
      }
      text.remove_prefix(close + 1);
      if (out.size() > limits.max_line_bytes) {
        reader_.error(at, "line longer than " + std::to_string(limits.max_line_bytes) +
                              " bytes once ${VAR} are substituted; cut");
        out.resize(limits.max_line_bytes);
        break;
      }
    }
    return out;
  }

  Section open_section(std::string_view statement, bool active, Scope scope,
                       const std::string& path, std::size_t line) {
    auto name_end = statement.find_first_of(" \t>", 1);
    Section section{
        std::string(statement.substr(
            1, name_end == std::string_view::npos ? std::string_view::npos : name_end - 1)),
        active, scope, line};
    std::string_view rest =
        name_end == std::string_view::npos ? std::string_view{} : statement.substr(name_end);
    auto close = rest.rfind('>');
    if (close == std::string_view::npos) {
      reader_.error(where(path, line), "<" + section.name + "> directive missing closing '>'");
    } else {
      rest = rest.substr(0, close);
    }
    if (!active) return section;
    std::vector<std::string> args = split_words(rest);
    std::string name = to_lower(section.name);
    if (name == "virtualhost") {
      if (scope != Scope::main) {
        reader_.error(where(path, line), "<VirtualHost> inside another section: not counted");
        section.active = false;
      } else {
        for (const auto& address : args) {
          if (!virtual_host_port(address).ok) {
            reader_.error(where(path, line), "invalid <VirtualHost> address \"" + address + "\"");
          }
        }
        section.scope = Scope::virtual_host;
        host_ = hosts_.size();
        hosts_.push_back(VirtualHost{.file = path, .line = line, .addresses = std::move(args)});
      }
    } else if (name == "ifmodule") {
      section.active = args.empty() || module_condition(args.front());
    } else if (name == "ifdefine") {
      section.active = args.empty() || define_condition(args.front());
    } else if (name == "ifversion" || name == "iffile" || name == "ifdirective" ||
               name == "ifsection") {
      // Conditions on the build and the file system that a file source cannot answer: read.
    } else if (name == "macro") {
      section.active = false;  // a template, used only through `Use`
    } else {
      section.scope = Scope::other;
    }
    return section;
  }

  void close_section(std::vector<Section>& sections, std::string_view statement,
                     const std::string& at) {
    std::string_view name = statement.substr(2);
    name = trim(name.substr(0, name.find('>')));
    auto match = std::find_if(sections.rbegin(), sections.rend(), [&](const Section& s) {
      return web_config::equals_ignoring_case(s.name, name);
    });
    if (match == sections.rend()) {
      reader_.error(
          at, "</" + std::string(name) + "> without matching <" + std::string(name) + "> section");
      return;
    }
    if (match != sections.rbegin()) {
      reader_.error(
          at, "expected </" + sections.back().name + "> but saw </" + std::string(name) + ">");
    }
    std::size_t keep = static_cast<std::size_t>(sections.rend() - match) - 1;
    for (std::size_t i = keep; i < sections.size(); ++i) {
      if (is_virtual_host(sections[i])) host_.reset();
    }
    sections.resize(keep);
  }

  // httpd cannot tell us which modules are built in, so a module is taken as loaded unless the
  // condition is a negation and a LoadModule of it was read.
  bool module_condition(std::string_view module) const {
    if (!module.starts_with("!")) return true;
    return !loaded_modules_.contains(std::string(module.substr(1)));
  }

  bool define_condition(std::string_view name) const {
    bool negate = name.starts_with("!");
    if (negate) name.remove_prefix(1);
    return defined_.contains(std::string(name)) != negate;
  }

  void directive(const std::vector<std::string>& words, Scope scope, const std::string& path,
                 std::size_t line) {
    if (words.empty()) return;
    std::string name = to_lower(words.front());
    std::string at = where(path, line);
    if (name == "include" || name == "includeoptional") {
      if (words.size() != 2) {
        reader_.error(at, words.front() + " takes one argument");
        return;
      }
      include(words[1], name == "includeoptional", scope, at);
      return;
    }
    if (name == "define" && words.size() >= 2) {
      defined_.insert(words[1]);
      if (words.size() >= 3) variables_[words[1]] = words[2];
      return;
    }
    if (name == "undefine" && words.size() >= 2) {
      defined_.erase(words[1]);
      variables_.erase(words[1]);
      return;
    }
    if (scope == Scope::main) {
      if (name == "serverroot" && words.size() >= 2) {
        server_root_ = words[1];
      } else if (name == "loadmodule" && words.size() >= 3) {
        note_loaded_module(words[1], words[2]);
      } else if (name == "listen" && words.size() >= 2) {
        if (auto port = listen_port(words[1])) {
          listen_ports_.push_back(*port);
        } else {
          reader_.error(at, "invalid Listen address \"" + words[1] + "\"");
        }
      }
    }
    if (scope == Scope::other) return;
    VirtualHost* host = scope == Scope::virtual_host && host_ ? &hosts_[*host_] : nullptr;
    if (name == "servername" && words.size() >= 2) {
      (host ? host->name : main_name_) = server_name_host(words[1]);
    } else if (name == "serveralias" && host) {
      host->aliases.insert(host->aliases.end(), words.begin() + 1, words.end());
    } else if (name == "documentroot" && words.size() >= 2) {
      (host ? host->document_root : main_document_root_) = words[1];
    } else if ((name == "sslengine" || name == "gnutlsenable" || name == "nssengine") &&
               words.size() >= 2) {
      // SSLEngine optional only upgrades plain connections on request: not a TLS site.
      (host ? host->tls : main_tls_) = to_lower(words[1]) == "on";
    } else if (name == "sslcertificatefile" && words.size() >= 2) {
      (host ? host->certificate : main_certificate_) = words[1];  // the last one applies
    }
  }

  // A module is named in <IfModule> by its identifier (ssl_module) or its source (mod_ssl.c).
  void note_loaded_module(const std::string& identifier, const std::string& file) {
    loaded_modules_.insert(identifier);
    if (identifier.ends_with("_module")) {
      loaded_modules_.insert("mod_" + identifier.substr(0, identifier.size() - 7) + ".c");
    }
    std::string base = file.substr(file.rfind('/') + 1);
    if (base.ends_with(".so")) loaded_modules_.insert(base.substr(0, base.size() - 3) + ".c");
  }

  // Relative to ServerRoot. A pattern that matches nothing is an error for Include (as in httpd
  // 2.4), not for IncludeOptional; so is a missing file.
  void include(const std::string& target, bool optional, Scope scope, const std::string& at) {
    std::string path = web_config::resolve_path(server_root_, target);
    if (!web_config::is_glob(path)) {
      include_path(path, optional, scope, at, 0);
      return;
    }
    auto matches = reader_.glob(path);
    if (matches.empty() && !optional) {
      reader_.error(at, "no file matches " + path);
    }
    for (const auto& match : matches) include_path(match, false, scope, at, 0);
  }

  // httpd reads a directory named by an include whole, its subdirectories too.
  void include_path(const std::string& path, bool optional, Scope scope, const std::string& at,
                    std::size_t directory_depth) {
    auto entries = reader_.glob(path + "/*");
    if (entries.empty()) {
      read_file(path, at, scope, optional);
      return;
    }
    if (directory_depth >= reader_.limits().max_depth) {
      reader_.error(at, "directories nested deeper than " +
                            std::to_string(reader_.limits().max_depth) + ": " + path + " not read");
      return;
    }
    // Symlinks to a parent make a directory tree without end: a few of them in an included folder
    // are fan-out to the power of max_depth listings. So listings are bounded like file loads.
    if (directories_listed_ >= reader_.limits().max_files) {
      if (!directories_bound_hit_)
        reader_.error(at, "more than " + std::to_string(reader_.limits().max_files) +
                              " included directories listed: " + path + " and the rest not read");
      directories_bound_hit_ = true;
      return;
    }
    ++directories_listed_;
    for (const auto& entry : entries) include_path(entry, false, scope, at, directory_depth + 1);
  }

  WebSite site_of(const VirtualHost& host) const {
    WebSite site;
    site.server = "apache";
    site.config_file = host.file;
    site.line = host.line;
    if (host.name) {
      site.domains.push_back(*host.name);
    } else if (main_name_) {
      site.domains.push_back(*main_name_);  // a virtual host without a name takes the server's
    }
    site.domains.insert(site.domains.end(), host.aliases.begin(), host.aliases.end());
    for (const auto& address : host.addresses) {
      VirtualHostPort port = virtual_host_port(address);
      if (port.any) site.ports.insert(site.ports.end(), listen_ports_.begin(), listen_ports_.end());
      if (port.port) site.ports.push_back(*port.port);
    }
    // The first address's host; "*" and _default_ match every address.
    if (!host.addresses.empty()) {
      std::string_view a = host.addresses.front();
      if (a.starts_with("[")) {
        a = a.substr(1, a.find(']') - 1);
      } else if (auto colon = a.find(':'); colon != std::string_view::npos &&
                                           a.find(':', colon + 1) == std::string_view::npos) {
        a = a.substr(0, colon);
      }
      if (a != "*" && a != "_default_" && a != "0.0.0.0" && a != "::") site.bind_address = a;
    }
    auto root = host.document_root ? host.document_root : main_document_root_;
    if (root) site.document_root = web_config::resolve_path(server_root_, *root);
    site.tls = host.tls.value_or(main_tls_.value_or(false));
    auto certificate = host.certificate ? host.certificate : main_certificate_;
    if (site.tls && certificate)
      site.certificate_file = web_config::resolve_path(server_root_, *certificate);
    return site;
  }

  const ApacheStart& start_;
  std::string server_root_;
  WebConfig out_;
  IncludeReader reader_;
  std::size_t substituted_bytes_ = 0;
  bool substitution_bound_hit_ = false;
  std::size_t directories_listed_ = 0;
  bool directories_bound_hit_ = false;
  std::set<std::string> defined_;
  std::map<std::string, std::string> variables_;
  std::set<std::string> loaded_modules_;
  std::vector<unsigned> listen_ports_;
  std::vector<VirtualHost> hosts_;
  std::optional<std::size_t> host_;  // the <VirtualHost> being read
  std::optional<std::string> main_name_;
  std::optional<std::string> main_document_root_;
  std::optional<bool> main_tls_;
  std::optional<std::string> main_certificate_;
};

}  // namespace

WebConfig parse_apache(const ApacheStart& start, const FileSource& files,
                       const ConfigLimits& limits) {
  return ApacheParser(start, files, limits).run();
}

}  // namespace hostprint::collectors
