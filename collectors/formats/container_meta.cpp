#include "collectors/formats/container_meta.hpp"

#include <boost/json.hpp>

namespace hostprint::collectors {
namespace {

// Nesting deeper than any runtime writes is refused rather than recursed into.
constexpr std::size_t max_depth = 32;
constexpr std::size_t max_name_bytes = 256;

std::optional<boost::json::value> parsed(std::string_view text) {
  boost::json::parse_options options;
  options.max_depth = max_depth;
  boost::json::error_code ec;
  auto value = boost::json::parse(text, ec, {}, options);
  if (ec) return std::nullopt;
  return value;
}

// A name worth showing: text, not empty, bounded.
std::optional<std::string> name_in(const boost::json::value* v) {
  if (!v || !v->is_string()) return std::nullopt;
  std::string_view name = v->as_string();
  if (name.empty() || name.size() > max_name_bytes) return std::nullopt;
  return std::string(name);
}

}  // namespace

std::optional<std::string> docker_container_name(std::string_view config_v2_json) {
  auto doc = parsed(config_v2_json);
  if (!doc || !doc->is_object()) return std::nullopt;
  auto name = name_in(doc->as_object().if_contains("Name"));
  if (name && name->front() == '/') name->erase(0, 1);
  if (name && name->empty()) return std::nullopt;
  return name;
}

std::map<std::string, std::string> storage_container_names(std::string_view containers_json) {
  std::map<std::string, std::string> out;
  auto doc = parsed(containers_json);
  if (!doc || !doc->is_array()) return out;
  for (const auto& entry : doc->as_array()) {
    if (!entry.is_object()) continue;
    const auto& o = entry.as_object();
    const auto* id = o.if_contains("id");
    const auto* names = o.if_contains("names");
    if (!id || !id->is_string() || !names || !names->is_array() || names->as_array().empty())
      continue;
    if (auto name = name_in(&names->as_array().front()))
      out.emplace(std::string(id->as_string()), std::move(*name));
  }
  return out;
}

std::optional<std::string> oci_annotated_name(std::string_view config_json) {
  auto doc = parsed(config_json);
  if (!doc || !doc->is_object()) return std::nullopt;
  const auto* annotations = doc->as_object().if_contains("annotations");
  if (!annotations || !annotations->is_object()) return std::nullopt;
  for (auto key : {"io.kubernetes.cri.container-name", "io.kubernetes.container.name",
                   "nerdctl/name"})
    if (auto name = name_in(annotations->as_object().if_contains(key))) return name;
  return std::nullopt;
}

}  // namespace hostprint::collectors
