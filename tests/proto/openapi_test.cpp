// proto/openapi.json against the router: every documented path answers, every answered path,
// parameter and list field is documented.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <set>

#include "agent/router.hpp"
#include "proto/lists.hpp"

namespace hostprint {
namespace {

boost::json::object document() {
  const char* root = std::getenv("HOSTPRINT_SOURCE_ROOT");
  std::ifstream in(std::string(root ? root : "..") + "/proto/openapi.json");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  return boost::json::parse(text).as_object();
}

std::string replace_all(std::string text, std::string_view from, std::string_view to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

// Parameter names of an operation, references resolved.
std::set<std::string> parameter_names(const boost::json::object& doc,
                                      const boost::json::object& operation) {
  std::set<std::string> names;
  for (const auto& p : operation.at("parameters").as_array()) {
    const auto& o = p.as_object();
    if (auto ref = o.if_contains("$ref")) {
      std::string name(ref->as_string());
      name = name.substr(name.rfind('/') + 1);
      names.insert(std::string(doc.at("components").at("parameters").at(name).at("name").as_string()));
    } else {
      names.insert(std::string(o.at("name").as_string()));
    }
  }
  return names;
}

TEST(OpenApi, EveryDocumentedPathAnswers) {
  const auto doc = document();
  ASSERT_TRUE(doc.at("openapi").as_string().starts_with("3."));
  auto snapshot = build_snapshot({}, {}, 1, 1.0);
  const RouterSettings settings{std::nullopt, "0", "h1"};
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    std::string target = replace_all(replace_all(std::string(path), "{project_id}", "p"),
                                     "{host_id}", "h1");
    // Required parameters get a valid value.
    std::string query;
    const auto* parameters = item.at("get").as_object().if_contains("parameters");
    for (const auto& p : parameters ? parameters->as_array() : boost::json::array{})
      if (p.as_object().contains("required") && p.at("required").as_bool() &&
          p.at("in").as_string() == "query")
        query += (query.empty() ? "?" : "&") + std::string(p.at("name").as_string()) + "=" +
                 std::string(p.at("schema").at("enum").as_array()[0].as_string());
    auto answer = route("GET", target + query, *snapshot, settings);
    EXPECT_EQ(answer.status, 200) << target + query << ": " << answer.body;
  }
}

TEST(OpenApi, EveryAnsweredPathParameterAndFieldIsDocumented) {
  const auto doc = document();
  const auto& paths = doc.at("paths").as_object();
  for (auto fixed : {"/v5/{project_id}/asset/statistics", "/v5/{project_id}/asset/process/statistics",
                     "/v5/{project_id}/rasp/statistics", "/status", "/metrics"})
    EXPECT_TRUE(paths.contains(fixed)) << fixed;
  for (const auto& endpoint : proto::list_endpoints()) {
    const std::string path = "/v5/{project_id}" + std::string(endpoint.path);
    ASSERT_TRUE(paths.contains(path)) << path;
    const auto& operation = paths.at(path).at("get").as_object();
    const auto names = parameter_names(doc, operation);
    for (const auto& filter : endpoint.filters)
      EXPECT_TRUE(names.count(std::string(filter.parameter))) << path << " " << filter.parameter;
    for (auto common : {"limit", "offset", "enterprise_project_id", "project_id"})
      EXPECT_TRUE(names.count(common)) << path << " " << common;
    EXPECT_EQ(names.count("category"), endpoint.category ? 1u : 0u) << path;
    EXPECT_EQ(names.count("part_match"), endpoint.part_match ? 1u : 0u) << path;
    const auto& fields = operation.at("responses").at("200").at("content").at("application/json")
                             .at("schema").at("properties").at("data_list").at("items")
                             .at("properties").as_object();
    EXPECT_EQ(fields.size(), endpoint.fields.size()) << path;
    for (const auto& field : endpoint.fields)
      EXPECT_TRUE(fields.contains(field.name)) << path << " " << field.name;
  }
  // Nothing documented that the router does not know.
  const std::size_t fixed_count = 5;
  EXPECT_EQ(paths.size(), proto::list_endpoints().size() + fixed_count);
}

}  // namespace
}  // namespace hostprint
