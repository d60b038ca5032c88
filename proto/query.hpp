#pragma once
// Request targets: path matching, percent-decoding and the API's parameter rules. No I/O.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/api_error.hpp"

namespace hostprint::proto {

enum class Endpoint { asset_statistics, process_statistics, rasp_statistics, status };
enum class Category { host, container };

// Decodes %XX escapes as UTF-8. Fails on a malformed escape, invalid UTF-8 or a NUL.
std::optional<std::string> percent_decode(std::string_view text);
// Valid UTF-8 without NUL characters.
bool is_valid_text(std::string_view text);
// Number of UTF-8 code points of valid UTF-8 text.
std::size_t utf8_length(std::string_view text);

struct RawParameter {
  std::string name;  // decoded
  std::string_view raw_value;
};

struct AssetStatisticsQuery {
  Category category = Category::host;
  std::optional<std::string> host_id;
  std::optional<std::string> enterprise_project_id;
};

struct ProcessStatisticsQuery {
  Category category = Category::host;
  std::optional<std::string> path;
  std::uint32_t limit = 10;
  std::uint32_t offset = 0;
  std::optional<std::string> enterprise_project_id;
};

struct RaspStatisticsQuery {
  std::optional<std::string> enterprise_project_id;
};

struct StatusQuery {};

using Query =
    std::variant<AssetStatisticsQuery, ProcessStatisticsQuery, RaspStatisticsQuery, StatusQuery>;

// Which endpoint a target's path names, with its decoded project id; nullopt: no such path (404).
// An invalid project id on a known path is reported through `error`.
struct RouteMatch {
  Endpoint endpoint;
  std::string project_id;  // empty for /status
  std::optional<ApiError> error;
};
std::optional<RouteMatch> match_path(std::string_view target);

// --- The parameter rules every endpoint shares (api.md) ---

inline constexpr std::size_t max_id_length = 256;
inline constexpr std::size_t max_host_id_length = 64;
inline constexpr std::size_t max_path_filter_length = 256;

// The target's parameters whose decoded names are in `known` (others are ignored); a known name
// given twice is an error.
std::variant<std::vector<RawParameter>, ApiError> split_parameters(
    std::string_view target, std::span<const std::string_view> known);
// A decoded string parameter of 1..max_length characters, or the error naming it.
std::variant<std::string, ApiError> string_parameter(std::string_view name, std::string_view raw,
                                                     std::size_t max_length);
std::variant<Category, ApiError> category_parameter(std::string_view raw);
std::variant<std::uint32_t, ApiError> integer_parameter(std::string_view name, std::string_view raw,
                                                        std::uint32_t min, std::uint32_t max);
std::variant<bool, ApiError> boolean_parameter(std::string_view name, std::string_view raw);

// Validates the query string of a matched target for its endpoint.
std::variant<Query, ApiError> parse_query(Endpoint endpoint, std::string_view target);

}  // namespace hostprint::proto
