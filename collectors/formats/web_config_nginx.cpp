// nginx: the grammar of ngx_conf_file.c (words, quotes, `;`, `{`, `}`, `#` comments) read into
// the server blocks of the http block.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collectors/formats/web_config_common.hpp"

namespace hostprint::collectors {
namespace {

using web_config::EnteredFile;
using web_config::IncludeReader;
using web_config::where;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// One step of nginx's reader: the words of a directive ended by ';' or '{', a '}', the end of the
// file, or a syntax error (after which nginx reads no further).
struct Statement {
  enum class Kind { directive, block_start, block_end, end, error };
  Kind kind = Kind::end;
  std::vector<std::string> words;
  std::size_t line = 0;  // of the first word, or of the '}' or error
  std::string error;
};

class Lexer {
 public:
  explicit Lexer(std::string_view text) : text_(text) {}

  Statement next() {
    Statement st;
    for (;;) {
      skip_blanks_and_comments();
      if (pos_ >= text_.size()) {
        if (!st.words.empty()) return fail(st, "unexpected end of file, expecting \";\" or \"}\"");
        st.kind = Statement::Kind::end;
        st.line = line_;
        return st;
      }
      char c = text_[pos_];
      if (c == ';' || c == '{') {
        if (st.words.empty()) return fail(st, std::string("unexpected \"") + c + "\"");
        ++pos_;
        st.kind = c == ';' ? Statement::Kind::directive : Statement::Kind::block_start;
        return st;
      }
      if (c == '}') {
        if (!st.words.empty()) return fail(st, "unexpected \"}\"");
        ++pos_;
        st.kind = Statement::Kind::block_end;
        st.line = line_;
        return st;
      }
      if (st.words.empty()) st.line = line_;
      bool ok = c == '"' || c == '\'' ? read_quoted(st.words) : read_bare(st.words);
      if (!ok) return fail(st, error_);
    }
  }

 private:
  Statement fail(Statement& st, std::string message) {
    st.kind = Statement::Kind::error;
    st.error = std::move(message);
    st.line = line_;
    return std::move(st);
  }

  void advance() {
    if (text_[pos_] == '\n') ++line_;
    ++pos_;
  }

  // A '#' starts a comment only where a word could start.
  void skip_blanks_and_comments() {
    while (pos_ < text_.size()) {
      if (is_space(text_[pos_])) {
        advance();
      } else if (text_[pos_] == '#') {
        while (pos_ < text_.size() && text_[pos_] != '\n') ++pos_;
      } else {
        return;
      }
    }
  }

  // A backslash takes the next character whatever it is; the escapes nginx then translates.
  static std::string unescape(std::string_view raw) {
    std::string word;
    word.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      if (raw[i] == '\\' && i + 1 < raw.size()) {
        char n = raw[i + 1];
        if (n == '"' || n == '\'' || n == '\\') {
          word += n;
          ++i;
          continue;
        }
        if (n == 't' || n == 'r' || n == 'n') {
          word += n == 't' ? '\t' : n == 'r' ? '\r' : '\n';
          ++i;
          continue;
        }
      }
      word += raw[i];
    }
    return word;
  }

  bool read_quoted(std::vector<std::string>& words) {
    char quote = text_[pos_];
    advance();
    std::size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != quote) {
      if (text_[pos_] == '\\' && pos_ + 1 < text_.size()) advance();
      advance();
    }
    if (pos_ >= text_.size()) {
      error_ = "unexpected end of file, expecting \";\" or \"}\"";
      return false;
    }
    words.push_back(unescape(text_.substr(start, pos_ - start)));
    advance();
    // After a closing quote nginx wants a separator; ')' closes an `if` condition.
    if (pos_ < text_.size()) {
      char c = text_[pos_];
      if (!is_space(c) && c != ';' && c != '{' && c != ')') {
        error_ = std::string("unexpected \"") + c + "\"";
        return false;
      }
    }
    return true;
  }

  // A bare word ends at a blank, ';' or '{' (not the '{' of "${"); '}', '#' and quotes inside
  // it are plain characters.
  bool read_bare(std::vector<std::string>& words) {
    std::size_t start = pos_;
    bool after_dollar = false;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '\\') {
        advance();
        if (pos_ < text_.size()) advance();
        after_dollar = false;
        continue;
      }
      if (is_space(c) || c == ';' || (c == '{' && !after_dollar)) break;
      after_dollar = c == '$';
      advance();
    }
    if (pos_ >= text_.size()) {
      error_ = "unexpected end of file, expecting \";\" or \"}\"";
      return false;
    }
    words.push_back(unescape(text_.substr(start, pos_ - start)));
    return true;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::string error_;
};

