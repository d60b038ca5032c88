#include "collectors/rules/fingerprints.hpp"

#include <array>
#include <boost/json.hpp>
#include <set>

namespace hostprint::collectors {
namespace {

constexpr std::array<std::pair<std::string_view, ProductCategory>, 5> categories{{
    {"web_service", ProductCategory::web_service},
    {"database", ProductCategory::database},
    {"web_app", ProductCategory::web_app},
    {"web_framework", ProductCategory::web_framework},
    {"rasp_agent", ProductCategory::rasp_agent},
}};

[[noreturn]] void bad(const std::string& where, std::string_view what) {
  throw RulesError("rules: " + where + ": " + std::string(what));
}

std::vector<std::string> string_list(const boost::json::value& v, const std::string& where) {
  if (!v.is_array()) bad(where, "must be an array of strings");
  std::vector<std::string> out;
  for (const auto& item : v.get_array()) {
    if (!item.is_string() || item.get_string().empty() || item.get_string().size() > 1024)
      bad(where, "must be an array of non-empty strings (at most 1024 bytes each)");
    out.emplace_back(item.get_string());
  }
  return out;
}

std::string one_string(const boost::json::value& v, const std::string& where) {
  if (!v.is_string() || v.get_string().empty()) bad(where, "must be a non-empty string");
  return std::string(v.get_string());
}

// A relative path that stays below the folder it is taken from.
void check_relative(const std::vector<std::string>& paths, const std::string& where) {
  for (const auto& p : paths) {
    if (p.front() == '/') bad(where, "'" + p + "' must be a relative path");
    std::string_view rest = p;
    while (!rest.empty()) {
      auto slash = rest.find('/');
      if (rest.substr(0, slash) == "..") bad(where, "'" + p + "' must not climb with '..'");
      rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    }
  }
}

ProductRule parse_product(const boost::json::value& v, const std::string& where) {
  if (!v.is_object()) bad(where, "must be an object");
  ProductRule rule;
  bool has_category = false;
  for (const auto& [key_view, value] : v.get_object()) {
    const std::string key(key_view);
    const std::string at = where + "." + key;
    if (key == "name") {
      rule.name = one_string(value, at);
    } else if (key == "category") {
      auto text = one_string(value, at);
      bool found = false;
      for (const auto& [name, category] : categories)
        if (name == text) {
          rule.category = category;
          found = true;
        }
      if (!found)
        bad(at, "'" + text +
                    "' is not one of web_service, database, web_app, web_framework, rasp_agent");
      has_category = true;
    } else if (key == "executables") {
      rule.executables = string_list(value, at);
    } else if (key == "main_classes") {
      rule.main_classes = string_list(value, at);
    } else if (key == "jars") {
      rule.jars = string_list(value, at);
    } else if (key == "argv0") {
      rule.argv0 = string_list(value, at);
    } else if (key == "path_contains") {
      rule.path_contains = string_list(value, at);
    } else if (key == "markers") {
      rule.markers = string_list(value, at);
      check_relative(rule.markers, at);
    } else if (key == "jar_artifacts") {
      rule.jar_artifacts = string_list(value, at);
    } else if (key == "python_packages") {
      rule.python_packages = string_list(value, at);
    } else if (key == "packages") {
      rule.packages = string_list(value, at);
    } else if (key == "version_files") {
      rule.version_files = string_list(value, at);
      check_relative(rule.version_files, at);
    } else if (key == "version_pattern") {
      rule.version_pattern = one_string(value, at);
    } else if (key == "config") {
      rule.config = one_string(value, at);
      if (rule.config != "nginx" && rule.config != "apache" && rule.config != "tomcat")
        bad(at, "'" + rule.config + "' is not one of nginx, apache, tomcat");
    } else {
      bad(at,
          "unknown key (allowed: name, category, executables, main_classes, jars, argv0, "
          "path_contains, markers, jar_artifacts, python_packages, packages, version_files, "
          "version_pattern, config)");
    }
  }
  if (rule.name.empty()) bad(where + ".name", "is required");
  if (!has_category) bad(where + ".category", "is required");
  const bool by_process = !rule.executables.empty() || !rule.main_classes.empty() ||
                          !rule.jars.empty() || !rule.argv0.empty();
  switch (rule.category) {
    case ProductCategory::web_service:
    case ProductCategory::database:
      if (!by_process)
        bad(where, "a " + std::string(to_string(rule.category)) +
                       " needs executables, main_classes, jars or argv0");
      break;
    case ProductCategory::web_app:
      if (!by_process && rule.markers.empty())
        bad(where, "a web_app needs markers, executables, main_classes or jars");
      break;
    case ProductCategory::web_framework:
      if (rule.jar_artifacts.empty() && rule.python_packages.empty() && rule.markers.empty())
        bad(where, "a web_framework needs jar_artifacts, python_packages or markers");
      break;
    case ProductCategory::rasp_agent:
      if (rule.jars.empty() && rule.executables.empty())
        bad(where, "a rasp_agent needs jars or executables (library names)");
      break;
  }
  return rule;
}

}  // namespace

std::vector<const ProductRule*> Fingerprints::in_category(ProductCategory category) const {
  std::vector<const ProductRule*> out;
  for (const auto& p : products)
    if (p.category == category) out.push_back(&p);
  return out;
}

Fingerprints parse_fingerprints(std::string_view text) {
  if (text.size() > (16u << 20)) throw RulesError("rules: larger than 16 MiB");
  boost::json::parse_options options;
  options.allow_comments = true;
  options.max_depth = 16;
  boost::system::error_code ec;
  auto root = boost::json::parse(text, ec, {}, options);
  if (ec) throw RulesError("rules: not valid JSON: " + ec.message());
  if (!root.is_object()) throw RulesError("rules: must hold one JSON object");
  Fingerprints out;
  bool has_products = false;
  for (const auto& [key_view, value] : root.get_object()) {
    const std::string key(key_view);
    if (key == "version") {
      if (!value.is_int64() || value.get_int64() != 1) bad("version", "must be 1");
    } else if (key == "products") {
      if (!value.is_array()) bad("products", "must be an array");
      has_products = true;
      std::set<std::string> names;
      const auto& list = value.get_array();
      for (std::size_t i = 0; i < list.size(); ++i) {
        auto rule = parse_product(list[i], "products[" + std::to_string(i) + "]");
        if (!names.insert(rule.name).second)
          bad("products[" + std::to_string(i) + "].name", "'" + rule.name + "' is listed twice");
        out.products.push_back(std::move(rule));
      }
    } else {
      bad(key, "unknown key (allowed: version, products)");
    }
  }
  if (!has_products) bad("products", "is required");
  return out;
}

}  // namespace hostprint::collectors
