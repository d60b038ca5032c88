// Tomcat: conf/server.xml read with a small XML scanner of our own: elements, attributes, text,
// comments, CDATA, processing instructions; the DOCTYPE is skipped and no entity is ever expanded
// but the five predefined ones and character references, so an entity bomb costs one pass.
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "collectors/formats/web_config_common.hpp"

namespace hostprint::collectors {
namespace {

using web_config::IncludeReader;
using web_config::where;

bool is_xml_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

std::string_view trim_xml_space(std::string_view text) {
  while (!text.empty() && is_xml_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_xml_space(text.back())) text.remove_suffix(1);
  return text;
}

struct XmlEvent {
  enum class Kind { start, end, text, done, error };
  Kind kind = Kind::done;
  std::string name;
  std::vector<std::pair<std::string, std::string>> attributes;
  bool empty_element = false;  // <name ... />
  std::string text;            // for Kind::text; the message for Kind::error
  std::size_t line = 0;
};

class XmlScanner {
 public:
  explicit XmlScanner(std::string_view text) : text_(text) {
    if (text_.starts_with("\xEF\xBB\xBF")) pos_ = 3;
  }

  // Entity references left as written (anything but the five predefined ones).
  const std::vector<std::string>& unexpanded() const { return unexpanded_; }

  XmlEvent next() {
    XmlEvent event;
    for (;;) {
      event.line = line_;
      if (pos_ >= text_.size()) return event;
      if (text_[pos_] != '<') {
        std::size_t end = text_.find('<', pos_);
        if (end == std::string_view::npos) end = text_.size();
        event.kind = XmlEvent::Kind::text;
        event.text = decode(take(end - pos_));
        return event;
      }
      std::string_view rest = text_.substr(pos_);
      if (rest.starts_with("<!--")) {
        if (!skip_past("-->", 4)) return fail(event, "comment not closed");
      } else if (rest.starts_with("<![CDATA[")) {
        take(9);
        auto end = text_.find("]]>", pos_);
        if (end == std::string_view::npos) return fail(event, "CDATA section not closed");
        event.kind = XmlEvent::Kind::text;
        event.text = take(end - pos_);
        take(3);
        return event;
      } else if (rest.starts_with("<?")) {
        if (!skip_past("?>", 2)) return fail(event, "processing instruction not closed");
      } else if (rest.starts_with("<!DOCTYPE")) {
        if (!skip_doctype()) return fail(event, "DOCTYPE not closed");
      } else if (rest.starts_with("<!")) {
        return fail(event, "markup declaration outside the DOCTYPE");
      } else if (rest.starts_with("</")) {
        take(2);
        event.kind = XmlEvent::Kind::end;
        event.name = name();
        skip_spaces();
        if (event.name.empty() || !consume('>')) return fail(event, "malformed end tag");
        return event;
      } else {
        take(1);
        return start_tag(event);
      }
    }
  }

 private:
  XmlEvent fail(XmlEvent& event, std::string message) {
    event.kind = XmlEvent::Kind::error;
    event.text = std::move(message);
    event.line = line_;
    return std::move(event);
  }

  std::string take(std::size_t count) {
    std::string_view taken = text_.substr(pos_, count);
    for (char c : taken) line_ += c == '\n';
    pos_ += taken.size();
    return std::string(taken);
  }

  bool consume(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void skip_spaces() {
    while (pos_ < text_.size() && is_xml_space(text_[pos_])) take(1);
  }

  bool skip_past(std::string_view terminator, std::size_t opener) {
    auto end = text_.find(terminator, pos_ + opener);
    if (end == std::string_view::npos) {
      take(text_.size() - pos_);
      return false;
    }
    take(end + terminator.size() - pos_);
    return true;
  }

  // "<!DOCTYPE name ... [ internal subset ]>": declarations in the subset are skipped unread.
  bool skip_doctype() {
    take(9);
    bool in_subset = false;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c == '"' || c == '\'') {
        auto end = text_.find(c, pos_ + 1);
        if (end == std::string_view::npos) break;
        take(end + 1 - pos_);
      } else if (in_subset && text_.substr(pos_).starts_with("<!--")) {
        if (!skip_past("-->", 4)) return false;
      } else if (c == '[' && !in_subset) {
        in_subset = true;
        take(1);
      } else if (c == ']' && in_subset) {
        in_subset = false;
        take(1);
      } else if (c == '>' && !in_subset) {
        take(1);
        return true;
      } else {
        take(1);
      }
    }
    take(text_.size() - pos_);
    return false;
  }