struct Listen {
  std::optional<unsigned> port;  // none for a unix: socket
  bool tls = false;
  std::string address{};  // "" for every address
};

struct ServerBlock {
  std::string file;
  std::size_t line = 0;
  std::vector<std::string> names{};
  std::vector<Listen> listens{};
  std::optional<std::string> root{};
  std::optional<bool> ssl{};                 // `ssl on|off;`
  std::optional<std::string> certificate{};  // the first ssl_certificate
};

// The port of a `listen` address as ngx_parse_url reads it: "8080", "*:80", "127.0.0.1:8080",
// "[::]:443", "[::1]" and "localhost" (port 80), "unix:/path" (no port). False when malformed.
// `host` is the address without brackets and port; "" for a port alone or a wildcard.
bool listen_port(std::string_view address, std::optional<unsigned>& port, std::string& host) {
  port.reset();
  host.clear();
  if (address.starts_with("unix:")) return true;
  std::optional<std::string_view> port_text;
  if (address.starts_with("[")) {
    auto close = address.find(']');
    if (close == std::string_view::npos) return false;
    host = address.substr(1, close - 1);
    std::string_view rest = address.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port_text = rest.substr(1);
    }
  } else if (auto colon = address.find(':'); colon != std::string_view::npos) {
    if (address.find(':', colon + 1) != std::string_view::npos) return false;
    host = address.substr(0, colon);
    port_text = address.substr(colon + 1);
  } else if (!address.empty() &&
             address.find_first_not_of("0123456789") == std::string_view::npos) {
    port_text = address;
  } else {
    host = address;
  }
  if (host == "*" || host == "0.0.0.0" || host == "::") host.clear();
  port = port_text ? web_config::parse_port(*port_text) : 80;  // an address alone: port 80
  return port.has_value();
}

class NginxParser {
 public:
  NginxParser(const NginxStart& start, const FileSource& files, const ConfigLimits& limits)
      : start_(start),
        conf_dir_(web_config::directory_of(start.conf_file)),
        reader_(files, limits, out_) {}

  WebConfig run() {
    read_file(start_.conf_file, "");
    for (auto& server : servers_) reader_.add_site(site_of(server));
    reader_.finish();
    return std::move(out_);
  }

 private:
  enum class Context { main, http, server, other };
  struct Frame {
    Context context = Context::other;
    std::size_t server = 0;  // for Context::server: index in servers_
  };

  Context context() const { return frames_.empty() ? Context::main : frames_.back().context; }

  // An included file is read in the context of its include, and must close what it opens.
  void read_file(const std::string& path, const std::string& from) {
    auto text = reader_.enter(path, from, false);
    if (!text) return;
    EnteredFile entered(reader_);
    std::size_t base = frames_.size();
    std::size_t base_excess = excess_;
    Lexer lexer(*text);
    for (bool done = false; !done;) {
      Statement st = lexer.next();
      switch (st.kind) {
        case Statement::Kind::directive:
          directive(st, path);
          break;
        case Statement::Kind::block_start:
          open_block(st, path);
          break;
        case Statement::Kind::block_end:
          if (excess_ > base_excess) {
            --excess_;
          } else if (frames_.size() > base) {
            frames_.pop_back();
          } else {
            reader_.error(where(path, st.line), "unexpected \"}\"");
            done = true;
          }
          break;
        case Statement::Kind::end:
          if (frames_.size() > base || excess_ > base_excess) {
            reader_.error(where(path, st.line), "unexpected end of file, expecting \"}\"");
          }
          done = true;
          break;
        case Statement::Kind::error:
          reader_.error(where(path, st.line), st.error);
          done = true;
          break;
      }
    }
    frames_.erase(frames_.begin() + static_cast<std::ptrdiff_t>(base), frames_.end());
    excess_ = base_excess;
  }

  void open_block(const Statement& st, const std::string& path) {
    if (frames_.size() + excess_ >= reader_.limits().max_nesting) {
      if (excess_ == 0) {
        reader_.error(where(path, st.line), "blocks nested deeper than " +
                                                std::to_string(reader_.limits().max_nesting) +
                                                ": their content is skipped");
      }
      ++excess_;
      return;
    }
    const std::string& name = st.words.front();
    Frame frame{.context = Context::other};
    if (context() == Context::main && name == "http") {
      frame.context = Context::http;
    } else if (context() == Context::http && name == "server") {
      frame.context = Context::server;
      frame.server = servers_.size();
      servers_.push_back(ServerBlock{.file = path, .line = st.line});
    }
    frames_.push_back(frame);
  }

