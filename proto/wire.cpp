#include "proto/wire.hpp"

#include <boost/json.hpp>

namespace hostprint::proto {

std::int64_t clamp_count(std::int64_t value) {
  constexpr std::int64_t top = 2'147'483'647;
  return value < 0 ? 0 : (value > top ? top : value);
}

std::string to_json(const AssetStatistics& v) {
  // Member order follows the cloud API's documentation.
  boost::json::object o;
  o["account_num"] = clamp_count(v.account_num);
  o["port_num"] = clamp_count(v.port_num);
  o["process_num"] = clamp_count(v.process_num);
  o["app_num"] = clamp_count(v.app_num);
  o["auto_launch_num"] = clamp_count(v.auto_launch_num);
  o["web_framework_num"] = clamp_count(v.web_framework_num);
  o["web_site_num"] = clamp_count(v.web_site_num);
  o["jar_package_num"] = clamp_count(v.jar_package_num);
  o["kernel_module_num"] = clamp_count(v.kernel_module_num);
  o["web_service_num"] = clamp_count(v.web_service_num);
  o["web_app_num"] = clamp_count(v.web_app_num);
  o["database_num"] = clamp_count(v.database_num);
  return boost::json::serialize(o);
}

std::string to_json(const ProcessStatistics& v) {
  boost::json::object o;
  o["total_num"] = clamp_count(v.total_num);
  boost::json::array list;
  list.reserve(v.data_list.size());
  for (const auto& e : v.data_list) {
    boost::json::object item;
    item["path"] = e.path;
    item["num"] = clamp_count(e.num);
    list.emplace_back(std::move(item));
  }
  o["data_list"] = std::move(list);
  return boost::json::serialize(o);
}

std::string to_json(const ProcessEntry& e) {
  boost::json::object item;
  item["path"] = e.path;
  item["num"] = clamp_count(e.num);
  return boost::json::serialize(item);
}

std::string process_statistics_json(std::int64_t total_num,
                                    const std::vector<const std::string*>& entries) {
  std::string out = "{\"total_num\":" + std::to_string(clamp_count(total_num)) + ",\"data_list\":[";
  std::size_t size = out.size() + 2;
  for (const auto* e : entries) size += e->size() + 1;
  out.reserve(size);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(*entries[i]);
  }
  out.append("]}");
  return out;
}

std::string to_json(const RaspStatistics& v) {
  boost::json::object o;
  o["protect_host_num"] = clamp_count(v.protect_host_num);
  o["anti_tampering_num"] = clamp_count(v.anti_tampering_num);
  return boost::json::serialize(o);
}

std::string to_json(const ApiError& e) {
  boost::json::object o;
  o["error_code"] = e.code;
  o["error_msg"] = e.message;
  o["error_description"] = e.description;
  return boost::json::serialize(o);
}

}  // namespace hostprint::proto
