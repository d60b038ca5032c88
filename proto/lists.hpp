#pragma once
// The lists behind the counts (lists.md): each endpoint declared as data over the asset tables,
// its path and parameters validated with the rules every endpoint shares. No I/O.
#include <bitset>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "proto/api_error.hpp"
#include "proto/assets.hpp"
#include "proto/query.hpp"

namespace hostprint::proto {

// What a filter's value must be.
enum class FilterValue {
  text, host_id, port, port_type, boolean, auto_start_type, catalogue,
  change_type,  // one of the endpoint's change_words
  epoch_ms,     // a time, epoch milliseconds
};

enum class FilterMatch {
  exact,                    // always the whole value
  exact_unless_part_match,  // a substring when part_match=true
  substring,                // always a substring (the statistics endpoints' name filters)
  at_least,                 // a number no smaller than the value (start_time)
  at_most,                  // a number no larger than the value (end_time)
};

struct ListFilter {
  std::string_view parameter;
  std::string_view field;  // the entry field it compares with
  FilterValue value;
  FilterMatch match;
};

// One field of an answer's entry. A field no asset table, host or container fact provides is
// answered with its constant, else "" or 0 (lists.md: never missing).
struct ListField {
  std::string_view name;
  FieldType type;
  std::variant<std::monostate, std::string_view, std::int64_t> constant{};
};

// changes: the change history of its kinds (agent/change_history), one entry per change.
enum class ListShape { items, statistics, changes };

struct ListEndpoint {
  std::string_view path;  // below /v5/{project_id}; "{host_id}" stands for one path segment
  ListShape shape;
  std::span<const AssetKind> kinds;
  std::span<const ListField> fields;       // in answer order; statistics add "num" where named
  std::span<const std::string_view> key{}; // statistics: what entries group by
  std::span<const ListFilter> filters;
  bool category = false;                   // takes category (default host)
  bool part_match = false;                 // takes part_match
  std::string_view required_filter{};      // a filter that must be given
  // changes: the field naming the change, and its words for add, delete and modify.
  std::string_view change_field{};
  std::span<const std::string_view> change_words{};
  bool sorting = false;                    // takes sort_key (recent_scan_time) and sort_dir
};

std::span<const ListEndpoint> list_endpoints();

// The kinds some change-history endpoint serves: the ones whose changes are kept.
std::bitset<asset_kind_count> change_history_kinds();

struct ListMatch {
  const ListEndpoint* endpoint = nullptr;
  std::string project_id;
  std::string path_host_id;  // the {host_id} segment, decoded; empty when the path has none
  std::optional<ApiError> error;
};
// The list endpoint a target's path names; nullopt when it names none.
std::optional<ListMatch> match_list_path(std::string_view target);

struct ListCondition {
  const ListFilter* filter = nullptr;
  std::string text;          // text filters, and integers and booleans as their text
  std::int64_t number = 0;   // integer and boolean filters
};

struct ListQuery {
  const ListEndpoint* endpoint = nullptr;
  std::string path_host_id;
  Category category = Category::host;
  std::uint32_t limit = 10;
  std::uint32_t offset = 0;
  bool part_match = false;
  bool ascending = false;  // changes: oldest first (sort_dir=asc); newest first by default
  std::optional<std::string> enterprise_project_id;
  std::vector<ListCondition> conditions;
};

std::variant<ListQuery, ApiError> parse_list_query(const ListMatch& match,
                                                   std::string_view target);

}  // namespace hostprint::proto