  std::string name() {
    std::size_t start = pos_;
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (is_xml_space(c) || c == '/' || c == '>' || c == '=' || c == '<' || c == '"' ||
          c == '\'') {
        break;
      }
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  XmlEvent start_tag(XmlEvent& event) {
    event.kind = XmlEvent::Kind::start;
    event.name = name();
    if (event.name.empty()) return fail(event, "malformed start tag");
    for (;;) {
      bool spaced = pos_ < text_.size() && is_xml_space(text_[pos_]);
      skip_spaces();
      if (pos_ >= text_.size()) return fail(event, "<" + event.name + "> tag not closed");
      if (consume('>')) return event;
      if (text_.substr(pos_).starts_with("/>")) {
        pos_ += 2;
        event.empty_element = true;
        return event;
      }
      std::string attribute = name();
      if (attribute.empty() || !spaced)
        return fail(event, "malformed attribute in <" + event.name + ">");
      skip_spaces();
      if (!consume('=')) return fail(event, "attribute " + attribute + " without a value");
      skip_spaces();
      char quote = pos_ < text_.size() ? text_[pos_] : '\0';
      if (quote != '"' && quote != '\'') {
        return fail(event, "attribute " + attribute + " value not quoted");
      }
      auto end = text_.find(quote, pos_ + 1);
      if (end == std::string_view::npos) return fail(event, "attribute value not closed");
      take(1);
      std::string raw = take(end - pos_);
      take(1);
      if (raw.find('<') != std::string::npos) return fail(event, "'<' in an attribute value");
      for (char& c : raw) {
        if (is_xml_space(c)) c = ' ';  // attribute value normalisation
      }
      event.attributes.emplace_back(std::move(attribute), decode(raw));
    }
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  static std::optional<std::uint32_t> character_reference(std::string_view digits) {
    int base = 10;
    if (digits.starts_with("x")) {
      base = 16;
      digits.remove_prefix(1);
    }
    if (digits.empty() || digits.size() > 8) return std::nullopt;
    std::uint32_t cp = 0;
    for (char c : digits) {
      int digit = c >= '0' && c <= '9'                 ? c - '0'
                  : base == 16 && c >= 'a' && c <= 'f' ? c - 'a' + 10
                  : base == 16 && c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                       : -1;
      if (digit < 0) return std::nullopt;
      cp = cp * static_cast<std::uint32_t>(base) + static_cast<std::uint32_t>(digit);
    }
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
    return cp;
  }

  std::string decode(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    while (!raw.empty()) {
      auto amp = raw.find('&');
      out += raw.substr(0, amp);
      if (amp == std::string_view::npos) break;
      raw.remove_prefix(amp);
      // A reference is short; an '&' with no ';' close after it (npos included) is a bare '&'.
      auto semicolon = raw.find(';');
      std::string_view entity = semicolon > 64 ? "" : raw.substr(1, semicolon - 1);
      if (entity == "lt") {
        out += '<';
      } else if (entity == "gt") {
        out += '>';
      } else if (entity == "amp") {
        out += '&';
      } else if (entity == "apos") {
        out += '\'';
      } else if (entity == "quot") {
        out += '"';
      } else if (auto cp = entity.starts_with("#") ? character_reference(entity.substr(1))
                                                   : std::nullopt) {
        append_utf8(out, *cp);
      } else {
        // Kept as written: declared entities are never expanded, nor external ones fetched.
        std::string_view kept = entity.empty() ? raw.substr(0, 1) : raw.substr(0, semicolon + 1);
        if (unexpanded_.size() < 16) unexpanded_.emplace_back(kept);
        out += kept;
        raw.remove_prefix(kept.size());
        continue;
      }
      raw.remove_prefix(semicolon + 1);
    }
    return out;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_ = 1;
  std::vector<std::string> unexpanded_;
};

const std::string* attribute(const XmlEvent& event, std::string_view name) {
  for (const auto& [key, value] : event.attributes) {
    if (key == name) return &value;
  }
  return nullptr;
}

bool attribute_is(const XmlEvent& event, std::string_view name, std::string_view value) {
  const std::string* found = attribute(event, name);
  return found && web_config::equals_ignoring_case(trim_xml_space(*found), value);
}

struct Service {
  std::vector<unsigned> ports;
  bool tls = false;
  std::vector<WebSite> hosts;
};

class TomcatParser {
 public:
  TomcatParser(const TomcatStart& start, const FileSource& files, const ConfigLimits& limits)
      : start_(start), reader_(files, limits, out_) {}

  WebConfig run() {
    const std::string& path = start_.server_xml;
    if (auto text = reader_.enter(path, "", false)) {
      web_config::EnteredFile entered(reader_);
      read(*text);
    }
    reader_.finish();
    return std::move(out_);
  }

 private:
  // The path of elements from <Server> down to the one being read.
  bool inside(std::initializer_list<std::string_view> path) const {
    if (open_.size() != path.size()) return false;
    std::size_t i = 0;
    for (auto name : path) {
      if (open_[i++] != name) return false;
    }
    return true;
  }

  void read(std::string_view text) {
    const std::string& path = start_.server_xml;
    XmlScanner scanner(text);
    bool in_alias = false;
    std::string alias;
    for (bool done = false; !done;) {
      XmlEvent event = scanner.next();
      switch (event.kind) {
        case XmlEvent::Kind::start:
          if (open_.size() >= reader_.limits().max_nesting) {
            reader_.error(where(path, event.line),
                          "elements nested deeper than " +
                              std::to_string(reader_.limits().max_nesting) + ": not read further");
            done = true;
            break;
          }
          start_element(event);
          if (!event.empty_element) {
            in_alias = event.name == "Alias" && host_open_ &&
                       inside({"Server", "Service", "Engine", "Host"});
            alias.clear();
            open_.push_back(event.name);
          } else {
            end_element(event.name);
          }
          break;
        case XmlEvent::Kind::text:
          if (in_alias) alias += event.text;
          break;
        case XmlEvent::Kind::end:
          if (open_.empty() || open_.back() != event.name) {
            reader_.error(where(path, event.line), "</" + event.name + "> does not close " +
                                                       (open_.empty() ? std::string("any element")
                                                                      : "<" + open_.back() + ">"));
            done = true;
            break;
          }
          if (in_alias && event.name == "Alias") {
            std::string_view name = trim_xml_space(alias);
            if (!name.empty()) service_.hosts.back().domains.emplace_back(name);
            in_alias = false;
          }
          open_.pop_back();
          end_element(event.name);
          break;
        case XmlEvent::Kind::error:
          reader_.error(where(path, event.line), event.text);
          done = true;
          break;
        case XmlEvent::Kind::done:
          if (!open_.empty()) {
            reader_.error(where(path, event.line), "end of file inside <" + open_.back() + ">");
          }
          done = true;
          break;
      }
    }
    for (const auto& entity : scanner.unexpanded()) {
      reader_.error(path, "entity reference " + entity + " left unexpanded");
    }
    if (service_open_) end_service();  // keep what was read before the file broke off
  }

  // Called before the element is pushed on open_: open_ holds its ancestors.
  void start_element(const XmlEvent& event) {
    const std::string& path = start_.server_xml;
    if (event.name == "Service" && inside({"Server"})) {
      service_ = Service{};
      service_open_ = true;
    } else if (event.name == "Connector" && inside({"Server", "Service"})) {
      const std::string* port_text = attribute(event, "port");
      auto port = port_text ? web_config::parse_port(trim_xml_space(*port_text)) : std::nullopt;
      if (port) {
        service_.ports.push_back(*port);
      } else {
        reader_.error(where(path, event.line), "Connector port \"" +
                                                   (port_text ? *port_text : std::string()) +
                                                   "\" is not a port number; not counted");
      }
      service_.tls = service_.tls || attribute_is(event, "SSLEnabled", "true") ||
                     attribute_is(event, "scheme", "https") ||
                     attribute_is(event, "secure", "true");
    } else if (event.name == "Host" && inside({"Server", "Service", "Engine"})) {
      WebSite host;
      host.server = "tomcat";
      host.config_file = path;
      host.line = event.line;
      if (const std::string* name = attribute(event, "name")) host.domains.push_back(*name);
      const std::string* app_base = attribute(event, "appBase");
      host.document_root = app_base_path(app_base ? *app_base : "webapps");
      service_.hosts.push_back(std::move(host));
      host_open_ = !event.empty_element;
    }
  }

  void end_element(const std::string& name) {
    if (name == "Host" && inside({"Server", "Service", "Engine"})) host_open_ = false;
    if (name == "Service" && inside({"Server"})) end_service();
  }

  void end_service() {
    for (auto& host : service_.hosts) {
      host.ports = service_.ports;
      host.tls = service_.tls;
      reader_.add_site(std::move(host));
    }
    service_ = Service{};
    service_open_ = false;
    host_open_ = false;
  }

  // ${catalina.base} is the one property placeholder known here; others are kept as written.
  std::string app_base_path(std::string value) const {
    constexpr std::string_view base = "${catalina.base}";
    for (auto at = value.find(base); at != std::string::npos; at = value.find(base, at)) {
      value.replace(at, base.size(), start_.catalina_base);
      at += start_.catalina_base.size();
    }
    if (value.starts_with("${")) return value;
    return web_config::resolve_path(start_.catalina_base, value);
  }

  const TomcatStart& start_;
  WebConfig out_;
  IncludeReader reader_;
  std::vector<std::string> open_;
  Service service_;
  bool service_open_ = false;
  bool host_open_ = false;
};

}  // namespace

WebConfig parse_tomcat(const TomcatStart& start, const FileSource& files,
                       const ConfigLimits& limits) {
  return TomcatParser(start, files, limits).run();
}

}  // namespace hostprint::collectors
