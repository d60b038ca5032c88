// Tomcat: conf/server.xml, parsed with expat. Inside a container the file is whoever built the
// image's: a DOCTYPE (and with it every entity declaration, internal or external) is refused and
// stops the parse, nothing outside the file is ever loaded, and the nesting depth and the count
// of elements are bounded on top of the reader's size bound.
#include <expat.h>

#include <algorithm>
#include <cstddef>
#include <initializer_list>
#include <memory>
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

// One start tag as expat hands it over: its attributes already decoded and normalised.
struct XmlElement {
  std::string_view name;
  const XML_Char** attributes;  // name, value, name, value, ..., nullptr
  std::size_t line;
};

std::optional<std::string> attribute(const XmlElement& element, std::string_view name) {
  for (const XML_Char** at = element.attributes; at[0] != nullptr; at += 2) {
    if (name == at[0]) return std::string(at[1]);
  }
  return std::nullopt;
}

bool attribute_is(const XmlElement& element, std::string_view name, std::string_view value) {
  auto found = attribute(element, name);
  return found && web_config::equals_ignoring_case(trim_xml_space(*found), value);
}

struct Service {
  std::vector<unsigned> ports;
  bool tls = false;
  std::optional<unsigned> lowest_port{};
  std::string address{};      // the Connector of lowest_port's
  std::string certificate{};  // the first PEM certificate file of a Connector

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
    std::unique_ptr<XML_ParserStruct, void (*)(XML_Parser)> parser(XML_ParserCreate(nullptr),
                                                                   XML_ParserFree);
    if (!parser) {
      reader_.error(start_.server_xml, "the XML parser could not be set up");
      return;
    }
    parser_ = parser.get();
    XML_SetUserData(parser_, this);
    XML_SetElementHandler(parser_, on_start, on_end);
    XML_SetCharacterDataHandler(parser_, on_text);
    // No DTD: a DOCTYPE or an entity declaration stops the parse before any of it is used, and
    // with no external entity handler and parameter entities off nothing is ever fetched.
    XML_SetStartDoctypeDeclHandler(parser_, on_doctype);
    XML_SetEntityDeclHandler(parser_, on_entity);
    XML_SetParamEntityParsing(parser_, XML_PARAM_ENTITY_PARSING_NEVER);
    // The reader's size bound keeps the text far below INT_MAX.
    if (XML_Parse(parser_, text.data(), static_cast<int>(text.size()), XML_TRUE) ==
        XML_STATUS_ERROR) {
      if (stopped_) {
        reader_.error(where(start_.server_xml, stop_line_), stop_reason_);
      } else {
        reader_.error(where(start_.server_xml, XML_GetCurrentLineNumber(parser_)),
                      parse_error(text));
      }
    }
    parser_ = nullptr;
    if (service_open_) end_service();  // keep what was read before the file broke off
  }

  // expat's reason, in the words of the element it happened in where that says more.
  std::string parse_error(std::string_view text) const {
    const XML_Error code = XML_GetErrorCode(parser_);
    const auto at =
        static_cast<std::size_t>(std::max<XML_Index>(XML_GetCurrentByteIndex(parser_), 0));
    std::string_view rest = at < text.size() ? text.substr(at) : std::string_view{};
    if (code == XML_ERROR_NO_ELEMENTS && !open_.empty())
      return "end of file inside <" + open_.back() + ">";
    if (code == XML_ERROR_TAG_MISMATCH && !open_.empty()) {
      // expat stops at the name of the closing tag.
      std::string_view name = rest.substr(0, rest.find_first_of(" \t\r\n>"));
      return "</" + std::string(name) + "> does not close <" + open_.back() + ">";
    }
    if (code == XML_ERROR_UNCLOSED_TOKEN) {
      if (rest.starts_with("<!--")) return "comment not closed";
      if (rest.starts_with("<![CDATA[")) return "CDATA section not closed";
      if (rest.starts_with("<?")) return "processing instruction not closed";
      if (rest.starts_with("<")) {
        std::string_view name = rest.substr(1, rest.find_first_of(" \t\r\n/>") - 1);
        return "<" + std::string(name) + "> tag not closed";
      }
    }
    return XML_ErrorString(code);
  }

  // Stops the parse for good; what was read before still counts.
  void stop(std::string reason) {
    if (stopped_) return;
    stopped_ = true;
    stop_reason_ = std::move(reason);
    stop_line_ = XML_GetCurrentLineNumber(parser_);
    XML_StopParser(parser_, XML_FALSE);
  }

  static void XMLCALL on_doctype(void* self, const XML_Char*, const XML_Char*,
                                 const XML_Char*, int) {
    static_cast<TomcatParser*>(self)->stop(
        "DOCTYPE refused: a server.xml needs none, and its entities could expand or fetch "
        "anything; not read");
  }

  // Only reachable inside a DOCTYPE, which is refused first; kept so that no declaration is
  // ever taken in even if that changes.
  static void XMLCALL on_entity(void* self, const XML_Char*, int, const XML_Char*, int,
                                const XML_Char*, const XML_Char*, const XML_Char*,
                                const XML_Char*) {
    static_cast<TomcatParser*>(self)->stop("entity declaration refused; not read");
  }

  static void XMLCALL on_start(void* self, const XML_Char* name, const XML_Char** attributes) {
    auto& parser = *static_cast<TomcatParser*>(self);
    parser.start_element(
        {name, attributes, static_cast<std::size_t>(XML_GetCurrentLineNumber(parser.parser_))});
  }

  static void XMLCALL on_end(void* self, const XML_Char*) {
    auto& parser = *static_cast<TomcatParser*>(self);
    if (parser.stopped_ || parser.open_.empty()) return;
    parser.close_element();
  }

  static void XMLCALL on_text(void* self, const XML_Char* text, int length) {
    auto& parser = *static_cast<TomcatParser*>(self);
    // An Alias's own text, as Tomcat's digester takes its body (a child's text is the child's).
    if (parser.in_alias_ && parser.inside({"Server", "Service", "Engine", "Host", "Alias"}))
      parser.alias_.append(text, static_cast<std::size_t>(length));
  }

  void start_element(const XmlElement& element) {
    if (stopped_) return;
    if (open_.size() >= reader_.limits().max_nesting) {
      return stop("elements nested deeper than " + std::to_string(reader_.limits().max_nesting) +
                  ": not read further");
    }
    if (++elements_ > reader_.limits().max_elements) {
      return stop("more than " + std::to_string(reader_.limits().max_elements) +
                  " elements: not read further");
    }
    open_element(element);
    if (element.name == "Alias" && host_open_ && inside({"Server", "Service", "Engine", "Host"})) {
      in_alias_ = true;
      alias_.clear();
    }
    open_.emplace_back(element.name);
  }

  void close_element() {
    if (in_alias_ && inside({"Server", "Service", "Engine", "Host", "Alias"})) {
      std::string_view alias = trim_xml_space(alias_);
      if (!alias.empty()) service_.hosts.back().domains.emplace_back(alias);
      in_alias_ = false;
    }
    std::string name = std::move(open_.back());
    open_.pop_back();
    end_element(name);
  }

  // Called before the element is pushed on open_: open_ holds its ancestors.
  void open_element(const XmlElement& element) {
    const std::string& path = start_.server_xml;
    if (element.name == "Service" && inside({"Server"})) {
      service_ = Service{};
      service_open_ = true;
    } else if (element.name == "Connector" && inside({"Server", "Service"})) {
      auto port_text = attribute(element, "port");
      auto port = port_text ? web_config::parse_port(trim_xml_space(*port_text)) : std::nullopt;
      if (port) {
        service_.ports.push_back(*port);
        if (!service_.lowest_port || *port < *service_.lowest_port) {
          service_.lowest_port = port;
          std::string address(trim_xml_space(attribute(element, "address").value_or("")));
          service_.address = address == "0.0.0.0" || address == "::" ? "" : address;
        }
      } else {
        reader_.error(where(path, element.line), "Connector port \"" + port_text.value_or("") +
                                                     "\" is not a port number; not counted");
      }
      service_.tls = service_.tls || attribute_is(element, "SSLEnabled", "true") ||
                     attribute_is(element, "scheme", "https") ||
                     attribute_is(element, "secure", "true");
      // Before Tomcat 10 a Connector could name its certificate itself (APR and legacy).
      note_certificate(attribute(element, "SSLCertificateFile"));
    } else if (element.name == "Certificate" &&
               inside({"Server", "Service", "Connector", "SSLHostConfig"})) {
      note_certificate(attribute(element, "certificateFile"));
    } else if (element.name == "Host" && inside({"Server", "Service", "Engine"})) {
      WebSite host;
      host.server = "tomcat";
      host.config_file = path;
      host.line = element.line;
      if (auto name = attribute(element, "name")) host.domains.push_back(std::move(*name));
      host.document_root = app_base_path(attribute(element, "appBase").value_or("webapps"));
      service_.hosts.push_back(std::move(host));
      host_open_ = true;
    }
  }

  void end_element(const std::string& name) {
    if (name == "Host" && inside({"Server", "Service", "Engine"})) host_open_ = false;
    if (name == "Service" && inside({"Server"})) end_service();
  }

  // Only a PEM file is read: a keystore (certificateKeystoreFile) is not.
  void note_certificate(const std::optional<std::string>& file) {
    if (!file || !service_.certificate.empty()) return;
    std::string value(trim_xml_space(*file));
    if (!value.empty() && value.find("${") == std::string::npos)
      service_.certificate = web_config::resolve_path(start_.catalina_base, value);
  }

  void end_service() {
    for (auto& host : service_.hosts) {
      host.ports = service_.ports;
      host.tls = service_.tls;
      host.bind_address = service_.address;
      if (host.tls) host.certificate_file = service_.certificate;
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
  XML_Parser parser_ = nullptr;
  std::vector<std::string> open_;
  std::size_t elements_ = 0;
  bool stopped_ = false;
  std::string stop_reason_;
  std::size_t stop_line_ = 0;
  bool in_alias_ = false;
  std::string alias_;
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
