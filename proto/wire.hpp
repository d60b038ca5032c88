#pragma once
// The API's response bodies and their JSON text. No I/O.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "proto/api_error.hpp"

namespace hostprint::proto {

struct AssetStatistics {
  std::int64_t account_num = 0;
  std::int64_t port_num = 0;
  std::int64_t process_num = 0;
  std::int64_t app_num = 0;
  std::int64_t auto_launch_num = 0;
  std::int64_t web_framework_num = 0;
  std::int64_t web_site_num = 0;
  std::int64_t jar_package_num = 0;
  std::int64_t kernel_module_num = 0;
  std::int64_t web_service_num = 0;
  std::int64_t web_app_num = 0;
  std::int64_t database_num = 0;
};

struct ProcessEntry {
  std::string path;
  std::int64_t num = 0;
};

struct ProcessStatistics {
  std::int64_t total_num = 0;
  std::vector<ProcessEntry> data_list;
};

struct RaspStatistics {
  std::int64_t protect_host_num = 0;
  std::int64_t anti_tampering_num = 0;
};

// Counts are clamped to 0..2^31-1 as the API promises.
std::int64_t clamp_count(std::int64_t value);

std::string to_json(const AssetStatistics& value);
std::string to_json(const ProcessStatistics& value);
std::string to_json(const RaspStatistics& value);
std::string to_json(const ApiError& value);

// The process statistics body assembled from entries serialized beforehand (to_json of each
// entry), byte for byte what to_json(ProcessStatistics) gives for the same entries.
std::string to_json(const ProcessEntry& entry);
std::string process_statistics_json(std::int64_t total_num,
                                    const std::vector<const std::string*>& entries);

}  // namespace hostprint::proto