  void directive(const Statement& st, const std::string& path) {
    if (excess_ > 0) return;
    const std::string& name = st.words.front();
    const std::vector<std::string>& words = st.words;
    if (name == "include") {
      if (words.size() != 2) {
        reader_.error(where(path, st.line), "invalid number of arguments in \"include\"");
        return;
      }
      include(words[1], where(path, st.line));
      return;
    }
    Context here = context();
    if (here == Context::http) {
      if (name == "root" && words.size() >= 2 && !http_root_) http_root_ = words[1];
      if (name == "ssl" && words.size() >= 2) http_ssl_ = words[1] == "on";
      if (name == "ssl_certificate" && words.size() >= 2 && !http_certificate_)
        http_certificate_ = words[1];
      return;
    }
    if (here != Context::server) return;
    ServerBlock& server = servers_[frames_.back().server];
    if (name == "server_name") {
      server.names.insert(server.names.end(), words.begin() + 1, words.end());
    } else if (name == "listen" && words.size() >= 2) {
      Listen listen;
      if (!listen_port(words[1], listen.port, listen.address)) {
        reader_.error(where(path, st.line), "invalid listen address \"" + words[1] + "\"");
        return;
      }
      for (std::size_t i = 2; i < words.size(); ++i) {
        if (words[i] == "ssl" || words[i] == "quic") listen.tls = true;  // quic is HTTP/3: TLS
      }
      server.listens.push_back(listen);
    } else if (name == "root" && words.size() >= 2) {
      if (!server.root) server.root = words[1];
    } else if (name == "ssl" && words.size() >= 2) {
      server.ssl = words[1] == "on";
    } else if (name == "ssl_certificate" && words.size() >= 2 && !server.certificate) {
      server.certificate = words[1];
    }
  }

  // Relative to the directory of the main file (nginx's conf prefix), whichever file includes.
  void include(const std::string& target, const std::string& from) {
    std::string path = web_config::resolve_path(conf_dir_, target);
    if (!web_config::is_glob(path)) {
      read_file(path, from);
      return;
    }
    for (const auto& match : reader_.glob(path)) read_file(match, from);
  }

  WebSite site_of(const ServerBlock& server) const {
    WebSite site;
    site.server = "nginx";
    site.domains = server.names;
    site.config_file = server.file;
    site.line = server.line;
    if (server.listens.empty()) site.ports.push_back(80);  // nginx's default (8000 if not root)
    const Listen* lowest = nullptr;  // the listen of the reported port; a wildcard one preferred
    for (const auto& listen : server.listens) {
      if (listen.port) site.ports.push_back(*listen.port);
      site.tls = site.tls || listen.tls;
      if (listen.port && (!lowest || *listen.port < *lowest->port ||
                          (*listen.port == *lowest->port && listen.address.empty())))
        lowest = &listen;
    }
    if (lowest) site.bind_address = lowest->address;
    site.tls = site.tls || server.ssl.value_or(http_ssl_.value_or(false));
    // Relative to the conf prefix, as nginx resolves it; one naming a variable is chosen per
    // connection (by SNI) and is not read.
    auto certificate = server.certificate ? server.certificate : http_certificate_;
    if (site.tls && certificate && certificate->find('$') == std::string::npos)
      site.certificate_file = web_config::resolve_path(conf_dir_, *certificate);
    // nginx's default root is "html"; a root that starts with a variable is resolved per request.
    std::string root = server.root ? *server.root : http_root_.value_or("html");
    site.document_root =
        root.starts_with("$") ? root : web_config::resolve_path(start_.prefix, root);
    return site;
  }

  const NginxStart& start_;
  std::string conf_dir_;
  WebConfig out_;
  IncludeReader reader_;
  std::vector<Frame> frames_;
  std::size_t excess_ = 0;  // blocks open past max_nesting, skipped
  std::vector<ServerBlock> servers_;
  std::optional<std::string> http_root_;
  std::optional<bool> http_ssl_;
  std::optional<std::string> http_certificate_;
};

}  // namespace

WebConfig parse_nginx(const NginxStart& start, const FileSource& files,
                      const ConfigLimits& limits) {
  return NginxParser(start, files, limits).run();
}

}  // namespace hostprint::collectors
